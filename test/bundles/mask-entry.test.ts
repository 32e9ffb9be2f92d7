/**
 * `waybill-seal/mask` (issue 6): masks and tag checks without the sealer or phone metadata (no
 * search tokens since issue 13: devices ask the search service). Without metadata, anything that must read a phone throws ConfigError (never a guessed
 * or a full mask); everything else works; with the metadata from `waybill-seal/phone` it gives what
 * the sealer gives.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createSealer, LocalKeyring, MemoryKeyStore, newKeyFile } from 'waybill-seal';
import {
  checkProtectedValue,
  computeMasks,
  ConfigError,
  createVerifier,
  mask,
  usePhoneMetadata,
  waybill,
} from 'waybill-seal/mask';
import { phoneMetadata } from 'waybill-seal/phone';
import { sampleWaybill } from '../helpers.js';

afterEach(() => usePhoneMetadata(phoneMetadata));

describe('waybill-seal/mask without phone metadata', () => {
  it('masks names, addresses and ID numbers; refuses to guess at phones', () => {
    usePhoneMetadata(undefined);
    expect(computeMasks('name', '欧阳娜娜', {}, {})).toEqual({ label: '欧***', screen: '欧***' });
    expect(computeMasks('addressDetail', '科技园路1号3栋2单元501室', {}, {})['label']).toBe('科技园路1号3栋*单元***室');
    expect(checkProtectedValue('idNumber', '11010519491231002X', {})).toBeUndefined();
    expect(() => computeMasks('mobile', '13812345678', {}, {})).toThrow(ConfigError);
    expect(() => checkProtectedValue('landline', '010-12345678', {})).toThrow(ConfigError);
    expect(() => checkProtectedValue('phone', '021-12345678', {})).toThrow(ConfigError);
    expect(() => computeMasks('phone', '020 7946 0000', {}, { country: 'GB' })).toThrow(ConfigError);
  });

  it('reads stored masks and checks tags', async () => {
    const file = newKeyFile();
    const keyring = new LocalKeyring(file);
    const sealer = createSealer({ keyring, keyStore: new MemoryKeyStore(), guard: 'allow-all' });
    const sealed = await sealer.seal(waybill, sampleWaybill());
    usePhoneMetadata(undefined);
    expect(mask(waybill, sealed, 'label').receiver.mobile).toBe(sealed.receiver.mobile!.mask['label']);
    expect(await createVerifier(keyring).verify(waybill, sealed)).toEqual({ ok: true });
  });
});

describe('waybill-seal/mask with waybill-seal/phone', () => {
  it('gives the sealer\'s masks', async () => {
    usePhoneMetadata(undefined);
    usePhoneMetadata(phoneMetadata);
    const keyring = new LocalKeyring(newKeyFile());
    const sealer = createSealer({ keyring, keyStore: new MemoryKeyStore(), guard: 'allow-all' });
    const sealed = await sealer.seal(waybill, sampleWaybill());
    expect(computeMasks('mobile', '+86 139-8765-4321', {}, { country: 'CN' })).toEqual(sealed.receiver.mobile!.mask);
  });
});
