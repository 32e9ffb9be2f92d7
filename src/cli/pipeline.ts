/**
 * The bulk pipeline every record-streaming command runs:
 *
 *   reader (JSON Lines or CSV, pulled) → chunks with sequence numbers → task (main thread, or N
 *   worker threads) → results re-ordered by sequence number → writer (with back-pressure)
 *
 * At most `window` chunks are in flight (read but not yet written), so memory stays flat however
 * large the input is and whatever order workers finish in; output order equals input order.
 * Rejected lines go to stderr and `--rejects FILE` by line number and reason code, never content.
 */
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { open as openFile, realpath, stat, unlink } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { stringify } from 'csv-stringify/sync';
import { ConfigError, WaybillSealError } from '../errors.js';
import { fileError, osCause, placeFile, sweepTempFiles, tempPathFor } from '../node/file-writes.js';
import type { Schema } from '../schema/schema.js';
import { UsageError, type BulkOptions } from './args.js';
import { EXIT } from './exit.js';
import { removeOnInterrupt } from './interrupt.js';
import { mergeStats, processChunk, type Chunk, type ChunkContext, type ChunkResult, type Reject, type TaskStats } from './chunks.js';
import { CSV_WRITE, planCsvInput, planCsvOutput, type CsvInputPlan, type CsvOutputPlan } from './codec.js';
import { WorkerPool } from './pool.js';
import { Progress, progressMode } from './progress.js';
import type { LoadedSchema } from './schemas.js';
import { decodeInput } from './encoding.js';
import { CsvSource, jsonlChunks, openInput } from './source.js';
import { createTask, type TaskEnv, type TaskSpec } from './tasks.js';

export interface PipelineOptions {
  readonly command: string;
  readonly bulk: BulkOptions;
  readonly schema: LoadedSchema;
  readonly spec: TaskSpec;
  /** Main-thread resources: loaded keys, the audit log and quota store (`open`). */
  readonly env?: TaskEnv;
  /** Whether `--jobs` applies (default true). */
  readonly parallel?: boolean;
}

export interface PipelineSummary {
  readonly read: number;
  readonly written: number;
  readonly rejected: number;
  /** Of the rejected lines, those whose integrity tag or signature failed (code INTEGRITY). */
  readonly integrityFailed: number;
  readonly stats: TaskStats;
  /** Call once the command has decided its exit code: ends the progress display. */
  done(exitCode: number): void;
}

interface Processor {
  process(chunk: Chunk): Promise<ChunkResult>;
  close(): Promise<TaskStats>;
  abort(): Promise<void>;
}

export async function runPipeline(o: PipelineOptions): Promise<PipelineSummary> {
  const { bulk, spec } = o;
  const schema: Schema = o.schema.schema;
  const map = { ...o.schema.columns, ...bulk.map };
  const schemaless = spec.command === 'inspect';
  const jobs = o.parallel === false ? 1 : bulk.jobs;

  // Everything that can be refused is refused before the first record is read or written.
  const task = await createTask(spec, schema, o.env ?? {});
  let processor: Processor | undefined;
  let input: Awaited<ReturnType<typeof openInput>> | undefined;
  let output: Output | undefined;
  let rejectsOut: Output | undefined;
  const mode = progressMode(bulk);
  const progress = new Progress(mode, o.command, bulk.progressIntervalMs);
  try {
    await refuseInPlace(bulk.inPath, bulk.outPath);
    if (!bulk.force) {
      await refuseExisting(bulk.outPath, '--out');
      await refuseExisting(bulk.rejects, '--rejects');
    }
    input = await openInput(bulk.inPath);
    let csvIn: CsvInputPlan | undefined;
    let chunks: AsyncGenerator<Chunk>;
    const decoded = decodeInput(input, bulk.encoding, bulk.inFormat === 'csv' ? 'lossy' : 'empty');
    if (bulk.inFormat === 'csv') {
      const csv = new CsvSource(decoded.input, decoded.invalid);
      const header = await csv.readHeader();
      csvIn = planCsvInput(header ?? [], schemaless ? undefined : schema, map);
      chunks = csv.chunks();
    } else {
      chunks = jsonlChunks(decoded.input, decoded.invalid);
    }
    let csvOut: CsvOutputPlan | undefined;
    if (bulk.outFormat === 'csv') {
      csvOut = task.csvHeader
        ? { header: task.csvHeader, paths: [] }
        : // Sealed output keeps each record's integrity tag in a `$tag` column.
          planCsvOutput(schema, map, bulk.inFormat === 'csv' ? csvIn : undefined, {
            tag: spec.command === 'seal' || spec.command === 'find' || spec.command === 'convert',
            // Opened CSV says what happened too: the record's `$opened` member as a JSON cell.
            opened: spec.command === 'open',
            // Sealed CSV names its columns by field path: the mapping of the input does not follow it.
            ...(spec.command === 'seal' || spec.command === 'find'
              ? { canonical: new Map(Object.entries(o.schema.columns).filter(([, p]) => p !== '-').map(([c, p]) => [p, c])) }
              : {}),
          });
    }
    output = await Output.open(bulk.outPath, 'output', bulk.force);
    rejectsOut = bulk.rejects === undefined ? undefined : await Output.open(bulk.rejects, 'rejects file', bulk.force);

    const ctx: ChunkContext = { task, schema, outFormat: bulk.outFormat, csvIn, csvOut };
    if (jobs > 1) {
      const pool = await WorkerPool.start(jobs, { spec, schema: o.schema.source, outFormat: bulk.outFormat, csvIn, csvOut }, o.env ?? {});
      await task.finish(); // the main thread's own task only validated the options
      processor = { process: (c) => pool.process(c), close: () => pool.close(), abort: () => pool.terminate() };
    } else {
      let chain: Promise<unknown> = Promise.resolve();
      processor = {
        process(c) {
          // One chunk at a time, as a worker does: records are handled in input order.
          const p = chain.then(() => processChunk(ctx, c));
          chain = p.catch(() => undefined);
          return p;
        },
        close: () => task.finish(),
        abort: async () => void (await task.finish().catch(() => undefined)),
      };
    }

    if (bulk.bom) await output.write(UTF8_BOM);
    if (csvOut && (bulk.inFormat !== 'csv' || csvIn!.header.length > 0)) await output.write(stringify([csvOut.header as string[]], CSV_WRITE));
    const rejectsCsv = bulk.rejects !== undefined && /\.csv$/i.test(bulk.rejects);
    if (rejectsOut && rejectsCsv) await rejectsOut.write(stringify([['line', 'toLine', 'code', 'reason', 'path', 'message']]));

    let read = 0;
    let written = 0;
    let rejected = 0;
    let integrityFailed = 0;
    const report = (r: Reject) => {
      if (mode === 'json') progress.log(JSON.stringify({ type: 'rejected', ...r }));
      else if (!(bulk.quiet && rejectsOut)) progress.log(`${r.toLine ? `lines ${r.line}-${r.toLine}` : `line ${r.line}`}: rejected: ${r.message}`);
    };
    const writeResult = async (r: ChunkResult) => {
      if (r.bytes.length > 0) await output!.write(r.bytes);
      for (const reject of r.rejects) {
        report(reject);
        if (rejectsOut) {
          await rejectsOut.write(
            rejectsCsv
              ? stringify([[reject.line, reject.toLine, reject.code, reject.reason, reject.path, reject.message]])
              : `${JSON.stringify(reject)}\n`,
          );
        }
      }
      read += r.read;
      written += r.written;
      rejected += r.rejects.length;
      integrityFailed += r.rejects.filter((reject) => reject.code === 'INTEGRITY').length;
      progress.update({ records: read, written, rejected, bytesRead: input!.bytesRead, bytesTotal: input!.size });
    };

    const window = jobs > 1 ? jobs * 4 : 2;
    const inflight: Promise<ChunkResult>[] = [];
    for await (const chunk of chunks) {
      output.check();
      const p = processor.process(chunk);
      p.catch(() => undefined); // awaited in order below; never an unhandled rejection meanwhile
      inflight.push(p);
      // The first chunk's check (the wrong key file) settles before any other chunk is handled by a worker.
      if (chunk.seq === 0 && task.checkFirst) await p;
      while (inflight.length >= window) await writeResult(await inflight.shift()!);
    }
    while (inflight.length > 0) await writeResult(await inflight.shift()!);
    const stats = mergeStats({}, await processor.close());
    processor = { process: () => Promise.reject(new Error('closed')), close: async () => ({}), abort: async () => undefined };
    await output.commit();
    await rejectsOut?.commit();
    progress.update({ records: read, written, rejected, bytesRead: input.bytesRead, bytesTotal: input.size });
    return {
      read,
      written,
      rejected,
      integrityFailed,
      stats,
      done: (exitCode) => progress.done({ exitCode, maxRssBytes: maxRss() }),
    };
  } catch (e) {
    const error = e instanceof WaybillSealError ? e : new ConfigError(`${o.command} stopped: ${osCause(e) ?? 'internal error'}`);
    // Scripts reading --json-progress get a final line in every case.
    if (mode === 'json') progress.done({ exitCode: error instanceof OutputClosedError ? EXIT.OK : EXIT.USAGE, maxRssBytes: maxRss(), error: error.message });
    else progress.stop();
    await processor?.abort();
    if (processor === undefined) await task.finish().catch(() => undefined);
    if (input && input.stream !== process.stdin) input.stream.destroy();
    await output?.discard();
    await rejectsOut?.discard();
    throw error;
  }
}

/**
 * stdout was closed by its reader (`waybill-seal find … | head`): not an error. The run stops reading
 * and ends quietly with exit 0, as Unix filters do.
 */
export class OutputClosedError extends WaybillSealError {
  constructor() {
    super('OUTPUT_CLOSED', 'output closed by its reader');
  }
}

const UTF8_BOM = new Uint8Array([0xef, 0xbb, 0xbf]);

const maxRss = (): number => process.resourceUsage().maxRSS * 1024;

async function refuseInPlace(inPath: string | undefined, outPath: string | undefined): Promise<void> {
  if (inPath === undefined || outPath === undefined) return;
  const real = async (p: string) => realpath(p).catch(() => undefined);
  const a = await real(inPath);
  if (a !== undefined && a === (await real(outPath))) throw new UsageError('--out must not be the --in file (it would be overwritten while read)');
}

/** An existing file under an output name is refused before any input is read, unless `--force`. */
async function refuseExisting(path: string | undefined, flag: string): Promise<void> {
  if (path === undefined || (await isSpecialFile(path))) return;
  if (await stat(path).then(() => true, () => false)) throw new UsageError(`${flag} ${path} exists; refusing to overwrite it (--force replaces it)`);
}

/** An existing path that is not a regular file (character device, FIFO, socket). */
async function isSpecialFile(path: string): Promise<boolean> {
  const st = await stat(path).catch(() => undefined);
  return st !== undefined && !st.isFile() && !st.isDirectory();
}

/**
 * A file (mode 0600) or stdout, written with back-pressure; a write error (EPIPE, disk full) stops
 * the run with its cause. A file is written as `<path>.<pid>.<random>.tmp` and renamed into place
 * by `commit()` once every byte is on disk, so a file under the asked name is always complete; a
 * failed or killed run leaves no output (a killed run's temp file is swept by the next run).
 */
class Output {
  #error: unknown;

  readonly #forget: () => void;

  private constructor(
    readonly stream: Writable,
    readonly path: string | undefined,
    readonly tmp: string | undefined,
    /** Refuse, at commit, a file that appeared under `path` meanwhile (no `--force`). */
    readonly exclusive = false,
  ) {
    this.#forget = tmp === undefined ? () => undefined : removeOnInterrupt(tmp);
    stream.on('error', (e: NodeJS.ErrnoException) => {
      this.#error ??=
        path !== undefined ? fileError(e, 'writing', path) : e.code === 'EPIPE' ? new OutputClosedError() : new ConfigError(`output not writable (${e.code ?? 'error'})`);
    });
  }

  static async open(path: string | undefined, what: string, force: boolean): Promise<Output> {
    if (path === undefined) return new Output(process.stdout, undefined, undefined);
    // A device or pipe (`--out /dev/null`, a FIFO) is written in place: renaming a temp file onto it
    // would replace the device with a regular file.
    if (await isSpecialFile(path)) return new Output(createWriteStream(path, { flags: 'a' }), path, undefined);
    await sweepTempFiles(path);
    const tmp = tempPathFor(path);
    const stream: WriteStream = createWriteStream(tmp, { mode: 0o600, flags: 'wx' });
    try {
      await once(stream, 'open');
    } catch (e) {
      const cause = osCause(e);
      throw new UsageError(`cannot write ${what} ${path}${cause ? ` (${cause})` : ''}`);
    }
    return new Output(stream, path, tmp, !force);
  }

  check(): void {
    if (this.#error) throw this.#error;
  }

  async write(data: string | Uint8Array): Promise<void> {
    this.check();
    if (!this.stream.write(data)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.stream.off('drain', done);
          this.stream.off('close', done);
          this.stream.off('error', done);
          resolve();
        };
        this.stream.on('drain', done);
        this.stream.on('close', done);
        this.stream.on('error', done);
      });
      this.check();
    }
  }

  /** Flushes, fsyncs and renames the file into place; throws the write error, if any. */
  async commit(): Promise<void> {
    if (this.tmp === undefined) {
      if (this.path !== undefined) await finished((this.stream as WriteStream).end()).catch(() => undefined);
      return this.check();
    }
    this.check();
    const stream = this.stream as WriteStream;
    // `finished` settles for a stream that already failed too (waiting for 'finish' never would).
    await finished(stream.end()).catch(() => undefined);
    this.check();
    try {
      const fh = await openFile(this.tmp, 'r+');
      await fh.sync().finally(() => fh.close());
      await placeFile(this.tmp, this.path!, this.exclusive);
      this.#forget();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new UsageError(`${this.path} appeared while it was written; refusing to overwrite it (--force replaces it)`);
      throw fileError(e, 'writing', this.path!);
    }
  }

  /** Stops writing and removes the temp file (nothing under the asked name). */
  async discard(): Promise<void> {
    if (this.tmp === undefined) {
      if (this.path !== undefined) this.stream.destroy();
      return;
    }
    this.stream.destroy();
    await finished(this.stream).catch(() => undefined);
    await unlink(this.tmp).catch(() => undefined);
    this.#forget();
  }
}
