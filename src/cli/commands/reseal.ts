import { createReadStream } from 'node:fs';
import { isSuiteName, SUITES } from '../../crypto/aead.js';
import { loadKeyFile } from '../../node/key-file-io.js';
import { resealFile, type ResealProgress } from '../../node/reseal-file.js';
import { parse, required, UsageError } from '../args.js';
import { reasonOf } from '../io.js';
import { schemaByName } from '../schemas.js';
import { warnKeyFile } from './shared.js';

export const help = `waybill-seal reseal --keys keys.json --in sealed.jsonl --out resealed.jsonl [--scope S] [--key-class C] [--only-retired] [--suite NAME] [--checkpoint FILE] [--progress] [--schema waybill]

Data-key rotation (e.g. after a suspected compromise): retires the data keys (all, or those of
--scope / --key-class), then re-encrypts every field sealed under a retired key with a new data
key generation. Masks and search tokens are kept; fields under live keys are copied unchanged.
Writes a new file (never in place); each output record is verified to open before it counts.
Resumable: if the run stops, run the same command again and it continues from its checkpoint
(<out>.checkpoint.json by default). --only-retired retires nothing and re-seals only fields under
keys already retired. A progress bar is drawn on stderr when it is a terminal (or with --progress).
Sealing instances that still hold a retired key keep using it until restarted: restart them first.

Example:
  waybill-seal reseal --keys keys.json --scope 2025-03 --in sealed.jsonl --out resealed.jsonl`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    keys: { type: 'string' },
    scope: { type: 'string' },
    'key-class': { type: 'string' },
    'only-retired': { type: 'boolean' },
    suite: { type: 'string' },
    checkpoint: { type: 'string' },
    progress: { type: 'boolean' },
  });
  const schema = schemaByName(values['schema'] as string);
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

  const tty = values['progress'] === true || process.stderr.isTTY === true;
  const bar = tty ? new ProgressBar(await countLines(input)) : undefined;
  try {
    const summary = await resealFile({
      keyring: keys.keyring,
      keyStore: keys.keyStore,
      schema,
      input,
      output,
      ...(typeof values['checkpoint'] === 'string' ? { checkpoint: values['checkpoint'] } : {}),
      retire: values['only-retired'] === true ? false : filter,
      ...(suite !== undefined ? { suite } : {}),
      ...(bar ? { onProgress: (p: ResealProgress) => bar.update(p) } : {}),
      onReject: (lineNo, e) => {
        bar?.clear();
        process.stderr.write(`line ${lineNo}: rejected: ${reasonOf(e)}\n`);
      },
    });
    bar?.done(summary);
    process.stderr.write(
      `${summary.resumedAfter > 0 ? `resumed after line ${summary.resumedAfter}; ` : ''}wrote ${summary.written} records to ${output} ` +
        `(${summary.resealedRecords} re-sealed, ${summary.resealedFields} fields; ${summary.retired.length} data keys retired)` +
        `${summary.rejected > 0 ? `; ${summary.rejected} lines rejected` : ''}\n`,
    );
    return summary.rejected > 0 ? 2 : 0;
  } finally {
    keys.keyring.close();
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
