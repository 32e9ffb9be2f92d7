/**
 * Quota counters in the database, shared by every instance of the backend (with the library's
 * `MemoryQuotaStore`, N instances would grant N times the quota). This is the SQL recipe of
 * docs/ACCESS.md §4: one transaction, an advisory lock per counter key taken in sorted order (no
 * deadlocks), old hits pruned, every counter counted, and hits added to all of them or to none.
 */
import type { QuotaCounter, QuotaOutcome, QuotaStore } from 'waybill-seal';
import type { Database } from './db.js';

export class SqlQuotaStore implements QuotaStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async take(counters: readonly QuotaCounter[], now: number, cost = 1): Promise<QuotaOutcome> {
    if (!Number.isSafeInteger(cost) || cost < 1) throw new RangeError('quota cost must be a positive integer');
    return this.#db.transaction(async (tx) => {
      for (const key of [...new Set(counters.map((c) => c.key))].sort()) {
        await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [key]);
      }
      for (const c of counters) {
        const finite = Number.isFinite(c.windowMs);
        if (finite) await tx.query('DELETE FROM waybill_quota_hits WHERE key = $1 AND at <= $2', [c.key, now - c.windowMs]);
        const { rows } = await tx.query<{ n: string | number }>(
          finite
            ? 'SELECT count(*) AS n FROM waybill_quota_hits WHERE key = $1 AND at > $2'
            : 'SELECT count(*) AS n FROM waybill_quota_hits WHERE key = $1',
          finite ? [c.key, now - c.windowMs] : [c.key],
        );
        const used = Number(rows[0]?.n ?? 0);
        if (used + cost > c.limit) return { ok: false, counter: c, used };
      }
      for (const c of counters) {
        await tx.query('INSERT INTO waybill_quota_hits (key, at) SELECT $1, $2 FROM generate_series(1, $3)', [c.key, now, cost]);
      }
      return { ok: true };
    });
  }
}
