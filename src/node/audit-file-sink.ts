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
import { fileError, osCause } from './file-writes.js';

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
  readonly #path: string;
  /** Bytes of whole lines on disk. */
  #size: number;
  #head: ChainHead;
  #pending: Pending[] = [];
  #flushing: Promise<void> | undefined;
  #failed: Error | undefined;
  #closed = false;

  private constructor(fh: FileHandle, path: string, size: number, chain: AuditChain, release: () => Promise<void>, sync: boolean) {
    this.#fh = fh;
    this.#path = path;
    this.#size = size;
    this.#chain = chain;
    this.#head = chain.head;
    this.#release = release;
    this.#sync = sync;
  }

  /** Opens (or creates, mode 0600) the log at `path`; `key` is the chain key or a keyring holding the `audit` secret. */
  static async open(path: string, key: Uint8Array | Keyring, options: JsonlAuditSinkOptions = {}): Promise<JsonlAuditSink> {
    const chainKey = key instanceof Uint8Array ? key : await auditKey(key);
    const release = await acquireLock(`${path}.lock`, { timeoutMs: options.lockTimeoutMs });
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
      return new JsonlAuditSink(fh, path, size, new AuditChain(chainKey, head), release, options.sync !== false);
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
      const bytes = Buffer.from(batch.map((p) => `${p.line}\n`).join(''), 'utf8');
      try {
        // A write to a nearly full disk returns short before it fails: write on until it does.
        for (let off = 0; off < bytes.length; ) off += (await this.#fh.write(bytes, off, bytes.length - off)).bytesWritten;
        if (this.#sync) await this.#fh.sync();
      } catch (e) {
        // The chain in memory is ahead of the file now: refuse everything from here on. Cut a
        // partly written batch off again (a full disk), so the log still ends on a whole line.
        const cut = await this.#fh.truncate(this.#size).then(() => '', () => `; its last line may be torn: run "waybill-seal audit repair"`);
        this.#failed = new ConfigError(`audit log write failed (${osCause(e) ?? 'error'} writing ${this.#path}); no further opens until it is reopened${cut}`);
        for (const p of [...batch, ...this.#pending.splice(0)]) p.reject(this.#failed);
        continue;
      }
      this.#size += bytes.length;
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
    if (buf[buf.length - 1] !== 0x0a) throw new ConfigError(`audit log ${path} ends with a partial line (a crash or full disk during a write); run "waybill-seal audit repair"`);
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
  return verifyLines(path, key instanceof Uint8Array ? key : await auditKey(key), options);
}

export type AuditRepair =
  /** The log ends on a whole line: nothing was changed. */
  | { readonly action: 'none'; readonly verification: AuditVerification }
  /** A torn last line (`bytes` long) was cut off after the verified entry `head.seq`. */
  | { readonly action: 'truncated'; readonly bytes: number; readonly head: ChainHead }
  /** The last line was whole but for its newline, and continues the chain: the newline was added. */
  | { readonly action: 'completed'; readonly head: ChainHead }
  /** The lines before the torn one do not verify: nothing was changed (run `audit verify`). */
  | { readonly action: 'refused'; readonly verification: Extract<AuditVerification, { ok: false }> };

/**
 * Repairs an audit log that a crash or a full disk left ending mid-line (writers refuse to extend
 * it): under the writers' lock, verifies every whole line, then cuts off the torn tail. A complete
 * line is never rewritten or removed; a log whose whole lines do not verify is left as it is.
 */
export async function repairAuditFile(path: string, key: Uint8Array | Keyring, options: JsonlAuditSinkOptions = {}): Promise<AuditRepair> {
  const chainKey = key instanceof Uint8Array ? key : await auditKey(key);
  const release = await acquireLock(`${path}.lock`, { timeoutMs: options.lockTimeoutMs });
  let fh: FileHandle | undefined;
  try {
    fh = await openFile(path, 'r+').catch((e: unknown) => {
      throw fileError(e, 'opening', path);
    });
    const { size } = await fh.stat();
    const whole = await endOfLastLine(fh, size);
    if (whole === size) return { action: 'none', verification: await verifyLines(path, chainKey, {}) };
    const verification = await verifyLines(path, chainKey, {}, whole);
    if (!verification.ok) return { action: 'refused', verification };
    const tail = Buffer.alloc(size - whole);
    await fh.read(tail, 0, tail.length, whole);
    const line = checkAuditLine(tail.toString('utf8'), chainKey);
    const head = verification.head;
    if (line && line.seq === head.seq + 1 && line.prev === head.mac) {
      await fh.write('\n', size);
      await fh.sync();
      return { action: 'completed', head: { seq: line.seq, mac: line.mac } };
    }
    await fh.truncate(whole);
    await fh.sync();
    return { action: 'truncated', bytes: size - whole, head };
  } finally {
    await fh?.close();
    await release();
  }
}

/** The offset just past the last newline (0 if there is none). */
async function endOfLastLine(fh: FileHandle, size: number): Promise<number> {
  const chunk = Buffer.alloc(65536);
  for (let end = size; end > 0; ) {
    const start = Math.max(0, end - chunk.length);
    const { bytesRead } = await fh.read(chunk, 0, end - start, start);
    const nl = chunk.subarray(0, bytesRead).lastIndexOf(0x0a);
    if (nl >= 0) return start + nl + 1;
    end = start;
  }
  return 0;
}

async function verifyLines(path: string, chainKey: Uint8Array, options: VerifyOptions, end?: number): Promise<AuditVerification> {
  const verifier = new AuditVerifier(chainKey, options);
  if (end === 0) return verifier.finish();
  const input = createReadStream(path, end === undefined ? {} : { end: end - 1 });
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
