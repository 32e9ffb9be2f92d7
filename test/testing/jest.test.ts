/**
 * The matchers under jest's own `expect` (the `expect` package jest runs on): registered with
 * `expect.extend(matchers)` or by importing `waybill-seal/testing/jest` where jest's global
 * `expect` exists. Same verdicts and the same value-free messages as under vitest.
 */
import { expect as jestExpect } from 'expect';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { waybill, type PlainRecord, type WaybillSchema } from 'waybill-seal';
import { matchers, testSealer, type WaybillSealMatchers } from 'waybill-seal/testing';
import { sampleWaybill } from '../helpers.js';

const w = sampleWaybill() as PlainRecord<WaybillSchema>;
type Jest = WaybillSealMatchers<void> & { not: WaybillSealMatchers<void> };
const failure = (f: () => void): string => {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected the assertion to fail');
};

afterEach(() => {
  delete (globalThis as { expect?: unknown }).expect;
  vi.resetModules();
});

describe('matchers under jest (expect.extend)', () => {
  // First: no test before it has extended jest's expect.
  it("`import 'waybill-seal/testing/jest'` registers on jest's global expect, and says so when there is none", async () => {
    await expect(import('waybill-seal/testing/jest')).rejects.toThrow(/no global expect/);
    vi.resetModules();
    const fresh = jestExpect;
    (globalThis as { expect?: unknown }).expect = fresh;
    await import('waybill-seal/testing/jest');
    const message = failure(() => (fresh([`caller ${w.sender.name}`]) as unknown as Jest).toContainNoPlaintext(w));
    expect(message).toContain('sender.name');
    expect(message).not.toContain(w.sender.name);
  });

  it('catch a leaked phone, pass clean logs and sealed records, and never print the value', async () => {
    jestExpect.extend(matchers);
    const on = (x: unknown) => jestExpect(x) as unknown as Jest;
    on(['POST /waybills 201']).toContainNoPlaintext(w);
    const message = failure(() => on([`sms to ${w.receiver.mobile}`]).toContainNoPlaintext(w));
    expect(message).toContain('receiver.mobile');
    expect(message).not.toMatch(/8765|4321/);
    on([`sms to ${w.receiver.mobile}`]).not.toContainNoPlaintext(w);
    const sealed = await testSealer().seal(waybill, w);
    on(sealed).toBeSealed(waybill);
    on(w).not.toBeSealed(waybill);
    expect(failure(() => on(w).toBeSealed(waybill))).not.toContain(w.sender.mobile);
  });
});
