/** The `phone` kind from the CLI (issue 15): a schema file declares it; seal, mask, find and open read it. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, jsonl, keyDir, lines, openedLines } from './run.js';

const ACCESS = ['--principal', 'test', '--policy', fileURLToPath(new URL('../fixtures/search-policy.json', import.meta.url))];
const contactSchema = {
  name: 'contact',
  version: 1,
  recordId: 'id',
  fields: { id: 'string', createdAt: 'date', country: 'string?', mobile: 'mobile?', tel: 'phone?' },
  indexes: { tel: { field: 'tel', bits: 256 } },
};
const rows = [
  { id: 'C1', createdAt: '2025-05-02', tel: '021-12345678' },
  { id: 'C2', createdAt: '2025-05-02', country: 'GB', tel: '020 7946 0000' },
  { id: 'C3', createdAt: '2025-05-02', mobile: '13812345678', tel: '(021) 1234-5678 转 8' },
];

let keys: string;
let schema: string;
let sealed: string;

beforeAll(async () => {
  const dir = await keyDir('ws-phone-kind-');
  keys = dir.keys;
  schema = join(dir.dir, 'contact.schema.json');
  await writeFile(schema, JSON.stringify(contactSchema));
  const r = await cli(['seal', '--keys', keys, '--schema', schema], jsonl(rows));
  expect(r.code).toBe(0);
  sealed = r.stdout;
});

describe('phone() from the CLI', () => {
  it('seals China and UK landlines; a UK landline in a mobile field is rejected like a Chinese one, without its digits', async () => {
    expect(lines(sealed).map((r) => r.id)).toEqual(['C1', 'C2', 'C3']);
    for (const [country, mobile] of [[undefined, '021-12345678'], ['GB', '020 7946 0000']] as const) {
      const r = await cli(['seal', '--keys', keys, '--schema', schema], jsonl([{ id: 'X', createdAt: '2025-05-02', ...(country ? { country } : {}), mobile }]));
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('invalid_mobile');
      expect(r.stderr).not.toContain(mobile);
    }
  });

  it('masks on the label hide at least 6 digits', async () => {
    const masked = lines((await cli(['mask', '--schema', schema, '--profile', 'label'], sealed)).stdout);
    expect(masked.map((r) => r.tel)).toEqual(['021-******78', '+44 ********00', '021-******78转8']);
  });

  it('find takes any written form of the number (E.164 tokens)', async () => {
    const shanghai = await cli(['find', '--keys', keys, ...ACCESS, '--schema', schema, '--index', 'tel', '+86 21 1234 5678'], sealed);
    expect(shanghai.code).toBe(0);
    expect(lines(shanghai.stdout).map((r) => r.id)).toEqual(['C1', 'C3']);
    const london = await cli(['find', '--keys', keys, ...ACCESS, '--schema', schema, '--country', 'GB', '--index', 'tel', '(020) 7946 0000'], sealed);
    expect(lines(london.stdout).map((r) => r.id)).toEqual(['C2']);
  });

  it('open gives back each number exactly as it was written', async () => {
    const opened = await cli(['open', '--keys', keys, ...ACCESS, '--purpose', 'search', '--schema', schema], sealed);
    expect(opened.code).toBe(0);
    expect(openedLines(opened.stdout)).toEqual(rows);
  });
});
