import { describe, it, expect } from 'vitest';
import { bytesToHex, hexToBytes } from '@noble/ciphers/utils.js';
import { sm4DecryptBlock, sm4EncryptBlock, sm4Expand } from '../../src/crypto/sm/index.js';

// GB/T 32907-2016 Annex A (= GM/T 0002-2012 A.1): key = plaintext.
const KEY = hexToBytes('0123456789abcdeffedcba9876543210');

describe('SM4 block cipher', () => {
  it('encrypts the standard single-block vector and decrypts it back', () => {
    const rk = sm4Expand(KEY);
    const block = KEY.slice();
    sm4EncryptBlock(rk, block, block);
    expect(bytesToHex(block)).toBe('681edf34d206965e86b3e94f536e4246');
    sm4DecryptBlock(rk, block, block);
    expect(bytesToHex(block)).toBe('0123456789abcdeffedcba9876543210');
  });

  it('matches the standard 1,000,000-iteration vector', () => {
    const rk = sm4Expand(KEY);
    const block = KEY.slice();
    for (let i = 0; i < 1_000_000; i++) sm4EncryptBlock(rk, block, block);
    expect(bytesToHex(block)).toBe('595298c7c6fd271f0402f804c33d3f66');
  });

  it('works on unaligned subarrays without touching neighbouring bytes', () => {
    const rk = sm4Expand(KEY);
    const buf = new Uint8Array(40).fill(0xee);
    buf.set(KEY, 3);
    const out = buf.subarray(21, 37);
    sm4EncryptBlock(rk, buf.subarray(3, 19), out);
    expect(bytesToHex(out)).toBe('681edf34d206965e86b3e94f536e4246');
    expect(buf[20]).toBe(0xee);
    expect(buf[37]).toBe(0xee);
  });

  it('rejects bad keys, blocks and round keys', () => {
    expect(() => sm4Expand(new Uint8Array(15))).toThrow(RangeError);
    expect(() => sm4Expand(new Uint8Array(17))).toThrow(RangeError);
    expect(() => sm4Expand(new Uint8Array(32))).toThrow(RangeError);
    expect(() => sm4Expand([...KEY] as unknown as Uint8Array)).toThrow(TypeError);
    const rk = sm4Expand(KEY);
    expect(() => sm4EncryptBlock(rk, new Uint8Array(15), new Uint8Array(16))).toThrow(RangeError);
    expect(() => sm4EncryptBlock(rk, new Uint8Array(16), new Uint8Array(17))).toThrow(RangeError);
    expect(() => sm4DecryptBlock(rk.subarray(1), KEY, new Uint8Array(16))).toThrow(TypeError);
  });
});
