/**
 * Archive-scale migration of a table in place (seal plain rows, reseal to new data keys, or any
 * record transform), spread over any number of worker processes on any number of machines, on
 * pg-boss (a job queue in the same PostgreSQL; optional peer dependency, loaded only here).
 *
 * - `planMigration` splits the table's primary-key range into chunks of about `chunkSize` rows
 *   (boundaries from one ordered scan, so any orderable key type works; the first chunk has no
 *   lower bound and the last no upper one, so rows added after planning fall into a chunk),
 *   records each chunk in `waybill_seal_migration_chunks` and enqueues one pg-boss job per chunk.
 * - When every chunk is finished, one worker (claimed through the chunk table, taken over when its
 *   worker stops for the chunk timeout) sweeps the whole table once more: rows written into a chunk's
 *   range after that chunk was done are transformed then. Only then is the migration `finished`.
 * - `runMigrationWorker` claims chunks (pg-boss: `SKIP LOCKED`), and transforms each chunk's rows
 *   in batches; each batch is one transaction that locks its rows (`FOR UPDATE`), writes the new
 *   values and adds to the chunk's counters. A row already in the target state (the transform
 *   returns undefined) is skipped, so a retried chunk redoes nothing: a worker killed mid-chunk
 *   loses only its open batch (rolled back), its job expires and another worker retries it.
 * - `migrationStatus` reads the counters: per chunk, rows done/skipped, and rows/s and ETA overall.
 *
 * The bookkeeping tables are writable by whoever can write the database, so a worker trusts
 * nothing it reads back from them: the table and columns must equal the worker's own options,
 * they are checked as identifiers and quoted, and the casts come from the catalog, mapped onto a
 * fixed list of types. A DB writer can stop a migration, never make a worker run other SQL.
 */
import { ConfigError, StoreError } from '../errors.js';
import { isSealedField } from '../format/sealed-field.js';
import type { PlainRecord, Schema, SealedRecord } from '../schema/schema.js';
import { walkRecord } from '../schema/walk.js';
import type { Resealer } from '../seal/reseal.js';
import type { Sealer } from '../seal/sealer.js';
import { inTransaction, runDdl, sqlState, tableName, type SqlClient } from './sql.js';

/** Returns the row's new value, or undefined when it is already in the target state (skipped). */
export type RowTransform = (value: unknown, key: string) => Promise<unknown | undefined>;

export interface MigrationPlanOptions {
  /** The migration's name (a pg-boss queue name: letters, digits, `_`, `-`, `.`). */
  job: string;
  table: string;
  /** The primary-key column (default `id`). */
  keyColumn?: string;
  /** The column holding the record (json, jsonb or text with JSON). */
  column: string;
  /** Rows per chunk (default 5,000). */
  chunkSize?: number;
  /** Seconds a claimed chunk may run before it is given to another worker (default 900). */
  chunkTimeoutSeconds?: number;
  /** pg-boss schema (default `waybill_seal_jobs`). */
  queueSchema?: string;
}

export interface MigrationWorkerOptions {
  job: string;
  /** The table and columns the job was planned for: the worker refuses a job row that names others. */
  table: string;
  column: string;
  /** Default `id`. */
  keyColumn?: string;
  transform: RowTransform;
  /** Rows per transaction (default 500). */
  batchSize?: number;
  /** Chunks this process works on at once (default 1). */
  concurrency?: number;
  queueSchema?: string;
  /** A name for this worker in the chunk table (default `pid@host` is the caller's to give). */
  worker?: string;
  /** How often pg-boss looks for expired chunks (s, default 5). */
  maintenanceIntervalSeconds?: number;
  /** After each batch. */
  onBatch?: (p: { chunk: number; done: number; skipped: number }) => void;
}

export interface ChunkStatus {
  readonly chunk: number;
  readonly rows: number;
  readonly done: number;
  readonly skipped: number;
  readonly attempts: number;
  readonly worker: string | null;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
}

export interface MigrationStatus {
  readonly job: string;
  readonly table: string;
  readonly chunks: number;
  readonly chunksFinished: number;
  readonly rows: number;
  readonly done: number;
  readonly skipped: number;
  /** Rows handled (done + skipped) per second since the first chunk started. */
  readonly rowsPerSecond: number;
  /** Seconds until every row is handled at that rate (0 when finished, null before any progress). */
  readonly etaSeconds: number | null;
  /** True once every chunk and the final sweep are finished. */
  readonly finished: boolean;
  readonly perChunk: readonly ChunkStatus[];
  /** The final sweep over the whole table (rows it found not yet in the target state: `done`). */
  readonly sweep: { readonly done: number; readonly skipped: number; readonly startedAt: string | null; readonly finishedAt: string | null } | null;
}

const JOBS = 'waybill_seal_migrations';
const CHUNKS = 'waybill_seal_migration_chunks';
const QUEUE = /^[A-Za-z0-9_.-]{1,50}$/;
const COLUMN = /^[a-z_][a-z0-9_]{0,62}$/;
/** The chunk row of the final sweep (no bounds, not a pg-boss job). */
const SWEEP = -1;

/** Casts the worker may splice into SQL, by the catalog's `format_type` (nothing else is accepted). */
const KEY_CASTS: Readonly<Record<string, string>> = { smallint: 'smallint', integer: 'integer', bigint: 'bigint', numeric: 'numeric', text: 'text', uuid: 'uuid', 'character varying': 'varchar' };
const COLUMN_CASTS: Readonly<Record<string, string>> = { json: 'json', jsonb: 'jsonb', text: 'text' };
const castOf = (casts: Readonly<Record<string, string>>, type: string | undefined): string | undefined => {
  const base = type?.replace(/\(\d+(,\d+)?\)$/, '');
  return base !== undefined && Object.hasOwn(casts, base) ? casts[base] : undefined;
};

/** A checked, quoted identifier (names were checked already; quoting keeps reserved words working). */
const quoted = (name: string): string => name.split('.').map((p) => `"${p}"`).join('.');

interface JobRow {
  job: string;
  /** Quoted, checked identifiers and casts from the fixed lists: safe to splice into SQL. */
  tbl: string;
  key_column: string;
  col: string;
  key_type: string;
  col_type: string;
  /** The table as planned (for status). */
  table: string;
}

async function migrateTables(db: SqlClient): Promise<void> {
  await runDdl(
    db,
    [
      `CREATE TABLE IF NOT EXISTS ${JOBS} (
        job text PRIMARY KEY, tbl text NOT NULL, key_column text NOT NULL, col text NOT NULL,
        key_type text NOT NULL, col_type text NOT NULL, created_at timestamptz NOT NULL DEFAULT now()
      )`,
      `CREATE TABLE IF NOT EXISTS ${CHUNKS} (
        job text NOT NULL REFERENCES ${JOBS} (job), chunk integer NOT NULL, lo text NOT NULL, hi text,
        rows bigint NOT NULL, done bigint NOT NULL DEFAULT 0, skipped bigint NOT NULL DEFAULT 0,
        attempts integer NOT NULL DEFAULT 0, worker text, started_at timestamptz, finished_at timestamptz,
        PRIMARY KEY (job, chunk)
      )`,
      `ALTER TABLE ${CHUNKS} ALTER COLUMN lo DROP NOT NULL`,
      `ALTER TABLE ${JOBS} ADD COLUMN IF NOT EXISTS timeout_s integer NOT NULL DEFAULT 900`,
    ],
    (code) => new StoreError('store_unavailable', `cannot create migration tables (${code ?? 'error'})`),
  );
}

type Boss = {
  start(): Promise<unknown>;
  stop(o?: { graceful?: boolean; wait?: boolean; close?: boolean }): Promise<void>;
  createQueue(name: string, o?: Record<string, unknown>): Promise<void>;
  insert(jobs: { name: string; data: object }[]): Promise<void>;
  work(name: string, o: Record<string, unknown>, handler: (jobs: { data: { chunk: number } }[]) => Promise<void>): Promise<string>;
  on(event: 'error', fn: (e: unknown) => void): void;
};

async function boss(db: SqlClient, schema: string, options: Record<string, unknown> = {}): Promise<Boss> {
  tableName('queue schema', schema);
  let PgBoss: new (o: Record<string, unknown>) => Boss;
  try {
    PgBoss = ((await import('pg-boss')) as unknown as { default: typeof PgBoss }).default;
  } catch {
    throw new ConfigError('migrations need the "pg-boss" package (npm install pg-boss@10)');
  }
  const b = new PgBoss({ db: { executeSql: (text: string, values: unknown[]) => db.query(text, values) }, schema, ...options });
  b.on('error', () => {});
  await b.start();
  return b;
}

const checkJob = (job: string): string => {
  if (!QUEUE.test(job)) throw new ConfigError('migration job names are 1-50 letters, digits, _, - or .');
  return job;
};

/**
 * Splits the table into chunks, records them and enqueues one job per chunk. Planning a job that
 * exists is refused (its chunks are already queued: start workers, or plan under a new name).
 */
export async function planMigration(db: SqlClient, o: MigrationPlanOptions): Promise<MigrationStatus> {
  const job = checkJob(o.job);
  const table = tableName('migration', o.table);
  const key = columnName('key', o.keyColumn ?? 'id');
  const col = columnName('record', o.column);
  const chunkSize = o.chunkSize ?? 5000;
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) throw new ConfigError('chunkSize must be a positive integer');
  const timeout = o.chunkTimeoutSeconds ?? 900;
  if (!Number.isSafeInteger(timeout) || timeout < 1) throw new ConfigError('chunkTimeoutSeconds must be a positive integer');
  await migrateTables(db);
  const { keyType, colType } = await columnCasts(db, table, key, col);
  // Chunk boundaries: every chunkSize-th key in key order (one scan, any orderable key type).
  const { rows } = await db.query(
    `SELECT k::text AS lo, n FROM (SELECT ${quoted(key)} AS k, row_number() OVER (ORDER BY ${quoted(key)}) AS n, count(*) OVER () AS total FROM ${quoted(table)}) s
      WHERE (n - 1) % $1 = 0 ORDER BY n`,
    [chunkSize],
  );
  const total = Number(((await db.query(`SELECT count(*) AS c FROM ${quoted(table)}`)).rows[0] as { c: string }).c);
  // An empty table still gets one (unbounded) chunk: rows inserted later are migrated, not missed.
  const bounds = rows.length ? (rows as { lo: string; n: string }[]) : [{ lo: '', n: '1' }];
  const b = await boss(db, o.queueSchema ?? 'waybill_seal_jobs', { supervise: false, schedule: false });
  try {
    await inTransaction(db, async (tx) => {
      const inserted = await tx.query(
        `INSERT INTO ${JOBS} (job, tbl, key_column, col, key_type, col_type, timeout_s) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (job) DO NOTHING RETURNING job`,
        [job, table, key, col, keyType, colType, timeout],
      );
      if (inserted.rows.length === 0) throw new ConfigError(`migration ${job} exists: start workers for it, or plan under another name`);
      await tx.query(
        `INSERT INTO ${CHUNKS} (job, chunk, lo, hi, rows) SELECT $1, c, lo, hi, rows FROM unnest($2::int[], $3::text[], $4::text[], $5::bigint[]) AS u(c, lo, hi, rows)`,
        [
          job,
          [...bounds.map((_, i) => i), SWEEP],
          [...bounds.map((r, i) => (i === 0 ? null : r.lo)), null],
          [...bounds.map((_, i) => bounds[i + 1]?.lo ?? null), null],
          [...bounds.map((r, i) => (bounds[i + 1] ? Number(bounds[i + 1]!.n) : total + 1) - Number(r.n)), 0],
        ],
      );
    });
    await b.createQueue(job, { retryLimit: 1000, retryDelay: 1, expireInSeconds: timeout });
    for (let i = 0; i < bounds.length; i += 1000) {
      await b.insert(bounds.slice(i, i + 1000).map((_, j) => ({ name: job, data: { chunk: i + j } })));
    }
  } finally {
    await b.stop({ graceful: false, wait: true, close: false });
  }
  return migrationStatus(db, job);
}

const columnName = (what: string, name: string): string => {
  if (typeof name !== 'string' || !COLUMN.test(name)) throw new ConfigError(`the migration's ${what} column must be a lower-case identifier`);
  return name;
};

/** The casts for the key and record columns, from the catalog, mapped onto the fixed lists. */
async function columnCasts(db: SqlClient, table: string, key: string, col: string): Promise<{ keyType: string; colType: string }> {
  const { rows } = await db.query(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a
      WHERE a.attrelid = to_regclass($1) AND a.attname = ANY($2::text[]) AND a.attnum > 0 AND NOT a.attisdropped`,
    [quoted(table), [key, col]],
  );
  const typeOf = new Map((rows as { name: string; type: string }[]).map((r) => [r.name, r.type]));
  if (!typeOf.has(key) || !typeOf.has(col)) throw new ConfigError(`table ${table} has no column ${typeOf.has(key) ? col : key}`);
  const keyType = castOf(KEY_CASTS, typeOf.get(key));
  const colType = castOf(COLUMN_CASTS, typeOf.get(col));
  if (!keyType) throw new ConfigError(`key column ${key} must be one of: ${Object.keys(KEY_CASTS).join(', ')}`);
  if (!colType) throw new ConfigError(`column ${col} must be json, jsonb or text`);
  return { keyType, colType };
}

/**
 * The job's row, trusted in nothing: names checked and compared with the worker's own (when
 * given), casts taken from the catalog, not from the row.
 */
async function jobRow(db: SqlClient, job: string, expect?: { table: string; column: string; keyColumn?: string }): Promise<JobRow> {
  await migrateTables(db);
  const { rows } = await db.query(`SELECT job, tbl, key_column, col FROM ${JOBS} WHERE job = $1`, [checkJob(job)]);
  if (!rows[0]) throw new ConfigError(`no migration named ${job}`);
  const r = rows[0] as { job: string; tbl: string; key_column: string; col: string };
  const bad = () => new StoreError('store_inconsistent', `migration ${job}: its row in ${JOBS} was altered (table or columns are not valid identifiers)`);
  let table: string, key: string, col: string;
  try {
    table = tableName('migration', r.tbl);
    key = columnName('key', r.key_column);
    col = columnName('record', r.col);
  } catch {
    throw bad();
  }
  if (expect) {
    const want = { table: tableName('migration', expect.table), key: columnName('key', expect.keyColumn ?? 'id'), col: columnName('record', expect.column) };
    if (want.table !== table || want.key !== key || want.col !== col) {
      throw new StoreError('store_inconsistent', `migration ${job} names another table or column than this worker was given (planned elsewhere, or its row in ${JOBS} was altered); nothing done`);
    }
  }
  const { keyType, colType } = expect ? await columnCasts(db, table, key, col) : { keyType: '', colType: '' };
  return { job: r.job, tbl: quoted(table), key_column: quoted(key), col: quoted(col), key_type: keyType, col_type: colType, table };
}

/** Progress of a migration: per chunk, and rows/s and ETA overall. */
export async function migrationStatus(db: SqlClient, job: string): Promise<MigrationStatus> {
  const j = await jobRow(db, job);
  const { rows } = await db.query(
    `SELECT chunk, rows, done, skipped, attempts, worker, started_at, finished_at,
            extract(epoch FROM now()) AS now_s, extract(epoch FROM started_at) AS started_s
       FROM ${CHUNKS} WHERE job = $1 ORDER BY chunk`,
    [job],
  );
  type R = { chunk: number; rows: string; done: string; skipped: string; attempts: number; worker: string | null; started_at: Date | string | null; finished_at: Date | string | null; now_s: string; started_s: string | null };
  const sweepRow = (rows as R[]).find((r) => Number(r.chunk) === SWEEP);
  const chunkRows = (rows as R[]).filter((r) => Number(r.chunk) !== SWEEP);
  const iso = (t: Date | string | null) => (t === null ? null : new Date(t).toISOString());
  const sweep = sweepRow ? { done: Number(sweepRow.done), skipped: Number(sweepRow.skipped), startedAt: iso(sweepRow.started_at), finishedAt: iso(sweepRow.finished_at) } : null;
  const perChunk = chunkRows.map((r) => ({
    chunk: Number(r.chunk),
    rows: Number(r.rows),
    done: Number(r.done),
    skipped: Number(r.skipped),
    attempts: Number(r.attempts),
    worker: r.worker,
    startedAt: iso(r.started_at),
    finishedAt: iso(r.finished_at),
  }));
  const sum = (f: (c: ChunkStatus) => number) => perChunk.reduce((a, c) => a + f(c), 0);
  const totalRows = sum((c) => c.rows);
  const handled = sum((c) => c.done + c.skipped);
  const chunksDone = perChunk.every((c) => c.finishedAt !== null);
  const finished = chunksDone && (sweep === null || sweep.finishedAt !== null);
  const starts = chunkRows.filter((r) => r.started_s !== null).map((r) => Number(r.started_s));
  const ends = perChunk.filter((c) => c.finishedAt !== null).map((c) => Date.parse(c.finishedAt!) / 1000);
  const first = starts.length ? Math.min(...starts) : undefined;
  const until = chunksDone && ends.length ? Math.max(...ends) : Number((rows as R[])[0]?.now_s ?? 0);
  const elapsed = first === undefined ? 0 : until - first;
  const rate = elapsed > 0 ? handled / elapsed : 0;
  return {
    job,
    table: j.table,
    chunks: perChunk.length,
    chunksFinished: perChunk.filter((c) => c.finishedAt !== null).length,
    rows: totalRows,
    done: sum((c) => c.done),
    skipped: sum((c) => c.skipped),
    rowsPerSecond: Math.round(rate),
    etaSeconds: chunksDone ? 0 : rate > 0 ? Math.round(Math.max(0, totalRows - handled) / rate) : null,
    finished,
    perChunk,
    sweep,
  };
}

/**
 * Works on a migration's chunks until every chunk is finished (also those of other workers: a
 * chunk whose worker died is retried here once it expires), then on the final sweep unless
 * another worker has it. Resolves with the chunks this worker finished. `signal` stops it after
 * the current batch.
 */
export async function runMigrationWorker(db: SqlClient, o: MigrationWorkerOptions & { signal?: AbortSignal }): Promise<number> {
  if (typeof o.table !== 'string' || typeof o.column !== 'string') throw new ConfigError('a migration worker needs the table and column the job was planned for');
  const j = await jobRow(db, o.job, { table: o.table, column: o.column, ...(o.keyColumn !== undefined ? { keyColumn: o.keyColumn } : {}) });
  const batchSize = o.batchSize ?? 500;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new ConfigError('batchSize must be a positive integer');
  const worker = o.worker ?? 'worker';
  const b = await boss(db, o.queueSchema ?? 'waybill_seal_jobs', { supervise: true, schedule: false, maintenanceIntervalSeconds: o.maintenanceIntervalSeconds ?? 5 });
  let finished = 0;
  const processChunk = async (chunk: number): Promise<void> => {
    if (!Number.isSafeInteger(chunk) || chunk < 0) return; // not a planned chunk (the sweep is never a job)
    const { rows } = await db.query(
      `UPDATE ${CHUNKS} SET attempts = attempts + 1, worker = $3, started_at = coalesce(started_at, now()) WHERE job = $1 AND chunk = $2 RETURNING lo, hi, finished_at`,
      [j.job, chunk, worker],
    );
    const c = rows[0] as { lo: string | null; hi: string | null; finished_at: unknown } | undefined;
    if (!c || c.finished_at !== null) return;
    await processRange(chunk, c);
    finished++;
  };
  /** The sweep, when every chunk is finished and no live worker has it (its heartbeat is `started_at`). */
  const sweep = async (): Promise<boolean> => {
    const { rows } = await db.query(
      `UPDATE ${CHUNKS} AS c SET attempts = attempts + 1, worker = $2, started_at = now() FROM ${JOBS} AS m
        WHERE c.job = $1 AND c.chunk = ${SWEEP} AND m.job = c.job AND c.finished_at IS NULL
          AND (c.started_at IS NULL OR c.started_at < now() - make_interval(secs => m.timeout_s))
          AND NOT EXISTS (SELECT 1 FROM ${CHUNKS} WHERE job = $1 AND chunk >= 0 AND finished_at IS NULL) RETURNING c.chunk`,
      [j.job, worker],
    );
    if (rows.length === 0) return false;
    await processRange(SWEEP, { lo: null, hi: null });
    return true;
  };
  const processRange = async (chunk: number, c: { lo: string | null; hi: string | null }): Promise<void> => {
    for (let after: string | null = null; ; ) {
      if (o.signal?.aborted) throw new Error('migration worker stopped');
      const last: string | null = await inTransaction(db, async (tx) => {
        const args: string[] = [];
        const where = ['true'];
        if (c.lo !== null) where.push(`${j.key_column} >= $${args.push(c.lo)}::${j.key_type}`);
        if (c.hi !== null) where.push(`${j.key_column} < $${args.push(c.hi)}::${j.key_type}`);
        if (after !== null) where.push(`${j.key_column} > $${args.push(after)}::${j.key_type}`);
        const { rows: batch } = await tx.query(
          `SELECT ${j.key_column}::text AS k, ${j.col}::text AS v FROM ${j.tbl}
            WHERE ${where.join(' AND ')} ORDER BY ${j.key_column} LIMIT ${batchSize} FOR UPDATE`,
          args,
        );
        if (batch.length === 0) return null;
        const keys: string[] = [];
        const values: string[] = [];
        for (const row of batch as { k: string; v: string }[]) {
          // json, jsonb and text columns alike hold JSON: the transform gets the record, not its text.
          const next = await o.transform(JSON.parse(row.v), row.k);
          if (next === undefined) continue;
          keys.push(row.k);
          values.push(JSON.stringify(next));
        }
        if (keys.length > 0) {
          await tx.query(
            `UPDATE ${j.tbl} AS t SET ${j.col} = u.v::${j.col_type} FROM unnest($1::text[], $2::text[]) AS u(k, v) WHERE t.${j.key_column} = u.k::${j.key_type}`,
            [keys, values],
          );
        }
        await tx.query(
          `UPDATE ${CHUNKS} SET done = done + $3, skipped = skipped + $4, started_at = CASE WHEN chunk = ${SWEEP} THEN now() ELSE started_at END WHERE job = $1 AND chunk = $2`,
          [j.job, chunk, keys.length, batch.length - keys.length],
        );
        o.onBatch?.({ chunk, done: keys.length, skipped: batch.length - keys.length });
        return (batch[batch.length - 1] as { k: string }).k;
      });
      if (last === null) break;
      after = last;
    }
    await db.query(`UPDATE ${CHUNKS} SET finished_at = now() WHERE job = $1 AND chunk = $2 AND finished_at IS NULL`, [j.job, chunk]);
  };
  try {
    for (let i = 0; i < (o.concurrency ?? 1); i++) {
      await b.work(j.job, { batchSize: 1, pollingIntervalSeconds: 0.5 }, async ([job]) => processChunk(job!.data.chunk));
    }
    for (;;) {
      if (o.signal?.aborted) break;
      const { rows } = await db.query(`SELECT count(*) FILTER (WHERE finished_at IS NULL) AS open FROM ${CHUNKS} WHERE job = $1`, [j.job]);
      if (Number((rows[0] as { open: string }).open) === 0) break;
      if (await sweep()) continue;
      await new Promise((r) => setTimeout(r, 500));
    }
  } catch (e) {
    throw e instanceof ConfigError || e instanceof StoreError ? e : new StoreError('store_unavailable', `migration ${j.job} failed (${sqlState(e) ?? 'error'})`);
  } finally {
    await b.stop({ graceful: true, wait: true, close: false });
  }
  return finished;
}

/**
 * Seals rows holding plain records; rows whose protected fields are all sealed already are skipped.
 * Give a sealer created with `passSealed: true` where rows may be half sealed.
 */
export function sealRows(sealer: Pick<Sealer, 'seal'>, schema: Schema): RowTransform {
  return async (value) => {
    const { leaves } = walkRecord(schema.shape, value, 'mixed');
    if (leaves.every((l) => isSealedField(l.value))) return undefined;
    return sealer.seal(schema, value as PlainRecord<Schema>);
  };
}

/** Re-seals rows holding a field under a retired data key (see `retireDataKeys`); other rows are skipped. */
export function resealRows(resealer: Pick<Resealer, 'resealRecord'>, schema: Schema): RowTransform {
  return async (value) => {
    const { record, resealed } = await resealer.resealRecord(schema, value as SealedRecord<Schema>);
    return resealed === 0 ? undefined : record;
  };
}
