import { describe, it, expect } from 'vitest';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { hmacSm3, sm3 } from '../../src/crypto/sm/index.js';

describe('SM3', () => {
  it('matches GB/T 32905-2016 Annex A', () => {
    expect(bytesToHex(sm3(utf8ToBytes('abc')))).toBe(
      '66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0'
    );
    expect(bytesToHex(sm3(utf8ToBytes('abcd'.repeat(16))))).toBe(
      'debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732'
    );
  });

  it('hashes the empty string', () => {
    expect(bytesToHex(sm3(new Uint8Array(0)))).toBe(
      '1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b'
    );
  });

  it('is a noble CHash with the SM3 sizes', () => {
    expect(sm3.blockLen).toBe(64);
    expect(sm3.outputLen).toBe(32);
    expect(sm3(new Uint8Array(0))).toHaveLength(32);
  });

  it('gives the same digest for chunked updates and clones', () => {
    const msg = new Uint8Array(300).map((_, i) => (i * 7 + 3) & 0xff);
    const expected = bytesToHex(sm3(msg));
    for (const split of [0, 1, 55, 56, 63, 64, 65, 128, 299]) {
      const h = sm3.create().update(msg.subarray(0, split));
      const copy = h.clone();
      expect(bytesToHex(h.update(msg.subarray(split)).digest())).toBe(expected);
      expect(bytesToHex(copy.update(msg.subarray(split)).digest())).toBe(expected);
    }
  });
});

describe('HMAC-SM3', () => {
  it('matches the cn-waybill §4.4 vector (64-byte key, "abc")', () => {
    const key = hexToBytes(
      'daac25c1512fe50f79b0e4526b93f5c0e1460cef40b6dd44af13caec62e8c60e' +
        '0d885f3c6d6fb51e530889e6fd4ac743a6d332e68a0f2a3923f42585dceb93e9'
    );
    expect(bytesToHex(hmacSm3(key, utf8ToBytes('abc')))).toBe(
      '5c690e2b822a514017f1ccb9a61b6738714dbd17dbd6fdbc2fa662d122b6885d'
    );
  });

  it('rejects non-byte inputs', () => {
    expect(() => hmacSm3('key' as unknown as Uint8Array, new Uint8Array(1))).toThrow(TypeError);
    expect(() => hmacSm3(new Uint8Array(16), 'data' as unknown as Uint8Array)).toThrow(TypeError);
  });
});
