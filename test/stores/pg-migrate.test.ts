/**
 * Archive-scale migration on pg-boss (waybill-seal/pg): a table's rows sealed in place by several
 * worker processes, one of them killed mid-chunk. The full-size run (200,000 rows, 1/2/4 workers)
 * is `npm run bench:migrate`; here 12,000 rows keep the suite's time reasonable on 2 shared cores.
 * MIGRATE_TEST_ROWS=200000 runs the kill test at archive scale (chunks of 5,000 rows).
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResealer, createSealer, createVerifier, generateLocalKeyMaterial, LocalKeyring, presets, retireDataKeys, waybill, type SealedRecord } from '../../src/index.js';
import { syntheticWaybills } from 'waybill-seal/testing';
import { BIN } from '../cli/run.js';
import { createKeyFile, loadKeyFile, loadVerifyKeys } from '../../src/node.js';
import { migrationStatus, planMigration, PgKeyStore, resealRows, runMigrationWorker, sealRows } from '../../src/pg.js';
import { needPg } from '../keyrings/native.js';
import { fleetSchema } from './fixtures/fleet-schema.js';

const server = needPg();
const ROOT = new URL('../..', import.meta.url).pathname;
const WORKER = new URL('./fixtures/migrate-worker.ts', import.meta.url).pathname;
let pool: pg.Pool | undefined;

beforeAll(async () => {
  if (server.url) pool = new pg.Pool({ connectionString: server.url, max: 8 });
});
afterAll(async () => {
  await pool?.end();
});

/** A table of `n` plain records (`rec`), with a copy (`orig`) the migration does not touch. */
export async function plainTable(db: pg.Pool, table: string, n: number): Promise<void> {
  await db.query(`CREATE TABLE ${table} (id bigint PRIMARY KEY, rec jsonb NOT NULL, orig jsonb NOT NULL)`);
  await db.query(
    `INSERT INTO ${table} (id, rec, orig)
     SELECT g, r, r FROM generate_series(1, $1::int) g,
       LATERAL (SELECT jsonb_build_object('id', 'WB' || g, 'createdAt', '2025-0' || (1 + g % 6) || '-15T08:00:00Z',
         'name', (ARRAY['吴十','欧阳娜娜','张三','李小龙'])[1 + g % 4], 'mobile', '139' || lpad((g * 7919 % 100000000)::text, 8, '0')) AS r) x`,
    [n],
  );
}

/** A table of plain synthetic waybills keyed by waybill number (`no`), each record in `sealed`. */
async function waybillTable(db: pg.Pool, table: string, plain: readonly { waybillNo: string }[]): Promise<void> {
  await db.query(`CREATE TABLE ${table} (no text PRIMARY KEY, sealed jsonb NOT NULL)`);
  await db.query(`INSERT INTO ${table} SELECT * FROM unnest($1::text[], $2::jsonb[])`, [plain.map((w) => w.waybillNo), plain.map((w) => JSON.stringify(w))]);
}

describe.skipIf(server.skip !== undefined)('migration on pg-boss (PostgreSQL server)', () => {
  const N = Number(process.env['MIGRATE_TEST_ROWS'] ?? 12_000);
  const CHUNK = N >= 100_000 ? 5000 : 1000;
  it(`4 worker processes seal ${N.toLocaleString('en')} rows in place; one killed mid-chunk: every row sealed exactly once and opens byte-exact; a re-run skips every row`, async () => {
    const tag = `${process.pid}_${Date.now() % 100000}`;
    const table = `mig_${tag}`;
    const keyTable = `mig_keys_${tag}`;
    const job = `seal-${tag}`;
    await plainTable(pool!, table, N);
    const keyFile = join(await mkdtemp(join(tmpdir(), 'ws-mig-')), 'keys.json');
    await createKeyFile(keyFile);
    const planned = await planMigration(pool!, { job, table, column: 'rec', chunkSize: CHUNK, chunkTimeoutSeconds: 4 });
    expect(planned).toMatchObject({ chunks: N / CHUNK, rows: N, done: 0, finished: false });

    const workers = Array.from({ length: 4 }, (_, w) => {
      const child = spawn(process.execPath, ['--import', 'tsx', WORKER, server.url!, job, table, keyFile, keyTable, `w${w}`, '100'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d));
      child.stderr.on('data', (d: Buffer) => (err += d));
      const exit = new Promise<{ code: number | null; signal: string | null; out: string; err: string }>((r) => child.on('exit', (code, signal) => r({ code, signal, out, err })));
      return { child, exit };
    });
    // Kill w0 once it is inside a chunk with some batches committed and the chunk not finished.
    let killedChunk: number | undefined;
    for (let i = 0; i < 600 && killedChunk === undefined; i++) {
      const s = await migrationStatus(pool!, job);
      const mine = s.perChunk.find((c) => c.worker?.startsWith('w0:') && c.done > 0 && c.finishedAt === null);
      if (mine) {
        workers[0]!.child.kill('SIGKILL');
        killedChunk = mine.chunk;
      } else await new Promise((r) => setTimeout(r, 100));
    }
    if (killedChunk === undefined) for (const w of workers) w.child.kill('SIGKILL');
    const results = await Promise.all(workers.map((w) => w.exit));
    expect(killedChunk, results.map((r) => r.err.slice(0, 2000)).join('\n')).toBeDefined();
    expect(results[0]!.signal).toBe('SIGKILL');
    for (const r of results.slice(1)) expect(r.code).toBe(0);

    const status = await migrationStatus(pool!, job);
    console.info(`migration: ${status.rows} rows in ${status.chunks} chunks, ${status.rowsPerSecond} rows/s; killed chunk ${killedChunk}: ${JSON.stringify(status.perChunk[killedChunk!])}`);
    // Every row done exactly once: the counters move in the same transactions as the rows.
    expect(status).toMatchObject({ finished: true, chunksFinished: N / CHUNK, done: N, etaSeconds: 0 });
    const retried = status.perChunk[killedChunk!]!;
    expect(retried.attempts).toBeGreaterThanOrEqual(2);
    expect(retried.done).toBe(CHUNK);
    expect(retried.skipped).toBeGreaterThan(0); // the rows w0 had committed were not sealed again

    const { keyring } = await loadKeyFile(keyFile);
    const keyStore = await PgKeyStore.create(pool!, { table: keyTable });
    const reader = createSealer({ keyring, keyStore, guard: 'allow-all' });
    const { rows } = await pool!.query(`SELECT rec, orig FROM ${table} ORDER BY id`);
    expect(rows.length).toBe(N);
    for (const r of rows as { rec: Record<string, unknown>; orig: Record<string, unknown> }[]) {
      expect(r.rec['name']).toHaveProperty('enc');
      const { record } = await reader.open(fleetSchema, r.rec as never, { principal: 'test', purpose: 'verify', reveal: 'plain' });
      // Byte-exact: every value opens to the very string that was stored (jsonb orders keys its own way).
      expect(record).toStrictEqual(r.orig);
    }
    reader.close();

    // Idempotent: the same migration planned again over the sealed table changes nothing.
    const again = `${job}-again`;
    await planMigration(pool!, { job: again, table, column: 'rec', chunkSize: 4000 });
    const sealer = createSealer({ keyring, keyStore, passSealed: true });
    await runMigrationWorker(pool!, { job: again, table, column: 'rec', transform: sealRows(sealer, fleetSchema), maintenanceIntervalSeconds: 1 });
    sealer.close();
    expect(await migrationStatus(pool!, again)).toMatchObject({ finished: true, done: 0, skipped: N });
    await pool!.query(`DROP TABLE ${table}`);
  }, 600_000);

  it('migrate work seals with the key file\'s preset: an SM4-GCM key file gives SM4-GCM fields and HMAC-SM3 tokens, the ones `seal` and `find` use', async () => {
    const tag = `${process.pid}_${Date.now() % 100000}_sm`;
    const table = `mig_${tag}`;
    const keyTable = `mig_keys_${tag}`;
    const plain = syntheticWaybills({ count: 20, seed: 7 });
    await waybillTable(pool!, table, plain);
    const keyFile = join(await mkdtemp(join(tmpdir(), 'ws-mig-sm-')), 'keys.json');
    await createKeyFile(keyFile, 'sm4-gcm');
    const cli = (...args: string[]) => promisify(execFile)(process.execPath, [BIN, 'migrate', ...args, '--database', server.url!]);
    await cli('plan', '--job', `sm-${tag}`, '--table', table, '--column', 'sealed', '--key-column', 'no');
    await cli('work', '--job', `sm-${tag}`, '--table', table, '--column', 'sealed', '--key-column', 'no', '--keys', keyFile, '--op', 'seal', '--schema', 'waybill', '--key-table', keyTable, '--quiet');
    const { rows } = await pool!.query(`SELECT sealed FROM ${table} ORDER BY no`);
    const { keyring } = await loadKeyFile(keyFile);
    const keyStore = await PgKeyStore.create(pool!, { table: keyTable });
    const reference = createSealer({ ...presets.china, keyring, keyStore, guard: 'allow-all' });
    for (const [i, r] of (rows as { sealed: SealedRecord<typeof waybill> }[]).entries()) {
      expect(r.sealed.receiver.mobile!.enc).toMatch(/^ws1\.sm4-gcm\./);
      const mobile = plain.find((w) => w.waybillNo === r.sealed.waybillNo)!.receiver.mobile!;
      expect(await reference.tokensFor(waybill, 'receiver.mobile', mobile, { principal: 'test' }), `row ${i}`).toContain(r.sealed.receiver.mobile!.tok!['receiver.mobile']);
    }
    reference.close();
    await pool!.query(`DROP TABLE ${table}`);
  }, 300_000);

  it('waybill-seal migrate plan/work/status seal a table of waybills; reseal after retiring the data keys redoes every row once, then none', async () => {
    const tag = `${process.pid}_${Date.now() % 100000}_cli`;
    const table = `mig_${tag}`;
    const keyTable = `mig_keys_${tag}`;
    const plain = syntheticWaybills({ count: 600, seed: 99 });
    await waybillTable(pool!, table, plain);
    const keyFile = join(await mkdtemp(join(tmpdir(), 'ws-mig-cli-')), 'keys.json');
    await createKeyFile(keyFile);
    const cli = (...args: string[]) => promisify(execFile)(process.execPath, [BIN, 'migrate', ...args, '--database', server.url!]);
    expect((await cli('plan', '--job', `cli-${tag}`, '--table', table, '--column', 'sealed', '--key-column', 'no', '--chunk-size', '200')).stdout).toBe(
      `planned cli-${tag}: 600 rows of ${table} in 3 chunks\n`,
    );
    const work = await cli('work', '--job', `cli-${tag}`, '--table', table, '--column', 'sealed', '--key-column', 'no', '--keys', keyFile, '--op', 'seal', '--schema', 'waybill', '--key-table', keyTable, '--json-progress');
    const progress = work.stderr.trim().split('\n').map((l) => JSON.parse(l) as { done: number; rows: number; rowsPerSecond: number; etaSeconds: number | null });
    expect(progress.at(-1)).toMatchObject({ done: 600, rows: 600, etaSeconds: 0 });
    const status = JSON.parse((await cli('status', '--job', `cli-${tag}`, '--json')).stdout);
    expect(status).toMatchObject({ finished: true, done: 600, skipped: 0, chunks: 3 });
    expect((await cli('status', '--job', `cli-${tag}`)).stdout).toMatch(/chunks 3\/3, rows 600\/600 \(100\.0%; 600 done, 0 skipped\).*finished\n  chunk 0: 200\/200/);

    // Reseal: retire every data key, then the same table again: every row re-sealed exactly once.
    const { keyring } = await loadKeyFile(keyFile);
    const keyStore = await PgKeyStore.create(pool!, { table: keyTable });
    const before = (await pool!.query(`SELECT sealed FROM ${table} ORDER BY no`)).rows as { sealed: Record<string, unknown> }[];
    await retireDataKeys(keyStore);
    for (const round of ['a', 'b']) {
      const job = `reseal-${tag}-${round}`;
      await planMigration(pool!, { job, table, column: 'sealed', keyColumn: 'no', chunkSize: 250 });
      const resealer = createResealer({ keyring, keyStore });
      await runMigrationWorker(pool!, { job, table, column: 'sealed', keyColumn: 'no', transform: resealRows(resealer, waybill), maintenanceIntervalSeconds: 1 });
      resealer.close();
      expect(await migrationStatus(pool!, job)).toMatchObject({ finished: true, ...(round === 'a' ? { done: 600, skipped: 0 } : { done: 0, skipped: 600 }) });
    }
    const after = (await pool!.query(`SELECT no, sealed FROM ${table} ORDER BY no`)).rows as { no: string; sealed: Record<string, unknown> }[];
    expect(JSON.stringify(after[0]!.sealed)).not.toBe(JSON.stringify(before[0]!.sealed));
    const reader = createSealer({ keyring, keyStore, guard: 'allow-all' });
    const byNo = new Map(plain.map((w) => [w.waybillNo, w]));
    for (const r of after) {
      const { record } = await reader.open(waybill, r.sealed as never, { principal: 'test', purpose: 'verify', reveal: 'plain' });
      expect(record).toStrictEqual(JSON.parse(JSON.stringify(byNo.get(r.no))));
    }
    reader.close();
    await pool!.query(`DROP TABLE ${table}`);
  }, 600_000);
});

describe.skipIf(server.skip !== undefined)('migration in a signing deployment (PostgreSQL server)', () => {
  // R14A finding 2: migrate work built HMAC workers whatever the key file said, so migrated rows had
  // tags every printer refuses, or that anyone holding the HMAC secret could have made.
  it('migrate work --op seal and --op reseal sign rows with the key file\'s ed25519 key; printers with verify.json accept them', async () => {
    const t = `${process.pid}_${Date.now() % 100000}_sig`;
    const [table, keyTable] = [`mig_sig_${t}`, `mig_sig_keys_${t}`];
    const plain = syntheticWaybills({ count: 30, seed: 7 });
    await waybillTable(pool!, table, plain);
    const dir = await mkdtemp(join(tmpdir(), 'ws-mig-sig-'));
    const [keyFile, verifyFile] = [join(dir, 'keys.json'), join(dir, 'verify.json')];
    // A worker whose rows fail retries its chunk: bounded, so a regression fails instead of hanging.
    const bin = (...args: string[]) => promisify(execFile)(process.execPath, [BIN, ...args], { timeout: 120_000 });
    await bin('keygen', '--out', keyFile, '--integrity', 'ed25519', '--quiet');
    await bin('keys', 'export-verify', '--keys', keyFile, '--out', verifyFile);
    const printer = createVerifier(await loadVerifyKeys(verifyFile));
    const migrate = async (job: string, op: string) => {
      const where = ['--table', table, '--column', 'sealed', '--key-column', 'no', '--database', server.url!];
      await bin('migrate', 'plan', '--job', job, ...where);
      await bin('migrate', 'work', '--job', job, ...where, '--keys', keyFile, '--op', op, '--schema', 'waybill', '--key-table', keyTable, '--quiet');
      expect(await migrationStatus(pool!, job)).toMatchObject({ finished: true, done: 30 });
      const rows = (await pool!.query(`SELECT sealed FROM ${table} ORDER BY no`)).rows as { sealed: Record<string, unknown> }[];
      for (const r of rows) {
        expect(r.sealed['$tag']).toMatch(/^t2\.ed25519\.1\./);
        expect(await printer.verify(waybill, r.sealed as never)).toEqual({ ok: true });
      }
      return rows;
    };
    const sealed = await migrate(`sig-seal-${t}`, 'seal');
    await retireDataKeys(await PgKeyStore.create(pool!, { table: keyTable }));
    const resealed = await migrate(`sig-reseal-${t}`, 'reseal');
    expect(JSON.stringify(resealed[0]!.sealed)).not.toBe(JSON.stringify(sealed[0]!.sealed));
    await pool!.query(`DROP TABLE ${table}`);
  }, 300_000);
});

/** The attacks of the review of issue 17 (R17) on the migration: each test is the attack it stops. */
describe.skipIf(server.skip !== undefined)('migration attacks (PostgreSQL server)', () => {
  const mark = (v: unknown) => ((v as { sealed?: boolean }).sealed ? undefined : { ...(v as object), sealed: true });
  const tag = () => `${process.pid}_${Math.floor(Math.random() * 1e6)}`;

  it('a DB writer who edits the job row cannot make the worker run its SQL, nor point it at another table or column', async () => {
    const t = tag();
    const [table, secrets, other] = [`atk_wb_${t}`, `atk_hr_${t}`, `atk_other_${t}`];
    await pool!.query(`CREATE TABLE ${table} (id int PRIMARY KEY, doc jsonb NOT NULL, note text);
      INSERT INTO ${table} SELECT g, jsonb_build_object('n', g), NULL FROM generate_series(1, 3) g;
      CREATE TABLE ${other} (id int PRIMARY KEY, doc jsonb NOT NULL); INSERT INTO ${other} VALUES (1, '{"n":1}');
      CREATE TABLE ${secrets} (s text); INSERT INTO ${secrets} VALUES ('salary:ceo=1e6')`);
    const edits = [
      { col: `note = (SELECT string_agg(s, ',') FROM ${secrets}), doc` },
      { tbl: `${table} AS t0 CROSS JOIN ${secrets} AS x --` },
      { key_column: `id = id OR (SELECT count(*) FROM ${secrets}) > 0 OR id` },
      { tbl: other },
      { col: 'note' },
    ];
    for (const [i, edit] of edits.entries()) {
      const job = `atk-${t}-${i}`;
      await planMigration(pool!, { job, table, column: 'doc', chunkSize: 10 });
      const [field, value] = Object.entries(edit)[0]!;
      await pool!.query(`UPDATE waybill_seal_migrations SET ${field} = $2 WHERE job = $1`, [job, value]);
      await expect(runMigrationWorker(pool!, { job, table, column: 'doc', transform: async (v) => mark(v), maintenanceIntervalSeconds: 1 })).rejects.toMatchObject({ reason: 'store_inconsistent' });
    }
    expect((await pool!.query(`SELECT note, doc FROM ${table} ORDER BY id`)).rows).toStrictEqual([1, 2, 3].map((n) => ({ note: null, doc: { n } })));
    expect((await pool!.query(`SELECT doc FROM ${other}`)).rows).toStrictEqual([{ doc: { n: 1 } }]);
    // The casts come from the catalog (fixed list), not from the row: a tampered key_type changes nothing.
    const job = `atk-${t}-types`;
    await planMigration(pool!, { job, table, column: 'doc', chunkSize: 10 });
    await pool!.query(`UPDATE waybill_seal_migrations SET key_type = 'int) OR (true', col_type = 'jsonb' WHERE job = $1`, [job]);
    await runMigrationWorker(pool!, { job, table, column: 'doc', transform: async (v) => mark(v), maintenanceIntervalSeconds: 1 });
    expect(await migrationStatus(pool!, job)).toMatchObject({ finished: true, done: 3 });
    await pool!.query(`DROP TABLE ${table}, ${other}, ${secrets}`);
  }, 120_000);

  it('rows that sort below the planned chunks, rows of a table empty at plan time, and rows written into a chunk already done are migrated before status says finished', async () => {
    const t = tag();
    const table = `atk_below_${t}`;
    const plainRows = () => pool!.query(`SELECT id FROM ${table} WHERE doc ? 'mobile' ORDER BY id`).then((r) => r.rows.map((x: { id: string }) => x.id));
    const seal = async (v: unknown) => ((v as { mobile?: string }).mobile === undefined ? undefined : { sealed: `len:${(v as { mobile: string }).mobile.length}` });
    await pool!.query(`CREATE TABLE ${table} (id text PRIMARY KEY, doc jsonb NOT NULL);
      INSERT INTO ${table} SELECT 'SF' || g, jsonb_build_object('mobile', '1380000' || g) FROM generate_series(1000, 1019) g`);
    const job = `below-${t}`;
    await planMigration(pool!, { job, table, column: 'doc', chunkSize: 10 });
    await pool!.query(`INSERT INTO ${table} VALUES ('JD0001', '{"mobile":"13912345678"}')`); // another carrier's prefix sorts below SF1000
    let late = false;
    await runMigrationWorker(pool!, {
      job,
      table,
      column: 'doc',
      batchSize: 100,
      maintenanceIntervalSeconds: 1,
      // While chunk 0's only batch is open, a row lands in its range behind it (SF1000a < SF1005): chunk 0 never sees it.
      transform: async (v, key) => {
        if (key === 'SF1005' && !late) {
          late = true;
          await pool!.query(`INSERT INTO ${table} VALUES ('SF1000a', '{"mobile":"13700000000"}')`);
        }
        return seal(v);
      },
    });
    expect(late).toBe(true);
    expect(await plainRows()).toEqual([]);
    const s = await migrationStatus(pool!, job);
    expect(s).toMatchObject({ finished: true, chunks: 2, sweep: { finishedAt: expect.any(String) } });
    expect(s).toMatchObject({ done: 21, sweep: { done: 1 } }); // JD0001 in the unbounded chunk 0, SF1000a by the sweep

    // A table empty at plan time: one unbounded chunk, so rows inserted afterwards are migrated.
    const empty = `atk_empty_${t}`;
    await pool!.query(`CREATE TABLE ${empty} (id text PRIMARY KEY, doc jsonb NOT NULL)`);
    expect(await planMigration(pool!, { job: `empty-${t}`, table: empty, column: 'doc' })).toMatchObject({ chunks: 1, rows: 0 });
    await pool!.query(`INSERT INTO ${empty} VALUES ('A1', '{"mobile":"13912345678"}'), ('Z9', '{"mobile":"13912345679"}')`);
    await runMigrationWorker(pool!, { job: `empty-${t}`, table: empty, column: 'doc', transform: seal, maintenanceIntervalSeconds: 1 });
    expect((await pool!.query(`SELECT count(*)::int AS n FROM ${empty} WHERE doc ? 'mobile'`)).rows).toEqual([{ n: 0 }]);
    expect(await migrationStatus(pool!, `empty-${t}`)).toMatchObject({ finished: true, done: 2 });
    await pool!.query(`DROP TABLE ${table}, ${empty}`);
  }, 120_000);

  it('a text column holding JSON is sealed like jsonb (the transform gets the record, not its text), instead of failing every chunk forever', async () => {
    const t = tag();
    const table = `atk_text_${t}`;
    const plain = syntheticWaybills({ count: 20, seed: 8 });
    await pool!.query(`CREATE TABLE ${table} (no text PRIMARY KEY, doc text NOT NULL)`);
    await pool!.query(`INSERT INTO ${table} SELECT * FROM unnest($1::text[], $2::text[])`, [plain.map((w) => w.waybillNo), plain.map((w) => JSON.stringify(w))]);
    const keyring = new LocalKeyring(generateLocalKeyMaterial());
    const keyStore = await PgKeyStore.create(pool!, { table: `atk_text_keys_${t}` });
    const sealer = createSealer({ keyring, keyStore, passSealed: true });
    const job = `text-${t}`;
    await planMigration(pool!, { job, table, column: 'doc', keyColumn: 'no', chunkSize: 10 });
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), 30_000);
    await runMigrationWorker(pool!, { job, table, column: 'doc', keyColumn: 'no', transform: sealRows(sealer, waybill), signal: stop.signal, maintenanceIntervalSeconds: 1 }).finally(() => clearTimeout(timer));
    sealer.close();
    expect(await migrationStatus(pool!, job)).toMatchObject({ finished: true, done: 20 });
    const reader = createSealer({ keyring, keyStore, guard: 'allow-all' });
    const byNo = new Map(plain.map((w) => [w.waybillNo, w]));
    for (const r of (await pool!.query(`SELECT no, doc FROM ${table}`)).rows as { no: string; doc: string }[]) {
      const { record } = await reader.open(waybill, JSON.parse(r.doc) as never, { principal: 'test', purpose: 'verify', reveal: 'plain' });
      expect(record).toStrictEqual(JSON.parse(JSON.stringify(byNo.get(r.no))));
    }
    reader.close();
    await pool!.query(`DROP TABLE ${table}`);
  }, 120_000);

  it('a DB writer who clears retired_at cannot make a reseal skip every row when the resealer is given the data key ids', async () => {
    const t = tag();
    const keyring = new LocalKeyring(generateLocalKeyMaterial());
    const keyTable = `atk_unretire_keys_${t}`;
    const keyStore = await PgKeyStore.create(pool!, { table: keyTable });
    const sealer = createSealer({ keyring, keyStore });
    const sealed = await Promise.all(syntheticWaybills({ count: 3, seed: 5 }).map((w) => sealer.seal(waybill, w)));
    sealer.close();
    const ids = await retireDataKeys(keyStore);
    expect(ids.length).toBeGreaterThan(0);
    await pool!.query(`UPDATE ${keyTable} SET retired_at = NULL`); // the DB writer un-retires them
    const trusting = createResealer({ keyring, keyStore });
    expect((await trusting.resealRecord(waybill, sealed[0]!)).resealed).toBe(0); // the attack, without ids: silently nothing
    trusting.close();
    const bound = createResealer({ keyring, keyStore, dataKeyIds: ids });
    // With the ids, the fields are due; the old keys, live again, are refused as new keys: it fails, never skips.
    await expect(bound.resealRecord(waybill, sealed[0]!)).rejects.toMatchObject({ reason: 'reseal_retired' });
    bound.close();
    expect(() => createResealer({ keyring, keyStore, dataKeyIds: [] })).toThrow(/dataKeyIds/);
  }, 60_000);
});

