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
  createSealer,
  generateLocalKeyMaterial,
  LocalKeyring,
  MemoryKeyStore,
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
