/**
 * A fleet of instances behind one PostgreSQL: PgQuotaStore and PgAuditSink (waybill-seal/pg).
 * Separate processes race on one principal's quota and on one audit chain (real server, from
 * test/global-setup.ts); the single-process behaviour runs on PGlite.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  auditKey,
  createSealer,
  deriveCheckpointKey,
  generateLocalKeyMaterial,
  LocalKeyring,
  MemoryCheckpointSink,
  newestCheckpoint,
  signCheckpoint,
  StoreError,
  type AuditEvent,
  type QuotaCounter,
} from '../../src/index.js';
import { createKeyFile, FileCheckpointSink, loadKeyFile, readCheckpointFile } from '../../src/node.js';
import { PgAuditSink, PgCheckpointSink, PgKeyStore, PgQuotaStore } from '../../src/pg.js';
import { BIN } from '../cli/run.js';
import { needPg } from '../keyrings/native.js';
import { fleetSchema } from './fixtures/fleet-schema.js';

const run = promisify(execFile);
const server = needPg();
const ROOT = new URL('../..', import.meta.url).pathname;
let lite: PGlite;
let pool: pg.Pool | undefined;
let n = 0;
const prefix = () => `fleet_${process.pid}_${++n}`;
const keyring = new LocalKeyring(generateLocalKeyMaterial());
const event = (id: string): AuditEvent => ({ type: 'shred', time: '2025-07-01T00:00:00.000Z', dataKeyIds: [id], request: {} });
const hour = (key: string, limit: number): QuotaCounter => ({ key, windowMs: 3_600_000, limit });

beforeAll(async () => {
  lite = await PGlite.create();
  if (server.url) pool = new pg.Pool({ connectionString: server.url, max: 8 });
}, 120_000);
afterAll(async () => {
  await lite?.close();
  await pool?.end();
});

describe('PgQuotaStore (PGlite)', () => {
  it('charges every counter of a take or none of them', async () => {
    const q = await PgQuotaStore.create(lite, { table: `${prefix()}_quota`, clock: 'caller' });
    const small = hour('small', 2);
    const big = hour('big', 10);
    expect(await q.take([big, small], 1000)).toEqual({ ok: true });
    expect(await q.take([big, small], 1001)).toEqual({ ok: true });
    // `small` is full: `big` must not be charged for the refused take.
    expect(await q.take([big, small], 1002)).toEqual({ ok: false, counter: small, used: 2 });
    expect(await q.take([big], 1003, 8)).toEqual({ ok: true });
    expect(await q.take([big], 1004)).toMatchObject({ ok: false, used: 10 });
  });

  it('slides its windows, counts forever for Infinity, and prunes idle counters', async () => {
    const q = await PgQuotaStore.create(lite, { table: `${prefix()}_quota`, clock: 'caller' });
    const c = { key: 'k', windowMs: 1000, limit: 1 };
    const forever = { key: 'export', windowMs: Infinity, limit: 2 };
    expect((await q.take([c, forever], 0)).ok).toBe(true);
    expect((await q.take([c], 999)).ok).toBe(false);
    expect((await q.take([c, forever], 1000)).ok).toBe(true);
    expect(await q.take([forever], 10_000_000)).toMatchObject({ ok: false, used: 2 });
    expect(await q.prune(5000)).toBe(1); // `k` only: the export budget never expires
    expect((await q.take([c], 5001)).ok).toBe(true);
  });

  it('refuses bad costs and table names, and reports database failures without the query', async () => {
    const q = await PgQuotaStore.create(lite, { table: `${prefix()}_quota`, clock: 'caller' });
    await expect(q.take([hour('a', 1)], 1, 0)).rejects.toThrow(RangeError);
    expect(() => new PgQuotaStore(lite, { table: 'q; drop table x' })).toThrow(/identifier/);
    const broken = new PgQuotaStore({ query: async () => Promise.reject(Object.assign(new Error('password for secret-host'), { code: '08006' })) });
    await expect(broken.take([hour('a', 1)], 1)).rejects.toMatchObject({ code: 'STORE', message: expect.not.stringContaining('secret-host') });
  });
});

describe.skipIf(server.skip !== undefined)('PgQuotaStore (PostgreSQL server)', () => {
  it('a take that races prune() is counted: the row prune deleted under it is written again', async () => {
    const store = await PgQuotaStore.create(pool!, { table: `${prefix()}_quota`, clock: 'caller' });
    const H = 3_600_000;
    const T = 1_800_000_000_000;
    const k = [hour('k', 1)];
    await store.take(k, T - 2 * H); // an old hit, out of the window at T: prune deletes the row
    const other = await pool!.connect(); // another instance's take holds the row lock
    await other.query('BEGIN');
    await other.query(`SELECT * FROM ${store.table} WHERE key = 'k' FOR UPDATE`);
    const pruning = store.prune(T);
    await new Promise((r) => setTimeout(r, 300));
    const taking = store.take(k, T); // its insert finds the row, its lock waits behind prune's delete
    await new Promise((r) => setTimeout(r, 300));
    await other.query('COMMIT');
    other.release();
    expect(await pruning).toBe(1);
    expect(await taking).toEqual({ ok: true });
    expect((await pool!.query(`SELECT hits FROM ${store.table} WHERE key = 'k'`)).rows.map((r: { hits: string[] }) => r.hits.map(Number))).toEqual([[T]]);
    expect(await store.take(k, T + 1)).toMatchObject({ ok: false }); // limit 1 an hour: the granted take counts
  });
});

describe('PgQuotaStore clock (PGlite)', () => {
  it("an instance whose clock runs an hour ahead gets no second quota and drops no one's hits: hits are timed by the database", async () => {
    const table = `${prefix()}_quota`;
    const a = await PgQuotaStore.create(lite, { table });
    const ahead = await PgQuotaStore.create(lite, { table });
    const c = [hour(JSON.stringify(['principal', 'courier-17', '1h']), 5)];
    const t = Date.now();
    let opened = 0;
    for (let i = 0; i < 10; i++) if ((await a.take(c, t + i)).ok) opened++;
    for (let i = 0; i < 10; i++) if ((await ahead.take(c, t + 61 * 60_000 + i)).ok) opened++;
    expect(opened).toBe(5);
    const { rows } = await lite.query<{ hits: unknown[] }>(`SELECT hits FROM ${table}`);
    expect(rows[0]!.hits.length).toBe(5);
    expect(() => new PgQuotaStore(lite, { clock: 'local' as never })).toThrow(/clock/);
  });
});

describe('PgAuditSink (PGlite)', () => {
  it('chains events in the table, and verifies them', async () => {
    const sink = await PgAuditSink.create(lite, keyring, { table: `${prefix()}_audit` });
    for (let i = 0; i < 5; i++) await sink.write(event(`k${i}`));
    const v = await sink.verify();
    expect(v).toMatchObject({ ok: true, lines: 5 });
    expect(await sink.head()).toEqual(v.ok && v.head);
    expect((await sink.recent(2)).map((e) => (e.type === 'shred' ? e.dataKeyIds[0] : ''))).toEqual(['k4', 'k3']);
  });

  it('an altered row is found, and no instance continues a chain whose last row was forged', async () => {
    const table = `${prefix()}_audit`;
    const sink = await PgAuditSink.create(lite, keyring, { table });
    for (let i = 0; i < 3; i++) await sink.write(event(`k${i}`));
    await lite.query(`UPDATE ${table} SET line = replace(line, 'k1', 'kX') WHERE seq = 2`);
    expect(await sink.verify()).toMatchObject({ ok: false, line: 2, reason: 'altered' });
    await lite.query(`UPDATE ${table} SET line = replace(line, 'k2', 'kY') WHERE seq = 3`);
    await expect(sink.write(event('k3'))).rejects.toMatchObject({ reason: 'audit_chain_broken' });
    // Another key cannot continue it either.
    const other = await PgAuditSink.open(lite, new LocalKeyring(generateLocalKeyMaterial()), { table: `${prefix()}_audit` });
    await other.migrate();
    await other.write(event('x'));
    const wrongKey = await PgAuditSink.open(lite, keyring, { table: other.table });
    await expect(wrongKey.write(event('y'))).rejects.toBeInstanceOf(StoreError);
  });

  it('writes signed checkpoints every N events; rows cut off the end are found against the newest one', async () => {
    const table = `${prefix()}_audit`;
    const place = new MemoryCheckpointSink();
    const sink = await PgAuditSink.create(lite, keyring, { table, checkpoints: { sink: place, everyEvents: 5 } });
    for (let i = 0; i < 23; i++) await sink.write(event(`k${i}`));
    expect(place.checkpoints.map((c) => c.seq)).toEqual([5, 10, 15, 20]);
    await sink.checkpoint();
    const key = deriveCheckpointKey(await auditKey(keyring));
    expect(sink.log).toBe(`public.${table}`); // checkpoints name the resolved table, whatever the spelling
    const picked = newestCheckpoint(key, sink.log, place.checkpoints);
    expect(picked).toMatchObject({ ok: true, count: 5, newest: { seq: 23, log: sink.log } });
    if (!picked.ok || !picked.newest) throw new Error('no checkpoint');
    const checkpoint = picked.newest;
    expect(await sink.verify({ checkpoint })).toMatchObject({ ok: true, lines: 23 });
    // The attack: delete the newest rows (the chain that is left is intact on its own).
    await lite.query(`DELETE FROM ${table} WHERE seq > 13`);
    expect(await sink.verify()).toMatchObject({ ok: true, lines: 13 });
    expect(await sink.verify({ checkpoint })).toMatchObject({ ok: false, reason: 'truncated' });
    // A checkpoint moved back by someone without the key does not verify.
    const forged = { ...place.checkpoints[4]!, seq: 13, mac: (await sink.head()).mac };
    expect(newestCheckpoint(key, sink.log, [...place.checkpoints.slice(0, 2), forged])).toMatchObject({ ok: false, index: 3 });
    // Checkpoints that name the table another way (written before names were resolved) still count.
    const legacy = signCheckpoint(key, table, { seq: 24, mac: checkpoint.mac }, new Date());
    expect(await sink.selectCheckpoint([...place.checkpoints, legacy])).toMatchObject({ ok: true, count: 6, newest: { seq: 24, log: table } });
    expect(await sink.selectCheckpoint([signCheckpoint(key, 'some_other_table', checkpoint, new Date())])).toEqual({ ok: true, count: 0 });
  });

  it('a DB writer who deletes the rows after the newest checkpoint cannot have them written over: the sink refuses, and signs no checkpoint of the cut table', async () => {
    const table = `${prefix()}_audit`;
    const place = new MemoryCheckpointSink();
    const sink = await PgAuditSink.create(lite, keyring, { table, checkpoints: { sink: place } }); // every 100 events
    for (let i = 0; i < 100; i++) await sink.write(event(`clerk${i}`));
    for (let i = 0; i < 50; i++) await sink.write(event(`insider${i}`));
    expect(place.checkpoints.map((c) => c.seq)).toEqual([100]);
    await lite.query(`DELETE FROM ${table} WHERE seq > 100`); // the insider's opens
    await expect(sink.write(event('clerk-next'))).rejects.toMatchObject({ reason: 'audit_chain_broken' });
    await expect(sink.checkpoint()).rejects.toMatchObject({ reason: 'audit_chain_broken' });
    expect((await lite.query(`SELECT max(seq) AS m FROM ${table}`)).rows).toEqual([{ m: 100 }]);
    expect(place.checkpoints.map((c) => c.seq)).toEqual([100]);
    sink.close();

    // The same cut, then another instance (which wrote nothing yet) fills seq 101..: the first sink still sees its line 10 changed.
    const t2 = `${prefix()}_audit`;
    const a = await PgAuditSink.create(lite, keyring, { table: t2 });
    const b = await PgAuditSink.open(lite, keyring, { table: t2 });
    for (let i = 0; i < 10; i++) await a.write(event(`a${i}`));
    await lite.query(`DELETE FROM ${t2} WHERE seq > 5`);
    for (let i = 0; i < 8; i++) await b.write(event(`b${i}`));
    await expect(a.write(event('a-next'))).rejects.toMatchObject({ reason: 'audit_chain_broken' });
  });

  it('checkpoints on a timer: an instance that stops writing still checkpoints its last lines', async () => {
    const table = `${prefix()}_audit`;
    const place = new MemoryCheckpointSink();
    const sink = await PgAuditSink.create(lite, keyring, { table, checkpoints: { sink: place, everyMs: 150 } });
    for (let i = 0; i < 3; i++) await sink.write(event(`k${i}`));
    expect(place.checkpoints).toEqual([]);
    await vi.waitFor(() => expect(place.checkpoints.map((c) => c.seq)).toEqual([3]), { timeout: 5000, interval: 50 });
    await new Promise((r) => setTimeout(r, 400));
    expect(place.checkpoints.length).toBe(1); // nothing new written: no new checkpoint
    sink.close();
  });

  it('time-based checkpoints, and checkpoints in another database', async () => {
    const clock = { t: 0 };
    {
      // Stands for another database: anything with query() (a second pg Pool, say).
      const place = await PgCheckpointSink.create(lite, { table: `${prefix()}_checkpoints` });
      const sink = await PgAuditSink.create(lite, keyring, { table: `${prefix()}_audit`, now: () => clock.t, checkpoints: { sink: place, everyEvents: 1000, everyMs: 60_000 } });
      await sink.write(event('a'));
      clock.t = 60_000;
      await sink.write(event('b'));
      await sink.write(event('c'));
      const stored = await place.list();
      expect(stored).toMatchObject([{ seq: 2, time: '1970-01-01T00:01:00.000Z' }]);
      expect(newestCheckpoint(deriveCheckpointKey(await auditKey(keyring)), sink.log, stored)).toMatchObject({ ok: true, newest: { seq: 2 } });
    }
  });
});

describe.skipIf(server.skip !== undefined)('a fleet of processes on one PostgreSQL server', () => {
  const spawnFleet = async (mode: 'open' | 'audit', p: string, count: number, files: { keys: string; sealed: string; checkpoints: string }) => {
    const startAt = Date.now() + 5000;
    const outputs = await Promise.all(
      Array.from({ length: 8 }, (_, w) =>
        run(process.execPath, ['--import', 'tsx', new URL('./fixtures/fleet-worker.ts', import.meta.url).pathname, mode, server.url!, p, files.keys, files.sealed, files.checkpoints, String(startAt), String(count), String(w)], { cwd: ROOT }),
      ),
    );
    return outputs.map((o) => JSON.parse(o.stdout) as Record<string, number>);
  };

  async function setUp(p: string) {
    const dir = await mkdtemp(join(tmpdir(), 'ws-fleet-'));
    const files = { keys: join(dir, 'keys.json'), sealed: join(dir, 'sealed.json'), checkpoints: join(dir, 'checkpoints.jsonl') };
    await createKeyFile(files.keys);
    const local = (await loadKeyFile(files.keys)).keyring;
    const sealer = createSealer({ keyring: local, keyStore: await PgKeyStore.create(pool!, { table: `${p}_keys` }) });
    await writeFile(files.sealed, JSON.stringify(await sealer.seal(fleetSchema, { id: 'W1', createdAt: '2025-07-01T00:00:00Z', name: '吴十', mobile: '13812345678' })));
    sealer.close();
    return { files, keyring: local, dir };
  }

  it('8 processes opening at once as one principal with a quota of 200 open exactly 200, every open audited in one chain', async () => {
    const p = prefix();
    const { files, keyring: k } = await setUp(p);
    const results = await spawnFleet('open', p, 60, files);
    const opened = results.reduce((a, r) => a + r['opened']!, 0);
    const denied = results.reduce((a, r) => a + r['denied']!, 0);
    console.info(`quota race: ${results.map((r) => r['opened']).join('+')} = ${opened} opened, ${denied} denied`);
    expect(opened).toBe(200);
    expect(denied).toBe(8 * 60 - 200);
    const sink = await PgAuditSink.open(pool!, k, { table: `${p}_audit` });
    const v = await sink.verify();
    expect(v.ok).toBe(true);
    const events = await sink.recent(10_000);
    expect(events.filter((e) => e.type === 'access' && e.outcome === 'opened').length).toBe(200);
    expect(events.filter((e) => e.type === 'alert' && e.reason === 'quota_exceeded').length).toBe(denied);
  }, 180_000);

  it('8 processes appending at once build one chain that verifies with every event once; deleting the last 10 rows is reported by audit verify --checkpoints', async () => {
    const p = prefix();
    const { files, keyring: k } = await setUp(p);
    const per = 50;
    const results = await spawnFleet('audit', p, per, files);
    expect(results.every((r) => r['written'] === per)).toBe(true);
    const table = `${p}_audit`;
    const sink = await PgAuditSink.open(pool!, k, { table, checkpoints: { sink: new FileCheckpointSink(files.checkpoints) } });
    expect(await sink.verify()).toMatchObject({ ok: true, lines: 8 * per });
    const ids = (await sink.recent(10_000)).map((e) => (e.type === 'shred' ? e.dataKeyIds[0] : ''));
    expect(ids.length).toBe(8 * per);
    expect(new Set(ids).size).toBe(8 * per);
    for (let w = 0; w < 8; w++) for (let i = 0; i < per; i++) expect(ids).toContain(`W${w}-${i}`);
    // Each process checkpointed every 10 of its events; one more at the end (as at shutdown).
    await sink.checkpoint();
    expect((await readCheckpointFile(files.checkpoints)).length).toBe(8 * (per / 10) + 1);

    const cli = (args: string[]) =>
      run(process.execPath, [BIN, 'audit', 'verify', '--keys', files.keys, '--database', server.url!, '--table', table, ...args]).then(
        (r) => ({ code: 0, out: r.stdout }),
        (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
      );
    expect(await cli(['--checkpoints', files.checkpoints])).toMatchObject({ code: 0, out: expect.stringMatching(/^ok: 400 line\(s\) intact; reaches checkpoint 400/) });
    await pool!.query(`DELETE FROM ${table} WHERE seq > 390`);
    expect(await cli([])).toMatchObject({ code: 0 }); // the chain alone cannot tell
    const cut = await cli(['--checkpoints', files.checkpoints, '--json']);
    expect(cut.code).toBe(4);
    expect(JSON.parse(cut.out)).toMatchObject({ ok: false, reason: 'truncated', checkpoint: { seq: 400 }, head: { seq: 390 } });
  }, 180_000);

  it('audit verify --checkpoints fails when no checkpoint is of this log (another spelling of the table, an emptied file) or the newest is too old', async () => {
    const p = prefix();
    const { files, keyring: k, dir } = await setUp(p);
    const table = `${p}_audit`;
    const sink = await PgAuditSink.create(pool!, k, { table: `public.${table}`, checkpoints: { sink: new FileCheckpointSink(files.checkpoints), everyEvents: 10 } });
    for (let i = 0; i < 20; i++) await sink.write(event(`k${i}`));
    sink.close();
    const cli = (args: string[]) =>
      run(process.execPath, [BIN, 'audit', 'verify', '--keys', files.keys, '--database', server.url!, '--json', ...args]).then(
        (r) => ({ code: 0, out: JSON.parse(r.stdout) as Record<string, unknown> }),
        (e: { code: number; stdout: string }) => ({ code: e.code, out: JSON.parse(e.stdout) as Record<string, unknown> }),
      );
    expect(await cli(['--table', table, '--checkpoints', files.checkpoints])).toMatchObject({ code: 0, out: { ok: true, checkpoints: 2, checkpoint: { seq: 20 }, newestCheckpoint: { ageSeconds: expect.any(Number) } } });
    await pool!.query(`DELETE FROM ${table} WHERE seq > 5`); // the DB writer cuts the tail
    // The application wrote `public.<table>`; the operator types `<table>`: the same log, still caught.
    for (const spelling of [table, `public.${table}`]) {
      expect(await cli(['--table', spelling, '--checkpoints', files.checkpoints])).toMatchObject({ code: 4, out: { ok: false, reason: 'truncated' } });
    }
    // An emptied (or swapped-in, other table's) checkpoint file proves nothing: it fails, never passes.
    const empty = join(dir, 'empty.jsonl');
    await writeFile(empty, '');
    expect(await cli(['--table', table, '--checkpoints', empty])).toMatchObject({ code: 4, out: { ok: false, reason: 'no_checkpoint', checkpoints: 0 } });
    // A file rolled back to an old copy: its newest checkpoint's age shows, and --max-checkpoint-age fails it.
    const old = join(dir, 'old.jsonl');
    const t2 = `${p}_audit2`;
    const stale = await PgAuditSink.create(pool!, k, { table: t2, now: () => Date.now() - 3_600_000, checkpoints: { sink: new FileCheckpointSink(old), everyEvents: 2 } });
    for (let i = 0; i < 4; i++) await stale.write(event(`s${i}`));
    stale.close();
    expect(await cli(['--table', t2, '--checkpoints', old])).toMatchObject({ code: 0, out: { ok: true, newestCheckpoint: { ageSeconds: expect.toSatisfy((n: number) => n >= 3599) } } });
    expect(await cli(['--table', t2, '--checkpoints', old, '--max-checkpoint-age', '600'])).toMatchObject({ code: 4, out: { ok: false, reason: 'checkpoint_stale' } });
  }, 120_000);
});
