/** The public `waybill-seal/sm` subpath: noble-shaped SM4-GCM, SM3 and HMAC-SM3. */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import * as sm from 'waybill-seal/sm';
import { hex, toHex } from '../helpers.js';

// RFC 8998 A.1
const K = hex('0123456789abcdeffedcba9876543210');
const IV = hex('00001234567800000000abcd');
const AAD = hex('feedfacedeadbeeffeedfacedeadbeefabaddad2');
const P = hex('aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbccccccccccccccccddddddddddddddddeeeeeeeeeeeeeeeeffffffffffffffffeeeeeeeeeeeeeeeeaaaaaaaaaaaaaaaa');
const C = '17f399f08c67d5ee19d0dc9969c4bb7d5fd46fd3756489069157b282bb200735d82710ca5c22f0ccfa7cbf93d496ac15a56834cbcf98c397b4024a2691233b8d';
const T = '83de3541e4c2b58177e065a9bf7b62ec';

function check(m: typeof sm) {
  expect(toHex(m.sm4gcm(K, IV, AAD).encrypt(P))).toBe(C + T);
  expect(toHex(m.sm4gcm(K, IV, AAD).decrypt(hex(C + T)))).toBe(toHex(P));
  const bad = hex(C + T);
  bad[bad.length - 1]! ^= 1;
  expect(() => m.sm4gcm(K, IV, AAD).decrypt(bad)).toThrow();
  expect(() => m.sm4gcm(K, IV).decrypt(hex(C + T))).toThrow(); // AAD is bound
  expect(toHex(m.sm3(new TextEncoder().encode('abc')))).toBe('66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0');
  const hk = hex('daac25c1512fe50f79b0e4526b93f5c0e1460cef40b6dd44af13caec62e8c60e0d885f3c6d6fb51e530889e6fd4ac743a6d332e68a0f2a3923f42585dceb93e9');
  expect(toHex(m.hmacSm3(hk, new TextEncoder().encode('abc')))).toBe('5c690e2b822a514017f1ccb9a61b6738714dbd17dbd6fdbc2fa662d122b6885d');
}

describe('waybill-seal/sm', () => {
  it('exports exactly sm4gcm, sm3 and hmacSm3, which reproduce the standard vectors', () => {
    expect(Object.keys(sm).sort()).toEqual(['hmacSm3', 'sm3', 'sm4gcm']);
    check(sm);
  });

  const dist = new URL('../../dist/', import.meta.url);
  it.skipIf(!existsSync(new URL('sm.js', dist)))('the built ESM and CJS entries behave the same', async () => {
    check((await import(new URL('sm.js', dist).href)) as typeof sm);
    check(createRequire(import.meta.url)(new URL('sm.cjs', dist).pathname) as typeof sm);
  });
});
