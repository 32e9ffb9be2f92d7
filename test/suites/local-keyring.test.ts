/** LocalKeyring and key files with SM4 KEKs (SM4-GCM wrap) next to XChaCha20-Poly1305 KEKs. */
import { describe, expect, it } from 'vitest';
import { sm4gcm } from '../../src/crypto/sm/sm4gcm.js';
import { contextOf } from '../../src/keys/data-keys.js';
import { wrapAad } from '../../src/keys/local-keyring.js';
import {
  AuthenticationError,
  KEK_ALGS,
  KeyError,
  KekNotAllowedError,
  LocalKeyring,
  generateLocalKeyMaterial,
  newKeyFile,
  parseKeyFile,
  MemoryKeyStore,
  waybill,
  type KekVersion,
  type LocalKeyMaterial,
} from '../../src/index.js';
import { sampleWaybill } from '../helpers.js';
import { access, testSealer } from './helpers.js';

const ctx = (suite = 'sm4-gcm', dataKeyId = 'contact/2025-03/1') => contextOf({ id: dataKeyId, keyClass: 'contact', scope: '2025-03', generation: Number(dataKeyId.split('/')[2]), suite });
const b64 = (length: number, fill = 7) => Buffer.alloc(length, fill).toString('base64url');
const secrets = generateLocalKeyMaterial([]).secrets!;
const material = (keks: KekVersion[], currentKek = 1): LocalKeyMaterial => ({ keks, currentKek, secrets });
const kekV = (version: number, alg: KekVersion['alg'], length: number, fill = version): KekVersion => ({
  version,
  createdAt: '2025-01-01T00:00:00.000Z',
  ...(alg ? { alg } : {}),
  keys: { contact: b64(length, fill) },
});

describe('key files and generated material', () => {
  it('newKeyFile: SM4 KEKs for the sm4-gcm suite, XChaCha KEKs otherwise; secrets always 256-bit', () => {
    expect(KEK_ALGS).toEqual(['xchacha20-poly1305', 'sm4-gcm']);
    for (const [suite, alg, len] of [
      ['sm4-gcm', 'sm4-gcm', 16],
      ['aes-256-gcm', 'xchacha20-poly1305', 32],
      ['xchacha20-poly1305', 'xchacha20-poly1305', 32],
    ] as const) {
      const file = newKeyFile(suite);
      expect(file.suite).toBe(suite);
      expect(file.keks[0]!.alg).toBe(alg);
      for (const k of Object.values(file.keks[0]!.keys)) expect(Buffer.from(k, 'base64url').length).toBe(len);
      for (const list of Object.values(file.secrets!)) expect(Buffer.from(list[0]!.key, 'base64url').length).toBe(32);
      // The file survives JSON and parses back into a working keyring.
      expect(() => new LocalKeyring(parseKeyFile(JSON.parse(JSON.stringify(file))))).not.toThrow();
    }
    expect(newKeyFile('aes-256-gcm', { kekAlg: 'sm4-gcm' }).keks[0]!.alg).toBe('sm4-gcm');
    expect(generateLocalKeyMaterial(['contact'], { kekAlg: 'sm4-gcm' }).keks[0]!.alg).toBe('sm4-gcm');
    expect(() => generateLocalKeyMaterial(['contact'], { kekAlg: 'des' as never })).toThrow(KeyError);
  });

  it('files without alg (written before it existed) still load as XChaCha20-Poly1305', async () => {
    const old = material([kekV(1, undefined, 32)]);
    const ring = new LocalKeyring(old);
    const w = await ring.wrap(new Uint8Array(32).fill(9), ctx('xchacha20-poly1305'));
    expect(Buffer.from(w.wrapped, 'base64url').length).toBe(24 + 32 + 16);
    expect(await ring.unwrap(w, ctx('xchacha20-poly1305'))).toEqual(new Uint8Array(32).fill(9));
  });

  it('refuses KEKs of the wrong size for their algorithm, all-zero KEKs and unknown algorithms', () => {
    expect(() => new LocalKeyring(material([kekV(1, 'sm4-gcm', 32)]))).toThrow(/128-bit/);
    expect(() => new LocalKeyring(material([kekV(1, 'sm4-gcm', 15)]))).toThrow(KeyError);
    expect(() => new LocalKeyring(material([kekV(1, undefined, 16)]))).toThrow(/256-bit/);
    expect(() => new LocalKeyring(material([kekV(1, 'sm4-gcm', 16, 0)]))).toThrow(/all zeros/);
    expect(() => new LocalKeyring(material([kekV(1, 'aes-kw' as never, 32)]))).toThrow(KeyError);
    const file = JSON.parse(JSON.stringify(newKeyFile('sm4-gcm')));
    file.keks[0].alg = 'sm4-cbc';
    expect(() => parseKeyFile(file)).toThrow(/malformed keks/);
  });
});

describe('SM4-GCM wrapping', () => {
  it('wraps with a 12-byte random nonce and the wrap AAD, and unwraps', async () => {
    const ring = new LocalKeyring(newKeyFile('sm4-gcm'));
    const dataKey = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
    const w = await ring.wrap(dataKey, ctx());
    expect(w.kekId).toBe('local:v1:contact');
    const raw = Buffer.from(w.wrapped, 'base64url');
    expect(raw.length).toBe(12 + 16 + 16);
    expect(await ring.unwrap(w, ctx())).toEqual(dataKey);
    expect((await ring.wrap(dataKey, ctx())).wrapped).not.toBe(w.wrapped);
  });

  it('is SM4-GCM of RFC 8998 under the KEK with the documented AAD (independent of LocalKeyring)', async () => {
    const kek = Uint8Array.from({ length: 16 }, (_, i) => 0x30 + i);
    const ring = new LocalKeyring(material([{ version: 1, createdAt: 'x', alg: 'sm4-gcm', keys: { contact: Buffer.from(kek).toString('base64url') } }]));
    const dataKey = new Uint8Array(32).fill(5); // an AES/XChaCha data key under an SM4 KEK works too
    const w = await ring.wrap(dataKey, ctx('aes-256-gcm'));
    const raw = Buffer.from(w.wrapped, 'base64url');
    const opened = sm4gcm(kek, raw.subarray(0, 12), wrapAad('local:v1:contact', ctx('aes-256-gcm'))).decrypt(raw.subarray(12));
    expect(opened).toEqual(dataKey);
  });

  it('a wrong KEK, another context, a tampered or truncated blob all give AuthenticationError', async () => {
    const ring = new LocalKeyring(newKeyFile('sm4-gcm'));
    const w = await ring.wrap(new Uint8Array(16).fill(3), ctx());
    await expect(new LocalKeyring(newKeyFile('sm4-gcm')).unwrap(w, ctx())).rejects.toThrow(AuthenticationError);
    await expect(ring.unwrap(w, ctx('aes-256-gcm'))).rejects.toThrow(AuthenticationError);
    await expect(ring.unwrap(w, ctx('sm4-gcm', 'contact/2025-03/2'))).rejects.toThrow(AuthenticationError);
    // Another class's KEK id: not configured for this data key's class, refused before decrypting.
    await expect(ring.unwrap({ ...w, kekId: 'local:v1:address' }, ctx())).rejects.toThrow(KekNotAllowedError);
    const raw = Buffer.from(w.wrapped, 'base64url');
    for (let i = 0; i < raw.length; i++) {
      const bad = Buffer.from(raw);
      bad[i]! ^= 0x80;
      await expect(ring.unwrap({ ...w, wrapped: bad.toString('base64url') }, ctx())).rejects.toThrow(AuthenticationError);
    }
    for (const len of [0, 12, 27]) {
      await expect(ring.unwrap({ ...w, wrapped: raw.subarray(0, len).toString('base64url') }, ctx())).rejects.toThrow(AuthenticationError);
    }
    // A KEK version the keyring does not hold is a KeyError, as before.
    await expect(ring.unwrap({ ...w, kekId: 'local:v9:contact' }, ctx())).rejects.toThrow(KeyError);
  });

  it('an SM-wrapped key shown to an XChaCha KEK of the same id fails (and vice versa)', async () => {
    const sm = new LocalKeyring(material([kekV(1, 'sm4-gcm', 16)]));
    const xc = new LocalKeyring(material([kekV(1, 'xchacha20-poly1305', 32)]));
    const a = await sm.wrap(new Uint8Array(16).fill(1), ctx());
    const b = await xc.wrap(new Uint8Array(16).fill(1), ctx());
    await expect(xc.unwrap(a, ctx())).rejects.toThrow(AuthenticationError);
    await expect(sm.unwrap(b, ctx())).rejects.toThrow(AuthenticationError);
  });

  it('KEK versions of different algorithms coexist: a move from XChaCha KEKs (v1) to SM4 KEKs (v2)', async () => {
    const keyStore = new MemoryKeyStore();
    const classes = ['contact', 'address', 'identity', 'note'].flatMap((c) => [c, `${c}-index`]);
    const v1 = material([{ ...kekV(1, undefined, 32), keys: Object.fromEntries(classes.map((c, i) => [c, b64(32, 0x10 + i)])) }]);
    const before = await testSealer({ keyring: new LocalKeyring(v1), keyStore }).seal(waybill, sampleWaybill());
    const v2 = material([...v1.keks, { ...kekV(2, 'sm4-gcm', 16), keys: Object.fromEntries(classes.map((c, i) => [c, b64(16, 0x20 + i)])) }], 2);
    const ring = new LocalKeyring(v2);
    expect(ring.currentKekId('contact')).toBe('local:v2:contact');
    const sealer = testSealer({ keyring: ring, keyStore, suite: 'sm4-gcm' });
    const after = await sealer.seal(waybill, sampleWaybill());
    const sm = (await keyStore.list({ keyClass: 'contact' })).find((r) => r.suite === 'sm4-gcm')!;
    expect(sm.kekId).toBe('local:v2:contact');
    expect(Buffer.from(sm.wrapped, 'base64url').length).toBe(12 + 16 + 16);
    expect((await sealer.open(waybill, before, access)).record).toEqual(sampleWaybill());
    expect((await sealer.open(waybill, after, access)).record).toEqual(sampleWaybill());
  });

  it('close() wipes SM4 KEKs too', async () => {
    const ring = new LocalKeyring(newKeyFile('sm4-gcm'));
    const w = await ring.wrap(new Uint8Array(16).fill(3), ctx());
    ring.close();
    await expect(ring.unwrap(w, ctx())).rejects.toThrow(KeyError);
  });
});
