/**
 * Section `index-keys`: what a query costs with key-store index keys (issue 13): one token per live
 * month in the search window, so the CPU time per query grows with the window (1, 12, 24 months; the
 * default window is the retention's). The live index keys are listed from the key store once per key
 * cache TTL, not once per query (`test/search/index-key-rotation.test.ts` counts the store calls).
 */
import { createSealer, generateLocalKeyMaterial, KEY_CLASSES, LocalKeyring, MemoryKeyStore, waybill } from '../src/index.js';
import { syntheticWaybills } from 'waybill-seal/testing';
import type { BenchCase, Section } from './harness.js';

const MONTHS = 24;

async function cases(): Promise<BenchCase[]> {
  const keyring = new LocalKeyring(generateLocalKeyMaterial([...KEY_CLASSES, ...KEY_CLASSES.map((c) => `${c}-index`)]));
  const sealer = createSealer({ keyring, keyStore: new MemoryKeyStore(), guard: 'allow-all', indexKeys: 'key-store' });
  // One waybill per month of 2024-01 … 2025-12: 24 live index keys of class contact-index.
  const records = syntheticWaybills({ count: MONTHS, seed: 1313 }).map((w, i) => ({ ...w, createdAt: `${2024 + Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}-15T08:00:00Z` }));
  await sealer.sealMany(waybill, records);
  const out: BenchCase[] = [];
  for (const [months, from] of [
    [1, '2025-12'],
    [12, '2025-01'],
    [24, '2024-01'],
  ] as const) {
    const request = { principal: 'bench', window: { from, to: '2025-12' } };
    const tokens = await sealer.tokensFor(waybill, 'receiver.mobile', '13912345678', request);
    if (tokens.length !== months) throw new Error(`expected ${months} tokens, got ${tokens.length}`);
    out.push({ name: `${months} month${months === 1 ? '' : 's'}`, group: 'tokensFor receiver.mobile (one token per live month)', run: () => sealer.tokensFor(waybill, 'receiver.mobile', '13912345678', request) });
  }
  return out;
}

export const indexKeysSection: Section = {
  name: 'index-keys',
  description: 'a query with key-store index keys: search window of 1, 12 and 24 months (tokens per query = live months)',
  baseline: (c) => c.name === '1 month',
  setup: cases,
};
