/**
 * What the PostgreSQL stores share: the client interface (`query` only, so `pg` is never
 * imported), table-name checks, idempotent DDL and transactions on whatever client was given.
 */
import { ConfigError } from '../errors.js';

/** A `pg.Pool`, `pg.Client`, `pg.PoolClient` or `PGlite`. */
export interface SqlClient {
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
}

const IDENT = /^[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?$/;

/** Checks a (possibly schema-qualified) table name that will be spliced into SQL. */
export function tableName(what: string, name: string): string {
  if (!IDENT.test(name)) throw new ConfigError(`${what} table must be a lower-case identifier, optionally schema-qualified`);
  return name;
}

/** A client with `query()`, or a ConfigError naming `what`. */
export function sqlClient(what: string, db: SqlClient): SqlClient {
  if (!db || typeof db.query !== 'function') throw new ConfigError(`${what} needs a client with query()`);
  return db;
}

/** An index or constraint name derived from a table name (at most 63 characters). */
export const derivedName = (table: string, suffix: string): string => `${table.replace('.', '_')}_${suffix}`.slice(0, 63);

/** The PostgreSQL SQLSTATE of a failed query, if any. */
export const sqlState = (e: unknown): string | undefined => (e as { code?: string } | null)?.code;

/**
 * Runs DDL statements (`CREATE … IF NOT EXISTS`), safe from many instances at once: concurrent
 * creation can still collide in the catalog, then the statement is simply tried again.
 */
export async function runDdl(db: SqlClient, statements: readonly string[], fail: (code: string | undefined) => Error): Promise<void> {
  for (const sql of statements) {
    for (let attempt = 0; ; attempt++) {
      try {
        await db.query(sql);
        break;
      } catch (e) {
        const code = sqlState(e);
        if (attempt < 3 && (code === '23505' || code === '42P07' || code === '42710')) continue;
        throw fail(code);
      }
    }
  }
}

interface PoolLike extends SqlClient {
  connect(): Promise<SqlClient & { release(destroy?: boolean): void }>;
  readonly totalCount: number;
}
interface TransactionLike extends SqlClient {
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>;
}

const isPool = (db: SqlClient): db is PoolLike => typeof (db as PoolLike).connect === 'function' && typeof (db as PoolLike).totalCount === 'number';
const hasTransaction = (db: SqlClient): db is TransactionLike => typeof (db as TransactionLike).transaction === 'function';

/** Transactions of this process on one connection (a `pg.Client`) take turns. */
const turns = new WeakMap<SqlClient, Promise<unknown>>();

/**
 * Runs `fn` inside one transaction (READ COMMITTED): on a connection of a pool, in PGlite's own
 * `transaction()`, or on a single client, one transaction at a time. Rolls back on a throw.
 * Deadlocks and serialization failures (40P01, 40001) are retried a few times.
 */
export async function inTransaction<T>(db: SqlClient, fn: (tx: SqlClient) => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await once(db, fn);
    } catch (e) {
      const code = sqlState(e);
      if (attempt < 4 && (code === '40P01' || code === '40001')) continue;
      throw e;
    }
  }
}

async function once<T>(db: SqlClient, fn: (tx: SqlClient) => Promise<T>): Promise<T> {
  if (isPool(db)) {
    const conn = await db.connect();
    let broken = false;
    try {
      return await beginCommit(conn, fn, () => (broken = true));
    } finally {
      conn.release(broken);
    }
  }
  if (hasTransaction(db)) return db.transaction((tx) => fn(tx));
  const before = turns.get(db) ?? Promise.resolve();
  const mine = before.then(() => beginCommit(db, fn, () => {}));
  turns.set(db, mine.catch(() => {}));
  return mine;
}

async function beginCommit<T>(conn: SqlClient, fn: (tx: SqlClient) => Promise<T>, onBroken: () => void): Promise<T> {
  await conn.query('BEGIN');
  try {
    const out = await fn(conn);
    await conn.query('COMMIT');
    return out;
  } catch (e) {
    await conn.query('ROLLBACK').catch(() => onBroken());
    throw e;
  }
}
