/**
 * Issue 13 (R13b F2 and the key-store index keys' remaining gaps), each test the attack it stops:
 * - a leaked index key generation is rotated away: retire, reindex, shred the retired generation, and
 *   the leaked key matches no stored token while no query computes a token with it;
 * - a shred through the sealer drops and zeroes that month's keys and what was derived from them at
 *   once (no `forget()`);
 * - the key-store listing a query needs is read once per cache TTL, and at once after this process's
 *   own shred or retire.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createSealer,
  generateLocalKeyMaterial,
  LocalKeyring,
  MemoryKeyStore,
  reindex,
  retentionCutoff,
  retireIndexKeys,
  shred,
  shredBefore,
  shredRetiredIndexKeys,
  storedToken,
  type DataKeyRecord,
  type Keyring,
  type KeyStore,
} from '../../src/index.js';
import { BlindTokenizer } from '../../src/search/tokens.js';
import { SEARCH } from '../helpers.js';
import { capturingKeyring, CLASSES, leak, mobileOf, people, recoverWith, type Person } from './index-key-fixtures.js';

/** A key store that counts `list` calls. */
class CountingStore extends MemoryKeyStore {
  lists = 0;
  override async list(filter?: Parameters<MemoryKeyStore['list']>[0]): Promise<DataKeyRecord[]> {
    this.lists++;
    return super.list(filter);
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('index-key rotation (R13b F2): a leaked generation is rotated away', () => {
  it('retire → reindex (resumable) → shred the retired generation: the leaked key matches no stored token and no query token', async () => {
    const keyring = new LocalKeyring(generateLocalKeyMaterial(CLASSES));
    const keyStore = new MemoryKeyStore();
    let t = Date.now();
    const service = createSealer({ keyring, keyStore, guard: 'allow-all', indexKeys: 'key-store', cache: { now: () => t } });
    const records: Person[] = [];
    for (let i = 0; i < 4; i++) records.push(await service.seal(people, { id: `M${i}`, createdAt: '2025-03-05T00:00:00Z', mobile: mobileOf(i) }));
    const april = await service.seal(people, { id: 'A', createdAt: '2025-04-05T00:00:00Z', mobile: mobileOf(9) });
    // March's index key leaks: with it and a screen mask, the number comes back exactly.
    const leaked = await leak(keyring, keyStore, 'contact-index/2025-03/1');
    expect(recoverWith(leaked, records[0]!)).toEqual([mobileOf(0)]);

    const retired = await service.retireIndexKeys({ keyClass: 'contact', scope: '2025-03' });
    expect(retired).toEqual(['contact-index/2025-03/1']);
    // New seals of this process take generation 2 at once (no forget(), no TTL wait).
    const late = await service.seal(people, { id: 'M9', createdAt: '2025-03-20T00:00:00Z', mobile: mobileOf(8) });
    expect(storedToken(people, late, 'mobile')).toMatch(/^2025-03~2\./);
    // Until reindex has run, both generations are searched: nothing stops being found.
    expect(await service.tokensFor(people, 'mobile', mobileOf(0), SEARCH)).toContain(storedToken(people, records[0]!, 'mobile'));

    // Reindex, one key cache TTL (5 min) after the retire, moves March's records to generation 2
    // (stopped after two, resumed), leaves April alone.
    t += 5 * 60_000;
    const input = [...records, april, late];
    const first = [];
    for await (const item of reindex(service, people, input)) {
      first.push(item);
      if (item.checkpoint === 2) break;
    }
    const rest = [];
    for await (const item of reindex(service, people, input, { resumeFrom: first.at(-1)!.pass })) rest.push(item);
    const moved = [...first, ...rest];
    expect(moved.map((x) => x.changed)).toEqual([true, true, true, true, false, false]);
    for (const { record } of moved.slice(0, 4)) {
      expect(storedToken(people, record, 'mobile')).toMatch(/^2025-03~2\./);
      expect(storedToken(people, record, 'mobile:last4')).toMatch(/^2025-03~2\./);
      expect((await service.verify(people, record)).ok).toBe(true);
    }
    const again = [];
    for await (const item of reindex(service, people, moved.map((x) => x.record))) again.push(item);
    expect(again.every((x) => !x.changed)).toBe(true);

    const report = await service.shredRetiredIndexKeys(retired, { reindexed: rest.at(-1)!.pass });
    expect(report.shredded).toEqual(['contact-index/2025-03/1']);
    expect((await keyStore.get('contact-index/2025-03/2'))?.shreddedAt).toBeUndefined();
    expect((await keyStore.get('contact/2025-03/1'))?.shreddedAt).toBeUndefined(); // the data stays readable

    // The leaked key recovers nothing from any stored record any more …
    for (const { record } of moved) expect(recoverWith(leaked, record)).toEqual([]);
    // … and no query computes a token with it, in this process or a fresh one; every record is still found.
    const fresh = createSealer({ keyring, keyStore, guard: 'allow-all', indexKeys: 'key-store' });
    for (const [i, { record }] of moved.slice(0, 4).entries()) {
      for (const sealer of [service, fresh]) {
        const tokens = await sealer.tokensFor(people, 'mobile', mobileOf(i), SEARCH);
        expect(tokens.map((t) => t.slice(0, t.indexOf('.')))).toEqual(['2025-04~1', '2025-03~2']);
        expect(tokens).toContain(storedToken(people, record, 'mobile'));
      }
    }
  });

  it('store-level steps for operators without a sealer: retireIndexKeys, shredRetiredIndexKeys (audited, dry run)', async () => {
    const keyring = new LocalKeyring(generateLocalKeyMaterial(CLASSES));
    const keyStore = new MemoryKeyStore();
    const sealer = createSealer({ keyring, keyStore, guard: 'allow-all', indexKeys: 'key-store' });
    for (const month of ['2025-01', '2025-02']) await sealer.seal(people, { id: month, createdAt: `${month}-02T00:00:00Z`, mobile: mobileOf(1) });
    const retired = await retireIndexKeys(keyStore);
    expect(retired).toEqual(['contact-index/2025-01/1', 'contact-index/2025-02/1']);
    expect((await keyStore.get('contact/2025-01/1'))?.retiredAt).toBeUndefined(); // data keys are not index keys
    const events: unknown[] = [];
    const audit = { write: async (e: unknown) => void events.push(e) };
    const reindexed = { startedAt: new Date(Date.now() + 5 * 60_000).toISOString(), checkpoint: 2, failed: 0 };
    expect((await shredRetiredIndexKeys(keyStore, retired.slice(0, 1), { reindexed, dryRun: true })).shredded).toEqual(['contact-index/2025-01/1']);
    expect((await keyStore.get('contact-index/2025-01/1'))?.shreddedAt).toBeUndefined();
    expect((await shredRetiredIndexKeys(keyStore, retired.slice(0, 1), { reindexed, audit })).shredded).toEqual(['contact-index/2025-01/1']);
    expect(events).toMatchObject([{ type: 'shred', dataKeyIds: ['contact-index/2025-01/1'], request: { retiredIndexKeys: 'contact-index/2025-01/1' } }]);
    expect((await keyStore.get('contact-index/2025-02/1'))?.shreddedAt).toBeUndefined();
  });

  it('reindex of a record whose month is shredded drops its tokens and makes no new index key for that month', async () => {
    const keyring = new LocalKeyring(generateLocalKeyMaterial(CLASSES));
    const keyStore = new MemoryKeyStore();
    const sealer = createSealer({ keyring, keyStore, guard: 'allow-all', indexKeys: 'key-store' });
    const old = await sealer.seal(people, { id: 'J', createdAt: '2025-01-05T00:00:00Z', mobile: mobileOf(1) });
    await sealer.shred('contact', '2025-01');
    const out = [];
    for await (const item of reindex(sealer, people, [old])) out.push(item);
    expect(out[0]!.record.mobile.tok).toBeUndefined();
    expect((await keyStore.list({ keyClass: 'contact-index' })).map((r) => r.id)).toEqual(['contact-index/2025-01/1']);
    expect(await sealer.tokensFor(people, 'mobile', mobileOf(1), SEARCH)).toEqual([]);
  });
});

describe('a shred through the sealer takes effect in its process at once', () => {
  it('drops and zeroes the month’s index key and the keys derived from it without forget()', async () => {
    // The keyring sees each index key the manager creates: the test checks those very bytes are zeroed.
    const { keyring, made } = capturingKeyring();
    const keyStore = new MemoryKeyStore();
    const sealer = createSealer({ keyring, keyStore, guard: 'allow-all', indexKeys: 'key-store' });
    await sealer.seal(people, { id: 'J', createdAt: '2025-01-05T00:00:00Z', mobile: mobileOf(1) });
    await sealer.seal(people, { id: 'F', createdAt: '2025-02-05T00:00:00Z', mobile: mobileOf(2) });
    await sealer.tokensFor(people, 'mobile', mobileOf(1), SEARCH);
    expect(made).toHaveLength(2);
    const destroyed = vi.spyOn(BlindTokenizer.prototype, 'destroy');

    await sealer.shred('contact', '2025-01');
    expect(made[0]!.every((b) => b === 0)).toBe(true); // January's index key, zeroed
    expect(made[1]!.some((b) => b !== 0)).toBe(true); // February's, untouched
    // January's two indexes had derived tokenizers (seal and query share them): both destroyed.
    expect(destroyed).toHaveBeenCalledTimes(2);
    expect((await sealer.tokensFor(people, 'mobile', mobileOf(1), SEARCH)).map((t) => t.slice(0, 9))).toEqual(['2025-02~1']);
  });
});

describe('the live index-key listing is cached', () => {
  it('one key-store listing per cache TTL, read again at once after a shred or retire through this sealer; another process’s shred is seen within the TTL', async () => {
    let t = 0;
    const cache = { ttlMs: 60_000, now: () => t };
    const keyring = new LocalKeyring(generateLocalKeyMaterial(CLASSES));
    const keyStore = new CountingStore();
    const sealer = createSealer({ keyring, keyStore, guard: 'allow-all', indexKeys: 'key-store', cache });
    for (const month of ['2025-01', '2025-02', '2025-03']) await sealer.seal(people, { id: month, createdAt: `${month}-02T00:00:00Z`, mobile: mobileOf(1) });
    const labels = async () => (await sealer.tokensFor(people, 'mobile', mobileOf(1), SEARCH)).map((x) => x.slice(0, 9));

    keyStore.lists = 0;
    for (let i = 0; i < 5; i++) expect(await labels()).toEqual(['2025-03~1', '2025-02~1', '2025-01~1']);
    expect(keyStore.lists).toBe(1);

    await sealer.shred('contact', '2025-01');
    keyStore.lists = 0;
    expect(await labels()).toEqual(['2025-03~1', '2025-02~1']);
    expect(keyStore.lists).toBe(1);

    // Another process shreds February: seen when the listing's TTL has run out, not before.
    await shred(keyStore, 'contact', '2025-02');
    expect(await labels()).toEqual(['2025-03~1', '2025-02~1']);
    t += 60_000;
    expect(await labels()).toEqual(['2025-03~1']);

    // A retire through this sealer is listed at once (the retired generation is still searched).
    await sealer.retireIndexKeys({ keyClass: 'contact', scope: '2025-03' });
    await sealer.seal(people, { id: 'late', createdAt: '2025-03-09T00:00:00Z', mobile: mobileOf(1) });
    expect(await labels()).toEqual(['2025-03~2', '2025-03~1']);
  });
});

describe('the default search window is the retention window', () => {
  /** The UTC month `n` months before now. */
  const monthsAgo = (n: number) => retentionCutoff({ months: n });

  it('a sealer with retention searches only the months it keeps (months + 1 tokens at most); an explicit window still reaches further', async () => {
    const keyring = new LocalKeyring(generateLocalKeyMaterial(CLASSES));
    const keyStore = new MemoryKeyStore();
    const plain = createSealer({ keyring, keyStore, guard: 'allow-all', indexKeys: 'key-store' });
    const months = [0, 2, 24, 25, 30].map(monthsAgo);
    for (const month of months) await plain.seal(people, { id: month, createdAt: `${month}-02T00:00:00Z`, mobile: mobileOf(1) });
    const labelsOf = (tokens: string[]) => tokens.map((t) => t.slice(0, t.indexOf('~')));
    const kept = createSealer({ keyring, keyStore, guard: 'allow-all', indexKeys: 'key-store', retention: { months: 24 } });
    expect(labelsOf(await kept.tokensFor(people, 'mobile', mobileOf(1), SEARCH))).toEqual(months.slice(0, 3));
    // Without a retention setting: every live month. An explicit window overrides the default.
    expect(labelsOf(await plain.tokensFor(people, 'mobile', mobileOf(1), SEARCH))).toEqual(months);
    expect(labelsOf(await kept.tokensFor(people, 'mobile', mobileOf(1), { ...SEARCH, window: { from: months[4]!, to: months[3]! } }))).toEqual(months.slice(3));
    // The retention job through the sealer shreds what the setting no longer keeps.
    expect((await kept.shredBefore({ months: 24 })).shredded).toEqual([`contact-index/${months[4]}/1`, `contact-index/${months[3]}/1`, `contact/${months[4]}/1`, `contact/${months[3]}/1`].sort());
    expect(labelsOf(await kept.tokensFor(people, 'mobile', mobileOf(1), { ...SEARCH, window: { from: '2000-01' } }))).toEqual(months.slice(0, 3));
  });

  it('retentionCutoff: every record is kept at least `months` full months; bad settings are refused', async () => {
    expect(retentionCutoff({ months: 24 }, new Date('2027-03-01T00:00:00Z'))).toBe('2025-03');
    expect(retentionCutoff({ months: 1 }, new Date('2027-01-31T23:59:59Z'))).toBe('2026-12');
    expect(retentionCutoff({ months: 0 }, new Date('2027-01-15T00:00:00Z'))).toBe('2027-01');
    for (const months of [-1, 1.5, Number.NaN, 1201]) expect(() => retentionCutoff({ months })).toThrow(/retention.months/);
    expect(() => createSealer({ keyring: new LocalKeyring(generateLocalKeyMaterial(CLASSES)), keyStore: new MemoryKeyStore(), retention: { months: -3 } })).toThrow(/retention.months/);
    const keyStore = new MemoryKeyStore();
    const sealer = createSealer({ keyring: new LocalKeyring(generateLocalKeyMaterial(CLASSES)), keyStore, guard: 'allow-all', indexKeys: 'key-store' });
    for (const month of ['2025-02', '2025-03']) await sealer.seal(people, { id: month, createdAt: `${month}-02T00:00:00Z`, mobile: mobileOf(1) });
    const now = () => new Date('2027-03-01T00:00:00Z');
    expect((await shredBefore(keyStore, { months: 24 }, { now })).shredded).toEqual(['contact-index/2025-02/1', 'contact/2025-02/1']);
  });
});
