/**
 * Keys a running sealer holds (issue 14): a key shredded by another process stops sealing within the
 * cache TTL, `forget()` and `close()` zero every key buffer the sealer and its key manager hold, and a
 * cached key only serves ciphertexts of the suite it was made for.
 */
import { describe, expect, it } from 'vitest';
import { getSuite } from '../../src/crypto/aead.js';
import { randomNonce } from '../../src/crypto/random.js';
import { encryptField } from '../../src/format/field-crypto.js';
import { parseEnc } from '../../src/format/sealed-field.js';
import { contextOf, DataKeyManager } from '../../src/keys/data-keys.js';
import {
  AuthenticationError,
  CachingKeyring,
  createSealer,
  generateLocalKeyMaterial,
  LocalKeyring,
  MemoryKeyStore,
  ShreddedError,
  shred,
  waybill,
  type Keyring,
  type SealedRecord,
} from '../../src/index.js';
import { sampleWaybill } from '../helpers.js';

const plain = { principal: 'ops', purpose: 'test', reveal: 'plain' } as const;
const keyIds = (r: SealedRecord<typeof waybill>) => [r.sender.name.enc, r.sender.address.detail.enc, r.sender.idNumber!.enc].map((e) => parseEnc(e).dataKeyId);

/** A keyring that records every data key buffer it hands out or is given, to check they end up zeroed. */
function recording(inner: Keyring): { keyring: Keyring; seen: Uint8Array[] } {
  const seen: Uint8Array[] = [];
  const keyring: Keyring = {
    currentKekId: (c) => inner.currentKekId(c),
    wrap: (key, ctx) => {
      seen.push(key);
      return inner.wrap(key, ctx);
    },
    unwrap: async (w, ctx) => {
      const key = await inner.unwrap(w, ctx);
      seen.push(key);
      return key;
    },
    secret: (name, version) => inner.secret!(name, version),
    secretVersions: (name) => inner.secretVersions!(name),
  };
  return { keyring, seen };
}

const zero = (b: Uint8Array) => b.every((x) => x === 0);

describe('shred reaches running sealers', () => {
  it('sealer A keeps sealing after B shredded the scope only until its cache TTL; then the tombstoned key is refused', async () => {
    let now = 0;
    const material = generateLocalKeyMaterial();
    const keyStore = new MemoryKeyStore();
    const a = createSealer({ keyring: new LocalKeyring(material), keyStore, guard: 'allow-all', cache: { ttlMs: 60_000, now: () => now } });
    const first = await a.seal(waybill, sampleWaybill());
    const shredded = keyIds(first);

    // Process B shreds the month (its own sealer and key store client: A is not told).
    const report = await shred(keyStore, '*', '2025-03');
    expect(report.shredded).toEqual(expect.arrayContaining(shredded));

    // Within the TTL A may still seal under its held key (the documented window); after it, never.
    now = 60_001;
    const after = await a.seal(waybill, sampleWaybill());
    for (const id of keyIds(after)) expect(shredded).not.toContain(id);
    // What A seals now opens (a fresh generation, not a destroyed key).
    const b = createSealer({ keyring: new LocalKeyring(material), keyStore, guard: 'allow-all' });
    await expect(b.open(waybill, after, plain)).resolves.toMatchObject({ opened: expect.arrayContaining(['sender.name']) });
    a.close();
    b.close();
  });

  it('trySeal (the no-wait path) also stops at the TTL: a stale key goes back to the store', async () => {
    let now = 0;
    const keyStore = new MemoryKeyStore();
    const m = new DataKeyManager(new LocalKeyring(generateLocalKeyMaterial()), keyStore, { cache: { ttlMs: 1000, now: () => now } });
    const k = await m.forSeal('contact', '2025-03', 'xchacha20-poly1305');
    expect(m.trySeal('contact', '2025-03', 'xchacha20-poly1305')?.id).toBe(k.id);
    await shred(keyStore, 'contact', '2025-03');
    now = 1000;
    expect(m.trySeal('contact', '2025-03', 'xchacha20-poly1305')).toBeUndefined();
    const next = await m.forSeal('contact', '2025-03', 'xchacha20-poly1305');
    expect(next.id).toBe('contact/2025-03/2');
    // The refused key's held copy is zeroed.
    expect(zero(k.key)).toBe(true);
    m.close();
  });
});

describe('shred reaches running openers', () => {
  it('opener A with a warm cache: after B (another sealer on the store) shreds the month, A refuses to open once the re-check interval passed', async () => {
    let now = 0;
    const material = generateLocalKeyMaterial();
    const keyStore = new MemoryKeyStore();
    const b = createSealer({ keyring: new LocalKeyring(material), keyStore, guard: 'allow-all' });
    const sealed = await b.seal(waybill, sampleWaybill());
    const a = createSealer({ keyring: new LocalKeyring(material), keyStore, guard: 'allow-all', cache: { ttlMs: 60_000, now: () => now } });
    await a.open(waybill, sealed, plain);

    await shred(keyStore, '*', '2025-03');
    // Opening under a warm cache keeps the key alive no longer than the re-check interval (the cache TTL).
    now = 59_999;
    await a.open(waybill, sealed, plain);
    now = 60_000;
    await expect(a.open(waybill, sealed, plain)).rejects.toBeInstanceOf(ShreddedError);
    a.close();
    b.close();
  });
});

describe('a key leaving the cache is zeroed', () => {
  /** Keys sealed by another manager, so `m` unwraps them from the store through the recording keyring. */
  async function setup(cache: { maxEntries?: number; ttlMs?: number; now?: () => number }) {
    const inner = new LocalKeyring(generateLocalKeyMaterial());
    const keyStore = new MemoryKeyStore();
    const writer = new DataKeyManager(inner, keyStore);
    const ids = [await writer.forSeal('contact', '2025-03', 'xchacha20-poly1305'), await writer.forSeal('contact', '2025-04', 'xchacha20-poly1305')];
    writer.close();
    const { keyring, seen } = recording(inner);
    return { m: new DataKeyManager(keyring, keyStore, { cache }), ids, seen, inner };
  }

  it('evicted (cache full): the evicted key is zeroed, at once if no open holds it, else when the open releases it', async () => {
    const { m, ids, seen, inner } = await setup({ maxEntries: 1 });
    const first = await m.forOpen(ids[0]!.id, ids[0]!.suite);
    m.release([first]);
    const second = await m.forOpen(ids[1]!.id, ids[1]!.suite);
    expect(zero(first.key)).toBe(true);
    // `second` is pinned (an open still uses it): evicted but not zeroed until released.
    const third = await m.forOpen(ids[0]!.id, ids[0]!.suite);
    expect(zero(second.key)).toBe(false);
    m.release([second]);
    expect(zero(second.key)).toBe(true);
    expect(zero(third.key)).toBe(false);
    expect(seen).toHaveLength(3);
    for (const b of seen.slice(0, 2)) expect(zero(b)).toBe(true);
    m.close();
    expect(zero(third.key)).toBe(true);
    inner.close();
  });

  it('expired (TTL): the key is zeroed when the cache sees it expired, and a later open unwraps it again', async () => {
    let now = 0;
    const { m, ids, seen, inner } = await setup({ ttlMs: 1000, now: () => now });
    const k = await m.forOpen(ids[0]!.id, ids[0]!.suite);
    m.release([k]);
    now = 1000;
    expect(m.tryOpen(k.id, k.suite)).toBeUndefined();
    expect(zero(k.key)).toBe(true);
    const again = await m.forOpen(k.id, k.suite);
    expect(zero(again.key)).toBe(false);
    expect(seen).toHaveLength(2);
    m.close();
    inner.close();
  });

  it('a sealing key refused after a shred: the keyring buffer cached for it is zeroed too, not only the sealing copy', async () => {
    let now = 0;
    const inner = new LocalKeyring(generateLocalKeyMaterial());
    const { keyring, seen } = recording(inner);
    const keyStore = new MemoryKeyStore();
    const m = new DataKeyManager(keyring, keyStore, { cache: { ttlMs: 1000, now: () => now } });
    await m.forSeal('contact', '2025-03', 'xchacha20-poly1305');
    expect(seen).toHaveLength(1);
    await shred(keyStore, 'contact', '2025-03');
    now = 1000;
    await m.forSeal('contact', '2025-03', 'xchacha20-poly1305');
    expect(zero(seen[0]!)).toBe(true);
    expect(zero(seen[1]!)).toBe(false);
    m.close();
    inner.close();
  });

  it('concurrent opens over more keys than the cache holds: every record opens (a key zeroed by eviction mid-open is taken again)', async () => {
    const material = generateLocalKeyMaterial();
    const keyStore = new MemoryKeyStore();
    const writer = createSealer({ keyring: new LocalKeyring(material), keyStore, guard: 'allow-all' });
    const months = ['01', '02', '03', '04', '05', '06'];
    const records = await Promise.all(months.map((mm) => writer.seal(waybill, { ...sampleWaybill(), waybillNo: `SF12345678${mm}123`, createdAt: `2025-${mm}-01T08:30:00+08:00` })));
    const classes = new Set(records.flatMap(keyIds).map((id) => id.split('/')[0]));
    // The cache holds one record's keys: every concurrent open evicts (and zeroes) another's.
    const reader = createSealer({ keyring: new LocalKeyring(material), keyStore, guard: 'allow-all', cache: { maxEntries: classes.size } });
    for (let round = 0; round < 3; round++) {
      const opened = await Promise.all(records.map((r) => reader.open(waybill, r, plain)));
      for (const o of opened) expect(o.record.sender.name).toBe('张三');
    }
    writer.close();
    reader.close();
  });
});

describe('a CachingKeyring behind a sealer', () => {
  for (const end of ['forget', 'close'] as const) {
    it(`sealer.${end}() zeroes the keys the CachingKeyring cached${end === 'forget' ? '; the sealer then unwraps again' : ''}`, async () => {
      const inner = new LocalKeyring(generateLocalKeyMaterial());
      const { keyring: rec, seen } = recording(inner);
      const keyring = new CachingKeyring(rec);
      const keyStore = new MemoryKeyStore();
      const writer = createSealer({ keyring: inner, keyStore, guard: 'allow-all' });
      const sealed = await writer.seal(waybill, sampleWaybill());
      const sealer = createSealer({ keyring, keyStore, guard: 'allow-all' });
      await sealer.open(waybill, sealed, plain);
      expect(keyring.stats.size).toBeGreaterThan(0);
      sealer[end]();
      expect(keyring.stats.size).toBe(0);
      // The inner keyring's buffers went to the CachingKeyring's caller; its own copies are zeroed by clear().
      for (const b of seen) expect(zero(b)).toBe(true);
      if (end === 'forget') {
        const misses = keyring.stats.misses;
        await expect(sealer.open(waybill, sealed, plain)).resolves.toMatchObject({ opened: expect.arrayContaining(['sender.name']) });
        expect(keyring.stats.misses).toBeGreaterThan(misses);
        sealer.close();
      }
      writer.close();
      inner.close();
    });
  }
});

describe('forget() and close() zero every held copy of a data key', () => {
  for (const end of ['forget', 'close'] as const) {
    it(`${end}(): the key manager's sealing copies, its cache and every buffer the keyring returned are zeroed`, async () => {
      const inner = new LocalKeyring(generateLocalKeyMaterial());
      const { keyring, seen } = recording(inner);
      const keyStore = new MemoryKeyStore();
      const m = new DataKeyManager(keyring, keyStore);
      const held = [await m.forSeal('contact', '2025-03', 'aes-256-gcm'), await m.forSeal('address', '2025-03', 'xchacha20-poly1305')];
      // A second manager (another process) unwraps from the store: that path's buffers too.
      const other = new DataKeyManager(keyring, keyStore);
      const sealing = [...held];
      for (const k of sealing) held.push(await other.forOpen(k.id, k.suite));
      for (const k of sealing) held.push(await m.forOpen(k.id, k.suite));
      expect(held.some((k) => zero(k.key))).toBe(false);
      m[end]();
      other[end]();
      for (const k of held) expect(zero(k.key)).toBe(true);
      for (const b of seen) expect(zero(b)).toBe(true);
      inner.close();
    });
  }

  it('sealer.forget() after seal and open: every data key the keyring handed out is zeroed, and the sealer still works', async () => {
    const inner = new LocalKeyring(generateLocalKeyMaterial());
    const { keyring, seen } = recording(inner);
    const keyStore = new MemoryKeyStore();
    const sealer = createSealer({ keyring, keyStore, guard: 'allow-all', suite: 'aes-256-gcm' });
    const sealed = await sealer.seal(waybill, sampleWaybill());
    const other = createSealer({ keyring, keyStore, guard: 'allow-all' });
    await other.open(waybill, sealed, plain);
    expect(seen.length).toBeGreaterThan(0);
    sealer.forget();
    other.forget();
    for (const b of seen) expect(zero(b)).toBe(true);
    // Forgetting is not closing: keys are read again.
    await expect(sealer.open(waybill, sealed, plain)).resolves.toBeDefined();
    sealer.close();
    other.close();
    inner.close();
  });
});

describe('a cached data key serves only its own suite', () => {
  it('an AES-GCM ciphertext made under an XChaCha data key id does not open, with the cache warm or cold', async () => {
    const material = generateLocalKeyMaterial();
    const keyring = new LocalKeyring(material);
    const keyStore = new MemoryKeyStore();
    const sealer = createSealer({ keyring, keyStore, guard: 'allow-all', integrity: false });
    const sealed = await sealer.seal(waybill, sampleWaybill());
    const { dataKeyId } = parseEnc(sealed.receiver.name.enc);
    // The attacker's ciphertext: AES-256-GCM under the same key bytes, naming the XChaCha key's id.
    const row = (await keyStore.get(dataKeyId))!;
    const key = await keyring.unwrap(row, contextOf(row));
    const binding = { schemaName: waybill.name, schemaVersion: waybill.version, recordId: sealed.waybillNo, fieldPath: 'receiver.name' };
    const forged = encryptField(getSuite('aes-256-gcm'), { id: dataKeyId, key }, randomNonce(12), binding, '攻击者');
    const tampered = { ...sealed, receiver: { ...sealed.receiver, name: { ...sealed.receiver.name, enc: forged } } };

    // Warm: the seal left the XChaCha key in the cache.
    await expect(sealer.open(waybill, tampered, plain)).rejects.toBeInstanceOf(AuthenticationError);
    // Cold: a fresh sealer loads the key from the store.
    const cold = createSealer({ keyring, keyStore, guard: 'allow-all', integrity: false });
    await expect(cold.open(waybill, tampered, plain)).rejects.toBeInstanceOf(AuthenticationError);
    // And the key manager itself: no cached key under another suite.
    const m = new DataKeyManager(keyring, keyStore);
    await m.forOpen(dataKeyId, 'xchacha20-poly1305');
    expect(m.tryOpen(dataKeyId, 'aes-256-gcm')).toBeUndefined();
    await expect(m.forOpen(dataKeyId, 'aes-256-gcm')).rejects.toBeInstanceOf(AuthenticationError);
    for (const x of [sealer, cold, m]) x.close();
  });
});
