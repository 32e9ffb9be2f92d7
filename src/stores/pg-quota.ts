/**
 * PgQuotaStore: quota counters on PostgreSQL, shared by every instance (with a per-process store,
 * N instances grant N times the quota and a stolen account spreads its requests over them).
 *
 * One row per counter key: its window and its sliding log of hit times (`bigint[]`). `take` is one
 * transaction: create missing rows (`ON CONFLICT DO NOTHING`), lock the counters' rows in key
 * order (`SELECT … ORDER BY key FOR UPDATE`: two takes over overlapping counters queue instead of
 * deadlocking), run the library's `takeFromState` on them, and write the logs back only when every
 * counter had room. So the check and the charge are atomic across instances, and all-or-nothing
 * over the counters of one take. The logs are written back by upsert: a row that `prune` deleted
 * between the insert and the lock is written again, so a granted take is always counted.
 */
import { ConfigError, StoreError } from '../errors.js';
import { takeFromState, type QuotaCounter, type QuotaOutcome, type QuotaState, type QuotaStore } from '../access/quota.js';
import { inTransaction, runDdl, sqlClient, sqlState, tableName, type SqlClient } from './sql.js';

export interface PgQuotaStoreOptions {
  /** Table name, optionally schema-qualified (default `waybill_seal_quota`). */
  table?: string;
  /**
   * Whose clock times the hits (default `database`: the server's `clock_timestamp()`, one clock for
   * every instance; the caller's `now` is ignored). `caller` uses the `now` given to `take`/`prune`:
   * then an instance whose clock runs a window ahead sees the others' hits as expired, is granted a
   * second full quota and drops their hits from the log.
   */
  clock?: 'database' | 'caller';
}

const DB_NOW = `SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now`;

interface Row {
  key: string;
  window_ms: string | number | null;
  hits: (string | number | bigint)[];
}

export class PgQuotaStore implements QuotaStore {
  readonly #db: SqlClient;
  readonly table: string;
  readonly #dbClock: boolean;

  constructor(db: SqlClient, options: PgQuotaStoreOptions = {}) {
    this.#db = sqlClient('PgQuotaStore', db);
    this.table = tableName('PgQuotaStore', options.table ?? 'waybill_seal_quota');
    const clock = options.clock ?? 'database';
    if (clock !== 'database' && clock !== 'caller') throw new ConfigError("PgQuotaStore clock must be 'database' or 'caller'");
    this.#dbClock = clock === 'database';
  }

  /** The time of a take or prune: the server's clock, or the caller's. */
  async #time(tx: SqlClient, now: number): Promise<number> {
    return this.#dbClock ? Number(((await tx.query(DB_NOW)).rows[0] as { now: string }).now) : now;
  }

  /** A store whose table exists (created if missing). */
  static async create(db: SqlClient, options: PgQuotaStoreOptions = {}): Promise<PgQuotaStore> {
    const store = new PgQuotaStore(db, options);
    await store.migrate();
    return store;
  }

  /** `CREATE TABLE IF NOT EXISTS` (safe to run from many instances at once). */
  async migrate(): Promise<void> {
    await runDdl(
      this.#db,
      [
        `CREATE TABLE IF NOT EXISTS ${this.table} (
          key text PRIMARY KEY,
          window_ms bigint CHECK (window_ms > 0),
          hits bigint[] NOT NULL DEFAULT '{}'
        )`,
      ],
      (code) => this.#fail('create', code),
    );
  }

  async take(counters: readonly QuotaCounter[], now: number, cost = 1): Promise<QuotaOutcome> {
    if (!Number.isSafeInteger(cost) || cost < 1) throw new RangeError('quota cost must be a positive integer');
    if (!Number.isSafeInteger(now)) throw new RangeError('quota time must be an integer number of ms');
    if (counters.length === 0) return { ok: true };
    const windows = new Map<string, number | null>();
    for (const c of counters) windows.set(c.key, Number.isFinite(c.windowMs) ? c.windowMs : null);
    const keys = [...windows.keys()].sort();
    try {
      return await inTransaction(this.#db, async (tx) => {
        await tx.query(
          `INSERT INTO ${this.table} (key, window_ms) SELECT * FROM unnest($1::text[], $2::bigint[]) ON CONFLICT (key) DO NOTHING`,
          [keys, keys.map((k) => windows.get(k))],
        );
        const { rows } = await tx.query(`SELECT key, window_ms, hits FROM ${this.table} WHERE key = ANY($1::text[]) ORDER BY key FOR UPDATE`, [keys]);
        const state: QuotaState = {};
        for (const r of rows as Row[]) state[r.key] = { w: r.window_ms === null ? null : Number(r.window_ms), t: r.hits.map(Number) };
        const outcome = takeFromState(state, counters, await this.#time(tx, now), cost);
        if (outcome.ok) {
          await tx.query(
            `INSERT INTO ${this.table} (key, window_ms, hits)
               SELECT j.key, (j.value->>'w')::bigint, ARRAY(SELECT jsonb_array_elements_text(j.value->'t')::bigint) FROM jsonb_each($1::jsonb) AS j
               ON CONFLICT (key) DO UPDATE SET hits = EXCLUDED.hits`,
            [JSON.stringify(Object.fromEntries(keys.map((k) => [k, state[k]!])))],
          );
        }
        return outcome;
      });
    } catch (e) {
      if (e instanceof RangeError) throw e;
      throw this.#fail('take', sqlState(e));
    }
  }

  /** Deletes counters whose every hit has left its window (run now and then; `take` keeps working without). */
  async prune(now: number): Promise<number> {
    try {
      const { rows } = await this.#db.query(
        `DELETE FROM ${this.table} AS q WHERE window_ms IS NOT NULL AND NOT EXISTS (SELECT 1 FROM unnest(q.hits) AS h WHERE h > $1::bigint - q.window_ms) RETURNING key`,
        [await this.#time(this.#db, now)],
      );
      return rows.length;
    } catch (e) {
      throw this.#fail('prune', sqlState(e));
    }
  }

  #fail(what: string, code: string | undefined): StoreError {
    return new StoreError('store_unavailable', `quota store ${what} on ${this.table} failed (${code ?? 'error'})`);
  }
}
