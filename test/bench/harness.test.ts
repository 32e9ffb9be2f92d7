import { describe, expect, it } from 'vitest';
import { formatTable, runSection, type Section } from '../../bench/harness.js';

const sink: { last?: { i: number; next: number | undefined } } = {};

describe('bench harness', () => {
  it('runs every case in every round, takes medians and ratios to the group baseline', async () => {
    const calls = { fast: 0, slow: 0, async: 0 };
    const spin = (n: number) => {
      let x = 0;
      for (let i = 0; i < n; i++) x = (x * 31 + i) | 0;
      return x;
    };
    const section: Section = {
      name: 'test',
      baseline: (c) => c.name === 'fast',
      setup: () => [
        { name: 'fast', group: 'g', bytes: 100, run: () => (calls.fast++, spin(200)) },
        { name: 'slow', group: 'g', bytes: 100, run: () => (calls.slow++, spin(2000)) },
        { name: 'async', group: 'h', run: async () => (calls.async++, spin(100)) },
        // Short-lived objects by the megabyte (kept one at a time, so neither elided nor pretenured): scavenges land inside its batches.
        {
          name: 'garbage',
          group: 'h',
          run: () => {
            for (let i = 0; i < 1_000_000; i++) sink.last = { i, next: sink.last === undefined ? undefined : i };
          },
        },
      ],
    };
    const results = await runSection(section, { rounds: 3, batchMs: 5, warmupMs: 5, clock: 'wall' });
    expect(results.map((r) => r.name)).toEqual(['fast', 'slow', 'async', 'garbage']);
    expect(Object.values(calls).every((n) => n > 3)).toBe(true);
    const [fast, slow, asyncCase, garbage] = results;
    // Both clocks, the primary one (wall here) reported as nsPerOp; a GC share in [0, 1].
    for (const r of results) {
      expect(r.wall.nsPerOp).toBe(r.nsPerOp);
      expect(r.cpu.nsPerOp).toBeGreaterThan(0);
      expect(r.gcShare).toBeGreaterThanOrEqual(0);
      expect(r.gcShare).toBeLessThanOrEqual(1);
    }
    expect(garbage!.gcShare).toBeGreaterThan(0);
    expect(fast!.ratio).toBe(1);
    expect(slow!.ratio).toBeGreaterThan(2);
    expect(asyncCase!.ratio).toBeUndefined(); // no baseline in its group
    expect(fast!.mbPerSec).toBeCloseTo((100 * 1e9) / fast!.nsPerOp / 1e6);
    const table = formatTable(results);
    expect(table).toContain('1.00 (base)');
    expect(table).toMatch(/slow .* \d+\.\d\d×/);
  });
});
