/**
 * PgAuditSink: the tamper-evident audit chain (`wsa1` lines, see access/audit.ts) in one
 * PostgreSQL table shared by every instance: one chain, not one per process.
 *
 * A write is one transaction: an advisory lock for this table (appenders queue; readers do not
 * wait), read the last line and check its MAC (never continue a forged or foreign log: fail
 * closed), insert line `seq + 1`, commit. So the database assigns the sequence, and `write`
 * resolves only once the line is committed (open returns no plaintext before). The chain key
 * comes from the keyring's `audit` secret, which the database does not hold: whoever can write
 * the table cannot re-chain an edited row. The application's role needs only INSERT and SELECT.
 *
 * Rows cut off the end leave a shorter chain that still verifies; signed checkpoints written to
 * a second place (`checkpoints`) make that visible: `verify({ checkpoint })`, or
 * `waybill-seal audit verify --database URL --checkpoints FILE`. Between checkpoints each sink
 * remembers the last line it wrote: a table whose head is below it, or whose line there changed,
 * is refused (`audit_chain_broken`) instead of written over, so a cut tail is not re-filled.
 */
import { AuditChain, auditKey, AuditVerifier, checkAuditLine, GENESIS, type AuditEvent, type AuditSink, type AuditVerification, type ChainHead, type VerifyOptions } from '../access/audit.js';
import { deriveCheckpointKey, newestCheckpoint, signCheckpoint, type AuditCheckpoint, type CheckpointSelection, type CheckpointSink } from '../access/checkpoint.js';
import { ConfigError, StoreError } from '../errors.js';
import type { Keyring } from '../keys/keyring.js';
import { inTransaction, runDdl, sqlClient, sqlState, tableName, type SqlClient } from './sql.js';

export interface PgAuditSinkOptions {
  /** Table name, optionally schema-qualified (default `waybill_seal_audit`). */
  table?: string;
  /** Signed checkpoints of the head, written to a second place after some of this instance's writes. */
  checkpoints?: {
    readonly sink: CheckpointSink;
    /** After this many of this instance's writes (default 100; per instance: N instances leave up to N × (everyEvents − 1) lines uncovered; 1 for high-risk logs). */
    readonly everyEvents?: number;
    /**
     * And from a timer, this long after this instance's last checkpoint when it has written since
     * (default 60 s; per instance). The timer does not keep the process alive; `close()` stops it.
     */
    readonly everyMs?: number;
  };
  /** Clock for checkpoint times and intervals (default `Date.now`). */
  now?: () => number;
}

interface LineRow {
  seq: string | number;
  line: string;
}

export class PgAuditSink implements AuditSink {
  readonly #db: SqlClient;
  readonly #key: Uint8Array;
  readonly #checkpointKey: Uint8Array;
  readonly #checkpoints: { sink: CheckpointSink; everyEvents: number; everyMs: number } | undefined;
  readonly #now: () => number;
  readonly table: string;
  #log: string;
  #sinceCheckpoint = 0;
  #lastCheckpointAt: number;
  /** The last line this sink wrote: the table must still hold it. */
  #written: ChainHead | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;

  private constructor(db: SqlClient, key: Uint8Array, options: PgAuditSinkOptions) {
    this.#db = sqlClient('PgAuditSink', db);
    this.table = tableName('PgAuditSink', options.table ?? 'waybill_seal_audit');
    this.#log = this.table;
    this.#key = key;
    this.#checkpointKey = deriveCheckpointKey(key);
    this.#now = options.now ?? Date.now;
    this.#lastCheckpointAt = this.#now();
    const cp = options.checkpoints;
    if (cp) {
      if (typeof cp.sink?.write !== 'function') throw new ConfigError('PgAuditSink checkpoints need a sink with write()');
      const everyEvents = cp.everyEvents ?? 100;
      const everyMs = cp.everyMs ?? 60_000;
      if (!Number.isSafeInteger(everyEvents) || everyEvents < 1 || !(everyMs > 0)) throw new ConfigError('PgAuditSink checkpoint intervals must be positive');
      this.#checkpoints = { sink: cp.sink, everyEvents, everyMs };
      this.#timer = setInterval(() => void this.#onTimer(), Math.min(everyMs, 2 ** 31 - 1));
      this.#timer.unref?.();
    }
  }

  /**
   * A sink on an existing or new table (created if missing). `key` is a keyring holding the `audit`
   * secret, or the chain key itself.
   */
  static async create(db: SqlClient, key: Keyring | Uint8Array, options: PgAuditSinkOptions = {}): Promise<PgAuditSink> {
    const sink = new PgAuditSink(db, key instanceof Uint8Array ? key : await auditKey(key), options);
    await sink.migrate();
    await sink.#resolveLog();
    return sink;
  }

  /** A sink on a table that exists (e.g. to verify it: creates nothing). */
  static async open(db: SqlClient, key: Keyring | Uint8Array, options: PgAuditSinkOptions = {}): Promise<PgAuditSink> {
    const sink = new PgAuditSink(db, key instanceof Uint8Array ? key : await auditKey(key), options);
    await sink.#resolveLog();
    return sink;
  }

  /**
   * The log's name in checkpoints: the table as `schema.table` (so `waybill_seal_audit` and
   * `public.waybill_seal_audit` are one log, whatever the search path), or the name as given
   * while the table does not exist.
   */
  get log(): string {
    return this.#log;
  }

  async #resolveLog(): Promise<void> {
    this.#log = (await this.#qualified([this.table])).get(this.table) ?? this.table;
  }

  /** `schema.table` of each name that resolves to a table here. */
  async #qualified(names: readonly string[]): Promise<Map<string, string>> {
    const { rows } = await this.#db
      .query(
        `SELECT u.name, n.nspname || '.' || c.relname AS log FROM unnest($1::text[]) AS u(name)
           JOIN pg_class c ON c.oid = to_regclass(u.name) JOIN pg_namespace n ON n.oid = c.relnamespace`,
        [names],
      )
      .catch((e: unknown) => {
        throw this.#fail('read', sqlState(e));
      });
    return new Map((rows as { name: string; log: string }[]).map((r) => [r.name, r.log]));
  }

  /**
   * Checks every checkpoint's tag and picks the newest of this log, under any name that resolves
   * to this table (checkpoints written before names were resolved, or under another spelling).
   */
  async selectCheckpoint(checkpoints: Iterable<unknown>): Promise<CheckpointSelection> {
    const list = [...checkpoints];
    const checked = newestCheckpoint(this.#checkpointKey, this.#log, list);
    if (!checked.ok) return checked;
    const names = [...new Set(list.map((c) => (c as AuditCheckpoint).log))].filter((n) => n !== this.#log);
    const qualified = names.length ? await this.#qualified(names.filter((n) => /^[A-Za-z0-9_.]{1,130}$/.test(n))) : new Map<string, string>();
    let best: CheckpointSelection = checked;
    for (const name of names.filter((n) => qualified.get(n) === this.#log)) {
      const other = newestCheckpoint(this.#checkpointKey, name, list);
      if (!other.ok || !best.ok) continue;
      const newest: AuditCheckpoint | undefined = !best.newest || (other.newest && other.newest.seq > best.newest.seq) ? other.newest : best.newest;
      best = { ok: true, count: best.count + other.count, ...(newest ? { newest } : {}) };
    }
    return best;
  }

  /** `CREATE TABLE IF NOT EXISTS` (safe to run from many instances at once). */
  async migrate(): Promise<void> {
    await runDdl(
      this.#db,
      [
        `CREATE TABLE IF NOT EXISTS ${this.table} (
          seq bigint PRIMARY KEY CHECK (seq > 0),
          line text NOT NULL,
          written_at timestamptz NOT NULL DEFAULT now()
        )`,
      ],
      (code) => this.#fail('create', code),
    );
  }

  async write(event: AuditEvent): Promise<void> {
    let head: ChainHead;
    try {
      head = await inTransaction(this.#db, async (tx) => {
        await tx.query(`SELECT pg_advisory_xact_lock(hashtext('waybill-seal:audit'), hashtext($1))`, [this.#log]);
        const last = await this.#last(tx);
        await this.#stillHolds(tx, last);
        const chain = new AuditChain(this.#key, last);
        const line = chain.next(event);
        await tx.query(`INSERT INTO ${this.table} (seq, line) VALUES ($1, $2)`, [chain.head.seq, line]);
        return chain.head;
      });
    } catch (e) {
      throw e instanceof StoreError ? e : this.#fail('write', sqlState(e));
    }
    this.#written = head;
    if (this.#checkpoints && (++this.#sinceCheckpoint >= this.#checkpoints.everyEvents || this.#now() - this.#lastCheckpointAt >= this.#checkpoints.everyMs)) {
      await this.#writeCheckpoint(head);
    }
  }

  /** Stops the checkpoint timer (writes nothing; call `checkpoint()` first at shutdown). */
  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Writes a checkpoint of the current head now (e.g. at shutdown, or from a timer). */
  async checkpoint(): Promise<AuditCheckpoint> {
    const head = await this.head();
    // Never sign a head below (or beside) this sink's own last line: that would bless a cut tail.
    await this.#stillHolds(this.#db, head).catch((e: unknown) => {
      throw e instanceof StoreError ? e : this.#fail('read', sqlState(e));
    });
    return this.#writeCheckpoint(head);
  }

  /** The last stored position (checked: a head whose line does not verify is an error). */
  async head(): Promise<ChainHead> {
    try {
      return await this.#last(this.#db);
    } catch (e) {
      throw e instanceof StoreError ? e : this.#fail('read', sqlState(e));
    }
  }

  /** Verifies the whole stored chain (MACs, sequence, links; against `checkpoint` if given), in pages. */
  async verify(options: VerifyOptions = {}): Promise<AuditVerification> {
    const verifier = new AuditVerifier(this.#key, options);
    const page = 2000;
    try {
      for (let after = 0; ; ) {
        const { rows } = await this.#db.query(`SELECT seq, line FROM ${this.table} WHERE seq > $1 ORDER BY seq LIMIT $2`, [after, page]);
        for (const row of rows as LineRow[]) if (verifier.push(row.line)) return verifier.finish();
        if (rows.length < page) return verifier.finish();
        after = Number((rows[rows.length - 1] as LineRow).seq);
      }
    } catch (e) {
      throw this.#fail('read', sqlState(e));
    }
  }

  /** The events of the newest rows, newest first (for an admin screen: they hold no values). */
  async recent(limit = 20): Promise<AuditEvent[]> {
    const { rows } = await this.#db.query(`SELECT line FROM ${this.table} ORDER BY seq DESC LIMIT $1`, [limit]).catch((e: unknown) => {
      throw this.#fail('read', sqlState(e));
    });
    return (rows as LineRow[]).map((r) => (JSON.parse(r.line) as { event: AuditEvent }).event);
  }

  async #last(db: SqlClient): Promise<ChainHead> {
    const { rows } = await db.query(`SELECT line FROM ${this.table} ORDER BY seq DESC LIMIT 1`);
    const row = rows[0] as LineRow | undefined;
    if (!row) return GENESIS;
    const last = checkAuditLine(row.line, this.#key);
    if (!last) throw new StoreError('audit_chain_broken', `audit table ${this.table}: the last row does not verify (tampered, or another key); nothing is opened until it is repaired`);
    return { seq: last.seq, mac: last.mac };
  }

  /**
   * The head this sink last wrote must still be in the table, unchanged: a DB writer who deleted
   * the rows after it (or swapped them) would otherwise have them written over without a trace.
   */
  async #stillHolds(tx: SqlClient, last: ChainHead): Promise<void> {
    const mine = this.#written;
    if (!mine) return;
    let mac = last.seq === mine.seq ? last.mac : undefined;
    if (last.seq > mine.seq) {
      const { rows } = await tx.query(`SELECT line FROM ${this.table} WHERE seq = $1`, [mine.seq]);
      const row = rows[0] as LineRow | undefined;
      mac = row ? checkAuditLine(row.line, this.#key)?.mac : undefined;
    }
    if (mac === undefined || mac !== mine.mac) {
      throw new StoreError('audit_chain_broken', `audit table ${this.table}: line ${mine.seq}, written by this instance, is gone or changed (rows deleted or replaced); nothing is opened until it is repaired`);
    }
  }

  async #onTimer(): Promise<void> {
    const cp = this.#checkpoints;
    if (!cp || this.#sinceCheckpoint === 0 || this.#now() - this.#lastCheckpointAt < cp.everyMs) return;
    // A failure here is retried by the next write, which then fails (and so does its open).
    await this.checkpoint().catch(() => {});
  }

  async #writeCheckpoint(head: ChainHead): Promise<AuditCheckpoint> {
    const sink = this.#checkpoints?.sink;
    if (!sink) throw new ConfigError('PgAuditSink has no checkpoint sink');
    const now = this.#now();
    // Reset before waiting, so writes that finish meanwhile do not checkpoint again.
    const before = { since: this.#sinceCheckpoint, at: this.#lastCheckpointAt };
    this.#sinceCheckpoint = 0;
    this.#lastCheckpointAt = now;
    const checkpoint = signCheckpoint(this.#checkpointKey, this.#log, head, new Date(now));
    try {
      await sink.write(checkpoint);
    } catch (e) {
      this.#sinceCheckpoint += before.since;
      this.#lastCheckpointAt = before.at;
      throw e;
    }
    return checkpoint;
  }

  #fail(what: string, code: string | undefined): StoreError {
    return new StoreError('store_unavailable', `audit ${what} on ${this.table} failed (${code ?? 'error'})`);
  }
}

/** Checkpoints in a table of another database (or the same one, where a different role owns it). */
export class PgCheckpointSink implements CheckpointSink {
  readonly #db: SqlClient;
  readonly table: string;

  constructor(db: SqlClient, options: { table?: string } = {}) {
    this.#db = sqlClient('PgCheckpointSink', db);
    this.table = tableName('PgCheckpointSink', options.table ?? 'waybill_seal_audit_checkpoints');
  }

  static async create(db: SqlClient, options: { table?: string } = {}): Promise<PgCheckpointSink> {
    const sink = new PgCheckpointSink(db, options);
    await runDdl(
      sink.#db,
      [`CREATE TABLE IF NOT EXISTS ${sink.table} (log text NOT NULL, seq bigint NOT NULL, mac text NOT NULL, time text NOT NULL, tag text NOT NULL)`],
      (code) => new StoreError('store_unavailable', `cannot create checkpoint table ${sink.table} (${code ?? 'error'})`),
    );
    return sink;
  }

  async write(c: AuditCheckpoint): Promise<void> {
    await this.#db.query(`INSERT INTO ${this.table} (log, seq, mac, time, tag) VALUES ($1, $2, $3, $4, $5)`, [c.log, c.seq, c.mac, c.time, c.tag]).catch((e: unknown) => {
      throw new StoreError('store_unavailable', `checkpoint write on ${this.table} failed (${sqlState(e) ?? 'error'})`);
    });
  }

  /** Every stored checkpoint, as written (check them with `newestCheckpoint`). */
  async list(): Promise<unknown[]> {
    const { rows } = await this.#db.query(`SELECT log, seq, mac, time, tag FROM ${this.table}`);
    return (rows as { log: string; seq: string | number; mac: string; time: string; tag: string }[]).map((r) => ({ v: 'wsc1', ...r, seq: Number(r.seq) }));
  }
}
