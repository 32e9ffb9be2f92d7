/** An exclusive lock file (`O_CREAT|O_EXCL`), for files that several processes write (audit log, quota state). */
import { open, unlink } from 'node:fs/promises';
import { ConfigError } from '../errors.js';

/** Waits up to `timeoutMs` for `path` to be free, creates it, and returns its release function. */
export async function acquireLock(path: string, timeoutMs = 10_000): Promise<() => Promise<void>> {
  const start = Date.now();
  for (;;) {
    try {
      const fh = await open(path, 'wx', 0o600);
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        await unlink(path).catch(() => undefined);
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (Date.now() - start > timeoutMs) throw new ConfigError(`lock file ${path} is held; remove it if stale`);
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
    }
  }
}
