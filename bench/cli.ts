/**
 * Bulk CLI benchmarks (issue 7).
 *
 * - `cliSection` (in `run.ts`; `npm run bench -- --section cli`): the CLI's own per-record cost in one
 *   thread. A chunk of 64 waybills goes through the bulk pipeline's chunk processor (JSON Lines or
 *   CSV decode, seal, encode), against `sealer.seal` of the same records: the ratio is the price of
 *   the pipeline around the library.
 * - `npm run bench:cli` (this file run directly; build first): the built bin on files streamed from
 *   the seeded generator. Peak RSS of `seal` at 100,000 and 1,000,000 records (taken from the CLI's
 *   own `--json-progress` done line: `process.resourceUsage().maxRSS`, all threads), records/s, and
 *   `--jobs 2` against `--jobs 1` on the same file in interleaved rounds (wall time, medians).
 *
 *   npm run bench:cli -- [--records 100000,1000000] [--rss-jobs 1,2] [--ratio-records 100000] [--rounds 3] [--json FILE] [--keep DIR] [--bin PATH]
 *
 *   --keep DIR keeps (and reuses) the generated files; --bin runs another build of the CLI (a copy of
 *   dist/ inside the repository, so a rebuild during a long run cannot pull the files away).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { syntheticWaybills } from 'waybill-seal/testing';
import { processChunk, type Chunk, type ChunkContext } from '../src/cli/chunks.js';
import { encodeCsvCells, planCsvInput, planCsvOutput } from '../src/cli/codec.js';
import { installPhoneMetadata } from '../src/cli/phone.js';
import { createTask } from '../src/cli/tasks.js';
import { createKeyFile, loadKeyFile } from '../src/node.js';
import { createSealer, waybill } from '../src/index.js';
import type { BenchCase, Section } from './harness.js';

let BIN = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const CHUNK_RECORDS = 64;

// ---------------------------------------------------------------------------------------------
// In-process section (the harness): pipeline overhead per chunk of 64 records.

async function sectionCases(): Promise<BenchCase[]> {
  installPhoneMetadata();
  const dir = await mkdtemp(join(tmpdir(), 'ws-bench-cli-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const keysPath = join(dir, 'keys.json');
  await createKeyFile(keysPath);
  const keys = await loadKeyFile(keysPath);
  const records = syntheticWaybills({ count: CHUNK_RECORDS, seed: 7007 });
  const sealer = createSealer({ keyring: keys.keyring, keyStore: keys.keyStore });
  await sealer.sealMany(waybill, records); // data keys created before timing, as in a running service
  const task = await createTask({ command: 'seal', keys: keysPath, suite: 'xchacha20-poly1305', lenient: false }, waybill, { keys });
  cleanups.push(async () => {
    sealer.close();
    await task.finish();
  });

  const text = records.map((r) => `${JSON.stringify(r)}\n`).join('');
  const jsonl: ChunkContext = { task, schema: waybill, outFormat: 'jsonl', csvIn: undefined, csvOut: undefined };
  const csvOutPlan = planCsvOutput(waybill, {}, undefined, { tag: true });
  const csvInPlan = planCsvInput(csvOutPlan.header.slice(0, -1), waybill, {});
  const csv: ChunkContext = { task, schema: waybill, outFormat: 'csv', csvIn: csvInPlan, csvOut: csvOutPlan };
  // The rows csv-parse would hand over: the plain records' cells along the header (null: empty).
  const plainPlan = { header: [], paths: csvOutPlan.paths.slice(0, -1) };
  const rows = records.map((r, i) => ({ line: i + 2, cells: encodeCsvCells(plainPlan, r).map((c) => c ?? null) }));
  const jsonlChunk: Chunk = { seq: 0, kind: 'jsonl', firstLine: 1, bytes: new TextEncoder().encode(text) };
  const csvChunk: Chunk = { seq: 0, kind: 'csv', rows };
  const group = `seal ${CHUNK_RECORDS} waybills (one thread)`;
  return [
    { name: 'library sealer.seal', group, run: async () => { for (const r of records) await sealer.seal(waybill, r); } },
    { name: 'CLI chunk JSON Lines → JSON Lines', group, run: () => processChunk(jsonl, jsonlChunk) },
    { name: 'CLI chunk CSV → CSV', group, run: () => processChunk(csv, csvChunk) },
  ];
}

const cleanups: (() => Promise<unknown> | unknown)[] = [];

export const cliSection: Section = {
  name: 'cli',
  description: 'bulk CLI pipeline (decode, seal, encode) vs the library, per chunk of 64 waybills; process-level figures: npm run bench:cli',
  rounds: 7,
  baseline: (c) => c.name === 'library sealer.seal',
  setup: sectionCases,
  async teardown() {
    for (const c of cleanups.splice(0)) await c();
  },
};

// ---------------------------------------------------------------------------------------------
// Process level (the built bin): RSS at 100k and 1M streamed records, --jobs scaling.

/** Streams `n` seeded synthetic waybills (unique numbers) into a JSON Lines file, 10,000 at a time. */
export async function writeWaybills(path: string, n: number): Promise<void> {
  const out = createWriteStream(path);
  const batch = 10_000;
  for (let b = 0; b * batch < n; b++) {
    const records = syntheticWaybills({ count: Math.min(batch, n - b * batch), seed: 20250301 + b });
    let text = '';
    records.forEach((r, i) => {
      r.waybillNo = `WB${String(b * batch + i).padStart(10, '0')}`;
      text += `${JSON.stringify(r)}\n`;
    });
    if (!out.write(text)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

interface RunFigures {
  readonly records: number;
  readonly jobs: number;
  readonly wallSeconds: number;
  readonly recordsPerSecond: number;
  readonly maxRssMiB: number;
  readonly exitCode: number;
}

/** `waybill-seal seal --jobs J --in FILE --out /dev/null --json-progress`; figures from its done line. */
async function sealRun(keys: string, file: string, jobs: number): Promise<RunFigures> {
  const started = performance.now();
  const child = spawn('node', [BIN, 'seal', '--keys', keys, '--in', file, '--out', '/dev/null', '--jobs', String(jobs), '--json-progress', '--progress-interval', '60000'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    if (stderr.length > 1_000_000) stderr = stderr.slice(-100_000);
  });
  const [code] = (await once(child, 'exit')) as [number];
  const wall = (performance.now() - started) / 1000;
  const done = stderr
    .trim()
    .split('\n')
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, number | string>;
      } catch {
        return undefined;
      }
    })
    .filter((e) => e?.['type'] === 'done')
    .at(-1);
  if (!done || code !== 0) throw new Error(`seal --jobs ${jobs} exited ${code}: ${stderr.slice(-500)}`);
  return {
    records: done['records'] as number,
    jobs,
    wallSeconds: Math.round(wall * 100) / 100,
    recordsPerSecond: Math.round((done['records'] as number) / wall),
    maxRssMiB: Math.round(((done['maxRssBytes'] as number) / 1048576) * 10) / 10,
    exitCode: code,
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      records: { type: 'string', default: '100000,1000000' },
      'rss-jobs': { type: 'string', default: '1,2' },
      // Large enough for the steady state: each worker pays its own start-up and JIT warm-up.
      'ratio-records': { type: 'string', default: '100000' },
      rounds: { type: 'string', default: '3' },
      json: { type: 'string' },
      keep: { type: 'string' },
      bin: { type: 'string' },
    },
    strict: true,
  });
  if (values.bin) BIN = values.bin;
  if (!existsSync(BIN)) throw new Error('build first: npm run build (the benchmark runs dist/cli/main.js)');
  const sizes = values.records.split(',').map(Number);
  const rssJobs = values['rss-jobs'].split(',').map(Number);
  const ratioRecords = Number(values['ratio-records']);
  const rounds = Number(values.rounds);
  const dir = values.keep ?? (await mkdtemp(join(tmpdir(), 'ws-bench-cli-')));
  const env = { node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cpus: availableParallelism(), date: new Date().toISOString() };
  process.stdout.write(`${Object.entries(env).map(([k, v]) => `${k}: ${v}`).join('\n')}\n`);
  const keys = join(dir, 'keys.json');
  if (!existsSync(keys)) await createKeyFile(keys);
  const fileOf = async (n: number) => {
    const path = join(dir, `waybills-${n}.jsonl`);
    if (!existsSync(path)) {
      process.stdout.write(`generating ${n} records … `);
      await writeWaybills(path, n);
      process.stdout.write(`${((await stat(path)).size / 1048576).toFixed(0)} MiB\n`);
    }
    return path;
  };

  // --jobs scaling: interleaved rounds on one file (the data keys exist after a warm-up run); --rounds 0 skips it.
  const ratioFile = rounds > 0 ? await fileOf(ratioRecords) : '';
  if (rounds > 0) await sealRun(keys, ratioFile, 1);
  const times: Record<1 | 2, number[]> = { 1: [], 2: [] };
  for (let r = 0; r < rounds; r++) {
    for (const jobs of r % 2 ? ([2, 1] as const) : ([1, 2] as const)) {
      const f = await sealRun(keys, ratioFile, jobs);
      times[jobs].push(f.wallSeconds);
      process.stdout.write(`  ratio round ${r + 1}: --jobs ${jobs} ${f.wallSeconds} s (${f.recordsPerSecond}/s)\n`);
    }
  }
  const ratio = rounds > 0 ? median(times[1]) / median(times[2]) : NaN;
  const scaling = rounds === 0 ? undefined : {
    records: ratioRecords,
    rounds,
    jobs1Seconds: median(times[1]),
    jobs2Seconds: median(times[2]),
    jobs1RecordsPerSecond: Math.round(ratioRecords / median(times[1])),
    jobs2RecordsPerSecond: Math.round(ratioRecords / median(times[2])),
    ratio: Math.round(ratio * 100) / 100,
  };
  if (scaling) process.stdout.write(`\n--jobs 2 vs --jobs 1 (${ratioRecords} records, median of ${rounds}): ${scaling.ratio}× (${scaling.jobs1RecordsPerSecond}/s → ${scaling.jobs2RecordsPerSecond}/s)\n\n`);

  // Peak RSS at each size.
  const rss: RunFigures[] = [];
  for (const jobs of rssJobs) {
    for (const n of sizes) {
      const f = await sealRun(keys, await fileOf(n), jobs);
      rss.push(f);
      process.stdout.write(`  seal --jobs ${jobs}, ${n} records: ${f.wallSeconds} s, ${f.recordsPerSecond}/s, peak RSS ${f.maxRssMiB} MiB\n`);
    }
  }
  process.stdout.write('\n| records | --jobs | wall | records/s | peak RSS |\n| ---: | ---: | ---: | ---: | ---: |\n');
  for (const f of rss) process.stdout.write(`| ${f.records.toLocaleString('en-US')} | ${f.jobs} | ${f.wallSeconds} s | ${f.recordsPerSecond.toLocaleString('en-US')} | ${f.maxRssMiB} MiB |\n`);
  for (const jobs of rssJobs) {
    const runs = rss.filter((f) => f.jobs === jobs);
    if (runs.length > 1) {
      const spread = Math.max(...runs.map((f) => f.maxRssMiB)) / Math.min(...runs.map((f) => f.maxRssMiB)) - 1;
      process.stdout.write(`--jobs ${jobs}: peak RSS varies by ${(spread * 100).toFixed(1)}% across ${runs.map((f) => f.records).join(' / ')} records\n`);
    }
  }
  if (values.json) await writeFile(values.json, `${JSON.stringify({ environment: env, scaling, rss }, null, 2)}\n`);
  if (!values.keep) await rm(dir, { recursive: true, force: true });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((e: unknown) => {
    process.stderr.write(`bench:cli: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
}
