/** Misuse resistance: what the public API makes impossible or refuses. */
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  KeyError,
  LocalKeyring,
  MemoryKeyStore,
  createSealer,
  generateLocalKeyMaterial,
  waybill,
  type Keyring,
  type SealerOptions,
} from '../../src/index.js';
import { toBase64Url } from '../../src/crypto/bytes.js';
import { freshSealer, sampleWaybill } from '../helpers.js';

const kek = (bytes: Uint8Array) => ({ keks: [{ version: 1, createdAt: '', keys: { contact: toBase64Url(bytes) } }], currentKek: 1 });

describe('misuse resistance', () => {
  it('nonces cannot be chosen through the public API, and never repeat', async () => {
    // No option, argument or method takes a nonce or a random source.
    expectTypeOf<SealerOptions>().not.toHaveProperty('nonce');
    expectTypeOf<SealerOptions>().not.toHaveProperty('random');
    const { sealer } = freshSealer({ suite: 'aes-256-gcm' });
    const nonces = new Set<string>();
    let count = 0;
    for (let i = 0; i < 400; i++) {
      const sealed = await sealer.seal(waybill, { ...sampleWaybill(), waybillNo: `N${i}` });
      for (const f of [sealed.sender.name, sealed.sender.mobile!, sealed.receiver.name, sealed.receiver.mobile!, sealed.remark!]) {
        const payload = Buffer.from(f.enc.slice(f.enc.lastIndexOf('.') + 1), 'base64url');
        nonces.add(payload.subarray(0, 12).toString('hex'));
        count++;
      }
    }
    expect(nonces.size).toBe(count);
  });

  it('refuses KEKs and secrets below 256 bits (128 for SM4) and all-zero keys', () => {
    expect(() => new LocalKeyring(kek(new Uint8Array(16).fill(7)))).toThrow(KeyError);
    expect(() => new LocalKeyring(kek(new Uint8Array(31).fill(7)))).toThrow(KeyError);
    expect(() => new LocalKeyring(kek(new Uint8Array(32)))).toThrow(/all zeros/);
    expect(() => new LocalKeyring({ ...kek(new Uint8Array(32).fill(7)), secrets: { integrity: [{ version: 1, key: toBase64Url(new Uint8Array(16).fill(1)) }] } })).toThrow(KeyError);
    const sm4 = { keks: [{ version: 1, createdAt: '', alg: 'sm4-gcm' as const, keys: { contact: toBase64Url(new Uint8Array(16).fill(7)) } }], currentKek: 1 };
    expect(() => new LocalKeyring(sm4)).not.toThrow();
    expect(() => new LocalKeyring({ ...sm4, keks: [{ ...sm4.keks[0]!, keys: { contact: toBase64Url(new Uint8Array(16)) } }] })).toThrow(/all zeros/);
  });

  it('a data key over its message cap is never used again (each generation stays within the cap)', async () => {
    const { sealer, keyStore } = freshSealer({ suite: 'aes-256-gcm', messageCap: 7 });
    const sealed = await sealer.sealMany(waybill, Array.from({ length: 9 }, (_, i) => ({ ...sampleWaybill(), waybillNo: `C${i}` })));
    const perKey = new Map<string, number>();
    for (const r of sealed) {
      for (const f of [r.sender.name, r.sender.mobile!, r.receiver.name, r.receiver.mobile!, r.receiver.virtualNumber!]) {
        const id = f.enc.split('.')[2]!;
        perKey.set(id, (perKey.get(id) ?? 0) + 1);
      }
    }
    expect(Math.max(...perKey.values())).toBeLessThanOrEqual(7);
    expect((await keyStore.list({ keyClass: 'contact' })).length).toBe(perKey.size);
  });

  it('close() and Symbol.dispose zero cached data keys; a disposed keyring and sealer refuse work', async () => {
    const material = generateLocalKeyMaterial();
    const keyStore = new MemoryKeyStore();
    const local = new LocalKeyring(material);
    const sealed = await createSealer({ keyring: local, keyStore }).seal(waybill, sampleWaybill());
    // A keyring that hands out the unwrapped keys it returns, so the test can see them zeroed.
    const handed: Uint8Array[] = [];
    const spy: Keyring = {
      currentKekId: (c) => local.currentKekId(c),
      wrap: (k, c) => local.wrap(k, c),
      unwrap: async (w, c) => {
        const k = await local.unwrap(w, c);
        handed.push(k);
        return k;
      },
      secret: (n, v) => local.secret(n, v),
      secretVersions: (n) => local.secretVersions(n),
    };
    {
      using reader = createSealer({ keyring: spy, keyStore, guard: 'allow-all' });
      await reader.open(waybill, sealed, { principal: 'p', purpose: 'p' });
      expect(handed.length).toBeGreaterThan(0);
      expect(handed.every((k) => k.some((b) => b !== 0))).toBe(true);
    }
    expect(handed.every((k) => k.every((b) => b === 0))).toBe(true);
    local[Symbol.dispose]();
    await expect(local.wrap(new Uint8Array(32).fill(1), { dataKeyId: 'contact/2025-03/9', keyClass: 'contact', scope: '2025-03', generation: 9, suite: 'xchacha20-poly1305' })).rejects.toThrow(KeyError);
  });
});
