import type { LoadedKeys } from '../../node/key-file-io.js';
import type { RunSummary } from '../io.js';

/** 0: all lines done; 2: some lines rejected (usage and configuration errors exit 1 earlier). */
export const exitCode = (s: RunSummary): number => (s.rejected > 0 ? 2 : 0);

export function warnKeyFile(keys: LoadedKeys): void {
  if (keys.warning) process.stderr.write(`warning: ${keys.warning}\n`);
}

/** A file next to the key file: `keys.json` → `keys.audit.jsonl`, `keys.quota.json`. */
export const siblingOf = (keysPath: string, suffix: string): string => `${keysPath.replace(/\.json$/i, '')}${suffix}`;
