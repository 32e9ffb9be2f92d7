/**
 * A small benchmark harness: cases of one section run in interleaved rounds (every case once per
 * round, in a rotating order), so drift in CPU frequency, GC and other load spreads over all cases
 * instead of favouring whichever ran first. Each case's figure is the median over rounds.
 *
 * Sections are plain data (`Section`), so a later comparison (peer libraries) adds a file and a line
 * in `run.ts`, not a new harness.
 *
 * Clock: `cpu` (default) times a batch by the CPU time this process used (`process.cpuUsage`, user +
 * system, all of its threads), which stays steady on a shared or loaded machine where wall time
 * swings with other processes; `wall` uses `performance.now()` (what a user waits, on an idle machine).
 */
import { performance } from 'node:perf_hooks';

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
  /** Median nanoseconds per operation over rounds. */
  readonly nsPerOp: number;
  /** Median absolute deviation of ns/op over rounds, relative to the median. */
  readonly spread: number;
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

/** Runs `n` operations and returns the elapsed ms on `now`. Sync cases stay sync (no await per op). */
async function batch(c: BenchCase, n: number, now: () => number): Promise<number> {
  const first = c.run();
  if (isPromise(first)) {
    await first;
    const t0 = now();
    for (let i = 0; i < n; i++) await c.run();
    return now() - t0;
  }
  const t0 = now();
  for (let i = 0; i < n; i++) c.run();
  return now() - t0;
}

async function calibrate(c: BenchCase, warmupMs: number, batchMs: number, now: () => number): Promise<number> {
  let n = 1;
  const deadline = performance.now() + warmupMs;
  let ms = await batch(c, n, now);
  while (performance.now() < deadline || ms < batchMs / 4) {
    if (ms < batchMs / 4) n *= 2;
    ms = await batch(c, n, now);
  }
  return Math.max(1, Math.round((n * batchMs) / Math.max(ms, 1e-3)));
}

export async function runSection(section: Section, options: HarnessOptions = {}): Promise<CaseResult[]> {
  const rounds = options.rounds ?? section.rounds ?? 15;
  const batchMs = options.batchMs ?? 50;
  const warmupMs = options.warmupMs ?? 100;
  const clock = options.clock ?? 'cpu';
  const now = clocks[clock];
  const cases = await section.setup();
  try {
    const sizes = new Map<BenchCase, number>();
    for (const c of cases) sizes.set(c, await calibrate(c, warmupMs, batchMs, now));
    const samples = new Map<BenchCase, number[]>(cases.map((c) => [c, []]));
    for (let r = 0; r < rounds; r++) {
      // Rotate the start and alternate the direction, so no case always follows the same one.
      const order = cases.map((_, i) => cases[(i + r) % cases.length]!);
      if (r % 2) order.reverse();
      for (const c of order) {
        const n = sizes.get(c)!;
        samples.get(c)!.push(((await batch(c, n, now)) * 1e6) / n);
      }
    }
    const ns = new Map(cases.map((c) => [c, median(samples.get(c)!)]));
    return cases.map((c) => {
      const base = section.baseline ? cases.find((b) => b.group === c.group && section.baseline!(b)) : undefined;
      const m = ns.get(c)!;
      const mad = median(samples.get(c)!.map((x) => Math.abs(x - m)));
      return {
        section: section.name,
        group: c.group,
        name: c.name,
        baseline: base?.name,
        nsPerOp: m,
        spread: mad / m,
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

/** A plain-text table: one block per group, ratio to the group's baseline. */
export function formatTable(results: readonly CaseResult[]): string {
  const rows: string[][] = [['group', 'case', 'time/op', '±', 'ops/s', 'MB/s', 'vs baseline']];
  let lastGroup = '';
  for (const r of results) {
    rows.push([
      r.group === lastGroup ? '' : r.group,
      r.name,
      time(r.nsPerOp),
      `${fmt(r.spread * 100, 1)}%`,
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
