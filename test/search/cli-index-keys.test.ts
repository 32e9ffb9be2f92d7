/**
 * CLI with per-month index keys (issue 13): `keygen` writes KEKs for the `-index` classes and no
 * index secret; seal writes month tokens; token and find search a window of months; shred takes a
 * month's tokens with its data keys.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, keyDir } from '../cli/run.js';
import { parseKeyFile, waybill } from '../../src/index.js';
import { fromBase64Url } from '../../src/crypto/bytes.js';
import { BlindTokenizer, deriveKey, INDEX_KEY_LABEL, keyInfo } from '../../src/search/tokens.js';
import { sampleWaybill } from '../helpers.js';

const ACCESS = ['--principal', 'test', '--policy', fileURLToPath(new URL('../fixtures/search-policy.json', import.meta.url))];
const MOBILE = '13812345678';
let dir: string;
let keys: string;
let sealed: string;

beforeAll(async () => {
  ({ dir, keys } = await keyDir('ws-index-keys-', ['--quiet']));
  const plain = ['2025-01-15T08:00:00Z', '2025-02-15T08:00:00Z'].map((createdAt, i) => JSON.stringify({ ...sampleWaybill(), waybillNo: `M${i}`, createdAt, receiver: { ...sampleWaybill().receiver, mobile: MOBILE } }));
  await writeFile(join(dir, 'plain.jsonl'), `${plain.join('\n')}\n`);
  sealed = join(dir, 'sealed.jsonl');
  expect((await cli(['seal', '--keys', keys, '--in', join(dir, 'plain.jsonl'), '--out', sealed])).code).toBe(0);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const tokens = async (...extra: string[]) => {
  const r = await cli(['token', '--keys', keys, ...ACCESS, '--index', 'receiver.mobile', ...extra, MOBILE]);
  expect(r.code).toBe(0);
  return r.stdout.trim().split('\n').filter(Boolean);
};

describe('waybill-seal with per-month index keys', () => {
  it('keygen writes index KEKs and no index secret; seal stores month tokens; token prints one per month in --from..--to', async () => {
    const file = parseKeyFile(JSON.parse(await readFile(keys, 'utf8')));
    expect(file.secrets?.index).toBeUndefined();
    expect(Object.keys(file.secrets ?? {}).sort()).toEqual(['audit', 'integrity']);
    expect(Object.keys(file.keks[0]!.keys)).toEqual(expect.arrayContaining(['contact', 'contact-index', 'identity-index']));
    const rows = (await readFile(sealed, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    const stored = rows.map((r) => r.receiver.mobile.tok['receiver.mobile'] as string);
    expect(stored[0]).toMatch(/^2025-01~1\./);
    expect(stored[1]).toMatch(/^2025-02~1\./);
    expect(await tokens()).toEqual([stored[1], stored[0]]);
    expect(await tokens('--from', '2025-02')).toEqual([stored[1]]);
    expect(await tokens('--to', '2025-01')).toEqual([stored[0]]);
    const bad = await cli(['token', '--keys', keys, ...ACCESS, '--index', 'receiver.mobile', '--from', '2025-1', MOBILE]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--from\/--to/);
    const found = await cli(['find', '--keys', keys, ...ACCESS, '--index', 'receiver.mobile', '--from', '2025-02', '--in', sealed, MOBILE]);
    expect(found.code).toBe(0);
    expect(found.stdout.trim().split('\n').map((l) => JSON.parse(l).waybillNo)).toEqual(['M1']);
    // Attack: an insider knows the number and holds the key file's secrets and the other KEKs. None of
    // them is the root of the stored token (before, the file's index secret was).
    const roots = [...Object.values(file.secrets ?? {}).flatMap((l) => l.map((x) => x.key)), ...Object.entries(file.keks[0]!.keys).filter(([c]) => !c.endsWith('-index')).map(([, k]) => k)];
    const spec = waybill.indexes['receiver.mobile'];
    for (const b64 of roots) {
      const key = deriveKey('hmac-sha256', fromBase64Url(b64)!, keyInfo(INDEX_KEY_LABEL, 'hmac-sha256', 'waybill', 'receiver.mobile', spec.id));
      expect(new BlindTokenizer('hmac-sha256', key, spec.bits, '2025-01~1', 'js').token([`+86${MOBILE}`])).not.toBe(stored[0]);
    }
    expect(await cli(['keygen', '--out', join(dir, 'old.json'), '--index-keys', 'secret'])).toMatchObject({ code: 1 });
  });

  it('shred --before takes a month’s tokens with its data keys: token prints none for it any more', async () => {
    expect((await cli(['shred', '--keys', keys, '--before', '2025-02'])).code).toBe(0);
    const file = parseKeyFile(JSON.parse(await readFile(keys, 'utf8')));
    expect(file.dataKeys.filter((k) => k.scope === '2025-01').every((k) => k.shreddedAt !== undefined)).toBe(true);
    expect(file.dataKeys.some((k) => k.id === 'contact-index/2025-01/1')).toBe(true);
    expect((await tokens()).map((t) => t.slice(0, 7))).toEqual(['2025-02']);
  });

  it('keygen --classes refuses a class ending in -index (R13d M1: it would share rows with the index keys)', async () => {
    const out = join(dir, 'reserved.json');
    const r = await cli(['keygen', '--out', out, '--classes', 'serials,contact-index', '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--classes: "contact-index" .*"-index" is reserved/);
    await expect(readFile(out)).rejects.toThrow(/ENOENT/);
  });
});
