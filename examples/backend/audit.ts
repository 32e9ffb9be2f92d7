/**
 * The audit log in the database: the library's tamper-evident line chain (`AuditChain`, format
 * `wsa1`, docs/ACCESS.md §5), one line per row of `waybill_audit`.
 *
 * Every instance appends to the one chain: a write takes a transaction-scoped advisory lock, reads
 * the last line, checks its MAC (so the chain never continues a forged or foreign log), appends the
 * next line and commits. `open` returns plaintext only after that commit (the guard waits for
 * `write`). The chain key is derived from the keyring's `audit` secret, which the database does not
 * hold: someone with write access to the table cannot re-chain an edited line.
 *
 * The same lines can be exported (`SELECT line … ORDER BY seq`) and checked with
 * `waybill-seal audit verify`. Keep the head `{ seq, mac }` somewhere else now and then (a
 * checkpoint): a chain alone cannot show lines cut off its end.
 */
import {
  AuditChain,
  AuditVerifier,
  auditKey,
  checkAuditLine,
  GENESIS,
  type AuditEvent,
  type AuditSink,
  type AuditVerification,
  type ChainHead,
  type Keyring,
  type VerifyOptions,
} from 'waybill-seal';
import type { Database } from './db.js';

/** Thrown when the stored chain's last line does not verify: fail closed, open nothing. */
export class AuditLogBroken extends Error {
  constructor() {
    super('audit log: the last stored line does not verify (tampered, or another key); nothing is opened until it is repaired');
    this.name = 'AuditLogBroken';
  }
}

export class SqlAuditSink implements AuditSink {
  readonly #db: Database;
  readonly #key: Uint8Array;

  private constructor(db: Database, key: Uint8Array) {
    this.#db = db;
    this.#key = key;
  }

  /** `keyring` must hold the `audit` secret (LocalKeyring, or the `secrets` keyring of an HSM/KMS set-up). */
  static async create(db: Database, keyring: Keyring): Promise<SqlAuditSink> {
    return new SqlAuditSink(db, await auditKey(keyring));
  }

  async write(event: AuditEvent): Promise<void> {
    await this.#db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('waybill-seal-backend:audit'))`);
      const { rows } = await tx.query<{ line: string }>('SELECT line FROM waybill_audit ORDER BY seq DESC LIMIT 1');
      let head: ChainHead = GENESIS;
      if (rows[0]) {
        const last = checkAuditLine(rows[0].line, this.#key);
        if (!last) throw new AuditLogBroken();
        head = { seq: last.seq, mac: last.mac };
      }
      const line = new AuditChain(this.#key, head).next(event);
      await tx.query('INSERT INTO waybill_audit (seq, line) VALUES ($1, $2)', [head.seq + 1, line]);
    });
  }

  /** Verifies the whole stored chain (MACs, sequence, links), reading it in pages. */
  async verify(options: VerifyOptions = {}): Promise<AuditVerification> {
    const verifier = new AuditVerifier(this.#key, options);
    const page = 1000;
    for (let after = 0; ; ) {
      const { rows } = await this.#db.query<{ seq: string | number; line: string }>(
        'SELECT seq, line FROM waybill_audit WHERE seq > $1 ORDER BY seq LIMIT $2',
        [after, page],
      );
      for (const row of rows) if (verifier.push(row.line)) return verifier.finish();
      if (rows.length < page) return verifier.finish();
      after = Number(rows[rows.length - 1]!.seq);
    }
  }

  /** The last stored position (a checkpoint to keep elsewhere). */
  async head(): Promise<ChainHead> {
    const { rows } = await this.#db.query<{ line: string }>('SELECT line FROM waybill_audit ORDER BY seq DESC LIMIT 1');
    const last = rows[0] ? checkAuditLine(rows[0].line, this.#key) : undefined;
    if (rows[0] && !last) throw new AuditLogBroken();
    return last ? { seq: last.seq, mac: last.mac } : GENESIS;
  }

  /** The events of the stored lines, newest first (for an admin screen; they hold no values). */
  async recent(limit = 20): Promise<AuditEvent[]> {
    const { rows } = await this.#db.query<{ line: string }>('SELECT line FROM waybill_audit ORDER BY seq DESC LIMIT $1', [limit]);
    return rows.map((r) => (JSON.parse(r.line) as { event: AuditEvent }).event);
  }
}
