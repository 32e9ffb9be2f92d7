/**
 * A small benchmark harness: cases of one section run in interleaved rounds (every case once per
 * round, in a rotating order), so drift in CPU frequency, GC and other load spreads over all cases
 * instead of favouring whichever ran first. Each case's figure is the median over rounds.
 *
 * Sections are plain data (`Section`), so a later comparison (peer libraries) adds a file and a line
 * in `run.ts`, not a new harness.
 *
 * Clocks: every batch is timed on both. `cpu` (the default primary clock) is the CPU time this
 * process used (`process.cpuUsage`, user + system, all of its threads), which stays steadier on a
 * shared or loaded machine where wall time swings with other processes; `wall` is
 * `performance.now()` (what a user waits, on an idle machine). Each result carries the median and
 * spread on both, and the share of its batches' wall time spent in garbage collection (V8's GC
 * profiler, `node:v8` `GCProfiler`).
 *
 * Spread (`±`): the median absolute deviation of the per-round figures, relative to the median. On a
 * shared machine it comes from other processes: they take the CPU away (wall time only), and they
 * share caches, memory bandwidth and SMT siblings (both clocks); GC pauses and JIT tiering land in
 * some rounds and not others. Interleaving spreads that drift over every case, so ratios within one
 * run are steadier than the absolute rates.
 */
import { performance } from 'node:perf_hooks';
import { GCProfiler } from 'node:v8';

export interface BenchCase {
  /** Unique within its section, e.g. `sm4-gcm encrypt 64 B`. */
  readonly name: string;
  /** Cases of a group are compared with the group's baseline (ratio column). */
  readonly group: string;
  /** Payload bytes one operation processes (adds an MB/s column). */
  readonly bytes?: number;
  /** One operation; may be async. */
  readonly run: () => unknown;
}

export interface Section {
  readonly name: string;
  readonly description?: string;
  /** Rounds when the command line does not say (default 15). */
  readonly rounds?: number;
  /** The case name (within each group, by its label) every ratio is relative to. */
  readonly baseline?: (c: BenchCase) => boolean;
  /** Prepares state (keys, records) and returns the cases. */
  setup(): Promise<readonly BenchCase[]> | readonly BenchCase[];
  teardown?(): Promise<void> | void;
}

export interface HarnessOptions {
  /** Measured rounds per case (default 15). */
  rounds?: number;
  /** Target wall time of one case's batch in one round, in ms (default 50). */
  batchMs?: number;
  /** Warm-up time per case before calibration, in ms (default 100). */
  warmupMs?: number;
  /** `cpu` (default): process CPU time; `wall`: elapsed time. */
  clock?: Clock;
}

export type Clock = 'cpu' | 'wall';

const clocks: Record<Clock, () => number> = {
  wall: () => performance.now(),
  cpu: () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  },
};

export interface CaseResult {
  readonly section: string;
  readonly group: string;
  readonly name: string;
  readonly baseline: string | undefined;
  /** Median nanoseconds per operation over rounds (primary clock). */
  readonly nsPerOp: number;
  /** Median absolute deviation of ns/op over rounds, relative to the median (primary clock). */
  readonly spread: number;
  /** The same medians and spreads on each clock. */
  readonly cpu: { readonly nsPerOp: number; readonly spread: number };
  readonly wall: { readonly nsPerOp: number; readonly spread: number };
  /**
   * Share of the measured batches' wall time spent in garbage collection (0..1, V8's GC profiler),
   * over all rounds: a collection every few hundred operations lands in some batches only, so a
   * median would say 0.
   */
  readonly gcShare: number;
  readonly opsPerSec: number;
  readonly mbPerSec: number | undefined;
  /** nsPerOp / baseline nsPerOp (2.0: twice as slow as the baseline). */
  readonly ratio: number | undefined;
  readonly rounds: number;
  readonly opsPerBatch: number;
  readonly clock: Clock;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function isPromise(v: unknown): v is Promise<unknown> {
  return typeof (v as { then?: unknown } | null)?.then === 'function';
}

/** One timed batch: elapsed ms on both clocks, and the ms of it spent in garbage collection. */
interface Timing {
  readonly cpu: number;
  readonly wall: number;
  readonly gc: number;
}

/**
 * Runs `n` operations and times them on both clocks; V8's GC profiler adds up the pauses inside the
 * batch (it records heap statistics per collection, a few µs each: negligible against a batch).
 * Sync cases stay sync (no await per op).
 */
async function batch(c: BenchCase, n: number): Promise<Timing> {
  const first = c.run();
  if (isPromise(first)) await first;
  const profiler = new GCProfiler();
  profiler.start();
  const c0 = clocks.cpu();
  const w0 = performance.now();
  if (isPromise(first)) for (let i = 0; i < n; i++) await c.run();
  else for (let i = 0; i < n; i++) c.run();
  const wall = performance.now() - w0;
  const cpu = clocks.cpu() - c0;
  let gc = 0;
  for (const s of profiler.stop().statistics) gc += s.cost / 1000;
  return { cpu, wall, gc };
}

function gcShareOf(timings: readonly Timing[]): number {
  let gc = 0;
  let wall = 0;
  for (const t of timings) {
    gc += t.gc;
    wall += t.wall;
  }
  return wall > 0 ? Math.min(1, gc / wall) : 0;
}

async function calibrate(c: BenchCase, warmupMs: number, batchMs: number, clock: Clock): Promise<number> {
  let n = 1;
  const deadline = performance.now() + warmupMs;
  let ms = (await batch(c, n))[clock];
  while (performance.now() < deadline || ms < batchMs / 4) {
    if (ms < batchMs / 4) n *= 2;
    ms = (await batch(c, n))[clock];
  }
  return Math.max(1, Math.round((n * batchMs) / Math.max(ms, 1e-3)));
}

export async function runSection(section: Section, options: HarnessOptions = {}): Promise<CaseResult[]> {
  const rounds = options.rounds ?? section.rounds ?? 15;
  const batchMs = options.batchMs ?? 50;
  const warmupMs = options.warmupMs ?? 100;
  const clock = options.clock ?? 'cpu';
  const cases = await section.setup();
  try {
    const sizes = new Map<BenchCase, number>();
    for (const c of cases) sizes.set(c, await calibrate(c, warmupMs, batchMs, clock));
    const timings = new Map<BenchCase, Timing[]>(cases.map((c) => [c, []]));
    for (let r = 0; r < rounds; r++) {
      // Rotate the start and alternate the direction, so no case always follows the same one.
      const order = cases.map((_, i) => cases[(i + r) % cases.length]!);
      if (r % 2) order.reverse();
      for (const c of order) timings.get(c)!.push(await batch(c, sizes.get(c)!));
    }
    const stats = (c: BenchCase, k: Clock) => {
      const xs = timings.get(c)!.map((t) => (t[k] * 1e6) / sizes.get(c)!);
      const m = median(xs);
      return { nsPerOp: m, spread: median(xs.map((x) => Math.abs(x - m))) / m };
    };
    const ns = new Map(cases.map((c) => [c, stats(c, clock).nsPerOp]));
    return cases.map((c) => {
      const base = section.baseline ? cases.find((b) => b.group === c.group && section.baseline!(b)) : undefined;
      const primary = stats(c, clock);
      const m = primary.nsPerOp;
      return {
        section: section.name,
        group: c.group,
        name: c.name,
        baseline: base?.name,
        nsPerOp: m,
        spread: primary.spread,
        cpu: stats(c, 'cpu'),
        wall: stats(c, 'wall'),
        gcShare: gcShareOf(timings.get(c)!),
        opsPerSec: 1e9 / m,
        mbPerSec: c.bytes === undefined ? undefined : (c.bytes * 1e9) / m / 1e6,
        ratio: base ? m / ns.get(base)! : undefined,
        rounds,
        opsPerBatch: sizes.get(c)!,
        clock,
      };
    });
  } finally {
    await section.teardown?.();
  }
}

const fmt = (x: number, digits = 1) => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const time = (ns: number) => (ns >= 1e6 ? `${fmt(ns / 1e6, 2)} ms` : ns >= 1e3 ? `${fmt(ns / 1e3, 2)} µs` : `${fmt(ns, 0)} ns`);

/** A plain-text table: one block per group, both clocks, GC share, ratio to the group's baseline (primary clock). */
export function formatTable(results: readonly CaseResult[]): string {
  const rows: string[][] = [['group', 'case', 'cpu/op', '±', 'wall/op', '±', 'GC', 'ops/s', 'MB/s', 'vs baseline']];
  let lastGroup = '';
  for (const r of results) {
    rows.push([
      r.group === lastGroup ? '' : r.group,
      r.name,
      time(r.cpu.nsPerOp),
      `${fmt(r.cpu.spread * 100, 1)}%`,
      time(r.wall.nsPerOp),
      `${fmt(r.wall.spread * 100, 1)}%`,
      `${fmt(r.gcShare * 100, 0)}%`,
      fmt(r.opsPerSec, 0),
      r.mbPerSec === undefined ? '' : fmt(r.mbPerSec, 1),
      r.ratio === undefined ? '' : r.baseline === r.name ? '1.00 (base)' : `${fmt(r.ratio, 2)}×`,
    ]);
    lastGroup = r.group;
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => [...row[i]!].length)));
  const line = (row: string[]) =>
    row.map((cell, i) => (i >= 2 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

/** Machine facts printed with (and stored next to) every run. */
export async function environment(): Promise<Record<string, string | number>> {
  const os = await import('node:os');
  return {
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform} ${process.arch}`,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cpus: os.cpus().length,
    date: new Date().toISOString(),
  };
}
