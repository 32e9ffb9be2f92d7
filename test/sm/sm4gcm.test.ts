import { describe, it, expect } from 'vitest';
import { bytesToHex, hexToBytes } from '@noble/ciphers/utils.js';
import { sm4gcm } from '../../src/crypto/sm/index.js';

// RFC 8998 Appendix A.1.
const K = hexToBytes('0123456789abcdeffedcba9876543210');
const IV = hexToBytes('00001234567800000000abcd');
const AAD = hexToBytes('feedfacedeadbeeffeedfacedeadbeefabaddad2');
const P = hexToBytes(
  'aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbccccccccccccccccdddddddddddddddd' +
    'eeeeeeeeeeeeeeeeffffffffffffffffeeeeeeeeeeeeeeeeaaaaaaaaaaaaaaaa'
);
const C =
  '17f399f08c67d5ee19d0dc9969c4bb7d5fd46fd3756489069157b282bb200735' +
  'd82710ca5c22f0ccfa7cbf93d496ac15a56834cbcf98c397b4024a2691233b8d';
const T = '83de3541e4c2b58177e065a9bf7b62ec';

const flipBit = (b: Uint8Array, bit: number): Uint8Array => {
  const copy = b.slice();
  copy[bit >> 3]! ^= 1 << (bit & 7);
  return copy;
};

describe('SM4-GCM', () => {
  it('matches RFC 8998 A.1', () => {
    expect(bytesToHex(sm4gcm(K, IV, AAD).encrypt(P))).toBe(C + T);
    expect(bytesToHex(sm4gcm(K, IV, AAD).decrypt(hexToBytes(C + T)))).toBe(bytesToHex(P));
  });

  it('round-trips without AAD, with empty plaintext and with partial blocks', () => {
    for (const len of [0, 1, 15, 16, 17, 33, 100]) {
      const msg = new Uint8Array(len).map((_, i) => i);
      const sealed = sm4gcm(K, IV).encrypt(msg);
      expect(sealed).toHaveLength(len + 16);
      expect(sm4gcm(K, IV).decrypt(sealed)).toEqual(msg);
      // Omitted AAD and empty AAD are the same thing in GCM.
      expect(sm4gcm(K, IV, new Uint8Array(0)).decrypt(sealed)).toEqual(msg);
    }
  });

  it('works on unaligned input views', () => {
    const buf = new Uint8Array(P.length + 1);
    buf.set(P, 1);
    expect(bytesToHex(sm4gcm(K, IV, AAD).encrypt(buf.subarray(1)))).toBe(C + T);
  });

  describe('tamper: every single bit flip makes decrypt throw', () => {
    const sealed = hexToBytes(C + T);
    it('in the ciphertext and tag', () => {
      for (let bit = 0; bit < sealed.length * 8; bit++)
        expect(() => sm4gcm(K, IV, AAD).decrypt(flipBit(sealed, bit))).toThrow('invalid tag');
    });
    it('in the AAD', () => {
      for (let bit = 0; bit < AAD.length * 8; bit++)
        expect(() => sm4gcm(K, IV, flipBit(AAD, bit)).decrypt(sealed)).toThrow('invalid tag');
    });
    it('in the nonce', () => {
      for (let bit = 0; bit < IV.length * 8; bit++)
        expect(() => sm4gcm(K, flipBit(IV, bit), AAD).decrypt(sealed)).toThrow('invalid tag');
    });
    it('in the key, or with truncated, extended or missing AAD', () => {
      expect(() => sm4gcm(flipBit(K, 0), IV, AAD).decrypt(sealed)).toThrow('invalid tag');
      expect(() => sm4gcm(K, IV, AAD).decrypt(sealed.subarray(1))).toThrow('invalid tag');
      expect(() => sm4gcm(K, IV, AAD).decrypt(sealed.subarray(0, -1))).toThrow('invalid tag');
      const longer = new Uint8Array(sealed.length + 1);
      longer.set(sealed);
      expect(() => sm4gcm(K, IV, AAD).decrypt(longer)).toThrow('invalid tag');
      expect(() => sm4gcm(K, IV).decrypt(sealed)).toThrow('invalid tag');
    });
  });

  it('checks its inputs', () => {
    const bad = 'x' as unknown as Uint8Array;
    expect(() => sm4gcm(new Uint8Array(15), IV)).toThrow(RangeError);
    expect(() => sm4gcm(new Uint8Array(24), IV)).toThrow(RangeError);
    expect(() => sm4gcm(bad, IV)).toThrow(TypeError);
    expect(() => sm4gcm(K, new Uint8Array(0))).toThrow(RangeError);
    expect(() => sm4gcm(K, bad)).toThrow(TypeError);
    expect(() => sm4gcm(K, IV, bad)).toThrow(TypeError);
    expect(() => sm4gcm(K, IV).encrypt(bad)).toThrow(TypeError);
    expect(() => sm4gcm(K, IV).decrypt(bad)).toThrow(TypeError);
    expect(() => sm4gcm(K, IV).decrypt(new Uint8Array(15))).toThrow(RangeError);
  });

  it('refuses a second encrypt() on one instance (nonce reuse guard)', () => {
    const c = sm4gcm(K, IV, AAD);
    c.encrypt(P);
    expect(() => c.encrypt(P)).toThrow(/already called/);
  });
});
