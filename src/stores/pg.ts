/**
 * PgKeyStore: the key store on PostgreSQL, shared by every instance that seals or opens.
 *
 * - one row per data key, `id` the primary key (unique), so put-if-absent is
 *   `INSERT … ON CONFLICT (id) DO NOTHING` followed by a `SELECT`: N instances that create the
 *   same scope's key at once end with exactly one, and every one of them uses it;
 * - `replace` is a conditional `UPDATE … WHERE id = $ AND kek_id = $ AND wrapped = $ …`
 *   (compare-and-swap on the stored version), so rewrap, shred and retire never lose an update.
 *
 * Works with anything that has `query(text, params) → { rows }`: a `pg` Pool or Client, or
 * PGlite. No import of `pg` here: `waybill-seal/pg` stays pure JS; `pg` is an optional peer.
 */
import { KeyError } from '../errors.js';
import { matchesFilter, type DataKeyRecord, type KeyFilter, type KeyStore } from '../keys/key-store.js';
import { derivedName, runDdl, sqlClient, sqlState, tableName, type SqlClient } from './sql.js';

export interface PgKeyStoreOptions {
  /** Table name, optionally schema-qualified (default `waybill_seal_data_keys`). */
  table?: string;
}

const COLUMNS = 'id, key_class, scope, generation, suite, kek_id, wrapped, created_at, shredded_at, retired_at';

interface Row {
  id: string;
  key_class: string;
  scope: string;
  generation: number | string;
  suite: string;
  kek_id: string;
  wrapped: string;
  created_at: string;
  shredded_at: string | null;
  retired_at: string | null;
}

export class PgKeyStore implements KeyStore {
  readonly #db: SqlClient;
  readonly table: string;

  constructor(db: SqlClient, options: PgKeyStoreOptions = {}) {
    this.#db = sqlClient('PgKeyStore', db);
    this.table = tableName('PgKeyStore', options.table ?? 'waybill_seal_data_keys');
  }

  /** A store whose table exists (created if missing). */
  static async create(db: SqlClient, options: PgKeyStoreOptions = {}): Promise<PgKeyStore> {
    const store = new PgKeyStore(db, options);
    await store.migrate();
    return store;
  }

  /** `CREATE TABLE IF NOT EXISTS` (safe to run from many instances at once). */
  async migrate(): Promise<void> {
    await runDdl(
      this.#db,
      [
        `CREATE TABLE IF NOT EXISTS ${this.table} (
          id text PRIMARY KEY,
          key_class text NOT NULL,
          scope text NOT NULL,
          generation integer NOT NULL CHECK (generation > 0),
          suite text NOT NULL,
          kek_id text NOT NULL,
          wrapped text NOT NULL,
          created_at text NOT NULL,
          shredded_at text,
          retired_at text
        )`,
        `CREATE INDEX IF NOT EXISTS ${derivedName(this.table, 'class_scope')} ON ${this.table} (key_class, scope)`,
      ],
      (code) => new KeyError('store_unavailable', `cannot create key store table ${this.table} (${code ?? 'error'})`),
    );
  }

  async get(id: string): Promise<DataKeyRecord | undefined> {
    const { rows } = await this.#q(`SELECT ${COLUMNS} FROM ${this.table} WHERE id = $1`, [id]);
    return rows[0] ? toRecord(rows[0] as Row) : undefined;
  }

  async putIfAbsent(record: DataKeyRecord): Promise<DataKeyRecord> {
    const inserted = await this.#q(
      `INSERT INTO ${this.table} (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (id) DO NOTHING RETURNING ${COLUMNS}`,
      params(record),
    );
    if (inserted.rows[0]) return toRecord(inserted.rows[0] as Row);
    // Lost the race (or the key existed): every writer gets the row that is stored.
    const stored = await this.get(record.id);
    if (!stored) throw new KeyError('store_inconsistent', `data key ${record.id} conflicted but cannot be read`);
    return stored;
  }

  async list(filter?: KeyFilter): Promise<DataKeyRecord[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter?.keyClass !== undefined) where.push(`key_class = $${args.push(filter.keyClass)}`);
    if (filter?.scope !== undefined) where.push(`scope = $${args.push(filter.scope)}`);
    const { rows } = await this.#q(
      `SELECT ${COLUMNS} FROM ${this.table}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id`,
      args,
    );
    return (rows as Row[]).map(toRecord).filter((r) => matchesFilter(r, filter));
  }

  async replace(expected: DataKeyRecord, next: DataKeyRecord): Promise<boolean> {
    if (next.id !== expected.id) return false;
    const { rows } = await this.#q(
      `UPDATE ${this.table}
          SET key_class = $2, scope = $3, generation = $4, suite = $5, kek_id = $6, wrapped = $7,
              created_at = $8, shredded_at = $9, retired_at = $10
        WHERE id = $1 AND kek_id = $11 AND wrapped = $12
          AND shredded_at IS NOT DISTINCT FROM $13 AND retired_at IS NOT DISTINCT FROM $14
        RETURNING id`,
      [...params(next), expected.kekId, expected.wrapped, expected.shreddedAt ?? null, expected.retiredAt ?? null],
    );
    return rows.length === 1;
  }

  async delete(id: string): Promise<boolean> {
    const { rows } = await this.#q(`DELETE FROM ${this.table} WHERE id = $1 RETURNING id`, [id]);
    return rows.length === 1;
  }

  async #q(sql: string, args: unknown[]): Promise<{ rows: unknown[] }> {
    try {
      return await this.#db.query(sql, args);
    } catch (e) {
      throw new KeyError('store_unavailable', `key store query on ${this.table} failed (${sqlState(e) ?? 'error'})`);
    }
  }
}

function params(r: DataKeyRecord): unknown[] {
  return [r.id, r.keyClass, r.scope, r.generation, r.suite, r.kekId, r.wrapped, r.createdAt, r.shreddedAt ?? null, r.retiredAt ?? null];
}

function toRecord(row: Row): DataKeyRecord {
  return {
    id: row.id,
    keyClass: row.key_class,
    scope: row.scope,
    generation: Number(row.generation),
    suite: row.suite,
    kekId: row.kek_id,
    wrapped: row.wrapped,
    createdAt: row.created_at,
    ...(row.shredded_at !== null ? { shreddedAt: row.shredded_at } : {}),
    ...(row.retired_at !== null ? { retiredAt: row.retired_at } : {}),
  };
}
