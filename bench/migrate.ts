/**
 * `npm run bench:migrate`: in-place sealing of a PostgreSQL table by 1, 2 and 4 worker processes
 * (`waybill-seal migrate work`, pg-boss), N synthetic waybills (default 200,000; MIGRATE_ROWS).
 * Needs WAYBILL_SEAL_PG_URL (a server you can create tables in). Prints rows/s per worker count,
 * the speed-up, and the extrapolation to 10^10 rows. MIGRATE_CHUNK: rows per chunk (default 5,000).
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { syntheticWaybills } from 'waybill-seal/testing';
import { createKeyFile } from '../src/node.js';

const run = promisify(execFile);
const url = process.env['WAYBILL_SEAL_PG_URL'];
if (!url) {
  console.error('set WAYBILL_SEAL_PG_URL to a PostgreSQL server (e.g. postgres://postgres@127.0.0.1:5432/postgres)');
  process.exit(1);
}
const N = Number(process.env['MIGRATE_ROWS'] ?? 200_000);
const COUNTS = (process.env['MIGRATE_WORKERS'] ?? '1,2,4').split(',').map(Number);
const BIN = new URL('../dist/cli/main.js', import.meta.url).pathname;
const pool = new pg.Pool({ connectionString: url, max: 4 });
const dir = await mkdtemp(join(tmpdir(), 'ws-bench-migrate-'));
const keys = join(dir, 'keys.json');
await createKeyFile(keys);
const tag = `${process.pid}`;

console.log(`migrate bench: ${N.toLocaleString('en')} synthetic waybills, workers ${COUNTS.join(' → ')}, ${cpus().length} cores`);
await pool.query(`CREATE TABLE bench_src_${tag} (id bigint PRIMARY KEY, rec jsonb NOT NULL)`);
for (let i = 0; i < N; i += 5000) {
  const batch = syntheticWaybills({ count: Math.min(5000, N - i), seed: 7 + i });
  await pool.query(`INSERT INTO bench_src_${tag} (id, rec) SELECT * FROM unnest($1::bigint[], $2::jsonb[])`, [
    batch.map((_, j) => i + j + 1),
    batch.map((w, j) => JSON.stringify({ ...w, waybillNo: `${w.waybillNo.slice(0, -7)}${String(i + j).padStart(7, '0')}` })),
  ]);
}

const results: { workers: number; seconds: number; rate: number }[] = [];
for (const workers of COUNTS) {
  const table = `bench_mig_${tag}_${workers}`;
  const job = `bench-${tag}-${workers}`;
  await pool.query(`CREATE TABLE ${table} AS SELECT * FROM bench_src_${tag}`);
  await pool.query(`ALTER TABLE ${table} ADD PRIMARY KEY (id)`);
  await run(process.execPath, [BIN, 'migrate', 'plan', '--database', url, '--job', job, '--table', table, '--column', 'rec', '--chunk-size', process.env['MIGRATE_CHUNK'] ?? '5000']);
  const started = performance.now();
  await Promise.all(
    Array.from(
      { length: workers },
      () =>
        new Promise<void>((resolve, reject) => {
          const child = spawn(process.execPath, [BIN, 'migrate', 'work', '--database', url, '--job', job, '--table', table, '--column', 'rec', '--keys', keys, '--op', 'seal', '--schema', 'waybill', '--key-table', `bench_keys_${tag}`, '--quiet'], { stdio: 'inherit' });
          child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker exited ${code}`))));
        }),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  const status = JSON.parse((await run(process.execPath, [BIN, 'migrate', 'status', '--database', url, '--job', job, '--json'])).stdout) as { done: number };
  if (status.done !== N) throw new Error(`${workers} workers: ${status.done} rows sealed, expected ${N}`);
  results.push({ workers, seconds, rate: N / seconds });
  console.log(`  ${workers} worker process(es): ${seconds.toFixed(1)} s, ${Math.round(N / seconds).toLocaleString('en')} rows/s (×${(N / seconds / (results[0]!.rate)).toFixed(2)} vs 1)`);
  await pool.query(`DROP TABLE ${table}`);
}
await pool.query(`DROP TABLE bench_src_${tag}`);
await pool.end();

// Sealing is CPU-bound: per core = the best total rate over the cores it used.
const best = results.reduce((a, r) => (r.rate > a.rate ? r : a));
const perCore = best.rate / Math.min(best.workers, cpus().length);
console.log(`\nextrapolation to 10^10 rows at ${Math.round(perCore).toLocaleString('en')} rows/s per core (best: ${best.workers} workers):`);
for (const machines of [1, 10, 50, 100]) {
  const days = 1e10 / (perCore * 16 * machines) / 86_400;
  console.log(`  ${machines} machine(s) × 16 cores: ${days < 1 ? `${(days * 24).toFixed(1)} hours` : `${days.toFixed(1)} days`} (if the database keeps up)`);
}
