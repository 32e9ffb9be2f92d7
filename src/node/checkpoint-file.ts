/**
 * Audit checkpoints in a file (JSON Lines, one signed checkpoint per line): a second place for
 * the head of a chain kept elsewhere (e.g. `PgAuditSink`'s table). Each write is one `O_APPEND`
 * write of one line, then fsync: several instances may append to one file on a local disk.
 */
import { open as openFile, readFile } from 'node:fs/promises';
import { checkpointLine, type AuditCheckpoint, type CheckpointSink } from '../access/checkpoint.js';
import { ConfigError } from '../errors.js';

export class FileCheckpointSink implements CheckpointSink {
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  async write(checkpoint: AuditCheckpoint): Promise<void> {
    const fh = await openFile(this.path, 'a', 0o600).catch(() => {
      throw new ConfigError(`cannot open checkpoint file ${this.path}`);
    });
    try {
      await fh.write(`${checkpointLine(checkpoint)}\n`);
      await fh.sync();
    } catch {
      throw new ConfigError(`checkpoint write to ${this.path} failed`);
    } finally {
      await fh.close();
    }
  }
}

/**
 * The checkpoints of a file, parsed (check them with `newestCheckpoint`). A line that is not JSON
 * is kept as a string, so it fails that check instead of vanishing.
 */
export async function readCheckpointFile(path: string): Promise<unknown[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new ConfigError(`cannot read checkpoint file ${path}`);
  }
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      try {
        return JSON.parse(l) as unknown;
      } catch {
        return l;
      }
    });
}
