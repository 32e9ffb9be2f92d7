/** The access-control side of the CLI, run from the built bin (npm test builds first). */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, jsonl, lines, openedLines } from '../cli/run.js';
import { sampleWaybill } from '../helpers.js';

const waybillOn = (n: number, routing: Record<string, string>, createdAt = '2025-03-01T08:30:00+08:00') => ({
  ...sampleWaybill(),
  waybillNo: `SF${String(n).padStart(10, '0')}`,
  createdAt,
  routing,
});

let dir: string;
/** A fresh key file with `rows` sealed under it. */
async function sealedSet(name: string, rows: unknown[]): Promise<{ keys: string; sealed: string }> {
  const keys = join(dir, `${name}.json`);
  expect((await cli(['keygen', '--out', keys])).code).toBe(0);
  const r = await cli(['seal', '--keys', keys], jsonl(rows));
  expect(r.code).toBe(0);
  return { keys, sealed: r.stdout };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ws-cli-access-'));
});

describe('waybill-seal open under the built-in policy', () => {
  it('deliver opens the receiver of waybills on --route; others are written masked and audited (exit 0)', async () => {
    const rows = [waybillOn(1, { routeId: 'R-7' }), waybillOn(2, { routeId: 'R-8' }), sampleWaybill()];
    const { keys, sealed } = await sealedSet('deliver', rows);
    const r = await cli(['open', '--keys', keys, '--principal', 'courier-17', '--purpose', 'deliver', '--route', 'R-7'], sealed);
    expect(r.code).toBe(0);
    const [mine, other, legacy] = lines(r.stdout);
    expect(mine.receiver).toMatchObject({ name: '欧阳娜娜', mobile: '+86 139-8765-4321', address: { detail: '文一西路969号5-2-301' } });
    expect(mine.sender.mobile).toBe('138****5678'); // not granted to deliver
    expect(mine.sender.idNumber).toBe('1****************X');
    expect(other.receiver.mobile).toBe('139****4321');
    expect(legacy.receiver.name).toBe('欧***');
    expect(r.stderr).toContain('2 record(s) written masked (out_of_scope: 2)');

    const log = await readFile(join(dir, 'deliver.audit.jsonl'), 'utf8');
    const events = log.trim().split('\n').map((l) => JSON.parse(l).event);
    expect(events.map((e) => [e.recordId, e.outcome, e.reason ?? null])).toEqual([
      ['SF0000000001', 'partial', null],
      ['SF0000000002', 'denied', 'out_of_scope'],
      ['SF1234567890123', 'denied', 'out_of_scope'],
    ]);
    expect(events[0].evidence).toEqual({ route: 'R-7' });
    expect(log).not.toContain('欧阳娜娜');
    expect(log).not.toContain('139-8765-4321');

    const v = await cli(['audit', 'verify', '--keys', keys, join(dir, 'deliver.audit.jsonl')]);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^ok: 3 line\(s\) intact; head 3:[A-Za-z0-9_-]{43}\n$/);
  });

  it('customer-service needs --ticket and opens receiver.mobile only; realname-verify opens sender.idNumber only', async () => {
    const { keys, sealed } = await sealedSet('cs', [sampleWaybill()]);
    // Without --ticket the policy would refuse every record: a usage error before any is read (issue 15).
    const no = await cli(['open', '--keys', keys, '--principal', 'cs-4', '--purpose', 'customer-service'], sealed);
    expect(no).toMatchObject({ code: 1, stdout: '' });
    expect(no.stderr).toContain('--purpose customer-service needs --ticket ID');
    const yes = await cli(['open', '--keys', keys, '--principal', 'cs-4', '--purpose', 'customer-service', '--ticket', 'T-88121'], sealed);
    const rec = lines(yes.stdout)[0];
    expect(rec.receiver.mobile).toBe('+86 139-8765-4321');
    expect(rec.receiver.name).toBe('欧***');
    expect(rec.sender.idNumber).toBe('1****************X');
    const id = await cli(['open', '--keys', keys, '--principal', 'desk-1', '--purpose', 'realname-verify', '--context', '{"ticket":"PU-1"}'], sealed);
    expect(lines(id.stdout)[0].sender.idNumber).toBe('11010519491231002X');
    expect(lines(id.stdout)[0].sender.mobile).toBe('138****5678');
    const unknown = await cli(['open', '--keys', keys, '--principal', 'x', '--purpose', 'sell'], sealed);
    // A purpose the policy does not define is a usage error before any record is read (issue 15).
    expect(unknown).toMatchObject({ code: 1, stdout: '' });
    expect(unknown.stderr).toContain('--purpose "sell" is not a purpose of the policy');
  });

  it('the default quota is 200 opened records per principal per hour: the 201st is masked, exit 3, and the state persists', async () => {
    const rows = Array.from({ length: 205 }, (_, i) => waybillOn(i, { routeId: 'R-1' }));
    const { keys, sealed } = await sealedSet('quota', rows);
    const args = ['open', '--keys', keys, '--principal', 'courier-9', '--purpose', 'deliver', '--route', 'R-1'];
    const r = await cli(args, sealed);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('quota reached: access denied: quota_exceeded (principal/1h: 200 of 200 used)');
    const out = lines(r.stdout);
    expect(out).toHaveLength(205);
    expect(out.filter((w) => w.receiver.name === '欧阳娜娜')).toHaveLength(200);
    expect(out.slice(200).every((w) => w.receiver.mobile === '139****4321')).toBe(true);
    // counters live next to the key file: the next run is refused at once
    const again = await cli(args, jsonl([lines(sealed)[0]]));
    expect(again.code).toBe(3);
    expect(lines(again.stdout)[0].receiver.name).toBe('欧***');
    const state = JSON.parse(await readFile(join(dir, 'quota.quota.json'), 'utf8'));
    expect(state.counters['["principal","courier-9","1h"]'].t).toHaveLength(200);
    // another principal has its own quota; another state file is another set of counters
    expect((await cli([...args.slice(0, 4), 'courier-10', ...args.slice(5)], jsonl([lines(sealed)[0]]))).code).toBe(0);
    expect((await cli([...args, '--quota-state', join(dir, 'other-quota.json')], jsonl([lines(sealed)[0]]))).code).toBe(0);
    // the audit log has the alerts
    const log = (await readFile(join(dir, 'quota.audit.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l).event);
    expect(log.filter((e) => e.type === 'alert')).toHaveLength(6);
  });

  it('export opens every field with --approval, at most --budget records (default 1,000); the approval is audited', async () => {
    const rows = Array.from({ length: 4 }, (_, i) => waybillOn(i, {}));
    const { keys, sealed } = await sealedSet('export', rows);
    const none = await cli(['open', '--keys', keys, '--principal', 'ops-2', '--purpose', 'export'], sealed);
    expect(none).toMatchObject({ code: 1, stdout: '' });
    expect(none.stderr).toContain('--purpose export needs --approval ID');
    const r = await cli(['open', '--keys', keys, '--principal', 'ops-2', '--purpose', 'export', '--approval', 'EXP-31', '--budget', '3'], sealed);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('export budget reached');
    expect(openedLines(r.stdout).slice(0, 3)).toEqual(rows.slice(0, 3));
    expect(lines(r.stdout)[3].receiver.name).toBe('欧***');
    const log = await readFile(join(dir, 'export.audit.jsonl'), 'utf8');
    expect(log).toContain('"evidence":{"approval":"EXP-31"}');
    // The budget of an approval is spent across runs (counted in the quota state); a new approval id
    // is a new budget. The CLI trusts the budget its operator states: the approval id is the audited control.
    const rerun = await cli(['open', '--keys', keys, '--principal', 'ops-3', '--purpose', 'export', '--approval', 'EXP-31', '--budget', '3'], sealed);
    expect(rerun.code).toBe(3);
    expect(lines(rerun.stdout).every((w) => w.receiver.name === '欧***')).toBe(true);
    expect((await cli(['open', '--keys', keys, '--principal', 'ops-2', '--purpose', 'export', '--approval', 'EXP-32'], sealed)).code).toBe(0);
    expect((await cli(['open', '--keys', keys, '--principal', 'ops-2', '--purpose', 'export', '--budget', '5'], sealed)).code).toBe(1);
  });

  it('--policy FILE replaces the built-in policy; a bad policy file is a usage error naming the problem', async () => {
    const { keys, sealed } = await sealedSet('custom', [waybillOn(1, { destOutlet: 'OUT-A' }), waybillOn(2, { destOutlet: 'OUT-B' })]);
    const policy = join(dir, 'policy.json');
    await writeFile(
      policy,
      JSON.stringify({
        format: 'waybill-seal/policy',
        version: 1,
        purposes: { deliver: { fields: ['receiver.mobile'], scope: [{ record: 'routing.destOutlet', context: 'outlet' }] } },
        quotas: [{ window: '1h', max: 1 }],
      }),
    );
    const r = await cli(['open', '--keys', keys, '--policy', policy, '--principal', 'a', '--purpose', 'deliver', '--outlet', 'OUT-A'], sealed);
    expect(r.code).toBe(0);
    expect(lines(r.stdout).map((w) => w.receiver.mobile)).toEqual(['+86 139-8765-4321', '139****4321']);
    await writeFile(policy, JSON.stringify({ purposes: { deliver: { fields: ['receiver.phone'] } } }));
    const bad = await cli(['open', '--keys', keys, '--policy', policy, '--principal', 'a', '--purpose', 'deliver'], sealed);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('"receiver.phone" is not a protected field of waybill');
    await writeFile(policy, JSON.stringify({ purposes: { deliver: { fields: '*', scope: {} } } }));
    expect((await cli(['open', '--keys', keys, '--policy', policy, '--principal', 'a', '--purpose', 'deliver'], sealed)).stderr).toContain(
      `${policy}.purposes.deliver.scope`,
    );
    expect((await cli(['open', '--keys', keys, '--principal', 'a', '--purpose', 'deliver', '--context', '[1]'], sealed)).code).toBe(1);
  });
});

describe('waybill-seal audit verify', () => {
  it('exits 0 on an intact log and 4 with the first bad line when a line is edited, removed or reordered', async () => {
    const rows = Array.from({ length: 6 }, (_, i) => waybillOn(i, { routeId: i % 2 ? 'R-1' : 'R-2' }));
    const { keys, sealed } = await sealedSet('verify', rows);
    await cli(['open', '--keys', keys, '--principal', 'c', '--purpose', 'deliver', '--route', 'R-1'], sealed);
    const path = join(dir, 'verify.audit.jsonl');
    const original = (await readFile(path, 'utf8')).trimEnd().split('\n');
    expect(original).toHaveLength(6);
    const ok = await cli(['audit', 'verify', '--keys', keys, path]);
    expect(ok.code).toBe(0);
    const head = /head (\S+)/.exec(ok.stdout)![1]!;

    const tampered = join(dir, 'tampered.jsonl');
    const check = async (ls: string[]) => {
      await writeFile(tampered, `${ls.join('\n')}\n`);
      return cli(['audit', 'verify', '--keys', keys, tampered]);
    };
    const edited = [...original];
    edited[2] = edited[2]!.replace('"outcome":"denied"', '"outcome":"partial"');
    let r = await check(edited);
    expect(r.code).toBe(4);
    expect(r.stdout).toContain('line 3: MAC does not verify');
    expect(r.stderr).toContain('first bad line 3 (altered)');
    r = await check(original.filter((_, i) => i !== 3));
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('first bad line 4 (out_of_sequence)');
    r = await check([original[0]!, original[2]!, original[1]!, ...original.slice(3)]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('first bad line 2');
    // truncation: only against a checkpoint
    r = await check(original.slice(0, 4));
    expect(r.code).toBe(0);
    r = await cli(['audit', 'verify', '--keys', keys, '--checkpoint', head, tampered]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('(truncated)');
    // another key file cannot verify (or forge) it
    const otherKeys = join(dir, 'other-keys.json');
    await cli(['keygen', '--out', otherKeys]);
    expect((await cli(['audit', 'verify', '--keys', otherKeys, path])).code).toBe(4);
    expect((await cli(['audit', 'verify', '--keys', keys])).code).toBe(1);
    expect((await cli(['audit', 'verify', '--keys', keys, join(dir, 'missing.jsonl')])).code).toBe(1);
  });
});

describe('waybill-seal shred', () => {
  it('--before destroys earlier months only; those records no longer open, masks still work; the shred is audited', async () => {
    const rows = [
      waybillOn(1, {}, '2024-11-20T10:00:00Z'),
      waybillOn(2, {}, '2024-12-02T10:00:00Z'),
      waybillOn(3, {}, '2025-01-15T10:00:00Z'),
    ];
    const { keys, sealed } = await sealedSet('shred', rows);
    const dry = await cli(['shred', '--keys', keys, '--before', '2024-12', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('would shred 6 data key(s): address/2024-11/1, contact-index/2024-11/1, contact/2024-11/1, identity-index/2024-11/1, identity/2024-11/1, note/2024-11/1');
    const r = await cli(['shred', '--keys', keys, '--before', '2024-12']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('shredded 6 data key(s)');
    const file = JSON.parse(await readFile(keys, 'utf8'));
    expect(file.dataKeys.filter((k: { shreddedAt?: string; wrapped: string }) => k.shreddedAt && k.wrapped === '')).toHaveLength(6);

    const opened = await cli(['open', '--keys', keys, '--principal', 'auditor', '--purpose', 'audit', '--ticket', 'RET-1'], sealed);
    // The shredded record comes out masked, marked shredded (issue 15); the others open.
    expect(opened.code).toBe(0);
    expect(opened.stderr).toMatch(/1 record\(s\) written masked \(shredded: 1\)/);
    expect(lines(opened.stdout)[0].$opened.fields).toEqual([]);
    expect(lines(opened.stdout)[0].receiver.name).toBe('欧***');
    expect(Object.values(lines(opened.stdout)[0].$opened.withheld)).toContain('shredded');
    expect(openedLines(opened.stdout).slice(1)).toEqual(rows.slice(1));
    const masked = await cli(['mask', '--profile', 'label'], sealed);
    expect(lines(masked.stdout)[0].receiver.name).toBe('欧***');

    const again = await cli(['shred', '--keys', keys, '--before', '2024-12']);
    expect(again.stdout).toContain('shredded 0 data key(s)');
    expect(again.stdout).toContain('already shredded: 6');
    const one = await cli(['shred', '--keys', keys, '--scope', '2025-01', '--class', 'identity']);
    expect(one.stdout).toContain('shredded 2 data key(s): identity-index/2025-01/1, identity/2025-01/1');
    const v = await cli(['audit', 'verify', '--keys', keys, join(dir, 'shred.audit.jsonl')]);
    expect(v.code).toBe(0);
    const events = (await readFile(join(dir, 'shred.audit.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l).event);
    expect(events.filter((e) => e.type === 'shred').map((e) => e.dataKeyIds.length)).toEqual([6, 2]);

    expect((await cli(['shred', '--keys', keys])).code).toBe(1);
    expect((await cli(['shred', '--keys', keys, '--before', '2024-12-01'])).code).toBe(1);
    expect((await cli(['shred', '--keys', keys, '--before', '2024-12', '--scope', '2024-11'])).code).toBe(1);
  });
});
