/**
 * Temp files to remove when the command is interrupted (Ctrl-C, SIGTERM, SIGHUP): the process then
 * exits 128 + signal number at once, as it would by default, but leaves no temp file behind.
 * (kill -9 cannot be caught: the next run sweeps what a killed one left.)
 */
import { unlinkSync } from 'node:fs';

const live = new Set<string>();
const SIGNALS = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
let installed = false;

/** Removes `path` if the process is interrupted before the returned function is called. */
export function removeOnInterrupt(path: string): () => void {
  if (!installed) {
    installed = true;
    for (const [signal, code] of Object.entries(SIGNALS)) {
      process.once(signal, () => {
        for (const f of live) {
          try {
            unlinkSync(f);
          } catch {
            // already gone
          }
        }
        process.exit(code);
      });
    }
  }
  live.add(path);
  return () => void live.delete(path);
}
