/**
 * JSON Lines plumbing for bulk commands: read records line by line, write results with
 * back-pressure, and report rejected lines by number and reason code, never by content.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { WaybillSealError } from '../errors.js';

export interface Streams {
  input: Readable;
  output: Writable;
  /** Resolves when the output is flushed and closed (files) or drained (stdout). */
  finish(): Promise<void>;
}

export function openStreams(inPath: string | undefined, outPath: string | undefined): Streams {
  const input = inPath ? createReadStream(inPath) : process.stdin;
  const output = outPath ? createWriteStream(outPath, { mode: 0o600 }) : process.stdout;
  return {
    input,
    output,
    async finish() {
      if (output === process.stdout) return;
      output.end();
      await once(output, 'finish');
    },
  };
}

export interface RunSummary {
  readonly read: number;
  readonly written: number;
  readonly rejected: number;
}

/** A stable, content-free reason for a rejected line. */
export function reasonOf(e: unknown): string {
  // Our errors' messages are content-free by construction (paths, ids and reason codes only).
  if (e instanceof WaybillSealError) return `${e.code}: ${e.message}`;
  if (e instanceof SyntaxError) return 'INVALID_JSON';
  return 'INTERNAL error';
}

/**
 * Runs `fn` on each non-empty line's parsed JSON. Output lines are written in input order; a line
 * that fails is reported on stderr and counted, and the run goes on.
 */
export async function runJsonl(
  streams: Streams,
  fn: (record: unknown, lineNo: number) => Promise<string | undefined>,
  report: (msg: string) => void = (m) => process.stderr.write(`${m}\n`),
): Promise<RunSummary> {
  const lines = createInterface({ input: streams.input, crlfDelay: Infinity });
  let lineNo = 0;
  let read = 0;
  let written = 0;
  let rejected = 0;
  for await (const line of lines) {
    lineNo++;
    if (line.trim() === '') continue;
    read++;
    let out: string | undefined;
    try {
      out = await fn(JSON.parse(line), lineNo);
    } catch (e) {
      rejected++;
      report(`line ${lineNo}: rejected: ${reasonOf(e)}`);
      continue;
    }
    if (out === undefined) continue;
    written++;
    if (!streams.output.write(`${out}\n`)) await once(streams.output, 'drain');
  }
  await streams.finish();
  return { read, written, rejected };
}
