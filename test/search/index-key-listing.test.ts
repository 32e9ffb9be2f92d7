/**
 * The cached index-key listing (R13c M2, M3, L1, L3), each test the attack or failure it stops:
 * - a record sealed into a new month was not found by the same sealer for a cache TTL;
 * - a retention default dropped every record whose scope is not a month from search, silently;
 * - the index key of a month shredded elsewhere stayed in memory, unzeroed, for hours;
 * - one index-key row deleted from the store made every search throw.
 */
import { describe, expect, it } from 'vitest';
import { createSealer, generateLocalKeyMaterial, LocalKeyring, MemoryKeyStore, shred, storedToken } from '../../src/index.js';
import { SEARCH } from '../helpers.js';
import { capturingKeyring, CLASSES, mobileOf, people } from './index-key-fixtures.js';

const labels = (tokens: readonly string[]) => tokens.map((t) => t.slice(0, t.indexOf('.')));

describe('the cached index-key listing', () => {
  it('a record sealed into a new month is found by the same sealer at once; one sealed by another process within the TTL', async () => {
    let t = 0;
    const cache = { ttlMs: 60_000, now: () => t };
    const keyring = new LocalKeyring(generateLocalKeyMaterial(CLASSES));
    const keyStore = new MemoryKeyStore();
    const service = createSealer({ keyring, keyStore, guard: 'allow-all', indexKeys: 'key-store', cache });
    await service.seal(people, { id: 'N', createdAt: '2026-11-30T23:59:00Z', mobile: mobileOf(1) });
    expect(labels(await service.tokensFor(people, 'mobile', mobileOf(1), SEARCH))).toEqual(['2026-11~1']);
    const december = await service.seal(people, { id: 'D', createdAt: '2026-12-01T00:00:05Z', mobile: mobileOf(1) });
    expect(await service.tokensFor(people, 'mobile', mobileOf(1), SEARCH)).toContain(storedToken(people, december, 'mobile'));

    const other = createSealer({ keyring, keyStore, guard: 'allow-all', indexKeys: 'key-store' });
    const january = await other.seal(people, { id: 'J', createdAt: '2027-01-02T00:00:00Z', mobile: mobileOf(1) });
    t += 60_000;
    expect(await service.tokensFor(people, 'mobile', mobileOf(1), SEARCH)).toContain(storedToken(people, january, 'mobile'));
  });

  it('the retention default window keeps records whose scope is not a month (an explicit window is months only)', async () => {
    const keyring = new LocalKeyring(generateLocalKeyMaterial(CLASSES));
    const keyStore = new MemoryKeyStore();
    const perCustomer = createSealer({ keyring, keyStore, guard: 'allow-all', indexKeys: 'key-store', scope: () => 't-acme', retention: { months: 24 } });
    const r = await perCustomer.seal(people, { id: 'A', createdAt: '2025-03-05T00:00:00Z', mobile: mobileOf(1) });
    expect(await perCustomer.tokensFor(people, 'mobile', mobileOf(1), SEARCH)).toEqual([storedToken(people, r, 'mobile')]);
    expect(await perCustomer.tokensFor(people, 'mobile', mobileOf(1), { ...SEARCH, window: { from: '2000-01' } })).toEqual([]);
  });

  it('the index key of a month shredded by another process is zeroed at the first query after the TTL', async () => {
    let t = 0;
    const cache = { ttlMs: 60_000, now: () => t };
    const { keyring, made } = capturingKeyring();
    const keyStore = new MemoryKeyStore();
    const service = createSealer({ keyring, keyStore, guard: 'allow-all', indexKeys: 'key-store', cache });
    for (const month of ['2025-01', '2025-02']) await service.seal(people, { id: month, createdAt: `${month}-05T00:00:00Z`, mobile: mobileOf(1) });
    await service.tokensFor(people, 'mobile', mobileOf(1), SEARCH);
    await shred(keyStore, 'contact', '2025-01'); // the retention job, elsewhere
    t += 60_000;
    expect(made[0]!.some((b) => b !== 0)).toBe(true); // still held: nothing here knows of the shred yet
    // No query asks the key cache for January again (it is not listed): only the listing can drop it.
    expect(labels(await service.tokensFor(people, 'mobile', mobileOf(1), SEARCH))).toEqual(['2025-02~1']);
    expect(made[0]!.every((b) => b === 0)).toBe(true);
  });

  it('an index-key row deleted from the store does not stop every search', async () => {
    let t = 0;
    const cache = { ttlMs: 60_000, now: () => t };
    const keyring = new LocalKeyring(generateLocalKeyMaterial(CLASSES));
    const keyStore = new MemoryKeyStore();
    const service = createSealer({ keyring, keyStore, guard: 'allow-all', indexKeys: 'key-store', cache });
    await service.seal(people, { id: 'J', createdAt: '2025-01-05T00:00:00Z', mobile: mobileOf(1) });
    const march = await service.seal(people, { id: 'M', createdAt: '2025-03-05T00:00:00Z', mobile: mobileOf(1) });
    await service.tokensFor(people, 'mobile', mobileOf(1), SEARCH);
    t += 59_000;
    await keyStore.delete('contact-index/2025-01/1'); // a database writer
    t += 2_000; // the keys have left the key cache; the listing is still the cached one
    expect(await service.tokensFor(people, 'mobile', mobileOf(1), SEARCH)).toEqual([storedToken(people, march, 'mobile')]);
  });
});
