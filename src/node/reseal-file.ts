/**
 * Re-sealing a JSON Lines file into a new file, resumable (`waybill-seal reseal`).
 *
 * Never in place: the output must not exist on a fresh run (and must not be the input). Progress
 * is made durable in batches: the output is written at a known byte offset and fsynced, then a
 * checkpoint (input lines consumed, output bytes, counts) is replaced atomically. After a crash the
 * next run truncates the output to the checkpoint's byte count and continues after its last input
 * line, so no record is lost or written twice. The checkpoint is removed when the run completes.
 */
import { constants, createReadStream } from 'node:fs';
import { open, realpath, rm, stat, type FileHandle } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { SuiteName } from '../crypto/aead.js';
import { ConfigError, KeyError } from '../errors.js';
import type { KeyCacheOptions } from '../keys/cache.js';
import type { KeyFilter, KeyStore } from '../keys/key-store.js';
import type { Keyring } from '../keys/keyring.js';
import { retireDataKeys } from '../keys/rotation.js';
import type { Schema } from '../schema/schema.js';
import { createResealer } from '../seal/reseal.js';
import type { IntegrityOptions } from '../integrity/tag.js';
import { writeFileAtomic } from './file-writes.js';
import { readJson } from './read-json.js';

export const RESEAL_CHECKPOINT_FORMAT = 'waybill-seal/reseal-checkpoint';

export interface ResealFileOptions {
  keyring: Keyring;
  keyStore: KeyStore;
  schema: Schema;
  /** Sealed JSON Lines to read. */
  input: string;
  /** New file to write (refused if it exists, unless resuming). */
  output: string;
  /** Checkpoint file (default `<output>.checkpoint.json`). */
  checkpoint?: string;
  /**
   * On a fresh run, first retire the live data keys matching this filter (`{}`: all of them, the
   * default). `false`: retire nothing, re-seal only fields under keys already retired.
   */
  retire?: KeyFilter | false;
  /** Suite of re-encrypted fields (default: each keeps its own). */
  suite?: SuiteName;
  /** Records per durable batch (default 1,000). */
  batch?: number;
  cache?: KeyCacheOptions;
  /** Record tags checked and written (see SealerOptions.integrity). */
  integrity?: IntegrityOptions;
  /** After each input line. Throwing stops the run at that point (as a crash would). */
  onProgress?: (p: ResealProgress) => void;
  /** A line that could not be re-sealed: reported by number and reason, never content. */
  onReject?: (lineNo: number, error: unknown) => void;
}

export interface ResealProgress {
  /** Input lines consumed, this run and earlier ones. */
  readonly lines: number;
  readonly written: number;
  readonly resealedRecords: number;
  readonly resealedFields: number;
  readonly rejected: number;
}

export interface ResealFileSummary extends ResealProgress {
  /** Input line the run started after (0: fresh run). */
  readonly resumedAfter: number;
  /** Data keys retired for this re-seal (recorded at the fresh start). */
  readonly retired: readonly string[];
}

interface Checkpoint extends ResealProgress {
  readonly format: typeof RESEAL_CHECKPOINT_FORMAT;
  readonly version: 1;
  readonly input: string;
  readonly output: string;
  readonly outBytes: number;
  readonly retired: readonly string[];
  readonly startedAt: string;
  readonly updatedAt: string;
}

export async function resealFile(o: ResealFileOptions): Promise<ResealFileSummary> {
  const input = resolve(o.input);
  const output = resolve(o.output);
  const cpPath = resolve(o.checkpoint ?? `${o.output}.checkpoint.json`);
  if ((await realpathOr(input)) === (await realpathOr(output))) throw new ConfigError('reseal never writes in place: --out must differ from --in');
  const batch = Math.max(1, o.batch ?? 1000);

  let cp = await readCheckpoint(cpPath);
  if (cp) {
    if (cp.input !== input || cp.output !== output) throw new ConfigError(`checkpoint ${cpPath} belongs to another input/output pair`);
  } else {
    if (await exists(output)) throw new ConfigError(`${o.output} exists; reseal writes a new file (remove it, or keep its checkpoint to resume)`);
    const retired = o.retire === false ? await alreadyRetired(o.keyStore) : await retireDataKeys(o.keyStore, o.retire ?? {});
    const now = new Date().toISOString();
    cp = {
      format: RESEAL_CHECKPOINT_FORMAT, version: 1, input, output, outBytes: 0, retired,
      lines: 0, written: 0, resealedRecords: 0, resealedFields: 0, rejected: 0, startedAt: now, updatedAt: now,
    };
    await writeCheckpoint(cpPath, cp);
  }
  const resumedAfter = cp.lines;

  const fh = await open(output, constants.O_RDWR | constants.O_CREAT, 0o600);
  const resealer = createResealer({ keyring: o.keyring, keyStore: o.keyStore, ...(o.suite ? { suite: o.suite } : {}), ...(o.cache ? { cache: o.cache } : {}), ...(o.integrity ? { integrity: o.integrity } : {}) });
  try {
    await fh.truncate(cp.outBytes);
    let state: Checkpoint = cp;
    let chunks: string[] = [];
    let pending = { lines: cp.lines, written: cp.written, resealedRecords: cp.resealedRecords, resealedFields: cp.resealedFields, rejected: cp.rejected };

    const flush = async (): Promise<void> => {
      const buf = Buffer.from(chunks.join(''), 'utf8');
      chunks = [];
      if (buf.length > 0) {
        await writeAll(fh, buf, state.outBytes);
        await fh.sync();
      }
      state = { ...state, ...pending, outBytes: state.outBytes + buf.length, updatedAt: new Date().toISOString() };
      await writeCheckpoint(cpPath, state);
    };

    const lines = createInterface({ input: createReadStream(input), crlfDelay: Infinity });
    let lineNo = 0;
    let inBatch = 0;
    for await (const line of lines) {
      lineNo++;
      if (lineNo <= resumedAfter) continue;
      if (line.trim() !== '') {
        try {
          const { record, resealed } = await resealer.resealRecord(o.schema, JSON.parse(line) as never);
          chunks.push(`${JSON.stringify(record)}\n`);
          pending.written++;
          if (resealed > 0) pending.resealedRecords++;
          pending.resealedFields += resealed;
        } catch (e) {
          pending.rejected++;
          o.onReject?.(lineNo, e);
        }
        inBatch++;
      }
      pending.lines = lineNo;
      o.onProgress?.({ ...pending });
      if (inBatch >= batch) {
        await flush();
        inBatch = 0;
      }
    }
    await flush();
    await fh.close().catch(() => undefined);
    await rm(cpPath, { force: true });
    return { ...pending, resumedAfter, retired: state.retired };
  } finally {
    resealer.close();
    await fh.close().catch(() => undefined);
  }
}

async function alreadyRetired(store: KeyStore): Promise<string[]> {
  return (await store.list())
    .filter((r) => r.retiredAt !== undefined && r.shreddedAt === undefined)
    .map((r) => r.id)
    .sort();
}

async function writeAll(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off, position + off);
    off += bytesWritten;
  }
}

async function readCheckpoint(path: string): Promise<Checkpoint | undefined> {
  const cp = await readJson(
    path,
    (problem) => (problem === 'unreadable' ? new KeyError('checkpoint_unreadable', `cannot read checkpoint ${path}`) : new ConfigError(`checkpoint ${path} is not valid JSON`)),
    { missingIsUndefined: true },
  );
  if (cp === undefined) return undefined;
  const c = cp as Partial<Checkpoint>;
  const ints = [c.lines, c.written, c.resealedRecords, c.resealedFields, c.rejected, c.outBytes];
  if (c?.format !== RESEAL_CHECKPOINT_FORMAT || c.version !== 1 || !ints.every((n) => Number.isSafeInteger(n) && (n as number) >= 0) || !Array.isArray(c.retired)) {
    throw new ConfigError(`checkpoint ${path} is malformed`);
  }
  return c as Checkpoint;
}

const writeCheckpoint = (path: string, cp: Checkpoint): Promise<void> => writeFileAtomic(path, `${JSON.stringify(cp, null, 2)}\n`);

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function realpathOr(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    return path;
  }
}
