import { describe, expect, it } from 'vitest';
import { ConfigError, expectedFalsePositives, planIndex, waybill } from '../../src/index.js';

describe('planIndex', () => {
  it('mobiles, 10^7 records, ≤ 32 false positives: 19 bits, about 19 per query', () => {
    const plan = planIndex({ records: 1e7, domain: 1e10, maxFalsePositives: 32 });
    expect(plan.bits).toBe(19);
    expect(plan.expectedFalsePositives).toBeCloseTo(19.07, 2);
    expect(plan.expectedMatches).toBeCloseTo(0.001, 6);
    expect(plan.bitRange).toEqual({ min: 19, max: 22 });
    expect(plan.warnings).toEqual([]);
    // prefer speed: the longest length that still leaves ≥ 2 coincidences
    const fast = planIndex({ records: 1e7, domain: 1e10, maxFalsePositives: 32, prefer: 'speed' });
    expect(fast.bits).toBe(22);
    expect(fast.expectedFalsePositives).toBeCloseTo(2.38, 2);
  });

  it('last 4 digits at a pickup station (10^4 parcels): 9 bits, no warning', () => {
    const plan = planIndex({ records: 1e4, domain: 1e4, maxFalsePositives: 32 });
    expect(plan.bits).toBe(9);
    expect(plan.expectedFalsePositives).toBeCloseTo(19.53, 2);
    expect(plan.expectedMatches).toBe(1);
    expect(plan.valuesPerToken).toBeCloseTo(19.53, 2);
    expect(plan.maxPrivateBits).toBe(12);
    expect(plan.warnings).toEqual([]);
  });

  it('warns when tokens would be nearly unique over a small domain (last 4 over 10^7 records)', () => {
    const plan = planIndex({ records: 1e7, domain: 1e4, maxFalsePositives: 32 });
    expect(plan.bits).toBe(19);
    expect(plan.valuesPerToken).toBeLessThan(0.02);
    expect(plan.warnings.map((w) => w.code)).toEqual(['nearly_unique']);
    expect(plan.warnings[0]!.message).toMatch(/at most 12 bits/);
    // The cure: plan within the private range, accepting more false positives.
    expect(planIndex({ records: 1e7, domain: 1e4, maxFalsePositives: 5000 }).warnings).toEqual([]);
  });

  it('a stored mask counts: next to a screen mask (10^4 candidates left) full-mobile tokens are capped at 12 bits', () => {
    const plan = planIndex({ records: 1e7, domain: 1e10, maxFalsePositives: 32, maskLeaves: 1e4 });
    expect(plan.bits).toBe(12);
    expect(plan.maxPrivateBits).toBe(12);
    expect(plan.valuesPerToken).toBeCloseTo(2.44, 2);
    expect(plan.warnings.map((w) => w.code)).toEqual(['capped_by_mask']);
    expect(plan.warnings[0]!.message).toMatch(/leaves 10000 values.*capped at 12 bits/);
    // ~2,441 token matches per query, a few thousandths after filtering by the stored mask.
    expect(plan.expectedFalsePositives).toBeCloseTo(2441.4, 0);
    expect(plan.falsePositivesAfterMask).toBeLessThan(0.01);
    // A label mask alone (7 hidden digits) would allow 22 bits; the unmasked plan wanted 19.
    expect(planIndex({ records: 1e7, domain: 1e10, maxFalsePositives: 32, maskLeaves: 1e7 }).bits).toBe(19);
    // A mask that shows the whole value (the last four digits): the token adds nothing, no cap.
    const last4 = planIndex({ records: 1e4, domain: 1e4, maxFalsePositives: 32, maskLeaves: 1 });
    expect(last4.bits).toBe(9);
    expect(last4.warnings.map((w) => w.code)).toEqual(['mask_shows_value']);
    expect(() => planIndex({ records: 10, domain: 100, maskLeaves: 1000 })).toThrow(ConfigError);
  });

  it('the built-in waybill indexes are the planned lengths, masks counted', () => {
    const idx = waybill.indexes;
    const full = planIndex({ records: 1e7, domain: 1e10, maxFalsePositives: 32, maskLeaves: 1e4 }).bits;
    expect(full).toBe(12);
    expect(idx['receiver.mobile'].bits).toBe(full);
    expect(idx['sender.mobile'].bits).toBe(full);
    // ID numbers: the screen mask shows the first and last character (~10^8 candidates stay).
    expect(idx['sender.idNumber'].bits).toBe(planIndex({ records: 1e7, domain: 1e9, maxFalsePositives: 32, maskLeaves: 1e8 }).bits);
    expect(idx['receiver.mobile:last4+district'].bits).toBe(planIndex({ records: 1e7, domain: 1e4 * 2850, maxFalsePositives: 32, maskLeaves: 1 }).bits);
    const last4 = planIndex({ records: 1e4, domain: 1e4, maxFalsePositives: 32, maskLeaves: 1 });
    expect(idx['receiver.mobile:last4'].bits).toBe(last4.bits);
    expect(idx['sender.mobile:last4'].bits).toBe(last4.bits);
    for (const spec of Object.values(idx)) expect(spec.bits).toBeLessThanOrEqual(22);
  });

  it('defaults: at least 2 false positives, at most √N', () => {
    const plan = planIndex({ records: 1e6, domain: 1e10 });
    // √N = 1000: shortest length with FP ≤ 1000 is 10 bits (977)
    expect(plan.bits).toBe(10);
    expect(plan.expectedFalsePositives).toBeCloseTo(976.56, 1);
    expect(plan.bitRange).toEqual({ min: 10, max: 18 });
  });

  it('too few records, or bounds no length meets, are reported', () => {
    const tiny = planIndex({ records: 3, domain: 1e10 });
    expect(tiny.bits).toBe(1);
    expect(tiny.warnings.map((w) => w.code)).toContain('too_few_records');
    const tight = planIndex({ records: 1e5, domain: 1e10, minFalsePositives: 10, maxFalsePositives: 12 });
    expect(tight.bitRange).toBeUndefined();
    expect(tight.bits).toBe(14);
    expect(tight.expectedFalsePositives).toBeLessThanOrEqual(12);
    expect(tight.warnings.map((w) => w.code)).toEqual(['bounds_unmet']);
  });

  it('the false-positive formula', () => {
    expect(expectedFalsePositives(1024, 2, 1)).toBe(256);
    expect(expectedFalsePositives(1e5, 2e4, 11)).toBeCloseTo(48.826, 3);
    for (let bits = 1; bits < 40; bits++) {
      expect(expectedFalsePositives(1e6, 1e8, bits + 1)).toBeCloseTo(expectedFalsePositives(1e6, 1e8, bits) / 2, 9);
    }
  });

  it('refuses nonsense', () => {
    expect(() => planIndex({ records: 0, domain: 10 })).toThrow(ConfigError);
    expect(() => planIndex({ records: 10, domain: 1 })).toThrow(ConfigError);
    expect(() => planIndex({ records: 10, domain: 10, minFalsePositives: 5, maxFalsePositives: 4 })).toThrow(ConfigError);
    expect(() => planIndex({ records: Number.NaN, domain: 10 })).toThrow(ConfigError);
  });
});
