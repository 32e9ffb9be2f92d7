import { hostname } from 'node:os';
import { integrityOf, loadKeyFile } from '../../node/key-file-io.js';
import { createResealer } from '../../seal/reseal.js';
import { presetFor } from '../../presets/index.js';
import { createSealer } from '../../seal/sealer.js';
import { PgKeyStore } from '../../stores/pg.js';
import { migrationStatus, planMigration, resealRows, runMigrationWorker, sealRows, type MigrationStatus } from '../../stores/pg-migrate.js';
import { parse, required, UsageError } from '../args.js';
import { connectDatabase } from '../database.js';
import { loadSchema } from '../schemas.js';
import { warnKeyFile } from './shared.js';
import { EXIT, exitLine } from '../exit.js';

const EXITS = [EXIT.OK, EXIT.USAGE] as const;

export const help = `waybill-seal migrate plan   --database URL --job NAME --table T --column C [--key-column id] [--chunk-size 5000] [--chunk-timeout 900]
waybill-seal migrate work   --database URL --job NAME --table T --column C [--key-column id] --keys keys.json --op seal|reseal [--schema NAME|FILE.json] [--key-table T] [--batch 500] [--concurrency 1] [--json-progress | --quiet]
waybill-seal migrate status --database URL --job NAME [--json]

Seals (or re-seals) a table's records in place, at archive scale, on any number of machines. The
job queue is pg-boss in the same PostgreSQL (npm install pg pg-boss@10).

plan    splits the table's primary-key range into chunks of --chunk-size rows and enqueues one job
        per chunk (the chunk table waybill_seal_migration_chunks records each chunk's progress).
work    claims chunks until every chunk of the job is finished; start as many as you like, anywhere.
        --table, --column and --key-column must be those of the plan: the worker refuses a job
        whose row in the database names anything else (a DB writer cannot redirect it).
        Each batch of rows is one transaction: rows locked, transformed, written, counted. Rows
        already in the target state are skipped (sealed records for seal; records with no field
        under a retired data key for reseal), so a worker that dies loses only its open batch: its
        chunk is retried by another worker after --chunk-timeout seconds, and no row is done twice.
        Data keys are shared through the key store table (--key-table, default
        waybill_seal_data_keys); for reseal, retire the old data keys first (keys retire / retireDataKeys).
        When every chunk is finished, one worker sweeps the whole table once more (rows written
        into a chunk's range after it was done); the job is finished after the sweep.
status  progress per chunk, rows/s and ETA (--json: the whole status as one JSON object).

Progress while working: a line on stderr every 2 s (--json-progress: JSON lines; --quiet: none).

Examples:
  waybill-seal migrate plan --database $DB --job seal-2024 --table waybills --column sealed --chunk-size 10000
  waybill-seal migrate work --database $DB --job seal-2024 --table waybills --column sealed --keys keys.json --op seal --schema waybill
  waybill-seal migrate status --database $DB --job seal-2024

${exitLine(EXITS)}
1 also: database unreachable.`;

const positiveInt = (values: Record<string, unknown>, name: string): number | undefined => {
  const v = values[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer`);
  return n;
};

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    database: { type: 'string' },
    job: { type: 'string' },
    table: { type: 'string' },
    column: { type: 'string' },
    'key-column': { type: 'string' },
    'chunk-size': { type: 'string' },
    'chunk-timeout': { type: 'string' },
    keys: { type: 'string' },
    op: { type: 'string' },
    'key-table': { type: 'string' },
    batch: { type: 'string' },
    concurrency: { type: 'string' },
    'json-progress': { type: 'boolean' },
    json: { type: 'boolean' },
  });
  const [sub, ...extra] = positionals;
  if (!['plan', 'work', 'status'].includes(sub ?? '') || extra.length > 0) throw new UsageError('usage: waybill-seal migrate plan|work|status --database URL --job NAME …');
  const job = required(values, 'job');
  const url = required(values, 'database');
  if (sub === 'plan') {
    const table = required(values, 'table');
    const column = required(values, 'column');
    const chunkSize = positiveInt(values, 'chunk-size');
    const timeout = positiveInt(values, 'chunk-timeout');
    const db = await connectDatabase(url);
    try {
      const s = await planMigration(db, {
        job,
        table,
        column,
        ...(typeof values['key-column'] === 'string' ? { keyColumn: values['key-column'] } : {}),
        ...(chunkSize ? { chunkSize } : {}),
        ...(timeout ? { chunkTimeoutSeconds: timeout } : {}),
      });
      process.stdout.write(`planned ${job}: ${s.rows} rows of ${s.table} in ${s.chunks} chunks\n`);
    } finally {
      await db.end();
    }
    return 0;
  }
  if (sub === 'status') {
    const db = await connectDatabase(url, 1);
    try {
      const s = await migrationStatus(db, job);
      process.stdout.write(values['json'] === true ? `${JSON.stringify(s)}\n` : statusText(s, true));
    } finally {
      await db.end();
    }
    return 0;
  }
  const table = required(values, 'table');
  const column = required(values, 'column');
  const op = required(values, 'op');
  if (op !== 'seal' && op !== 'reseal') throw new UsageError('--op must be seal or reseal');
  const batchSize = positiveInt(values, 'batch');
  const concurrency = positiveInt(values, 'concurrency') ?? 1;
  const { schema } = await loadSchema(values['schema'] as string);
  const keys = await loadKeyFile(required(values, 'keys'));
  warnKeyFile(keys);
  const db = await connectDatabase(url, concurrency + 3);
  const keyStore = await PgKeyStore.create(db, typeof values['key-table'] === 'string' ? { table: values['key-table'] } : {});
  // The record tags of the key file (HMAC or its signature algorithm), as seal, open and reseal use.
  const integrity = integrityOf(keys.file);
  const worker = op === 'seal' ? createSealer({ ...presetFor(keys.file.suite), keyring: keys.keyring, keyStore, passSealed: true, integrity }) : createResealer({ keyring: keys.keyring, keyStore, integrity });
  const transform = op === 'seal' ? sealRows(worker as ReturnType<typeof createSealer>, schema) : resealRows(worker as ReturnType<typeof createResealer>, schema);
  const quiet = values['quiet'] === true;
  const json = values['json-progress'] === true;
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const report = async () => {
    const s = await migrationStatus(db, job).catch(() => undefined);
    if (!s) return;
    if (json) process.stderr.write(`${JSON.stringify({ ...s, perChunk: undefined })}\n`);
    else process.stderr.write(statusText(s, false));
  };
  const timer = quiet ? undefined : setInterval(() => void report(), 2000);
  try {
    const chunks = await runMigrationWorker(db, {
      job,
      table,
      column,
      ...(typeof values['key-column'] === 'string' ? { keyColumn: values['key-column'] } : {}),
      transform,
      worker: `${process.pid}@${hostname()}`,
      concurrency,
      signal: stop.signal,
      ...(batchSize ? { batchSize } : {}),
    });
    if (!quiet) await report();
    process.stdout.write(`${json ? JSON.stringify({ job, chunksByThisWorker: chunks }) : `${job}: this worker finished ${chunks} chunk(s)`}\n`);
    return stop.signal.aborted ? 130 : 0;
  } finally {
    if (timer) clearInterval(timer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    worker.close();
    await db.end();
  }
}

const sweepText = ({ sweep }: MigrationStatus): string =>
  sweep ? `, final sweep ${sweep.finishedAt ? 'done' : sweep.startedAt ? 'running' : 'waiting'} (${sweep.done} row(s) migrated by it)` : '';

function statusText(s: MigrationStatus, perChunk: boolean): string {
  const pct = s.rows === 0 ? 100 : (100 * (s.done + s.skipped)) / s.rows;
  const eta = s.etaSeconds === null ? '?' : `${s.etaSeconds}s`;
  const head = `${s.job}: chunks ${s.chunksFinished}/${s.chunks}, rows ${s.done + s.skipped}/${s.rows} (${pct.toFixed(1)}%; ${s.done} done, ${s.skipped} skipped), ${s.rowsPerSecond} rows/s, ETA ${eta}${sweepText(s)}${s.finished ? ', finished' : ''}\n`;
  if (!perChunk) return head;
  const lines = s.perChunk.map(
    (c) => `  chunk ${c.chunk}: ${c.done + c.skipped}/${c.rows} (${c.done} done, ${c.skipped} skipped), attempts ${c.attempts}${c.finishedAt ? ', finished' : c.startedAt ? `, running on ${c.worker}` : ', queued'}`,
  );
  return `${head}${lines.join('\n')}\n`;
}
