/** Real file-system faults for the fault suite: a small tmpfs (root only), filled up or remounted read-only. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Tmpfs {
  readonly dir: string;
  /** Fills the file system up to `leaveBytes` free (a file named `filler`). */
  fill(leaveBytes?: number): void;
  readOnly(): void;
  unmount(): void;
}

/** Mounts a tmpfs of `sizeKb` KiB, or returns undefined where mounting is not allowed (not root). */
export function mountTmpfs(sizeKb: number): Tmpfs | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'ws-faults-fs-'));
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k,mode=0700`, 'tmpfs', dir]).status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  return {
    dir,
    fill(leaveBytes = 0) {
      const free = Number(spawnSync('df', ['--output=avail', '-B1', dir], { encoding: 'utf8' }).stdout.trim().split('\n').at(-1));
      try {
        writeFileSync(join(dir, 'filler'), Buffer.alloc(Math.max(0, free - leaveBytes)));
      } catch {
        // full: that is the point
      }
    },
    readOnly() {
      if (spawnSync('mount', ['-o', 'remount,ro', dir]).status !== 0) throw new Error(`cannot remount ${dir} read-only`);
    },
    unmount() {
      spawnSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Whether this machine lets the tests mount a tmpfs (root, mount allowed). */
export const canMountTmpfs = (() => {
  const fs = mountTmpfs(64);
  fs?.unmount();
  return fs !== undefined;
})();

export const STUB = new URL('./enospc-stub.cjs', import.meta.url).pathname;
/** Environment for a CLI run whose writes to paths matching `path` fail with ENOSPC after `after` bytes. */
export const enospcAfter = (path: RegExp, after = 0): Record<string, string> => ({
  NODE_OPTIONS: `--require ${STUB}`,
  WS_FAIL_PATH: path.source,
  WS_FAIL_AFTER: String(after),
});
