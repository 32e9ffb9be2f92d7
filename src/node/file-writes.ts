/**
 * Writing files so that a failure loses nothing and leaves nothing behind (Node only):
 *
 * - every write is checked to the end, and a failure becomes a `FileError` naming the OS cause and
 *   the file (`ENOSPC: no space left on device writing out.jsonl`), never "internal error";
 * - a file appears under its name only complete: it is written to `<path>.<pid>.<random>.tmp`,
 *   fsynced, then renamed (or linked, when it must not replace an existing file) into place;
 * - a temp file is removed on every failure, and the ones a killed process left are swept: those of
 *   processes no longer running at any time, all of them under the lock that guards the file.
 *   Temp files that held keys are overwritten with zeros before they are unlinked.
 */
import { randomBytes } from 'node:crypto';
import { link, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { FileError } from '../errors.js';

/** `ENOSPC: no space left on device` for an OS error, undefined for anything else. */
export function osCause(e: unknown): string | undefined {
  const err = e as NodeJS.ErrnoException | undefined;
  if (typeof err?.code !== 'string' || !/^E[A-Z0-9]+$/.test(err.code)) return undefined;
  // Node's messages read "ENOSPC: no space left on device, write '/path'": keep the description only.
  const described = /^E[A-Z0-9]+: ([^,]+)/.exec(typeof err.message === 'string' ? err.message : '');
  return `${err.code}: ${described?.[1] ?? 'system error'}`;
}

/** The error for an OS failure of `doing` (`writing`, `reading` …) on `path`; other errors are returned as they are. */
export function fileError(e: unknown, doing: string, path: string): unknown {
  if (e instanceof FileError) return e;
  const cause = osCause(e);
  return cause === undefined ? e : new FileError((e as NodeJS.ErrnoException).code!, `${cause} ${doing} ${path}`, path);
}

/** A fresh temp file name beside `path`, recognisable by `sweepTempFiles`. */
export const tempPathFor = (path: string): string => `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;

export interface AtomicWriteOptions {
  /** File mode (default 0600). */
  readonly mode?: number;
  /** Refuse (EEXIST) instead of replacing an existing file. */
  readonly exclusive?: boolean;
  /**
   * fsync before the rename (default true): after a power cut the file holds the old or the new
   * content, never an empty one. Off only for state whose last updates may be lost (quota counters).
   */
  readonly sync?: boolean;
}

/**
 * Moves a complete temp file to `path`: renamed over whatever is there, or (exclusive) linked, so an
 * existing file (created meanwhile by anyone) is refused with EEXIST instead of replaced.
 */
export async function placeFile(tmp: string, path: string, exclusive: boolean): Promise<void> {
  if (exclusive) {
    await link(tmp, path);
    await unlink(tmp);
  } else {
    await rename(tmp, path);
  }
}

/** Writes `data` to `path` all or nothing: temp file, fsync, rename (or link when exclusive). */
export async function writeFileAtomic(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const tmp = tempPathFor(path);
  try {
    const fh = await open(tmp, 'wx', options.mode ?? 0o600);
    try {
      await fh.writeFile(data);
      if (options.sync !== false) await fh.sync();
    } finally {
      await fh.close();
    }
    await placeFile(tmp, path, options.exclusive === true);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw fileError(e, 'writing', path);
  }
}

/** `<name>.<pid>.<12 hex>.tmp` (this module's) or `<name>.<12 hex>.tmp` (earlier versions'). */
const TEMP_SUFFIX = /^\.(?:([0-9]+)\.)?[0-9a-f]{12}\.tmp$/;

export interface SweepOptions {
  /** Remove every temp file of `path`, also live processes' (only while holding the lock that guards `path`). */
  readonly all?: boolean;
  /** The temp files may hold keys: overwrite them with zeros before unlinking. */
  readonly destroy?: boolean;
}

/** Removes the temp files that writes of `path` left behind; returns their names. */
export async function sweepTempFiles(path: string, options: SweepOptions = {}): Promise<string[]> {
  const dir = dirname(path);
  const base = basename(path);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(base)) continue;
    const m = TEMP_SUFFIX.exec(name.slice(base.length));
    if (!m) continue;
    const pid = m[1] === undefined ? undefined : Number(m[1]);
    // Without the lock, only a temp file whose writer is gone is certainly abandoned.
    if (options.all !== true && (pid === undefined || isRunning(pid))) continue;
    const file = join(dir, name);
    if (options.destroy === true) await overwriteWithZeros(file);
    if (await unlink(file).then(() => true, () => false)) removed.push(name);
  }
  return removed;
}

/** Whether a process with this id runs on this machine (EPERM: it runs under another user). */
export function isRunning(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function overwriteWithZeros(file: string): Promise<void> {
  try {
    const { size } = await stat(file);
    const fh = await open(file, 'r+');
    try {
      await fh.write(new Uint8Array(size), 0, size, 0);
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Unlinking below still removes it; a file we cannot open we cannot wipe either.
  }
}
