import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  AuthenticationError,
  CachingKeyring,
  createSealer,
  generateLocalKeyMaterial,
  KeyError,
  LocalKeyring,
  MemoryKeyStore,
  MultiKeyring,
  rewrapDataKeys,
  type Keyring,
  type SealedRecord,
  type WrapContext,
  type WrappedDataKey,
  type SecretName,
} from '../../src/index.js';
import { ctx, injectedDataKeyContract, keyringContract, tinySchema } from './keyring-contract.js';

const local = () => new LocalKeyring(generateLocalKeyMaterial());
const CLASSES = ['contact', 'address', 'identity', 'note'];

keyringContract('LocalKeyring', async () => ({ keyring: local(), classes: CLASSES }));
keyringContract('MultiKeyring (local primary + local secondary)', async () => ({ keyring: new MultiKeyring(local(), local()), classes: CLASSES }));
keyringContract('CachingKeyring (over LocalKeyring)', async () => ({ keyring: new CachingKeyring(local()), classes: CLASSES }));

/** Counts the calls that reach a keyring (the "KEK authority"). */
export class CountingKeyring implements Keyring {
  wraps = 0;
  unwraps = 0;
  constructor(readonly inner: Keyring) {}
  currentKekId(c: string) {
    return this.inner.currentKekId(c);
  }
  wrap(k: Uint8Array, c: WrapContext) {
    this.wraps++;
    return this.inner.wrap(k, c);
  }
  unwrap(w: WrappedDataKey, c: WrapContext) {
    this.unwraps++;
    return this.inner.unwrap(w, c);
  }
  // Named secrets (record tags, indexes) are not KEK-authority calls: passed through, not counted.
  secret(name: SecretName, version?: number) {
    return this.inner.secret!(name, version);
  }
}

/** A key file of the attacker's own: a KEK version this deployment never configured. */
const attackerWrap = (key: Uint8Array, c: WrapContext) => {
  const m = generateLocalKeyMaterial(CLASSES);
  return new LocalKeyring({ ...m, keks: [{ ...m.keks[0]!, version: 7 }], currentKek: 7 }).wrap(key, c);
};

describe('KEK pinning: injected data keys', () => {
  injectedDataKeyContract('LocalKeyring', async () => ({ keyring: local(), attackerWrap }));
  injectedDataKeyContract('MultiKeyring (every member pins)', async () => ({ keyring: new MultiKeyring(local(), local()), attackerWrap }));
  injectedDataKeyContract('CachingKeyring', async () => ({ keyring: new CachingKeyring(local()), attackerWrap }));

  it('a row naming a configured KEK id but wrapped under another key does not authenticate: refused for sealing, typed', async () => {
    const keyring = local();
    const keyStore = new MemoryKeyStore();
    const c = ctx({ dataKeyId: 'contact/2025-01/1', scope: '2025-01' });
    // Same id (local:v1:contact), the attacker's key bytes.
    const w = await new LocalKeyring(generateLocalKeyMaterial(CLASSES)).wrap(new Uint8Array(32).fill(7), c);
    expect(w.kekId).toBe(keyring.currentKekId('contact'));
    await keyStore.putIfAbsent({ id: c.dataKeyId, keyClass: 'contact', scope: '2025-01', generation: 1, suite: c.suite, ...w, createdAt: new Date().toISOString() });
    const sealer = createSealer({ keyring, keyStore, guard: 'allow-all' });
    await expect(sealer.seal(tinySchema, { id: 'R1', createdAt: '2025-01-15T00:00:00Z', name: '张三' })).rejects.toMatchObject({ reason: 'data_key_rejected' });
    sealer.close();
  });
});

describe('MultiKeyring', () => {
  it('wraps under the primary and unwraps keys of either authority', async () => {
    const oldKr = local();
    const newKr = local();
    const w = await oldKr.wrap(new Uint8Array(32).fill(7), ctx());
    const multi = new MultiKeyring(newKr, oldKr);
    expect(await multi.unwrap(w, ctx())).toEqual(new Uint8Array(32).fill(7));
    const w2 = await multi.wrap(new Uint8Array(32).fill(8), ctx());
    // Both are LocalKeyrings with v1 ids: the primary's wrap is the one that opens with the primary alone.
    expect(await newKr.unwrap(w2, ctx())).toEqual(new Uint8Array(32).fill(8));
    expect(multi.currentKekId('contact')).toBe(newKr.currentKekId('contact'));
  });

  it('fails with AuthenticationError when no keyring can unwrap, KeyError when none holds the KEK', async () => {
    const multi = new MultiKeyring(local(), local());
    const w = await local().wrap(new Uint8Array(32).fill(1), ctx());
    await expect(multi.unwrap(w, ctx())).rejects.toBeInstanceOf(AuthenticationError);
    const noKek = { currentKekId: () => undefined, wrap: async () => Promise.reject(new KeyError('no_kek')), unwrap: async () => Promise.reject(new KeyError('no_kek')) };
    await expect(new MultiKeyring(noKek, noKek).unwrap(w, ctx())).rejects.toMatchObject({ reason: 'no_kek' });
  });

  it('migrates every data key from one authority to another with rewrapDataKeys; then the old one can go', async () => {
    const oldMaterial = generateLocalKeyMaterial();
    const oldKr = new LocalKeyring(oldMaterial);
    const keyStore = new MemoryKeyStore();
    const sealer = createSealer({ keyring: oldKr, keyStore, guard: 'allow-all' });
    const plain = Array.from({ length: 60 }, (_, i) => ({ id: `M${i}`, createdAt: `2024-${String(1 + (i % 12)).padStart(2, '0')}-03T00:00:00Z`, name: '李四' }));
    const sealed = [];
    for (const p of plain) sealed.push(await sealer.seal(tinySchema, p));
    sealer.close();

    // The new authority: a second local keyring whose KEK ids differ (version 7).
    const m = generateLocalKeyMaterial();
    // KEKs move to the new authority; the named secrets (record tags, indexes) move with the data.
    const newKr = new LocalKeyring({ ...m, keks: m.keks.map((k) => ({ ...k, version: 7 })), currentKek: 7, secrets: oldMaterial.secrets! });
    const summary = await rewrapDataKeys(new MultiKeyring(newKr, oldKr), keyStore);
    expect(summary.rewrapped).toBe(12);
    expect((await keyStore.list()).every((r) => r.kekId === 'local:v7:contact')).toBe(true);

    const after = createSealer({ keyring: newKr, keyStore, guard: 'allow-all' });
    for (let i = 0; i < plain.length; i++) expect((await after.open(tinySchema, sealed[i]!, { principal: 'm', purpose: 'check', reveal: 'plain' })).record).toEqual(plain[i]);
    expect((await rewrapDataKeys(new MultiKeyring(newKr, oldKr), keyStore)).rewrapped).toBe(0);
  });
});

describe('CachingKeyring', () => {
  it('serves repeated unwraps from the cache within max age and max uses', async () => {
    let now = 0;
    const inner = new CountingKeyring(local());
    const cache = new CachingKeyring(inner, { maxAgeMs: 1000, maxUses: 3, now: () => now });
    const w = await cache.wrap(new Uint8Array(32).fill(3), ctx());
    for (let i = 0; i < 3; i++) await cache.unwrap(w, ctx());
    expect(inner.unwraps).toBe(1);
    await cache.unwrap(w, ctx()); // 4th use: over maxUses
    expect(inner.unwraps).toBe(2);
    now += 1001; // past maxAge
    await cache.unwrap(w, ctx());
    expect(inner.unwraps).toBe(3);
    expect(cache.stats).toMatchObject({ hits: 2, misses: 3, wraps: 1 });
  });

  it('shares one call among concurrent unwraps, and hands out copies', async () => {
    const inner = new CountingKeyring(local());
    const cache = new CachingKeyring(inner);
    const w = await cache.wrap(new Uint8Array(32).fill(9), ctx());
    const keys = await Promise.all(Array.from({ length: 10 }, () => cache.unwrap(w, ctx())));
    expect(inner.unwraps).toBe(1);
    keys[0]!.fill(0); // a caller zeroing its copy (sealer close) …
    expect(await cache.unwrap(w, ctx())).toEqual(new Uint8Array(32).fill(9)); // … does not touch the cache
  });

  it('never answers a tampered or re-contexted wrapped key from the cache', async () => {
    const cache = new CachingKeyring(local());
    const w = await cache.wrap(new Uint8Array(randomBytes(32)), ctx());
    await cache.unwrap(w, ctx());
    await expect(cache.unwrap(w, ctx({ scope: '2025-04' }))).rejects.toBeInstanceOf(AuthenticationError);
    await expect(cache.unwrap({ ...w, wrapped: w.wrapped.replace(/.$/, (c) => (c === 'A' ? 'Q' : 'A')) }, ctx())).rejects.toBeInstanceOf(AuthenticationError);
  });

  it('bounds authority calls for several sealers opening across many scopes', async () => {
    const inner = new CountingKeyring(local());
    const keyStore = new MemoryKeyStore();
    const writer = createSealer({ keyring: inner, keyStore, guard: 'allow-all' });
    const sealed: SealedRecord<typeof tinySchema>[] = [];
    for (let i = 0; i < 240; i++) {
      sealed.push(await writer.seal(tinySchema, { id: `S${i}`, createdAt: `20${20 + (i % 5)}-${String(1 + (i % 12)).padStart(2, '0')}-01T00:00:00Z`, name: '王五' }));
    }
    writer.close();
    const scopes = (await keyStore.list()).length;
    expect(inner.wraps).toBe(scopes);

    const shared = new CachingKeyring(inner);
    const readers = Array.from({ length: 4 }, () => createSealer({ keyring: shared, keyStore, guard: 'allow-all' }));
    const before = inner.unwraps;
    await Promise.all(readers.map(async (r) => {
      for (const s of sealed) await r.open(tinySchema, s, { principal: 'r', purpose: 'count', reveal: 'plain' });
    }));
    // 4 sealers × 240 records, one authority call per data key.
    expect(inner.unwraps - before).toBe(scopes);
    readers.forEach((r) => r.close());
  });
});
