/**
 * The exclusive lock file every writer of a shared file takes (key file and key store, audit log,
 * quota state): `<file>.lock`, created with `O_CREAT|O_EXCL` semantics. It records its holder
 * (`{"pid","host","startedAt"}`), written in full before the lock exists (temp file + link), so a
 * lock file is never half-written.
 *
 * A lock whose holder is gone (same host, process no longer running) is taken over without a
 * person: under a short-lived `<file>.lock.break` lock the holder is read again and the lock
 * removed only if it is still that same dead holder, so two processes breaking one stale lock
 * cannot remove each other's fresh lock. The takeover is reported (process warning
 * `WAYBILL_SEAL_STALE_LOCK`). A lock held by a running process, or by another host, is waited for.
 */
import { randomBytes } from 'node:crypto';
import { link, open, readFile, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { ConfigError } from '../errors.js';
import { fileError, isRunning, sweepTempFiles, tempPathFor } from './file-writes.js';

export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly startedAt: string;
}

export interface LockOptions {
  /** How long to wait for a live holder (default 10 s). */
  readonly timeoutMs?: number | undefined;
  /** The error when the wait times out (default a `ConfigError`). */
  readonly busy?: (message: string) => Error;
}

/** A lock file without a readable holder (written by a version before holders were recorded) counts as stale after this long. */
const ANONYMOUS_STALE_MS = 10_000;

const swept = new Set<string>();

/** Waits for `path` to be free (or held by a dead process), creates it, and returns its release function. */
export async function acquireLock(path: string, o: LockOptions = {}): Promise<() => Promise<void>> {
  const timeoutMs = o.timeoutMs ?? 10_000;
  const start = Date.now();
  const me: LockHolder = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  const token = `${JSON.stringify({ ...me, token: randomBytes(9).toString('base64url') })}\n`;
  if (!swept.has(path)) {
    swept.add(path);
    await sweepTempFiles(path); // lock files half-made by killed processes
  }
  for (;;) {
    if (await tryCreate(path, token)) {
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        // Never remove a lock that is no longer ours.
        if ((await readFile(path, 'utf8').catch(() => undefined)) === token) await unlink(path).catch(() => undefined);
      };
    }
    const seen = await readHolder(path);
    if (seen !== undefined && (await isStale(path, seen)) && (await breakStale(path, seen.text))) continue;
    if (Date.now() - start > timeoutMs) {
      const who = seen?.holder ? ` by pid ${seen.holder.pid} on ${seen.holder.host} since ${seen.holder.startedAt}` : '';
      throw (o.busy ?? ((m: string) => new ConfigError(m)))(`lock file ${path} is held${who}`);
    }
    await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
  }
}

async function tryCreate(path: string, content: string): Promise<boolean> {
  const tmp = tempPathFor(path);
  try {
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(content);
    } finally {
      await fh.close();
    }
    await link(tmp, path).catch(async (e: NodeJS.ErrnoException) => {
      // A file system without hard links: create the lock directly (a kill in between leaves it empty).
      if (e.code !== 'EPERM' && e.code !== 'ENOTSUP' && e.code !== 'ENOSYS') throw e;
      const fh = await open(path, 'wx', 0o600);
      await fh.writeFile(content).finally(() => fh.close());
    });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw fileError(e, 'creating lock', path);
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

interface Seen {
  readonly text: string;
  readonly holder: LockHolder | undefined;
}

async function readHolder(path: string): Promise<Seen | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined; // released meanwhile
  }
  try {
    const h = JSON.parse(text) as Partial<LockHolder>;
    if (Number.isSafeInteger(h.pid) && typeof h.host === 'string' && typeof h.startedAt === 'string') return { text, holder: h as LockHolder };
  } catch {
    // an older version's lock: empty, or a bare pid
  }
  return { text, holder: undefined };
}

async function isStale(path: string, seen: Seen): Promise<boolean> {
  const h = seen.holder;
  if (h) return h.host === hostname() && !isRunning(h.pid);
  const pid = /^([0-9]+)\n?$/.exec(seen.text)?.[1];
  if (pid !== undefined) return !isRunning(Number(pid));
  const age = await stat(path).then((s) => Date.now() - s.mtimeMs, () => 0);
  return age > ANONYMOUS_STALE_MS;
}

/** Removes the lock at `path` if it still holds `text` (the dead holder seen); true if removed. */
async function breakStale(path: string, text: string): Promise<boolean> {
  const breaker = `${path}.break`;
  // A breaker killed in these few milliseconds leaves `.break` behind: it is stale after a while.
  if (!(await tryCreate(breaker, `${process.pid}\n`))) {
    const age = await stat(breaker).then((s) => Date.now() - s.mtimeMs, () => 0);
    if (age > ANONYMOUS_STALE_MS) await unlink(breaker).catch(() => undefined);
    return false;
  }
  try {
    if ((await readFile(path, 'utf8').catch(() => undefined)) !== text) return false;
    await unlink(path);
    process.emitWarning(`took over stale lock ${path} (holder ${describe(text)} is no longer running)`, { code: 'WAYBILL_SEAL_STALE_LOCK' });
    return true;
  } finally {
    await unlink(breaker).catch(() => undefined);
  }
}

function describe(text: string): string {
  try {
    const h = JSON.parse(text) as LockHolder;
    return `pid ${h.pid} on ${h.host}, started ${h.startedAt}`;
  } catch {
    return text.trim() === '' ? 'unknown' : `pid ${text.trim()}`;
  }
}
