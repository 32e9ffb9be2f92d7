/**
 * Input encodings (issue 15): input is decoded strictly; a line that is not valid in its encoding
 * is rejected by line number and byte offset and nothing is sealed from it; GB18030 (GBK, GB2312)
 * and UTF-16LE exports from Excel; a UTF-8 BOM is accepted; --bom writes one.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import iconv from 'iconv-lite';
import { beforeAll, describe, expect, it } from 'vitest';
import { sampleWaybill } from '../helpers.js';
import { cli, jsonl, lines, openedLines, withoutOpenedColumn } from './run.js';

let dir: string;
let keys: string;
const path = (name: string) => join(dir, name);
const exportOpen = (extra: string[] = []) => ['open', '--keys', keys, '--principal', 'ops-1', '--purpose', 'export', '--approval', `EXP-${Math.random()}`, '--budget', '100000', ...extra];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ws-enc-'));
  keys = path('keys.json');
  expect((await cli(['keygen', '--out', keys, '--quiet'])).code).toBe(0);
}, 60_000);

// Names with CJK Extension B characters (4-byte sequences in GB18030, surrogate pairs in UTF-16).
const NAMES = ['𠀀𠀁', '王𪚥', '𡈼明', '欧阳娜娜'];
const HEADER = 'waybillNo,createdAt,sender.name,sender.mobile,sender.address.province,sender.address.city,sender.address.district,sender.address.detail,receiver.name,receiver.mobile,receiver.address.province,receiver.address.city,receiver.address.district,receiver.address.detail,items,weightGrams';
const row = (i: number) => `GB${i},2025-03-01,${NAMES[i % NAMES.length]},13812345678,广东省,深圳市,南山区,科技园路${i}号,${NAMES[(i + 1) % NAMES.length]},13987654321,浙江省,杭州市,西湖区,"文一西路969号
${i}-2-301","[{""name"":""书"",""quantity"":${i + 1}}]",${100 * i}`;
const CSV = `${HEADER}\r\n${[0, 1, 2, 3, 4, 5].map(row).join('\r\n')}\r\n`;

describe('--encoding', () => {
  it('seals a GB18030 CSV (CJK Extension B names, quoted multi-line cells) and opens it byte-exact; gbk and gb2312 are the same decoder', async () => {
    const gb = iconv.encode(CSV, 'gb18030');
    expect(gb.includes(Buffer.from(CSV, 'utf8'))).toBe(false);
    expect([...iconv.encode('𠀀', 'gb18030')]).toEqual([0x95, 0x32, 0x82, 0x36]); // a four-byte sequence
    await writeFile(path('gb.csv'), gb);
    for (const label of ['gb18030', 'GBK', 'gb2312']) {
      const sealed = await cli(['seal', '--keys', keys, '--encoding', label, '--in', path('gb.csv'), '--out', path(`sealed-${label}.csv`)]);
      expect(sealed).toMatchObject({ code: 0, stderr: '' });
      const opened = await cli(exportOpen(['--in', path(`sealed-${label}.csv`)]));
      expect(opened.code).toBe(0);
      expect(withoutOpenedColumn(opened.stdout)).toBe(CSV.replace(/\r\n/g, '\n').replace(/\n(?=\d-2-301)/g, '\n'));
    }
  });

  it('without --encoding a GBK file is not turned into U+FFFD: every record line is rejected with its byte offset, nothing is sealed', async () => {
    const sealed = await cli(['seal', '--keys', keys, '--in', path('gb.csv')]);
    expect(sealed.code).toBe(2);
    expect(sealed.stdout).toBe(`${HEADER},$tag\n`);
    expect(sealed.stdout).not.toContain('\uFFFD');
    expect(sealed.stderr).toMatch(/^line 2: rejected: INVALID_ENCODING: not valid UTF-8 at byte 15 of the line \(byte \d+ of the input\)$/m);
    expect(sealed.stderr.match(/INVALID_ENCODING/g)).toHaveLength(6);
  });

  it('an invalid UTF-8 JSON line is rejected with its line number and byte offset; the lines around it are sealed', async () => {
    const good = jsonl([sampleWaybill(), { ...sampleWaybill(), waybillNo: 'SF2' }]).split('\n');
    const bad = Buffer.from(JSON.stringify({ ...sampleWaybill(), waybillNo: 'BAD' }), 'utf8');
    const at = bad.indexOf(Buffer.from('张', 'utf8'));
    bad[at + 1] = 0x41; // a lead byte followed by an ASCII byte
    const input = Buffer.concat([Buffer.from(`${good[0]}\n`), bad, Buffer.from(`\n${good[1]}\n`)]);
    await writeFile(path('bad.jsonl'), input);
    const sealed = await cli(['seal', '--keys', keys, '--in', path('bad.jsonl'), '--rejects', path('rejects.jsonl')]);
    expect(sealed.code).toBe(2);
    expect(lines(sealed.stdout).map((r) => r.waybillNo)).toEqual(['SF1234567890123', 'SF2']);
    const offset = Buffer.byteLength(good[0]!) + 1 + at;
    expect(sealed.stderr).toContain(`line 2: rejected: INVALID_ENCODING: not valid UTF-8 at byte ${at} of the line (byte ${offset} of the input)`);
    expect(lines(await readFile(path('rejects.jsonl'), 'utf8'))).toEqual([{ line: 2, code: 'INVALID_ENCODING', message: expect.stringContaining(`byte ${at} of the line`) }]);
  });

  it('an invalid line inside a quoted multi-line CSV cell rejects that record only', async () => {
    const text = Buffer.from(`${HEADER}\n${row(0)}\n${row(1)}\n${row(2)}\n`, 'utf8');
    const second = text.indexOf(Buffer.from('\n1-2-301', 'utf8')) + 1;
    const input = Buffer.concat([text.subarray(0, second), Buffer.from([0xff]), text.subarray(second)]);
    await writeFile(path('bad.csv'), input);
    const sealed = await cli(['seal', '--keys', keys, '--in', path('bad.csv')]);
    expect(sealed.code).toBe(2);
    expect(sealed.stderr).toMatch(/^line 5: rejected: INVALID_ENCODING: not valid UTF-8 at byte 0 of the line/m);
    expect((parse(sealed.stdout, { columns: true }) as Record<string, string>[]).map((r) => r['waybillNo'])).toEqual(['GB0', 'GB2']);
  });

  it('a CSV header that is not valid in the encoding is a usage error (exit 1) before any record', async () => {
    await writeFile(path('gbhead.csv'), iconv.encode('运单号,寄件人\n1,2\n', 'gbk'));
    const r = await cli(['seal', '--keys', keys, '--in', path('gbhead.csv'), '--map', '运单号=waybillNo,寄件人=sender.name']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/CSV header, line 1: INVALID_ENCODING: not valid UTF-8 at byte 0/);
  });

  it('an invalid GB18030 sequence is rejected with its offset', async () => {
    const input = Buffer.concat([iconv.encode(`${HEADER}\n${row(0)}\n`, 'gb18030'), Buffer.from('GB9,2025-03-01,'), Buffer.from([0x81, 0x20]), iconv.encode(`,13812345678,广东省,深圳市,南山区,x,y,13987654321,浙江省,杭州市,西湖区,z\n`, 'gb18030')]);
    await writeFile(path('badgb.csv'), input);
    const sealed = await cli(['seal', '--keys', keys, '--encoding', 'gb18030', '--in', path('badgb.csv')]);
    expect(sealed.code).toBe(2);
    expect(sealed.stderr).toMatch(/^line 4: rejected: INVALID_ENCODING: not valid GB18030 at byte 15 of the line/m);
  });

  it('UTF-16LE with its BOM (Excel "Unicode text"), JSON Lines and CSV; a UTF-8 BOM is accepted and --bom writes one', async () => {
    await writeFile(path('u16.csv'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(CSV, 'utf16le')]));
    const sealed = await cli(['seal', '--keys', keys, '--encoding', 'utf-16le', '--in', path('u16.csv'), '--out', path('u16-sealed.csv')]);
    expect(sealed).toMatchObject({ code: 0, stderr: '' });
    const opened = await cli(exportOpen(['--in', path('u16-sealed.csv'), '--out-format', 'jsonl']));
    expect(lines(opened.stdout).map((r) => r.sender.name)).toEqual([0, 1, 2, 3, 4, 5].map((i) => NAMES[i % NAMES.length]));

    const record = { ...sampleWaybill(), receiver: { ...sampleWaybill().receiver, name: '𠀀𪚥' } };
    await writeFile(path('u16.jsonl'), Buffer.from(jsonl([record, record]), 'utf16le'));
    const fromJsonl = await cli(['seal', '--keys', keys, '--encoding', 'utf16le', '--in', path('u16.jsonl')]);
    expect(fromJsonl.code).toBe(0);
    expect(openedLines((await cli(exportOpen(), fromJsonl.stdout)).stdout)).toEqual([record, record]);

    await writeFile(path('bom.csv'), `\uFEFF${CSV}`);
    const withBom = await cli(['seal', '--keys', keys, '--in', path('bom.csv'), '--bom', '--out', path('bom-sealed.csv')]);
    expect(withBom).toMatchObject({ code: 0, stderr: '' });
    const out = await readFile(path('bom-sealed.csv'));
    expect([...out.subarray(0, 4)]).toEqual([0xef, 0xbb, 0xbf, 0x77]); // BOM, then "waybillNo"
    const again = await cli(exportOpen(['--in', path('bom-sealed.csv'), '--out-format', 'jsonl']));
    expect(again.code).toBe(0);
    expect(lines(again.stdout)).toHaveLength(6);
  });

  it('an unknown encoding is a usage error', async () => {
    const r = await cli(['seal', '--keys', keys, '--encoding', 'latin1'], '');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--encoding must be utf-8, gb18030, utf-16le/);
  });
});
