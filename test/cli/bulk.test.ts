/**
 * The bulk CLI (issue 7), run from the built bin: JSON Lines and CSV in and out with typed
 * conversion and column mappings, --jobs (order, key races, shared audit log and quotas), rejected
 * lines (--rejects FILE, never content), progress (--json-progress, --progress, quiet when piped),
 * schema files, help and exit codes.
 */
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { syntheticWaybills } from 'waybill-seal/testing';
import 'waybill-seal/testing/vitest';
import { sampleWaybill } from '../helpers.js';
import { cli, jsonl, lines, openedLines, withoutOpenedColumn } from './run.js';

let dir: string;
let keys: string;
const path = (name: string) => join(dir, name);
const csvRows = (text: string) => parse(text, { columns: true }) as Record<string, string>[];
const exportOpen = (k: string, extra: string[] = []) => ['open', '--keys', k, '--principal', 'ops-1', '--purpose', 'export', '--approval', `EXP-${Math.random()}`, '--budget', '100000', ...extra];
const plain = syntheticWaybills({ count: 300, seed: 4242 });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ws-bulk-'));
  keys = path('keys.json');
  expect((await cli(['keygen', '--out', keys, '--quiet'])).code).toBe(0);
  await writeFile(path('plain.jsonl'), jsonl(plain));
});

describe('CSV in and out', () => {
  it('plain CSV → sealed CSV → opened CSV and JSON Lines: the same records; sealed fields are one column of compact JSON', async () => {
    expect((await cli(['convert', '--in', path('plain.jsonl'), '--out', path('plain.csv')])).code).toBe(0);
    const header = (await readFile(path('plain.csv'), 'utf8')).split('\n')[0]!.split(',');
    expect(header.slice(0, 5)).toEqual(['waybillNo', 'orderId', 'createdAt', 'sender.name', 'sender.mobile']);
    expect(header).toContain('receiver.address.detail');
    expect(header).toContain('items');

    const sealed = await cli(['seal', '--keys', keys, '--in', path('plain.csv'), '--out', path('sealed.csv')]);
    expect(sealed).toMatchObject({ code: 0, stderr: '' });
    const text = await readFile(path('sealed.csv'), 'utf8');
    const rows = csvRows(text);
    expect(rows.length).toBe(300);
    const field = JSON.parse(rows[0]!['receiver.mobile']!);
    expect(Object.keys(field)).toEqual(['enc', 'mask', 'tok']);
    expect(field.enc).toMatch(/^ws1\./);
    expect(rows[0]!['receiver.mobile']).toBe(JSON.stringify(field)); // compact
    expect(rows[0]!['$tag']).toMatch(/^t2\./);
    expect(text).toContainNoPlaintext(plain);

    const opened = await cli([...exportOpen(keys), '--in', path('sealed.csv'), '--out-format', 'jsonl']);
    expect(opened.code).toBe(0);
    expect(openedLines(opened.stdout)).toEqual(plain);
    const openedCsv = await cli([...exportOpen(keys), '--in', path('sealed.csv')]);
    expect(withoutOpenedColumn(openedCsv.stdout)).toBe(await readFile(path('plain.csv'), 'utf8').then((t) => t.replace(/,\$tag\n/, '\n').replace(/,(?=\n)/g, '')));
  });

  it('converts CSV strings by the schema: numbers, booleans, JSON arrays, quoted empty strings vs absent fields, virtual numbers as JSON or two columns', async () => {
    const csv = [
      'waybillNo,createdAt,sender.name,sender.mobile,sender.address.province,sender.address.city,sender.address.district,sender.address.detail,receiver.name,receiver.mobile,receiver.virtualNumber.main,receiver.virtualNumber.ext,receiver.address.province,receiver.address.city,receiver.address.district,receiver.address.town,receiver.address.detail,items,weightGrams',
      'C1,2025-03-01,张三,13812345678,广东省,深圳市,南山区,科技园路1号3栋2单元501室,李四,13987654321,13800138000,1234,浙江省,杭州市,西湖区,"",文一西路969号5-2-301,"[{""name"":""书"",""quantity"":2}]", 1200 ',
      'C2,2025-03-01,张三,,广东省,深圳市,南山区,科技园路1号,李四,13987654321,,,浙江省,杭州市,西湖区,,文一西路969号,[],12.5e2',
    ].join('\n');
    const r = await cli(['seal', '--keys', keys, '--format', 'csv', '--out-format', 'jsonl'], csv);
    expect(r.stderr).toBe('');
    const [a, b] = lines(r.stdout);
    expect(a.weightGrams).toBe(1200);
    expect(a.items).toEqual([{ name: '书', quantity: 2 }]);
    expect(a.receiver.address.town).toBe(''); // quoted empty: an empty string
    expect(b.receiver.address).not.toHaveProperty('town'); // unquoted empty: absent
    expect(b.sender).not.toHaveProperty('mobile');
    expect(b.weightGrams).toBe(1250);
    expect(a.receiver.virtualNumber.mask.screen).toMatch(/转/);
    const opened = lines((await cli([...exportOpen(keys)], r.stdout)).stdout);
    expect(opened[0].receiver.virtualNumber).toEqual({ main: '13800138000', ext: '1234' });

    const bad = await cli(['seal', '--keys', keys, '--format', 'csv'], csv.replace(' 1200 ', '12kg').replace(',[],', ',[oops,'));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/line 2: rejected: VALIDATION: invalid field weightGrams: expected_number/);
    expect(bad.stderr).toMatch(/line 3: rejected: VALIDATION: invalid field items: invalid_json/);
    expect(bad.stderr).not.toContain('12kg');
  });

  it('--map renames input columns (sealed CSV keeps field paths; later --map names output columns), drops columns, and refuses unknown columns before reading a record', async () => {
    const w = sampleWaybill();
    const csv = [
      '单号,创建时间,寄件人,寄件人手机,寄省,寄市,寄区,寄地址,收件人,收件人手机,收省,收市,收区,收地址,物品,重量,内部备注',
      `${w.waybillNo},${w.createdAt},${w.sender.name},${w.sender.mobile},广东省,深圳市,南山区,${w.sender.address.detail},${w.receiver.name},13987654321,浙江省,杭州市,西湖区,${w.receiver.address.detail},"[]",1200,do not import`,
    ].join('\n');
    const map = [
      '单号=waybillNo,创建时间=createdAt,寄件人=sender.name,寄件人手机=sender.mobile,寄省=sender.address.province,寄市=sender.address.city',
      '寄区=sender.address.district,寄地址=sender.address.detail,收件人=receiver.name,收件人手机=receiver.mobile,收省=receiver.address.province',
      '收市=receiver.address.city,收区=receiver.address.district,收地址=receiver.address.detail,物品=items,重量=weightGrams,内部备注=-',
    ];
    const sealed = await cli(['seal', '--keys', keys, '--format', 'csv', ...map.flatMap((m) => ['--map', m])], csv);
    expect(sealed.stderr).toBe('');
    expect(sealed.code).toBe(0);
    const [header] = sealed.stdout.split('\n');
    // Sealed CSV names its columns by field path: the next command needs no --map (issue 15).
    expect(header).toBe(
      'waybillNo,createdAt,sender.name,sender.mobile,sender.address.province,sender.address.city,sender.address.district,sender.address.detail,receiver.name,receiver.mobile,receiver.address.province,receiver.address.city,receiver.address.district,receiver.address.detail,items,weightGrams,$tag',
    );
    const plainMask = await cli(['mask', '--format', 'csv', '--profile', 'label'], sealed.stdout);
    expect(plainMask.code).toBe(0);
    expect(csvRows(plainMask.stdout)[0]).toMatchObject({ 'sender.mobile': '*******5678', 'receiver.name': '欧***' });
    // --map on a later command names its output columns again.
    const masked = await cli(['mask', '--format', 'csv', '--profile', 'label', ...map.flatMap((m) => ['--map', m])], sealed.stdout);
    expect(csvRows(masked.stdout)[0]).toMatchObject({ 寄件人手机: '*******5678', 收件人: '欧***' });

    const unknown = await cli(['seal', '--keys', keys, '--format', 'csv'], csv);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/CSV column "单号" is not a field path; name it with --map "单号=field\.path" \(or "单号=-" to drop it\)/);
    const typo = await cli(['seal', '--keys', keys, '--format', 'csv'], 'waybillNo,reciever.mobile\n');
    expect(typo.stderr).toMatch(/CSV column "reciever\.mobile" is not a field of schema waybill; map it with --map "reciever\.mobile=field\.path" or drop it with --map "reciever\.mobile=-"/);
    expect(unknown.stdout).toBe('');
    const twice = await cli(['seal', '--keys', keys, '--format', 'csv', '--map', '单号=waybillNo,创建时间=waybillNo'], csv);
    expect(twice.stderr).toMatch(/both hold field waybillNo/);
  });

  it('malformed CSV records are rejected by line and the run goes on; an unterminated quote is one rejected span', async () => {
    await writeFile(path('mini.csv'), 'waybillNo,createdAt\n');
    const header = 'waybillNo,createdAt,sender.name,sender.address.province,sender.address.city,sender.address.district,sender.address.detail,receiver.name,receiver.address.province,receiver.address.city,receiver.address.district,receiver.address.detail,items,weightGrams';
    const row = (no: string) => `${no},2025-03-01,张三,广东省,深圳市,南山区,科技园路1号,李四,浙江省,杭州市,西湖区,文一西路1号,[],100`;
    const csv = [header, row('A1'), 'A2,too,few', row('A3'), `${row('A4').replace('张三', '"张"三"')}`, row('A5'), `${row('A6').replace('张三', '"张三')}`, row('A7')].join('\n');
    const r = await cli(['seal', '--keys', keys, '--format', 'csv', '--rejects', path('csv-rejects.jsonl')], csv);
    expect(r.code).toBe(2);
    expect(csvRows(r.stdout).map((x) => x['waybillNo'])).toEqual(['A1', 'A3', 'A5']);
    expect(r.stderr).toMatch(/line 3: rejected: CSV_RECORD_INCONSISTENT_FIELDS_LENGTH/);
    expect(r.stderr).toMatch(/line 5: rejected: CSV_INVALID_CLOSING_QUOTE/);
    expect(r.stderr).toMatch(/lines 7-8: rejected: CSV_QUOTE_NOT_CLOSED: unterminated quoted field; the rest of the input was not read/);
    const rejects = lines(await readFile(path('csv-rejects.jsonl'), 'utf8'));
    expect(rejects.map((x) => x.line)).toEqual([3, 5, 7]);
  });
});

describe('--jobs', () => {
  it('output order equals input order, and the records are the same, for --jobs 1, 2 and 3', async () => {
    const outs: unknown[][] = [];
    for (const jobs of ['1', '2', '3']) {
      const out = path(`jobs-${jobs}.jsonl`);
      const r = await cli(['seal', '--keys', keys, '--in', path('plain.jsonl'), '--out', out, '--jobs', jobs]);
      expect(r).toMatchObject({ code: 0, stderr: '' });
      const sealed = lines(await readFile(out, 'utf8'));
      expect(sealed.map((s) => s.waybillNo)).toEqual(plain.map((p) => p.waybillNo));
      outs.push(openedLines((await cli([...exportOpen(keys), '--in', out, '--jobs', jobs])).stdout));
    }
    for (const o of outs) expect(o).toEqual(plain);
  });

  it('workers racing to create data keys end with one key per scope, all in the key file', async () => {
    const fresh = path('race.json');
    expect((await cli(['keygen', '--out', fresh, '--quiet'])).code).toBe(0);
    const r = await cli(['seal', '--keys', fresh, '--in', path('plain.jsonl'), '--jobs', '4']);
    expect(r.code).toBe(0);
    const file = JSON.parse(await readFile(fresh, 'utf8'));
    const scopes = file.dataKeys.map((d: { keyClass: string; scope: string }) => `${d.keyClass}/${d.scope}`);
    expect(new Set(scopes).size).toBe(scopes.length);
    const used = new Set([...r.stdout.matchAll(/ws1\.[a-z0-9-]+\.([^.]+)\./g)].map((m) => m[1]));
    // Index keys (one per month and indexed key class) encrypt no field.
    const fieldKeys = file.dataKeys.filter((d: { keyClass: string }) => !d.keyClass.endsWith('-index'));
    expect(file.dataKeys.length - fieldKeys.length).toBeGreaterThan(0);
    expect([...used].sort()).toEqual(fieldKeys.map((d: { id: string }) => d.id).sort());
    expect(openedLines((await cli(exportOpen(fresh), r.stdout)).stdout)).toEqual(plain);
  });

  it('open --jobs 2 shares one audit log and one export budget through the main thread', async () => {
    const k = path('budget.json');
    expect((await cli(['keygen', '--out', k, '--quiet'])).code).toBe(0);
    const sealed = (await cli(['seal', '--keys', k, '--in', path('plain.jsonl')])).stdout;
    const r = await cli(['open', '--keys', k, '--principal', 'ops-2', '--purpose', 'export', '--approval', 'EXP-9', '--budget', '120', '--jobs', '2'], sealed);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/180 record\(s\) written masked \(export_budget_spent: 180\)/);
    const out = lines(r.stdout);
    expect(out.map((o) => o.waybillNo)).toEqual(plain.map((p) => p.waybillNo));
    expect(out.filter((o, i) => o.receiver.mobile === plain[i]!.receiver.mobile).length).toBe(120);
    const verify = await cli(['audit', 'verify', '--keys', k, path('budget.audit.jsonl')]);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/ok: \d+ line\(s\) intact/);
  });
});

describe('rejected lines, progress and exit codes', () => {
  it('--rejects FILE (JSON Lines or CSV) has line numbers and reason codes, never content; stderr too unless --quiet', async () => {
    const bad = { ...sampleWaybill(), waybillNo: 'B1', sender: { ...sampleWaybill().sender, mobile: '99999' } };
    const input = [JSON.stringify(sampleWaybill()), '{not json', JSON.stringify(bad), '', JSON.stringify({ ...sampleWaybill(), secret: '13812345678' })].join('\n');
    const r = await cli(['seal', '--keys', keys, '--rejects', path('rejects.jsonl')], input);
    expect(r.code).toBe(2);
    expect(lines(r.stdout).length).toBe(1);
    const rejects = lines(await readFile(path('rejects.jsonl'), 'utf8'));
    expect(rejects).toEqual([
      { line: 2, code: 'INVALID_JSON', message: 'INVALID_JSON' },
      { line: 3, code: 'VALIDATION', reason: 'invalid_mobile', path: 'sender.mobile', message: 'VALIDATION: invalid field sender.mobile: invalid_mobile' },
      { line: 5, code: 'VALIDATION', reason: 'unknown_field', path: 'secret', message: 'VALIDATION: invalid field secret: unknown_field' },
    ]);
    expect(r.stderr.trim().split('\n')).toEqual(rejects.map((x) => `line ${x.line}: rejected: ${x.message}`));
    for (const text of [r.stderr, await readFile(path('rejects.jsonl'), 'utf8')]) {
      expect(text).not.toContain('99999');
      expect(text).not.toContain('13812345678');
      expect(text).not.toContain('not json');
    }
    const quiet = await cli(['seal', '--keys', keys, '--quiet', '--rejects', path('rejects.csv')], input);
    expect(quiet).toMatchObject({ code: 2, stderr: '' });
    expect(csvRows(await readFile(path('rejects.csv'), 'utf8')).map((x) => [x['line'], x['code'], x['path']])).toEqual([
      ['2', 'INVALID_JSON', ''],
      ['3', 'VALIDATION', 'sender.mobile'],
      ['5', 'VALIDATION', 'secret'],
    ]);
  });

  it('--json-progress: progress lines, one line per rejection, and a done line with the exit code and peak RSS', async () => {
    const input = `${jsonl(plain.slice(0, 50))}{oops\n`;
    const r = await cli(['seal', '--keys', keys, '--json-progress', '--progress-interval', '0', '--jobs', '2'], input);
    expect(r.code).toBe(2);
    const events = lines(r.stderr);
    expect(events.filter((e) => e.type === 'progress').length).toBeGreaterThan(0);
    expect(events.find((e) => e.type === 'rejected')).toEqual({ type: 'rejected', line: 51, code: 'INVALID_JSON', message: 'INVALID_JSON' });
    const done = events.at(-1);
    expect(done).toMatchObject({ type: 'done', command: 'seal', records: 51, written: 50, rejected: 1, exitCode: 2 });
    expect(done.maxRssBytes).toBeGreaterThan(10_000_000);
    expect(done.bytesTotal).toBeNull(); // a pipe: size unknown, so no ETA
  });

  it('quiet when piped; --progress draws the bar (percent and ETA for a file) and a summary', async () => {
    const piped = await cli(['seal', '--keys', keys, '--in', path('plain.jsonl'), '--out', path('p.jsonl')]);
    expect(piped).toMatchObject({ code: 0, stderr: '' });
    const bar = await cli(['seal', '--keys', keys, '--in', path('plain.jsonl'), '--out', path('p.jsonl'), '--progress', '--force']);
    expect(bar.code).toBe(0);
    expect(bar.stderr).toMatch(/seal: \[#+\.*\] 100\.0% 300 records, \d+\/s, 0 rejected/);
    expect(bar.stderr).toMatch(/seal: 300 records in [\d.]+s \(\d+\/s\), 300 written, 0 rejected\n$/);
  });

  it('usage and configuration errors exit 1 before anything is written', async () => {
    expect((await cli(['seal', '--keys', keys, '--format', 'xml'], '')).stderr).toMatch(/--format must be jsonl or csv/);
    expect((await cli(['seal', '--keys', keys, '--jobs', '0'], '')).code).toBe(1);
    expect((await cli(['seal', '--keys', keys, '--map', 'nopath'], '')).stderr).toMatch(/--map takes COLUMN=FIELD\.PATH/);
    const inPlace = await cli(['seal', '--keys', keys, '--in', path('plain.jsonl'), '--out', path('plain.jsonl')]);
    expect(inPlace.code).toBe(1);
    expect(inPlace.stderr).toMatch(/--out must not be the --in file/);
    expect((await readFile(path('plain.jsonl'), 'utf8')).length).toBeGreaterThan(0);
    expect((await cli(['seal', '--keys', keys, '--in', path('missing.jsonl')])).stderr).toMatch(/cannot read .*missing\.jsonl/);
    const fields = await cli([...exportOpen(keys), '--fields', 'weightGrams'], (await cli(['seal', '--keys', keys], jsonl([sampleWaybill()]))).stdout);
    expect(fields.code).toBe(1);
    expect(fields.stderr).toMatch(/"weightGrams" is not a protected field/);
  });

  it('--help of every command has examples and exit codes; waybill-seal --help lists every exit code', async () => {
    const main = await cli(['--help']);
    for (const code of ['0   done', '1   usage', '2   some input lines were rejected', '3   open: a quota', '4   integrity', '130 interrupted']) expect(main.stdout).toContain(code);
    for (const c of ['keygen', 'seal', 'mask', 'open', 'inspect', 'keys', 'reseal', 'find', 'token', 'audit', 'shred', 'convert', 'schema']) {
      const h = await cli([c, '--help']);
      expect(h.code).toBe(0);
      expect(h.stdout).toContain(`waybill-seal ${c}`);
      expect(h.stdout).toMatch(/Examples?:/);
      expect(h.stdout).toMatch(/Exit codes/);
      if (['seal', 'mask', 'inspect', 'find', 'convert'].includes(c)) expect(h.stdout).toContain('--jobs N|auto');
    }
  });
});

describe('schema files from the CLI', () => {
  const parcelSchema = new URL('../fixtures/parcel.schema.json', import.meta.url).pathname;
  const waybillSchema = new URL('../../schemas/waybill.json', import.meta.url).pathname;

  it('the JSON form of the waybill schema seals records the built-in schema opens', async () => {
    const r = await cli(['seal', '--keys', keys, '--schema', waybillSchema], jsonl(plain.slice(0, 20)));
    expect(r.code).toBe(0);
    expect(openedLines((await cli(exportOpen(keys), r.stdout)).stdout)).toEqual(plain.slice(0, 20));
  });

  it('a team schema: CSV with its own column names, booleans and numbers, masks, find by its index, open under a policy file', async () => {
    const keys = path('parcel-keys.json');
    expect((await cli(['keygen', '--out', keys, '--schema', parcelSchema])).stderr).toMatch(/key classes contact, address, identity, note, serials/);
    const csv = [
      'id,createdAt,weightKg,fragile,收件人,手机,addr.city,addr.district,addr.detail,tags,lines,内部编号',
      'P1,2025-05-02,1.25,true,王小四,13812345678,杭州市,西湖区,文一西路969号5-2-301,"[""a""]","[{""sku"":""S1"",""serial"":""SN-1""}]",x-1',
      'P2,2025-05-03,3,0,李四,,杭州市,滨江区,江南大道1号,[],,x-2',
    ].join('\n');
    const sealed = await cli(['seal', '--keys', keys, '--schema', parcelSchema, '--format', 'csv'], csv);
    expect(sealed.stderr).toBe('');
    expect(sealed.stdout.split('\n')[0]).toBe('id,createdAt,weightKg,fragile,收件人,手机,addr.city,addr.district,addr.detail,tags,lines,$tag');
    expect(sealed.stdout).toContain('serials/2025-05/1');
    const masked = csvRows((await cli(['mask', '--schema', parcelSchema, '--format', 'csv', '--profile', 'label'], sealed.stdout)).stdout);
    expect(masked[0]).toMatchObject({ 收件人: '王*四', 手机: '138******78', fragile: 'true', weightKg: '1.25' });
    expect(masked[1]).toMatchObject({ fragile: 'false', 手机: '' });
    await writeFile(path('policy.json'), JSON.stringify({ format: 'waybill-seal/policy', version: 1, purposes: { care: { fields: ['who', 'phone'], requires: ['ticket'] } } }));
    const care = ['--policy', path('policy.json'), '--principal', 'cs', '--purpose', 'care', '--ticket', 'T-1'];
    const found = await cli(['find', '--keys', keys, ...care, '--schema', parcelSchema, '--format', 'csv', '--index', 'phone:last4+district', '5678', '西湖区'], sealed.stdout);
    expect(csvRows(found.stdout).map((x) => x['id'])).toEqual(['P1']);
    const opened = await cli(['open', '--keys', keys, '--schema', parcelSchema, '--format', 'csv', '--out-format', 'jsonl', '--policy', path('policy.json'), '--principal', 'cs', '--purpose', 'care', '--ticket', 'T-1'], sealed.stdout);
    expect(opened.code).toBe(0);
    expect(lines(opened.stdout)[0]).toMatchObject({ id: 'P1', who: '王小四', phone: '13812345678', fragile: true, weightKg: 1.25, tags: ['a'], lines: [{ sku: 'S1', serial: '****' }] });
    expect((await cli(['open', '--keys', keys, '--schema', parcelSchema, '--principal', 'a', '--purpose', 'care'], '')).stderr).toMatch(/has no built-in policy: pass --policy FILE/);
  });

  it('schema check reports the JSON path and reason; schema show prints a built-in schema as a file', async () => {
    const ok = await cli(['schema', 'check', parcelSchema]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/ok: schema parcel version 2: 5 protected field\(s\)/);
    const doc = JSON.parse(await readFile(parcelSchema, 'utf8'));
    doc.fields.addr.fields.detail = 'adress';
    await writeFile(path('bad.schema.json'), JSON.stringify(doc));
    const bad = await cli(['schema', 'check', path('bad.schema.json')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/schema file .*bad\.schema\.json: fields\.addr\.fields\.detail: unknown kind "adress"/);
    expect((await cli(['seal', '--keys', keys, '--schema', path('bad.schema.json')], '')).code).toBe(1);
    const shown = await cli(['schema', 'show', 'waybill']);
    const { $schema: _, ...rest } = JSON.parse(shown.stdout);
    const { $schema: __, description: ___, ...committed } = JSON.parse(await readFile(waybillSchema, 'utf8'));
    expect(rest).toEqual(committed);
  });
});

describe('reseal shares the flags that apply to it', () => {
  it('--json-progress and --rejects FILE; CSV is refused with a pointer to convert', async () => {
    const k = path('reseal.json');
    expect((await cli(['keygen', '--out', k, '--quiet'])).code).toBe(0);
    const sealed = (await cli(['seal', '--keys', k], jsonl(plain.slice(0, 20)))).stdout.trim().split('\n');
    await writeFile(path('reseal-in.jsonl'), [...sealed.slice(0, 10), '{broken', ...sealed.slice(10)].join('\n') + '\n');
    const r = await cli(['reseal', '--keys', k, '--in', path('reseal-in.jsonl'), '--out', path('reseal-out.jsonl'), '--json-progress', '--rejects', path('reseal-rejects.jsonl')]);
    expect(r.code).toBe(2);
    const events = lines(r.stderr);
    expect(events.find((e) => e.type === 'rejected')).toMatchObject({ line: 11, code: 'INVALID_JSON' });
    expect(events.at(-1)).toMatchObject({ type: 'done', command: 'reseal', records: 21, written: 20, rejected: 1, exitCode: 2, resealedRecords: 20 });
    expect(lines(await readFile(path('reseal-rejects.jsonl'), 'utf8'))).toEqual([{ line: 11, code: 'INVALID_JSON', message: 'INVALID_JSON' }]);
    expect(openedLines((await cli(exportOpen(k), await readFile(path('reseal-out.jsonl'), 'utf8'))).stdout)).toEqual(plain.slice(0, 20));
    const csv = await cli(['reseal', '--keys', k, '--in', path('x.csv'), '--out', path('y.csv'), '--format', 'csv']);
    expect(csv.code).toBe(1);
    expect(csv.stderr).toMatch(/convert/);
  });
});

describe('streaming', () => {
  it('a line longer than the limit is rejected without being held; the lines around it are sealed', async () => {
    const long = `{"waybillNo":"${'x'.repeat(9 * 1024 * 1024)}"}`;
    const input = `${JSON.stringify(plain[0])}\n${long}\n${JSON.stringify(plain[1])}\n`;
    await writeFile(path('long.jsonl'), input);
    const r = await cli(['seal', '--keys', keys, '--in', path('long.jsonl')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/line 2: rejected: LINE_TOO_LONG/);
    expect(lines(r.stdout).map((x) => x.waybillNo)).toEqual([plain[0]!.waybillNo, plain[1]!.waybillNo]);
  });

  it('CRLF lines without a final newline; a file input has a known size (progress percent)', async () => {
    await writeFile(path('crlf.jsonl'), plain.slice(0, 5).map((p) => JSON.stringify(p)).join('\r\n'));
    await chmod(path('crlf.jsonl'), 0o600);
    const r = await cli(['seal', '--keys', keys, '--in', path('crlf.jsonl'), '--json-progress']);
    expect(r.code).toBe(0);
    expect(lines(r.stdout).length).toBe(5);
    expect(lines(r.stderr).at(-1)).toMatchObject({ type: 'done', percent: 100, records: 5 });
  });
});
