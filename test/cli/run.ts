/** Runs the built bin (npm test builds first), as users do. */
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const BIN = new URL('../../dist/cli/main.js', import.meta.url).pathname;
const run = promisify(execFile);

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function cli(args: string[], input?: string, env?: Record<string, string>): Promise<CliResult> {
  const child = run('node', [BIN, ...args], { maxBuffer: 256 * 1024 * 1024, ...(env ? { env: { ...process.env, ...env } } : {}) });
  // A command that exits early (usage error) closes stdin: not an error of the test.
  child.child.stdin!.on('error', () => undefined);
  child.child.stdin!.end(input ?? '');
  try {
    const { stdout, stderr } = await child;
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

export const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
export const lines = (s: string) => s.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
/** JSON Lines from `open` without the `$opened` member each record carries. */
export const openedLines = (s: string) => lines(s).map(({ $opened: _, ...r }) => r);
/** CSV from `open` without its last column `$opened` (header and cells; every quote in a cell is doubled). */
export const withoutOpenedColumn = (s: string) => s.replace(/^([^\n]*),\$opened(?=\r?\n)/, '$1').replace(/,"\{""fields"":(?:[^"]|"")*"(?=\r?\n|$)/g, '');

/** A fresh temp directory with a key file made by `waybill-seal keygen` (extra flags appended). */
export async function keyDir(prefix: string, keygen: string[] = []): Promise<{ dir: string; keys: string }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const keys = join(dir, 'keys.json');
  const r = await cli(['keygen', '--out', keys, ...keygen]);
  if (r.code !== 0) throw new Error(`keygen failed (${r.code}): ${r.stderr}`);
  return { dir, keys };
}
