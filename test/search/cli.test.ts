import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../cli/run.js';
import { sampleWaybill } from '../helpers.js';

/** Every find and token is an access: a principal under a test policy that may search everything. */
const ACCESS = ['--principal', 'test', '--policy', fileURLToPath(new URL('../fixtures/search-policy.json', import.meta.url))];

const RECEIVERS = ['+86 138-1234-5678', '13912344321', '0086 13812345678', '13700005678', '13812345678'];
const DISTRICTS = ['西湖区', '西湖区', '滨江区', '西湖区', '西湖区'];

let dir: string;
let keys: string;
let sealedPath: string;
let sealedLines: string[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ws-find-'));
  keys = join(dir, 'keys.json');
  expect((await cli(['keygen', '--out', keys])).code).toBe(0);
  const plain = RECEIVERS.map((mobile, i) => {
    const w = sampleWaybill();
    w.waybillNo = `SF${i}`;
    w.receiver.mobile = mobile;
    w.receiver.address.district = DISTRICTS[i]!;
    return JSON.stringify(w);
  });
  await writeFile(join(dir, 'plain.jsonl'), `${plain.join('\n')}\n`);
  sealedPath = join(dir, 'sealed.jsonl');
  const sealed = await cli(['seal', '--keys', keys, '--in', join(dir, 'plain.jsonl'), '--out', sealedPath]);
  expect(sealed.code).toBe(0);
  sealedLines = (await readFile(sealedPath, 'utf8')).trim().split('\n');
  expect(sealedLines).toHaveLength(5);
});

const numbers = (stdout: string) => stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l).waybillNo);

describe('waybill-seal token', () => {
  it('prints one token per index-secret version, the one seal stored, for every form of the number', async () => {
    const stored = JSON.parse(sealedLines[0]!).receiver.mobile.tok['receiver.mobile'];
    for (const form of ['+86 138-1234-5678', '13812345678', '0086 13812345678']) {
      const r = await cli(['token', '--keys', keys, ...ACCESS, '--index', 'receiver.mobile', form]);
      expect(r).toMatchObject({ code: 0, stdout: `${stored}\n` });
    }
    const last4 = await cli(['token', '--keys', keys, ...ACCESS, '--index', 'receiver.mobile:last4', '5678']);
    expect(last4.stdout).toBe(`${JSON.parse(sealedLines[0]!).receiver.mobile.tok['receiver.mobile:last4']}\n`);
  });

  it('refuses values that do not normalise without echoing them, and unknown indexes (exit 1)', async () => {
    const bad = await cli(['token', '--keys', keys, ...ACCESS, '--index', 'receiver.mobile', '99x99']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/not_normalizable/);
    expect(bad.stderr).not.toContain('99x99');
    const unknown = await cli(['token', '--keys', keys, ...ACCESS, '--index', 'receiver.name', 'x']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/unknown index "receiver.name".*receiver.mobile/);
    expect((await cli(['token', '--keys', keys, ...ACCESS, '--index', 'receiver.mobile'])).code).toBe(1);
    expect((await cli(['token', '--index', 'receiver.mobile', '1'])).code).toBe(1);
  });
});

describe('waybill-seal find', () => {
  it('prints the matching records unchanged: full number in any form', async () => {
    const r = await cli(['find', '--keys', keys, ...ACCESS, '--index', 'receiver.mobile', '138 1234 5678', '--in', sealedPath]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([sealedLines[0], sealedLines[2], sealedLines[4]]);
    expect(r.stderr).toMatch(/find: 3 matches in 5 records/);
    expect(r.stdout).not.toContain('13812345678');
  });

  it('last four digits, compound last4 + district, stdin', async () => {
    const last4 = await cli(['find', '--keys', keys, ...ACCESS, '--index', 'receiver.mobile:last4', '5678'], `${sealedLines.join('\n')}\n`);
    expect(numbers(last4.stdout)).toEqual(['SF0', 'SF2', 'SF3', 'SF4']);
    const compound = await cli(['find', '--keys', keys, ...ACCESS, '--index', 'receiver.mobile:last4+district', '5678', '西湖区', '--in', sealedPath]);
    expect(numbers(compound.stdout)).toEqual(['SF0', 'SF3', 'SF4']);
    const id = await cli(['find', '--keys', keys, ...ACCESS, '--index', 'sender.idNumber', '11010519491231002x', '--in', sealedPath]);
    expect(numbers(id.stdout)).toEqual(['SF0', 'SF1', 'SF2', 'SF3', 'SF4']);
    const none = await cli(['find', '--keys', keys, ...ACCESS, '--index', 'receiver.mobile', '13600000000', '--in', sealedPath]);
    expect(none).toMatchObject({ code: 0, stdout: '' });
  });

  it('--candidates prints token matches without opening', async () => {
    const r = await cli(['find', '--keys', keys, ...ACCESS, '--index', 'receiver.mobile', '13812345678', '--candidates', '--in', sealedPath]);
    expect(r.code).toBe(0);
    expect(numbers(r.stdout)).toEqual(expect.arrayContaining(['SF0', 'SF2', 'SF4']));
    expect(r.stderr).toMatch(/candidate/);
  });

  it('reports rejected lines by number and reason, never content, and exits 2', async () => {
    const input = [sealedLines[0], '{not json', '{"waybillNo":"X","secret":"13812345678"}', sealedLines[1]].join('\n');
    const r = await cli(['find', '--keys', keys, ...ACCESS, '--index', 'receiver.mobile', '13812345678'], input);
    expect(r.code).toBe(2);
    expect(numbers(r.stdout)).toEqual(['SF0']);
    expect(r.stderr).toMatch(/line 2: rejected: INVALID_JSON/);
    expect(r.stderr).toMatch(/line 3: rejected: VALIDATION/);
    expect(r.stderr).not.toContain('13812345678');
    expect(r.stderr).not.toContain('not json');
  });

  it('usage errors exit 1; --help documents compound values', async () => {
    expect((await cli(['find', '--keys', keys, ...ACCESS, '--index', 'receiver.mobile'])).code).toBe(1);
    expect((await cli(['find', '--keys', keys, ...ACCESS, '--index', 'receiver.mobile:last4+district', '5678'])).code).toBe(1);
    expect((await cli(['find', '--keys', keys, ...ACCESS, '--index', 'receiver.mobile', '1', '--index-hash', 'md5'])).code).toBe(1);
    for (const c of ['find', 'token']) {
      const h = await cli([c, '--help']);
      expect(h.code).toBe(0);
      expect(h.stdout).toContain(`waybill-seal ${c}`);
      expect(h.stdout).toContain('receiver.mobile:last4+district 5678 西湖区');
    }
    expect((await cli(['--help'])).stdout).toMatch(/find .*\n.*token/);
  });

  it('records of a second month: a query gives one token per live month, and both months are found', async () => {
    const other = join(dir, 'two-months.json');
    await copyFile(keys, other);
    const w = sampleWaybill();
    w.waybillNo = 'NEW';
    w.createdAt = '2025-04-02T08:00:00Z';
    w.receiver.mobile = '13812345678';
    const fresh = await cli(['seal', '--keys', other], `${JSON.stringify(w)}\n`);
    const tokens = await cli(['token', '--keys', other, ...ACCESS, '--index', 'receiver.mobile', '13812345678']);
    const lines = tokens.stdout.trim().split('\n');
    expect(lines.map((t) => t.split('.')[0])).toEqual(['2025-04~1', '2025-03~1']);
    expect(JSON.parse(fresh.stdout).receiver.mobile.tok['receiver.mobile']).toBe(lines[0]);
    const found = await cli(['find', '--keys', other, ...ACCESS, '--index', 'receiver.mobile', '13812345678'], `${sealedLines.join('\n')}\n${fresh.stdout}`);
    expect(numbers(found.stdout)).toEqual(['SF0', 'SF2', 'SF4', 'NEW']);
  });
});

describe('find and token are accesses (issue 13)', () => {
  it('need a principal; the built-in policy decides the index; refusals exit 1 and are audited without the value', async () => {
    expect((await cli(['token', '--keys', keys, '--index', 'receiver.mobile', '13812345678'])).stderr).toMatch(/--principal/);
    const audit = join(dir, 'refused.audit.jsonl');
    const refused = await cli(['token', '--keys', keys, '--principal', 'kyc-1', '--purpose', 'realname-verify', '--ticket', 'T-1', '--audit', audit, '--index', 'receiver.mobile', '13812345678']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain('search refused: access denied: index_not_granted');
    const log = await readFile(audit, 'utf8');
    expect(log).toContain('"type":"search"');
    expect(log).toContain('"outcome":"denied"');
    expect(log).not.toContain('13812345678');
    expect(log).not.toContain('5678');
  });

  it('find audits the query and its counts (issued, then done) and confirms under the same principal and purpose', async () => {
    const audit = join(dir, 'find.audit.jsonl');
    const r = await cli(
      ['find', '--keys', keys, '--principal', 'cs-4', '--purpose', 'customer-service', '--ticket', 'T-2', '--audit', audit, '--index', 'receiver.mobile', '13812345678', '--in', sealedPath],
    );
    expect(r.code).toBe(0);
    expect(numbers(r.stdout)).toEqual(['SF0', 'SF2', 'SF4']);
    const events = (await readFile(audit, 'utf8')).trim().split('\n').map((l) => JSON.parse(l).event);
    const searches = events.filter((e) => e.type === 'search');
    expect(searches.map((e) => e.outcome)).toEqual(['issued', 'done']);
    expect(searches[1]).toMatchObject({ principal: 'cs-4', purpose: 'customer-service', index: 'receiver.mobile', matches: 3 });
    expect(searches[1].candidates).toBeGreaterThanOrEqual(3);
    const opens = events.filter((e) => e.type === 'access');
    expect(opens.every((e) => e.principal === 'cs-4' && e.purpose === 'customer-service' && e.outcome === 'opened')).toBe(true);
    expect(opens.map((e) => e.recordId)).toEqual(expect.arrayContaining(['SF0', 'SF2', 'SF4']));
    expect(JSON.stringify(events)).not.toContain('5678');
  });

  it('exit 3 when the search quota is spent (token and find); the quota state persists across runs', async () => {
    const policy = join(dir, 'two-searches.json');
    await writeFile(policy, JSON.stringify({ format: 'waybill-seal/policy', version: 1, purposes: { search: { fields: '*' } }, searchQuotas: [{ window: '1h', max: 2 }] }));
    const quota = join(dir, 'two.quota.json');
    const args = ['--keys', keys, '--principal', 'q-1', '--policy', policy, '--quota-state', quota, '--index', 'receiver.mobile'];
    expect((await cli(['token', ...args, '13812345678'])).code).toBe(0);
    expect((await cli(['find', ...args, '13812345678', '--in', sealedPath])).code).toBe(0);
    const third = await cli(['token', ...args, '13812345678']);
    expect(third.code).toBe(3);
    expect(third.stdout).toBe('');
    expect(third.stderr).toContain('quota_exceeded (search/1h: 2 of 2 used)');
    expect((await cli(['find', ...args, '13812345678', '--in', sealedPath])).code).toBe(3);
  });
});

