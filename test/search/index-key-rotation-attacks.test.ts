/**
 * Attack review R13c of the index-key rotation (retire → reindex → shredRetiredIndexKeys), each test
 * the attack it stops: a database writer flipping `retired_at` (H1), records other processes seal
 * within one key cache TTL (M1), one tampered row stopping the pass (L2).
 */
import { describe, expect, it } from 'vitest';
import {
  createResealer,
  createSealer,
  generateLocalKeyMaterial,
  LocalKeyring,
  MemoryKeyStore,
  reindex,
  retireDataKeys,
  retireIndexKeys,
  shredRetiredIndexKeys,
  storedToken,
  type KeyStore,
  type Sealer,
} from '../../src/index.js';
import { parseEnc } from '../../src/format/sealed-field.js';
import { SEARCH } from '../helpers.js';
import { CLASSES, leak, mobileOf, people, recoverWith, type Person } from './index-key-fixtures.js';

const G1 = 'contact-index/2025-03/1';
const G2 = 'contact-index/2025-03/2';

/** Database writer: `UPDATE data_keys SET retired_at = …` on one row (undefined clears it). */
async function setRetired(store: KeyStore, id: string, retiredAt: string | undefined): Promise<void> {
  const row = (await store.get(id))!;
  const { retiredAt: _old, ...rest } = row;
  expect(await store.replace(row, retiredAt === undefined ? rest : { ...rest, retiredAt })).toBe(true);
}

const retireIndexKeysOf = (store: KeyStore) => retireIndexKeys(store, { keyClass: 'contact', scope: '2025-03' });

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

const TTL = 60_000;

/** Sealers sharing a key store and a key cache clock (`later(ms)` moves it on). */
function setup() {
  const keyring = new LocalKeyring(generateLocalKeyMaterial(CLASSES));
  const keyStore = new MemoryKeyStore();
  let t = Date.parse('2026-01-05T00:00:00Z');
  const cache = { ttlMs: TTL, now: () => t };
  return {
    keyring,
    keyStore,
    sealer: () => createSealer({ keyring, keyStore, guard: 'allow-all', indexKeys: 'key-store', cache }),
    later: (ms: number) => void (t += ms),
  };
}

/** Step 2, done right: one key cache TTL after the retire, through every record; returns the last item's pass. */
async function reindexAll(sealer: Sealer, records: Person[], later: (ms: number) => void) {
  later(TTL);
  const out = await collect(reindex(sealer, people, records));
  return { out, reindexed: out.at(-1)!.pass };
}

describe('R13c H1: a database writer flipping retired_at cannot run a rotation backwards', () => {
  it('un-retiring the leaked generation after step 1: step 3 refuses (nothing shredded) instead of reporting success', async () => {
    const { keyring, keyStore, sealer, later } = setup();
    const operator = sealer();
    const records: Person[] = [];
    for (let i = 0; i < 3; i++) records.push(await operator.seal(people, { id: `M${i}`, createdAt: '2025-03-05T00:00:00Z', mobile: mobileOf(i) }));
    const leaked = await leak(keyring, keyStore, G1);
    const retired = await operator.retireIndexKeys({ keyClass: 'contact', scope: '2025-03' });
    expect(retired).toEqual([G1]);
    await setRetired(keyStore, G1, undefined);

    const { reindexed } = await reindexAll(operator, records, later);
    await expect(operator.shredRetiredIndexKeys(retired, { reindexed })).rejects.toThrow(/no longer retired/);
    await expect(shredRetiredIndexKeys(keyStore, retired, { reindexed, ttlMs: TTL })).rejects.toThrow(/no longer retired/);
    expect((await keyStore.get(G1))?.shreddedAt).toBeUndefined();
    // The operator learns it: the leaked key still works, so the rotation is not done.
    expect(recoverWith(leaked, records[0]!)).toEqual([mobileOf(0)]);
  });

  it('flipping the flags (g1 live again, g2 retired): reindex moves records forward to g3, never back to the leaked g1, and step 3 refuses', async () => {
    const { keyring, keyStore, sealer, later } = setup();
    const service = sealer();
    const records: Person[] = [];
    for (let i = 0; i < 2; i++) records.push(await service.seal(people, { id: `M${i}`, createdAt: '2025-03-05T00:00:00Z', mobile: mobileOf(i) }));
    const leaked = await leak(keyring, keyStore, G1);
    const retired = await service.retireIndexKeys({ keyClass: 'contact', scope: '2025-03' });
    records.push(await service.seal(people, { id: 'M2', createdAt: '2025-03-09T00:00:00Z', mobile: mobileOf(2) }));
    expect(storedToken(people, records[2]!, 'mobile')).toMatch(/^2025-03~2\./);
    const retiredAt = (await keyStore.get(G1))!.retiredAt!;
    await setRetired(keyStore, G1, undefined);
    await setRetired(keyStore, G2, retiredAt);

    const operator = sealer(); // the rotation job
    const { out, reindexed } = await reindexAll(operator, records, later);
    const tokens = out.map((x) => storedToken(people, x.record, 'mobile')!);
    expect(tokens.every((t) => t.startsWith('2025-03~3.'))).toBe(true);
    for (const { record } of out) expect(recoverWith(leaked, record)).toEqual([]);
    // New seals, here and in a fresh process, go forward too.
    for (const p of [operator, sealer()]) {
      const late = await p.seal(people, { id: 'L', createdAt: '2025-03-20T00:00:00Z', mobile: mobileOf(5) });
      expect(storedToken(people, late, 'mobile')).toMatch(/^2025-03~3\./);
    }
    await expect(operator.shredRetiredIndexKeys(retired, { reindexed })).rejects.toThrow(/no longer retired/);
    // Even with g1 marked retired again, a newer generation retired outside this rotation is refused.
    await setRetired(keyStore, G1, retiredAt);
    await expect(operator.shredRetiredIndexKeys(retired, { reindexed })).rejects.toThrow(/contact-index\/2025-03\/2, newer than contact-index\/2025-03\/1, is retired too/);
    for (const id of [G1, G2]) expect((await keyStore.get(id))?.shreddedAt).toBeUndefined();
  });

  it('step 3 takes only the index keys step 1 retired', async () => {
    const { keyStore, sealer } = setup();
    const operator = sealer();
    await operator.seal(people, { id: 'M', createdAt: '2025-03-05T00:00:00Z', mobile: mobileOf(1) });
    const reindexed = { startedAt: '2026-02-01T00:00:00Z', checkpoint: 1, failed: 0 };
    await expect(operator.shredRetiredIndexKeys([], { reindexed })).rejects.toThrow(/ids retireIndexKeys returned/);
    await expect(operator.shredRetiredIndexKeys(['contact/2025-03/1'], { reindexed })).rejects.toThrow(/not an index key/);
    await expect(operator.shredRetiredIndexKeys(['contact-index/2025-04/1'], { reindexed })).rejects.toThrow(/not an index key/);
    await expect(operator.shredRetiredIndexKeys([G1], { reindexed })).rejects.toThrow(/no longer retired/);
    expect((await keyStore.get(G1))?.shreddedAt).toBeUndefined();
  });

  it('after a retire, running processes converge on one new generation and stay on it (no generation per process, no leapfrogging)', async () => {
    const { keyStore, sealer, later } = setup();
    const processes = [sealer(), sealer(), sealer()];
    for (const [i, p] of processes.entries()) await p.seal(people, { id: `A${i}`, createdAt: '2025-03-05T00:00:00Z', mobile: mobileOf(i) });
    await retireIndexKeysOf(keyStore);
    for (let round = 0; round < 3; round++) {
      later(TTL);
      for (const [i, p] of processes.entries()) {
        const r = await p.seal(people, { id: `B${round}${i}`, createdAt: '2025-03-06T00:00:00Z', mobile: mobileOf(i) });
        expect(storedToken(people, r, 'mobile')).toMatch(/^2025-03~2\./);
      }
    }
    expect((await keyStore.list({ keyClass: 'contact-index' })).map((r) => r.id)).toEqual([G1, G2]);
    expect((await keyStore.list({ keyClass: 'contact' })).map((r) => r.id)).toEqual(['contact/2025-03/1']);
  });

  it('data-key rotation: the same flip does not send a reseal (or new seals) back to the old data key', async () => {
    const { keyStore, keyring, sealer } = setup();
    const service = sealer();
    const records: Person[] = [await service.seal(people, { id: 'M0', createdAt: '2025-03-05T00:00:00Z', mobile: mobileOf(0) })];
    const retired = await retireDataKeys(keyStore, { keyClass: 'contact', scope: '2025-03' });
    expect(retired).toEqual(['contact/2025-03/1']);
    records.push(await sealer().seal(people, { id: 'M1', createdAt: '2025-03-06T00:00:00Z', mobile: mobileOf(1) }));
    const keyOf = (r: Person) => parseEnc(r.mobile.enc).dataKeyId;
    expect(keyOf(records[1]!)).toBe('contact/2025-03/2');
    const retiredAt = (await keyStore.get('contact/2025-03/1'))!.retiredAt!;
    await setRetired(keyStore, 'contact/2025-03/1', undefined);
    await setRetired(keyStore, 'contact/2025-03/2', retiredAt);

    const resealer = createResealer({ keyring, keyStore });
    const out = await collect(resealer.reseal(people, records));
    resealer.close();
    expect(out.map((x) => keyOf(x.record))).toEqual(['contact/2025-03/1', 'contact/2025-03/3']);
    const late = await sealer().seal(people, { id: 'L', createdAt: '2025-03-07T00:00:00Z', mobile: mobileOf(2) });
    expect(keyOf(late)).toBe('contact/2025-03/3');
  });
});

describe('R13c M1: the rotation does not miss records other processes seal within one key cache TTL', () => {
  it('step 3 refuses a reindex pass started less than one TTL after the retire; once the TTL has passed, a late record of another process is on the new generation', async () => {
    const { keyring, keyStore, sealer, later } = setup();
    const service = sealer(); // process B, its sealing index key cached
    const operator = sealer(); // process A
    const records: Person[] = [];
    for (let i = 0; i < 3; i++) records.push(await service.seal(people, { id: `M${i}`, createdAt: '2025-03-05T00:00:00Z', mobile: mobileOf(i) }));
    const leaked = await leak(keyring, keyStore, G1);

    const retired = await operator.retireIndexKeys({ keyClass: 'contact', scope: '2025-03' });
    later(30_000);
    const early = await collect(reindex(operator, people, records));
    // B still seals under g1 now: the documented procedure must not finish yet.
    expect(storedToken(people, await service.seal(people, { id: 'B0', createdAt: '2025-03-27T00:00:00Z', mobile: mobileOf(6) }), 'mobile')).toMatch(/^2025-03~1\./);
    await expect(operator.shredRetiredIndexKeys(retired, { reindexed: early.at(-1)!.pass })).rejects.toThrow(/less than one key cache TTL \(60000 ms\) after contact-index\/2025-03\/1 was retired/);
    await expect(shredRetiredIndexKeys(keyStore, retired, { reindexed: early.at(-1)!.pass, ttlMs: TTL })).rejects.toThrow(/less than one key cache TTL/);
    expect((await keyStore.get(G1))?.shreddedAt).toBeUndefined();

    // The table as the pass reads it, with B appending a late March parcel after the scan has passed.
    const table = [...early.map((x) => x.record)];
    table.push(await service.seal(people, { id: 'B0', createdAt: '2025-03-27T00:00:00Z', mobile: mobileOf(6) }));
    later(TTL);
    async function* scan() {
      const n = table.length;
      for (let i = 0; i < n; i++) yield table[i]!;
      table.push(await service.seal(people, { id: 'LATE', createdAt: '2025-03-28T00:00:00Z', mobile: mobileOf(7) }));
    }
    let reindexed;
    for await (const item of reindex(operator, people, scan())) {
      table[item.checkpoint - 1] = item.record;
      reindexed = item.pass;
    }
    expect((await operator.shredRetiredIndexKeys(retired, { reindexed: reindexed! })).shredded).toEqual([G1]);
    for (const record of table) {
      expect(storedToken(people, record, 'mobile')).toMatch(/^2025-03~2\./);
      expect(recoverWith(leaked, record)).toEqual([]);
    }
    const fresh = sealer();
    expect(await fresh.tokensFor(people, 'mobile', mobileOf(7), SEARCH)).toContain(storedToken(people, table.at(-1)!, 'mobile'));
  });

  it('a pass resumed from a bare checkpoint number has no start time: step 3 refuses it; resumed from item.pass it carries the first run’s', async () => {
    const { keyStore, sealer, later } = setup();
    const operator = sealer();
    const records: Person[] = [];
    for (let i = 0; i < 3; i++) records.push(await operator.seal(people, { id: `M${i}`, createdAt: '2025-03-05T00:00:00Z', mobile: mobileOf(i) }));
    const retired = await operator.retireIndexKeys({ keyClass: 'contact', scope: '2025-03' });
    later(TTL);
    const first = [];
    for await (const item of reindex(operator, people, records)) {
      first.push(item);
      if (item.checkpoint === 1) break;
    }
    later(TTL);
    const byNumber = await collect(reindex(operator, people, records, { resumeFrom: 1 }));
    expect(byNumber.at(-1)!.pass.startedAt).toBeUndefined();
    await expect(operator.shredRetiredIndexKeys(retired, { reindexed: byNumber.at(-1)!.pass })).rejects.toThrow(/no start time/);
    const byPass = await collect(reindex(operator, people, records, { resumeFrom: first.at(-1)!.pass }));
    expect(byPass.at(-1)!.pass).toEqual({ startedAt: first[0]!.pass.startedAt, checkpoint: 3, failed: 0 });
    expect((await operator.shredRetiredIndexKeys(retired, { reindexed: byPass.at(-1)!.pass })).shredded).toEqual([G1]);
    expect((await keyStore.get(G1))?.shreddedAt).toBeDefined();
  });
});

describe('R13c L2: one tampered row does not stop the rotation’s reindex for good', () => {
  const tamperings: [string, (r: Person) => unknown][] = [
    ['createdAt moved to April (plain, tag-bound)', (r) => ({ ...r, createdAt: '2025-04-05' })],
    ['protected field made plain', (r) => ({ ...r, mobile: '13900000000' })],
    ['tag removed', (r) => Object.fromEntries(Object.entries(r).filter(([k]) => k !== '$tag'))],
  ];
  it.each(tamperings)('%s: the row is yielded as failed (code, record id, no value), the rest move on, step 3 refuses while it remains', async (_, tamper) => {
    const { keyStore, sealer, later } = setup();
    const operator = sealer();
    const rows: Person[] = [];
    for (let i = 0; i < 3; i++) rows.push(await operator.seal(people, { id: `M${i}`, createdAt: '2025-03-05T00:00:00Z', mobile: mobileOf(i) }));
    rows[1] = tamper(rows[1]!) as Person;
    const retired = await operator.retireIndexKeys({ keyClass: 'contact', scope: '2025-03' });
    const { out, reindexed } = await reindexAll(operator, rows, later);
    expect(out.map((x) => x.checkpoint)).toEqual([1, 2, 3]);
    expect(out[1]!.failed?.code).toMatch(/^[A-Z_]+$/);
    expect(out[1]!.failed?.message).toContain('record "M1" (input 2)');
    expect(JSON.stringify(out[1]!.failed)).not.toMatch(/1390/);
    expect(out[1]!.record).toBe(rows[1]);
    for (const i of [0, 2]) expect(storedToken(people, out[i]!.record, 'mobile')).toMatch(/^2025-03~2\./);
    expect(reindexed).toMatchObject({ checkpoint: 3, failed: 1 });
    await expect(operator.shredRetiredIndexKeys(retired, { reindexed })).rejects.toThrow(/1 record\(s\) could not be reindexed/);
    expect((await keyStore.get(G1))?.shreddedAt).toBeUndefined();
  });
});

describe('R13c L5: step 1 of a rotation leaves an audit trail', () => {
  it('retireIndexKeys (sealer and store) writes a retire event with the ids and the request, never a value', async () => {
    const { keyStore, sealer } = setup();
    const operator = sealer();
    for (const month of ['2025-03', '2025-04']) await operator.seal(people, { id: month, createdAt: `${month}-05T00:00:00Z`, mobile: mobileOf(1) });
    const events: unknown[] = [];
    const audit = { write: async (e: unknown) => void events.push(e) };
    expect(await operator.retireIndexKeys({ keyClass: 'contact', scope: '2025-03' }, { audit })).toEqual([G1]);
    expect(await retireIndexKeys(keyStore, { scope: '2025-04' }, { audit })).toEqual(['contact-index/2025-04/1']);
    expect(events).toEqual([
      { type: 'retire', time: '2026-01-05T00:00:00.000Z', dataKeyIds: [G1], request: { indexKeys: 'contact', scope: '2025-03' } },
      { type: 'retire', time: expect.any(String), dataKeyIds: ['contact-index/2025-04/1'], request: { indexKeys: '*', scope: '2025-04' } },
    ]);
    expect(JSON.stringify(events)).not.toContain(mobileOf(1));
    expect(await retireIndexKeys(keyStore, { keyClass: 'address' }, { audit })).toEqual([]);
    expect(events).toHaveLength(2); // nothing retired, nothing written
  });
});
