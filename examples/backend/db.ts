/**
 * The database: embedded PGlite (PostgreSQL in WebAssembly, no set-up) or a real PostgreSQL server
 * through a `pg` Pool, behind one small interface, and the tables of the backend.
 *
 *   waybills            one row per waybill: the sealed record as jsonb, and the blind-index
 *                       tokens of the sealed record's `tok` members in indexed text columns
 *   waybill_audit       the tamper-evident audit log, one HMAC-chained line per row, shared by every
 *                       instance (PgAuditSink from waybill-seal/pg creates it)
 *   waybill_quota       quota counters shared by every instance (PgQuotaStore creates it)
 *   waybill_seal_data_keys  wrapped data keys (PgKeyStore creates it)
 *
 * No plaintext personal data is ever written to any of them.
 */
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import type { IndexName, WaybillSchema } from 'waybill-seal';
import type { SqlClient } from 'waybill-seal/pg';

/** Anything that runs a parameterised query: a pool, a client, a transaction. */
export interface Sql {
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<{ rows: R[] }>;
}

export interface Database extends Sql {
  /** `pglite` (embedded, in memory or in a directory) or `postgres` (a server). */
  readonly kind: 'pglite' | 'postgres';
  /** Whether data outlives the process (a server, or PGlite in a directory). */
  readonly persistent: boolean;
  /** For the library's PostgreSQL stores: the `pg` Pool, or PGlite itself (its own transactions). */
  readonly client: SqlClient;
  /** Runs `fn` in one transaction (BEGIN … COMMIT, ROLLBACK on a throw) on one connection. */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** A PostgreSQL connection string (`DATABASE_URL`); without it, embedded PGlite. */
  url?: string | undefined;
  /** PGlite data directory (`PGLITE_DIR`); without it, PGlite keeps everything in memory. */
  dataDir?: string | undefined;
  /** Pool size for a server (default 10). */
  max?: number;
}

export async function openDatabase(options: OpenDatabaseOptions = {}): Promise<Database> {
  if (options.url) {
    const pool = new pg.Pool({ connectionString: options.url, max: options.max ?? 10 });
    // An idle client losing its connection must not crash the process; the next query reconnects.
    pool.on('error', () => {});
    await pool.query('SELECT 1');
    return fromPool(pool);
  }
  return fromPglite(await PGlite.create(options.dataDir), options.dataDir !== undefined);
}

export function fromPool(pool: pg.Pool): Database {
  return {
    kind: 'postgres',
    persistent: true,
    client: pool,
    query: async <R>(text: string, params?: unknown[]) => (await pool.query(text, params)) as unknown as { rows: R[] },
    async transaction(fn) {
      const conn = await pool.connect();
      try {
        await conn.query('BEGIN');
        const out = await fn(conn);
        await conn.query('COMMIT');
        return out;
      } catch (e) {
        await conn.query('ROLLBACK').catch(() => {});
        throw e;
      } finally {
        conn.release();
      }
    },
    close: () => pool.end(),
  };
}

export function fromPglite(lite: PGlite, persistent = false): Database {
  const sql: Sql = { query: (text, params) => lite.query(text, params) };
  return {
    kind: 'pglite',
    persistent,
    client: lite,
    query: sql.query,
    // PGlite has one connection; its transaction() queues other queries until it ends.
    transaction: (fn) => lite.transaction((tx) => fn({ query: (text, params) => tx.query(text, params) })),
    close: () => lite.close(),
  };
}

/**
 * Index name → token column. `satisfies` makes a new index in the schema a compile error here
 * until it has a column.
 */
export const TOKEN_COLUMNS = {
  'receiver.mobile': 'receiver_mobile_tok',
  'receiver.mobile:last4': 'receiver_last4_tok',
  'receiver.mobile:last4+district': 'receiver_last4_district_tok',
  'sender.mobile': 'sender_mobile_tok',
  'sender.mobile:last4': 'sender_last4_tok',
  'sender.idNumber': 'sender_id_tok',
} as const satisfies Record<IndexName<WaybillSchema>, string>;

export type TokenIndex = keyof typeof TOKEN_COLUMNS;
export const TOKEN_INDEXES = Object.keys(TOKEN_COLUMNS) as TokenIndex[];

const DDL = [
  `CREATE TABLE IF NOT EXISTS waybills (
     waybill_no text PRIMARY KEY,
     created_at timestamptz NOT NULL,
     sealed jsonb NOT NULL,
     ${TOKEN_INDEXES.map((i) => `${TOKEN_COLUMNS[i]} text`).join(',\n     ')},
     stored_at timestamptz NOT NULL DEFAULT now()
   )`,
  ...TOKEN_INDEXES.map((i) => `CREATE INDEX IF NOT EXISTS waybills_${TOKEN_COLUMNS[i]} ON waybills (${TOKEN_COLUMNS[i]})`),
];

/** The tables of the library's audit chain and quota counters (created by `PgAuditSink`/`PgQuotaStore`). */
export const AUDIT_TABLE = 'waybill_audit';
export const QUOTA_TABLE = 'waybill_quota';

/** Creates the tables if missing. Safe from several instances at once (one advisory lock). */
export async function migrate(db: Database): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('waybill-seal-backend:migrate'))`);
    for (const ddl of DDL) await tx.query(ddl);
  });
}
