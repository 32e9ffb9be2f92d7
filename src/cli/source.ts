/**
 * Input readers: JSON Lines or CSV from a file or stdin, cut into chunks of about 64 KiB. Reading
 * is pulled by the pipeline (async iteration), so a slow consumer pauses the file: memory stays
 * flat however large the input is.
 */
import { createReadStream, fstatSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { parse as csvParse, type CsvError, type Info } from 'csv-parse';
import { UsageError } from './args.js';
import { takeInvalid, type Chunk, type CsvRow, type InvalidLines, type Reject } from './chunks.js';
import { castCell } from './codec.js';

/** Bytes per JSON Lines chunk (a block of whole lines); CSV chunks are rows adding up to about this many characters. */
export const CHUNK_BYTES = 64 * 1024;
const CHUNK_CHARS = CHUNK_BYTES;
const CSV_ROWS_PER_CHUNK = 512;
/** A longer JSON line (bytes) or CSV record (characters) is rejected without being held in memory. */
export const MAX_LINE_BYTES = 8 * 1024 * 1024;
const MAX_LINE_CHARS = MAX_LINE_BYTES;

export interface Input {
  readonly stream: Readable;
  /** Size in bytes when known (a regular file, also as redirected stdin). */
  readonly size: number | undefined;
  /** Bytes read so far. */
  bytesRead: number;
}

export async function openInput(path: string | undefined): Promise<Input> {
  if (path === undefined) {
    let size: number | undefined;
    try {
      const s = fstatSync(0);
      if (s.isFile()) size = s.size;
    } catch {
      // not a file descriptor we can stat
    }
    return { stream: process.stdin, size, bytesRead: 0 };
  }
  let size: number;
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new Error('not a file');
    size = s.size;
  } catch {
    throw new UsageError(`cannot read ${path}`);
  }
  const stream = createReadStream(path, { highWaterMark: 64 * 1024 });
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', () => reject(new UsageError(`cannot read ${path}`)));
  });
  return { stream, size, bytesRead: 0 };
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

const tooLong = (line: number): Reject => ({ line, code: 'LINE_TOO_LONG', message: `LINE_TOO_LONG: longer than ${MAX_LINE_BYTES} bytes` });

/** Blocks of whole JSON lines, as bytes (cut at newline bytes: UTF-8 never has 0x0A inside a character). Line numbers count every line, blank ones included. */
export async function* jsonlChunks(input: Input, invalid?: InvalidLines): AsyncGenerator<Chunk> {
  let parts: Buffer[] = [];
  let size = 0;
  let line = 1;
  let seq = 0;
  // The first bytes, held while they may still be a UTF-8 BOM split over reads (a slow pipe).
  let head: Buffer | undefined = Buffer.alloc(0);
  let skipping = false;
  for await (const read of input.stream as AsyncIterable<Buffer>) {
    input.bytesRead += read.length;
    let buf = read;
    if (head !== undefined) {
      buf = head.length === 0 ? buf : Buffer.concat([head, buf]);
      if (buf.length < BOM.length && BOM.subarray(0, buf.length).equals(buf)) {
        head = buf;
        continue;
      }
      if (buf.length >= BOM.length && BOM.equals(buf.subarray(0, BOM.length))) buf = buf.subarray(BOM.length);
      head = undefined;
    }
    if (skipping) {
      // Inside an over-long line: drop bytes up to its end.
      const nl = buf.indexOf(10);
      if (nl < 0) continue;
      takeInvalid(invalid, line, line);
      yield { seq: seq++, kind: 'rejects', rejects: [tooLong(line)] };
      line++;
      skipping = false;
      buf = buf.subarray(nl + 1);
    }
    parts.push(buf);
    size += buf.length;
    if (size < CHUNK_BYTES) continue;
    const all = parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
    const cut = all.lastIndexOf(10);
    if (cut >= 0) {
      // A copy that owns its memory: it is transferred to a worker thread.
      const bytes = new Uint8Array(all.subarray(0, cut + 1));
      const firstLine = line;
      line += countNewlines(bytes); // before the yield: the consumer may transfer (detach) the bytes
      const bad = takeInvalid(invalid, firstLine, line - 1);
      if (bad.length > 0) yield { seq: seq++, kind: 'rejects', rejects: bad };
      yield { seq: seq++, kind: 'jsonl', firstLine, bytes };
    }
    const rest = all.subarray(cut + 1);
    parts = rest.length > 0 ? [rest] : [];
    size = rest.length;
    if (size > MAX_LINE_BYTES) {
      parts = [];
      size = 0;
      skipping = true;
    }
  }
  // Input shorter than a BOM that began like one: it is data (an invalid line).
  if (head !== undefined && head.length > 0) {
    parts.push(head);
    size += head.length;
  }
  if (skipping) takeInvalid(invalid, line, line);
  const bad = takeInvalid(invalid, 1, Infinity);
  if (bad.length > 0) yield { seq: seq++, kind: 'rejects', rejects: bad };
  if (skipping) yield { seq: seq++, kind: 'rejects', rejects: [tooLong(line)] };
  else if (size > 0) yield { seq: seq++, kind: 'jsonl', firstLine: line, bytes: new Uint8Array(Buffer.concat(parts, size)) };
}

function countNewlines(b: Uint8Array): number {
  let n = 0;
  for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) n++;
  return n;
}

/**
 * CSV: the first record is the header; then chunks of rows. A malformed record is skipped and
 * reported (`CSV_…` codes from csv-parse) and the run goes on; an unterminated quote swallows the
 * rest of the input, which is reported as one rejected span of lines.
 */
export class CsvSource {
  readonly #input: Input;
  readonly #records: AsyncIterator<{ record: (string | null)[]; info: Info }>;
  readonly #skipped: Reject[] = [];
  readonly #invalid: InvalidLines | undefined;
  /** Last line of the last record the consumer took, and of the last one the parser produced. */
  #lastEnd = 0;
  #parsedEnd = 0;
  header: string[] | undefined;

  constructor(input: Input, invalid?: InvalidLines) {
    this.#input = input;
    this.#invalid = invalid;
    const parser = csvParse({
      bom: true,
      info: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      relax_column_count: false,
      max_record_size: MAX_LINE_CHARS,
      cast: castCell,
      on_record: (record, ctx) => {
        this.#parsedEnd = ctx.lines;
        return record;
      },
      on_skip: (err) => {
        if (err) this.#skip(err);
        return undefined;
      },
    });
    input.stream.on('data', (b: Buffer) => {
      input.bytesRead += b.length;
    });
    input.stream.on('error', (e) => parser.destroy(e));
    input.stream.pipe(parser);
    this.#records = (parser as AsyncIterable<{ record: (string | null)[]; info: Info }>)[Symbol.asyncIterator]();
  }

  #skip(err: CsvError): void {
    const lines = err['lines'];
    const at = typeof lines === 'number' ? lines : this.#parsedEnd + 1;
    const code = err.code ?? 'CSV_ERROR';
    // An unterminated quote runs to the end of the input: everything after the last good record.
    const spans = code === 'CSV_QUOTE_NOT_CLOSED' && at > this.#parsedEnd + 1;
    const line = spans ? this.#parsedEnd + 1 : at;
    // csv-parse does not resume after an over-long record: say that the rest was not read.
    const message =
      code === 'CSV_MAX_RECORD_SIZE'
        ? `${code}: record longer than ${MAX_LINE_CHARS} characters; the rest of the input was not read`
        : spans
          ? `${code}: unterminated quoted field; the rest of the input was not read`
          : `${code}: malformed CSV record`;
    // A record with a line that is not valid in the input encoding is rejected for that.
    const bad = takeInvalid(this.#invalid, line, at)[0];
    this.#skipped.push(bad ?? { line, ...(spans ? { toLine: at } : {}), code, message });
    this.#parsedEnd = Math.max(this.#parsedEnd, at);
  }

  /** Reads the header row (undefined for empty input). */
  async readHeader(): Promise<string[] | undefined> {
    const r = await this.#next();
    if (r === undefined) return undefined;
    const bad = takeInvalid(this.#invalid, 1, r.info.lines)[0];
    if (bad) throw new UsageError(`CSV header, line ${bad.line}: ${bad.message}`);
    this.header = r.record.map((c) => c ?? '');
    return this.header;
  }

  async #next(): Promise<{ record: (string | null)[]; info: Info } | undefined> {
    try {
      const r = await this.#records.next();
      if (r.done) return undefined;
      this.#lastEnd = r.value.info.lines;
      return r.value;
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      throw new UsageError(`CSV input cannot be read past line ${this.#lastEnd}${typeof code === 'string' ? ` (${code})` : ''}`);
    }
  }

  async *chunks(): AsyncGenerator<Chunk> {
    let seq = 0;
    let rows: CsvRow[] = [];
    let chars = 0;
    // Skipped records before the header come first.
    const flushSkipped = (before: number) => {
      while (this.#skipped.length > 0 && this.#skipped[0]!.line < before) {
        const reject = this.#skipped.shift()!;
        rows.push({ line: reject.line, reject });
      }
    };
    for (;;) {
      const r = await this.#next();
      if (r === undefined) break;
      let newlines = 0;
      for (const c of r.record) {
        if (c === null) continue;
        chars += c.length;
        for (let i = c.indexOf('\n'); i !== -1; i = c.indexOf('\n', i + 1)) newlines++;
      }
      const line = r.info.lines - newlines;
      flushSkipped(line);
      const bad = takeInvalid(this.#invalid, line, r.info.lines)[0];
      rows.push(bad ? { line, reject: bad } : { line, cells: r.record });
      if (rows.length >= CSV_ROWS_PER_CHUNK || chars >= CHUNK_CHARS) {
        yield { seq: seq++, kind: 'csv', rows };
        rows = [];
        chars = 0;
      }
    }
    flushSkipped(Infinity);
    if (rows.length > 0) yield { seq: seq++, kind: 'csv', rows };
  }
}
