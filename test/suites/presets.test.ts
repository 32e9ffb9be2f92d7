import { describe, expect, it } from 'vitest';
import { inspect, LocalKeyring, MemoryKeyStore, newKeyFile, presetFor, presets, waybill } from '../../src/index.js';
import { sampleWaybill } from '../helpers.js';
import { access, testSealer } from './helpers.js';

describe('presets', () => {
  it('china seals with SM4-GCM under SM4 KEKs and HMAC-SM3 indexes; labels are the GB/T 41833 label profile', async () => {
    expect(presets.china).toEqual({ suite: 'sm4-gcm', indexHash: 'hmac-sm3' });
    const file = newKeyFile(presets.china.suite);
    expect(file.keks[0]!.alg).toBe('sm4-gcm');
    const keyStore = new MemoryKeyStore();
    const sealer = testSealer({ ...presets.china, keyring: new LocalKeyring(file), keyStore });
    expect(sealer.suite).toBe('sm4-gcm');
    expect(sealer.indexHash).toBe('hmac-sm3');
    const sealed = await sealer.seal(waybill, sampleWaybill());
    expect(inspect(sealed).every((f) => f.suite === 'sm4-gcm')).toBe(true);
    expect(sealed.sender.mobile!.mask['label']).toBe('*******5678');
    expect(sealed.receiver.name.mask['label']).toBe('欧***');
    const rows = await keyStore.list();
    expect(rows.filter((r) => !r.keyClass.endsWith('-index')).every((r) => r.suite === 'sm4-gcm' && Buffer.from(r.wrapped, 'base64url').length === 44)).toBe(true);
    // The 256-bit index keys (HMAC-SM3 token roots) are wrapped under SM4 KEKs too.
    expect(rows.filter((r) => r.keyClass.endsWith('-index')).map((r) => [r.kekId, Buffer.from(r.wrapped, 'base64url').length])).toEqual([
      ['local:v1:contact-index', 60],
      ['local:v1:identity-index', 60],
    ]);
    expect((await sealer.open(waybill, sealed, access)).record).toEqual(sampleWaybill());
  });

  it('international seals with AES-256-GCM and HMAC-SHA-256 indexes; XChaCha20-Poly1305 by override', async () => {
    expect(presets.international).toEqual({ suite: 'aes-256-gcm', indexHash: 'hmac-sha256' });
    const keyring = new LocalKeyring(newKeyFile(presets.international.suite));
    const sealer = testSealer({ ...presets.international, keyring, keyStore: new MemoryKeyStore() });
    expect(inspect(await sealer.seal(waybill, sampleWaybill())).every((f) => f.suite === 'aes-256-gcm')).toBe(true);
    const xc = testSealer({ ...presets.international, suite: 'xchacha20-poly1305', keyring, keyStore: new MemoryKeyStore() });
    expect(xc.suite).toBe('xchacha20-poly1305');
    expect(xc.indexHash).toBe('hmac-sha256');
  });

  it('the preset index hash keys the search tokens: same keys, different hash, no matching token', async () => {
    const file = newKeyFile('sm4-gcm');
    const keyring = new LocalKeyring(file);
    const keyStore = new MemoryKeyStore();
    const sm = await testSealer({ ...presets.china, keyring, keyStore }).seal(waybill, sampleWaybill());
    const sha = await testSealer({ ...presets.china, indexHash: 'hmac-sha256', keyring, keyStore }).seal(waybill, sampleWaybill());
    const again = await testSealer({ ...presets.china, keyring, keyStore }).seal(waybill, sampleWaybill());
    const tok = (r: typeof sm) => r.receiver.mobile!.tok!;
    expect(Object.keys(tok(sm)).length).toBeGreaterThan(0);
    expect(tok(again)).toEqual(tok(sm));
    for (const [name, t] of Object.entries(tok(sm))) expect(tok(sha)[name]).not.toBe(t);
  });

  it('presets are frozen and hold no keys', () => {
    expect(Object.isFrozen(presets)).toBe(true);
    expect(Object.isFrozen(presets.china)).toBe(true);
    for (const p of [presets.china, presets.international]) {
      expect(Object.keys(p)).not.toContain('keyring');
      expect(Object.keys(p)).not.toContain('keyStore');
    }
  });

  it('presetFor maps a key file suite to its preset', () => {
    expect(presetFor('sm4-gcm')).toBe(presets.china);
    expect(presetFor('aes-256-gcm')).toBe(presets.international);
    expect(presetFor('xchacha20-poly1305')).toEqual({ ...presets.international, suite: 'xchacha20-poly1305' });
  });
});
