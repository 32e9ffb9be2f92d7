/**
 * Output files as a newcomer meets them (issue 15): --out never replaces a file silently, a closed
 * pipe is not an error, and a CSV sealed with --map is read by the next command without the mapping.
 */
import { execFile } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { sampleWaybill } from '../helpers.js';
import { BIN, cli, jsonl, lines, keyDir } from './run.js';

let dir: string;
let keys: string;
let sealedFile: string;

beforeAll(async () => {
  ({ dir, keys } = await keyDir('ws-files-'));
  // Enough records that the writer is still writing when `head -1` has gone.
  const plain = Array.from({ length: 300 }, (_, i) => ({ ...sampleWaybill(), waybillNo: `SF${String(i).padStart(13, '0')}` }));
  await writeFile(join(dir, 'plain.jsonl'), jsonl(plain));
  sealedFile = join(dir, 'sealed.jsonl');
  expect((await cli(['seal', '--keys', keys, '--in', join(dir, 'plain.jsonl'), '--out', sealedFile])).code).toBe(0);
});

describe('--out', () => {
  it('refuses an existing file before reading input, unless --force; --rejects too', async () => {
    const out = join(dir, 'masked.jsonl');
    await writeFile(out, 'precious\n');
    const r = await cli(['mask', '--in', sealedFile, '--out', out]);
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toMatch(/--out .*masked\.jsonl exists; refusing to overwrite it \(--force replaces it\)/);
    expect(await readFile(out, 'utf8')).toBe('precious\n');
    const rejects = join(dir, 'rejects.jsonl');
    await writeFile(rejects, 'old\n');
    expect((await cli(['mask', '--in', sealedFile, '--out', join(dir, 'new.jsonl'), '--rejects', rejects])).code).toBe(1);
    expect(await readFile(rejects, 'utf8')).toBe('old\n');
    const forced = await cli(['mask', '--in', sealedFile, '--out', out, '--force']);
    expect(forced.code).toBe(0);
    expect(lines(await readFile(out, 'utf8'))).toHaveLength(300);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('a closed pipe', () => {
  const pipe = promisify(execFile);
  // A real pipe: bash reports the waybill-seal side's exit status and stderr.
  const throughHead = async (args: string[]) => {
    const cmd = `node ${BIN} ${args.map((a) => `'${a}'`).join(' ')} < '${sealedFile}' 2>'${join(dir, 'err.txt')}' | head -1 > /dev/null; echo "\${PIPESTATUS[0]}"`;
    const { stdout } = await pipe('bash', ['-c', cmd]);
    return { code: Number(stdout.trim()), stderr: await readFile(join(dir, 'err.txt'), 'utf8') };
  };

  it('mask | head -1, open | head -1 and find | head -1 end quietly with exit 0', async () => {
    expect(await throughHead(['mask'])).toEqual({ code: 0, stderr: '' });
    expect(await throughHead(['open', '--keys', keys, '--principal', 'u1', '--purpose', 'audit', '--ticket', 'T-1', '--quiet'])).toEqual({ code: 0, stderr: '' });
    expect(await throughHead(['open', '--keys', keys, '--jobs', '2', '--principal', 'u1', '--purpose', 'audit', '--ticket', 'T-2', '--quiet'])).toEqual({ code: 0, stderr: '' });
    const find = await throughHead(['find', '--keys', keys, '--candidates', '--principal', 'cs-4', '--purpose', 'customer-service', '--ticket', 'T-3', '--index', 'receiver.mobile:last4', '4321']);
    expect(find).toEqual({ code: 0, stderr: '' });
  });
});

describe('CSV sealed with --map', () => {
  it('is read by mask, open and find without repeating --map; --map on them names their output columns', async () => {
    const w = sampleWaybill();
    const csv = [
      '单号,创建时间,寄件人,寄件人手机,寄省,寄市,寄区,寄地址,收件人,收件人手机,收省,收市,收区,收地址,物品,重量,内部编号',
      `${w.waybillNo},${w.createdAt},${w.sender.name},${w.sender.mobile},广东省,深圳市,南山区,${w.sender.address.detail},${w.receiver.name},13987654321,浙江省,杭州市,西湖区,${w.receiver.address.detail},[],1200,X-1`,
    ].join('\n');
    const map = '单号=waybillNo,创建时间=createdAt,寄件人=sender.name,寄件人手机=sender.mobile,寄省=sender.address.province,寄市=sender.address.city,寄区=sender.address.district,寄地址=sender.address.detail,收件人=receiver.name,收件人手机=receiver.mobile,收省=receiver.address.province,收市=receiver.address.city,收区=receiver.address.district,收地址=receiver.address.detail,物品=items,重量=weightGrams,内部编号=-';
    const sealed = await cli(['seal', '--keys', keys, '--format', 'csv', '--map', map], csv);
    expect(sealed).toMatchObject({ code: 0, stderr: '' });
    const masked = await cli(['mask', '--format', 'csv', '--out-format', 'jsonl'], sealed.stdout);
    expect(masked.code).toBe(0);
    expect(lines(masked.stdout)[0].receiver.mobile).toBe('139****4321');
    const opened = await cli(['open', '--keys', keys, '--principal', 'auditor-9', '--purpose', 'audit', '--ticket', 'T-9', '--format', 'csv', '--out-format', 'jsonl'], sealed.stdout);
    expect(opened.code).toBe(0);
    expect(lines(opened.stdout)[0].receiver.name).toBe(w.receiver.name);
    const found = await cli(['find', '--keys', keys, '--principal', 'cs-4', '--purpose', 'customer-service', '--ticket', 'T-9', '--format', 'csv', '--index', 'receiver.mobile', '13987654321'], sealed.stdout);
    expect(found.code).toBe(0);
    expect(found.stdout.split('\n')[0]).toBe(sealed.stdout.split('\n')[0]);
    expect(found.stdout.trim().split('\n')).toHaveLength(2);
    const named = await cli(['mask', '--format', 'csv', '--map', map], sealed.stdout);
    expect(named.stdout.split('\n')[0]).toBe('单号,创建时间,寄件人,寄件人手机,寄省,寄市,寄区,寄地址,收件人,收件人手机,收省,收市,收区,收地址,物品,重量');
  });
});
