import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { isSuiteName, SUITES } from '../../crypto/aead.js';
import { integrityOf, loadKeyFile } from '../../node/key-file-io.js';
import { resealFile, type ResealProgress } from '../../node/reseal-file.js';
import { parse, required, UsageError } from '../args.js';
import { rejectOf } from '../chunks.js';
import { EXIT, exitLine } from '../exit.js';
import { Progress } from '../progress.js';
import { loadSchema } from '../schemas.js';
import { warnKeyFile } from './shared.js';

const EXITS = [EXIT.OK, EXIT.USAGE, EXIT.REJECTED] as const;

export const help = `waybill-seal reseal --keys keys.json --in sealed.jsonl --out resealed.jsonl [--scope S] [--key-class C] [--only-retired] [--suite NAME] [--checkpoint FILE] [--schema NAME|FILE.json] [--rejects FILE] [--progress | --json-progress | --quiet]

Data-key rotation (e.g. after a suspected compromise): retires the data keys (all, or those of
--scope / --key-class), then re-encrypts every field sealed under a retired key with a new data
key generation. Masks and search tokens are kept; fields under live keys are copied unchanged.
Writes a new file (never in place); each output record is verified to open before it counts.
Resumable: if the run stops, run the same command again and it continues from its checkpoint
(<out>.checkpoint.json by default). --only-retired retires nothing and re-seals only fields under
keys already retired. A progress bar is drawn on stderr when it is a terminal (or with --progress;
--json-progress writes JSON lines instead, --quiet nothing). Rejected lines are reported by line
number and reason on stderr and in --rejects FILE (JSON Lines), never by content.
Sealing instances that still hold a retired key keep using it until restarted: restart them first.
Reseal reads and writes JSON Lines only (its checkpoints are line and byte offsets); convert CSV
with "waybill-seal convert" first. It runs on one thread (--jobs does not apply).

Example:
  waybill-seal reseal --keys keys.json --scope 2025-03 --in sealed.jsonl --out resealed.jsonl

${exitLine(EXITS)}`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    keys: { type: 'string' },
    scope: { type: 'string' },
    'key-class': { type: 'string' },
    'only-retired': { type: 'boolean' },
    suite: { type: 'string' },
    checkpoint: { type: 'string' },
    progress: { type: 'boolean' },
    'json-progress': { type: 'boolean' },
    rejects: { type: 'string' },
    format: { type: 'string' },
  });
  if (values['format'] !== undefined && values['format'] !== 'jsonl') throw new UsageError('reseal reads and writes JSON Lines only: convert CSV with "waybill-seal convert" first');
  const { schema } = await loadSchema(values['schema'] as string);
  const quiet = values['quiet'] === true;
  const json = values['json-progress'] === true;
  const input = required(values, 'in');
  const output = required(values, 'out');
  const suite = values['suite'];
  if (suite !== undefined && !isSuiteName(suite)) throw new UsageError(`unknown suite "${String(suite)}" (known: ${SUITES.join(', ')})`);
  const filter = {
    ...(typeof values['scope'] === 'string' ? { scope: values['scope'] } : {}),
    ...(typeof values['key-class'] === 'string' ? { keyClass: values['key-class'] } : {}),
  };
  if (values['only-retired'] === true && Object.keys(filter).length > 0) throw new UsageError('--only-retired takes no --scope or --key-class');
  const keys = await loadKeyFile(required(values, 'keys'));
  warnKeyFile(keys);

  const tty = !json && !quiet && (values['progress'] === true || process.stderr.isTTY === true);
  const bar = tty ? new ProgressBar(await countLines(input)) : undefined;
  const jsonProgress = json ? new Progress('json', 'reseal') : undefined;
  const rejects = typeof values['rejects'] === 'string' ? createWriteStream(values['rejects'], { mode: 0o600 }) : undefined;
  const progressOf = (p: ResealProgress) => ({ records: p.lines, written: p.written, rejected: p.rejected, bytesRead: 0, bytesTotal: undefined });
  try {
    const summary = await resealFile({
      keyring: keys.keyring,
      keyStore: keys.keyStore,
      integrity: integrityOf(keys.file),
      schema,
      input,
      output,
      ...(typeof values['checkpoint'] === 'string' ? { checkpoint: values['checkpoint'] } : {}),
      retire: values['only-retired'] === true ? false : filter,
      ...(suite !== undefined ? { suite } : {}),
      ...(bar || jsonProgress
        ? {
            onProgress: (p: ResealProgress) => {
              bar?.update(p);
              jsonProgress?.update(progressOf(p));
            },
          }
        : {}),
      onReject: (lineNo, e) => {
        const reject = rejectOf(lineNo, e);
        rejects?.write(`${JSON.stringify(reject)}\n`);
        if (jsonProgress) jsonProgress.log(JSON.stringify({ type: 'rejected', ...reject }));
        else if (!(quiet && rejects)) {
          bar?.clear();
          process.stderr.write(`line ${lineNo}: rejected: ${reject.message}\n`);
        }
      },
    });
    bar?.done(summary);
    const code = summary.rejected > 0 ? EXIT.REJECTED : EXIT.OK;
    if (jsonProgress) {
      jsonProgress.update(progressOf(summary));
      jsonProgress.done({ exitCode: code, resealedRecords: summary.resealedRecords, resealedFields: summary.resealedFields, resumedAfter: summary.resumedAfter });
      return code;
    }
    if (quiet) return code;
    process.stderr.write(
      `${summary.resumedAfter > 0 ? `resumed after line ${summary.resumedAfter}; ` : ''}wrote ${summary.written} records to ${output} ` +
        `(${summary.resealedRecords} re-sealed, ${summary.resealedFields} fields; ${summary.retired.length} data keys retired)` +
        `${summary.rejected > 0 ? `; ${summary.rejected} lines rejected` : ''}\n`,
    );
    return code;
  } finally {
    keys.keyring.close();
    if (rejects) {
      rejects.end();
      await once(rejects, 'finish').catch(() => undefined);
    }
  }
}

async function countLines(path: string): Promise<number | undefined> {
  try {
    let n = 0;
    let last = 10;
    for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) n++;
      if (chunk.length > 0) last = chunk[chunk.length - 1]!;
    }
    return last === 10 ? n : n + 1;
  } catch {
    return undefined;
  }
}

/** A one-line progress bar on stderr, redrawn at most 10 times a second. */
class ProgressBar {
  #last = 0;
  readonly #start = Date.now();
  #drawn = false;
  constructor(readonly total: number | undefined) {}

  update(p: ResealProgress, force = false): void {
    const now = Date.now();
    if (!force && now - this.#last < 100) return;
    this.#last = now;
    const rate = Math.round(p.lines / Math.max(0.001, (now - this.#start) / 1000));
    let line: string;
    if (this.total) {
      const f = Math.min(1, p.lines / this.total);
      const width = 30;
      const full = Math.round(f * width);
      line = `[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${(f * 100).toFixed(1)}% ${p.lines}/${this.total} lines`;
    } else {
      line = `${p.lines} lines`;
    }
    line += `, ${p.resealedRecords} re-sealed, ${p.rejected} rejected, ${rate}/s`;
    process.stderr.write(`\r\x1b[2K${line}`);
    this.#drawn = true;
  }

  clear(): void {
    if (this.#drawn) process.stderr.write('\r\x1b[2K');
  }

  done(p: ResealProgress): void {
    this.update(p, true);
    process.stderr.write('\n');
  }
}
