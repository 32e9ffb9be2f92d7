/**
 * The tamper-evident audit log on disk: JSON Lines, each line HMAC-chained to the one before
 * (see `AuditChain`), appended and fsync'ed before `write` resolves, so `open` never returns
 * plaintext whose audit line could still be lost. Concurrent writes are group-committed: one
 * write + fsync for every line queued meanwhile, in chain order.
 *
 * One writer per file: the sink holds `<file>.lock` while open. On open it continues the chain
 * from the last line, after checking that line's MAC (so it never extends a forged or foreign log).
 */
import { createReadStream } from 'node:fs';
import { open as openFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import {
  AuditChain,
  auditKey,
  AuditVerifier,
  checkAuditLine,
  GENESIS,
  type AuditEvent,
  type AuditSink,
  type AuditVerification,
  type ChainHead,
  type VerifyOptions,
} from '../access/audit.js';
import { ConfigError } from '../errors.js';
import type { Keyring } from '../keys/keyring.js';
import { acquireLock } from './file-lock.js';

export interface JsonlAuditSinkOptions {
  /** fsync after each batch of lines (default true). Turn off only where durability is not needed (tests). */
  readonly sync?: boolean;
  /** How long to wait for another writer's lock (default 10 s). */
  readonly lockTimeoutMs?: number;
}

interface Pending {
  readonly line: string;
  readonly head: ChainHead;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

export class JsonlAuditSink implements AuditSink {
  readonly #fh: FileHandle;
  readonly #chain: AuditChain;
  readonly #release: () => Promise<void>;
  readonly #sync: boolean;
  #head: ChainHead;
  #pending: Pending[] = [];
  #flushing: Promise<void> | undefined;
  #failed: Error | undefined;
  #closed = false;

  private constructor(fh: FileHandle, chain: AuditChain, release: () => Promise<void>, sync: boolean) {
    this.#fh = fh;
    this.#chain = chain;
    this.#head = chain.head;
    this.#release = release;
    this.#sync = sync;
  }

  /** Opens (or creates, mode 0600) the log at `path`; `key` is the chain key or a keyring holding the `audit` secret. */
  static async open(path: string, key: Uint8Array | Keyring, options: JsonlAuditSinkOptions = {}): Promise<JsonlAuditSink> {
    const chainKey = key instanceof Uint8Array ? key : await auditKey(key);
    const release = await acquireLock(`${path}.lock`, options.lockTimeoutMs);
    let fh: FileHandle | undefined;
    try {
      fh = await openFile(path, 'a+', 0o600);
      const { size } = await fh.stat();
      let head = GENESIS;
      if (size > 0) {
        const last = await lastLine(fh, size, path);
        const line = checkAuditLine(last, chainKey);
        if (!line) throw new ConfigError(`audit log ${path}: its last line does not verify (another key, or tampered); run "waybill-seal audit verify"`);
        head = { seq: line.seq, mac: line.mac };
      } else {
        await syncDir(dirname(path));
      }
      return new JsonlAuditSink(fh, new AuditChain(chainKey, head), release, options.sync !== false);
    } catch (e) {
      await fh?.close();
      await release();
      throw e;
    }
  }

  /** Appends the event's line; resolves once it is on disk. After a failed write every later write fails. */
  write(event: AuditEvent): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed);
    if (this.#closed) return Promise.reject(new ConfigError('audit log is closed'));
    const line = this.#chain.next(event);
    const head = this.#chain.head;
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ line, head, resolve, reject });
      this.#kick();
    });
  }

  /** The last durable position: record it elsewhere as a checkpoint (detects truncation). */
  get head(): ChainHead {
    return this.#head;
  }

  /** Waits for queued lines, closes the file and releases the lock. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#flushing;
    await this.#fh.close();
    await this.#release();
  }

  #kick(): void {
    if (this.#flushing) return;
    this.#flushing = this.#flushAll();
  }

  async #flushAll(): Promise<void> {
    await null; // let `#flushing` be set before the loop can clear it
    for (;;) {
      if (this.#pending.length === 0 || this.#failed) {
        this.#flushing = undefined;
        return;
      }
      const batch = this.#pending;
      this.#pending = [];
      try {
        await this.#fh.write(batch.map((p) => `${p.line}\n`).join(''));
        if (this.#sync) await this.#fh.sync();
      } catch {
        // The chain in memory is ahead of the file now: refuse everything from here on.
        this.#failed = new ConfigError('audit log write failed; no further opens until it is reopened');
        for (const p of [...batch, ...this.#pending.splice(0)]) p.reject(this.#failed);
        continue;
      }
      this.#head = batch[batch.length - 1]!.head;
      for (const p of batch) p.resolve();
    }
  }
}

async function lastLine(fh: FileHandle, size: number, path: string): Promise<string> {
  for (let chunk = 8192; ; chunk *= 4) {
    const start = Math.max(0, size - chunk);
    const buf = Buffer.alloc(size - start);
    await fh.read(buf, 0, buf.length, start);
    if (buf[buf.length - 1] !== 0x0a) throw new ConfigError(`audit log ${path} ends with a partial line; run "waybill-seal audit verify"`);
    const nl = buf.lastIndexOf(0x0a, buf.length - 2);
    if (nl >= 0 || start === 0) return buf.subarray(nl + 1, buf.length - 1).toString('utf8');
  }
}

async function syncDir(dir: string): Promise<void> {
  // Make the new file's directory entry durable too (best effort: not every platform allows it).
  try {
    const d = await openFile(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    /* ignore */
  }
}

/** Verifies an audit log file line by line (streaming; any size). */
export async function verifyAuditFile(path: string, key: Uint8Array | Keyring, options: VerifyOptions = {}): Promise<AuditVerification> {
  const chainKey = key instanceof Uint8Array ? key : await auditKey(key);
  const verifier = new AuditVerifier(chainKey, options);
  const input = createReadStream(path);
  const opened = new Promise<void>((resolve, reject) => {
    input.once('open', () => resolve());
    input.once('error', reject);
  });
  try {
    await opened;
  } catch {
    throw new ConfigError(`cannot read audit log ${path}`);
  }
  const lines = createInterface({ input, crlfDelay: Infinity });
  for await (const line of lines) {
    if (verifier.push(line)) {
      lines.close();
      input.destroy();
      break;
    }
  }
  return verifier.finish();
}
