/**
 * The unit of bulk work: a chunk of input (a block of JSON Lines as UTF-8 bytes, or parsed CSV
 * rows) in, the encoded output bytes and the rejected lines out. The same code runs in the main
 * thread (`--jobs 1`) and in worker threads, so both paths behave identically. Bytes, not strings,
 * cross the thread boundary: they are transferred without a copy, and decoding and encoding happen
 * in the workers, in parallel, instead of in the main thread.
 */
import { stringify } from 'csv-stringify/sync';
import { ConfigError, WaybillSealError } from '../errors.js';
import { osCause } from '../node/file-writes.js';
import type { Schema } from '../schema/schema.js';
import type { Format } from './args.js';
import { CSV_WRITE, decodeCsvRow, encodeCsvCells, type CsvInputPlan, type CsvOutputPlan, type DecodeMode } from './codec.js';

/** A rejected input line: line number and reason code, never content. */
export interface Reject {
  readonly line: number;
  /** Last line, when the rejected record spans several (CSV). */
  readonly toLine?: number;
  readonly code: string;
  readonly reason?: string;
  readonly path?: string;
  /** Content-free description, as printed on stderr. */
  readonly message: string;
}

/** Input lines found invalid, by line number; filled as the input is read, ahead of the readers. */
export type InvalidLines = Map<number, Reject>;

/** Takes the invalid lines up to `to` out of `invalid`; returns those from `from` on (earlier ones belong to no record). */
export function takeInvalid(invalid: InvalidLines | undefined, from: number, to: number): Reject[] {
  const out: Reject[] = [];
  if (invalid === undefined || invalid.size === 0) return out;
  for (const [line, reject] of invalid) {
    if (line > to) break;
    if (line >= from) out.push(reject);
    invalid.delete(line);
  }
  return out;
}

export interface CsvRow {
  readonly line: number;
  /** null: an unquoted empty cell (absent field). */
  readonly cells?: readonly (string | null)[];
  readonly reject?: Reject;
}

export type Chunk =
  /** Whole lines (UTF-8, the BOM removed); `bytes` owns its buffer, so it can be transferred. */
  | { readonly seq: number; readonly kind: 'jsonl'; readonly firstLine: number; readonly bytes: Uint8Array }
  | { readonly seq: number; readonly kind: 'csv'; readonly rows: readonly CsvRow[] }
  /** Lines the reader itself refused (too long); no record to process. */
  | { readonly seq: number; readonly kind: 'rejects'; readonly rejects: readonly Reject[] };

export interface ChunkResult {
  readonly seq: number;
  /** Encoded output (UTF-8 JSON Lines or CSV rows), in input order; owns its buffer. */
  readonly bytes: Uint8Array;
  /** Records read (non-empty lines / CSV rows), rejected ones included. */
  readonly read: number;
  readonly written: number;
  readonly rejects: readonly Reject[];
}

/** Returned by a task to write the input record unchanged (its original line for JSON Lines). */
export const PASS = Symbol('pass');

/** Per-run statistics a task reports when it finishes (numbers add up across workers). */
export type TaskStats = Record<string, number | string>;

export interface Task {
  /** How CSV cells of protected fields are read; `schemaless` for commands that take any record (inspect). */
  readonly decode: DecodeMode | 'schemaless';
  /**
   * The output for one record: an object to encode, `PASS`, or undefined for nothing. Throws to reject
   * the line (a ConfigError stops the run).
   */
  handle(record: unknown, line: number): Promise<unknown>;
  /**
   * Called with the records of the input's first chunk (bounded: one chunk), whichever thread runs
   * it, before any of them is handled: a ConfigError stops the run before anything is written.
   */
  checkFirst?(records: readonly unknown[]): Promise<void>;
  /** CSV header and rows of one output, when they are not the record's columns (inspect, verify). */
  readonly csvHeader?: readonly string[];
  csvRows?(output: unknown): (string | undefined)[][];
  /** Closes keys and returns the statistics. */
  finish(): Promise<TaskStats>;
}

export interface ChunkContext {
  readonly task: Task;
  readonly schema: Schema | undefined;
  readonly outFormat: Format;
  readonly csvIn: CsvInputPlan | undefined;
  readonly csvOut: CsvOutputPlan | undefined;
}

/** A stable, content-free reason for a rejected line. */
export function reasonOf(e: unknown): string {
  // Our errors' messages are content-free by construction (paths, ids and reason codes only).
  if (e instanceof WaybillSealError) return `${e.code}: ${e.message}`;
  if (e instanceof SyntaxError) return 'INVALID_JSON';
  return osCause(e) ?? 'INTERNAL error';
}

export function rejectOf(line: number, e: unknown): Reject {
  const code = e instanceof WaybillSealError ? e.code : e instanceof SyntaxError ? 'INVALID_JSON' : 'INTERNAL';
  const { reason, path } = e as { reason?: unknown; path?: unknown };
  return {
    line,
    code,
    ...(e instanceof WaybillSealError && typeof reason === 'string' ? { reason } : {}),
    ...(e instanceof WaybillSealError && typeof path === 'string' ? { path } : {}),
    message: reasonOf(e),
  };
}

/** One input record of a chunk, or the reason its line was refused before a record existed. */
type Item = { readonly line: number; readonly record: unknown; readonly original?: string } | { readonly line: number; readonly reject: Reject };

/** The chunk's records in input order (lines that do not parse are rejects in their place). */
function itemsOf(ctx: ChunkContext, chunk: Chunk): Item[] {
  const items: Item[] = [];
  if (chunk.kind === 'jsonl') {
    const text = decoder.decode(chunk.bytes);
    let line = chunk.firstLine;
    let pos = 0;
    while (pos < text.length) {
      let nl = text.indexOf('\n', pos);
      if (nl < 0) nl = text.length;
      let s = text.slice(pos, nl);
      pos = nl + 1;
      const lineNo = line++;
      if (s.charCodeAt(s.length - 1) === 13) s = s.slice(0, -1);
      if (s.trim() === '') continue;
      try {
        items.push({ line: lineNo, record: JSON.parse(s), original: s });
      } catch (e) {
        items.push({ line: lineNo, reject: rejectOf(lineNo, e) });
      }
    }
  } else if (chunk.kind === 'csv') {
    const { task } = ctx;
    for (const row of chunk.rows) {
      if (row.reject) {
        items.push({ line: row.line, reject: row.reject });
        continue;
      }
      try {
        const record = decodeCsvRow(ctx.csvIn!, row.cells!, task.decode === 'schemaless' ? undefined : ctx.schema, task.decode === 'schemaless' ? 'auto' : task.decode);
        items.push({ line: row.line, record });
      } catch (e) {
        items.push({ line: row.line, reject: rejectOf(row.line, e) });
      }
    }
  } else {
    for (const reject of chunk.rejects) items.push({ line: reject.line, reject });
  }
  return items;
}

export async function processChunk(ctx: ChunkContext, chunk: Chunk): Promise<ChunkResult> {
  const { task } = ctx;
  const rejects: Reject[] = [];
  const jsonOut: string[] = [];
  const csvOut: (string | undefined)[][] = [];
  let written = 0;
  const items = itemsOf(ctx, chunk);
  if (chunk.seq === 0 && task.checkFirst) await task.checkFirst(items.flatMap((i) => ('record' in i ? [i.record] : [])));

  for (const item of items) {
    if ('reject' in item) {
      rejects.push(item.reject);
      continue;
    }
    const { record, line, original } = item;
    let out: unknown;
    try {
      out = await task.handle(record, line);
    } catch (e) {
      // A configuration error (audit log not writable, phone metadata missing …) is not this
      // line's fault and would fail every line: it stops the run (exit 1) instead.
      if (e instanceof ConfigError) throw e;
      rejects.push(rejectOf(line, e));
      continue;
    }
    if (out === undefined) continue;
    written++;
    if (out === PASS) out = record;
    if (ctx.outFormat === 'jsonl') jsonOut.push(original !== undefined && out === record ? original : JSON.stringify(out));
    else if (task.csvRows) csvOut.push(...task.csvRows(out));
    else csvOut.push(encodeCsvCells(ctx.csvOut!, out));
  }
  const text = ctx.outFormat === 'jsonl' ? (jsonOut.length > 0 ? `${jsonOut.join('\n')}\n` : '') : csvOut.length > 0 ? stringify(csvOut, CSV_WRITE) : '';
  return { seq: chunk.seq, bytes: encoder.encode(text), read: items.length, written, rejects };
}

const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
const encoder = new TextEncoder();

export function mergeStats(into: TaskStats, from: TaskStats): TaskStats {
  for (const [k, v] of Object.entries(from)) {
    const have = into[k];
    if (typeof v === 'number') into[k] = (typeof have === 'number' ? have : 0) + v;
    else if (have === undefined) into[k] = v;
  }
  return into;
}
