import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import { bytesToHex, equalBytes, hexToBytes } from '@noble/ciphers/utils.js';
import { hmacSm3, sm4gcm } from '../../src/crypto/sm/index.js';

type Result = 'valid' | 'invalid' | 'acceptable';
interface Suite<G> {
  numberOfTests: number;
  testGroups: G[];
}
interface AeadGroup {
  ivSize: number;
  tagSize: number;
  tests: {
    tcId: number;
    key: string;
    iv: string;
    aad: string;
    msg: string;
    ct: string;
    tag: string;
    result: Result;
  }[];
}
interface MacGroup {
  keySize: number;
  tagSize: number;
  tests: { tcId: number; key: string; msg: string; tag: string; result: Result }[];
}

const load = <G>(name: string): Suite<G> =>
  JSON.parse(readFileSync(new URL(`../vectors/${name}`, import.meta.url), 'utf8')) as Suite<G>;

/**
 * valid: must be accepted with the exact expected output. invalid: must be rejected.
 * acceptable (none in these two files): rejection is fine; if accepted, the output must be exact.
 */
function judge(result: Result, accepted: boolean, exact: boolean): boolean {
  if (result === 'valid') return accepted && exact;
  if (result === 'invalid') return !accepted;
  return !accepted || exact;
}

describe('Wycheproof', () => {
  it('SM4-GCM: sm4_gcm_test.json', () => {
    const suite = load<AeadGroup>('sm4_gcm_test.json');
    const failures: number[] = [];
    let ran = 0;
    for (const group of suite.testGroups) {
      expect(group.tagSize).toBe(128);
      for (const t of group.tests) {
        ran++;
        const key = hexToBytes(t.key);
        const iv = hexToBytes(t.iv);
        const aad = hexToBytes(t.aad);
        // Invalid cases are modified tags (decrypt must throw) and empty IVs (sm4gcm must throw).
        // A case counts as accepted only if both encrypt and decrypt succeed.
        let sealed = '';
        let opened = '';
        let accepted = true;
        try {
          sealed = bytesToHex(sm4gcm(key, iv, aad).encrypt(hexToBytes(t.msg)));
          opened = bytesToHex(sm4gcm(key, iv, aad).decrypt(hexToBytes(t.ct + t.tag)));
        } catch {
          accepted = false;
        }
        const exact = sealed === t.ct + t.tag && opened === t.msg;
        if (!judge(t.result, accepted, exact)) failures.push(t.tcId);
      }
    }
    expect(failures).toEqual([]);
    expect(ran).toBe(suite.numberOfTests);
    expect(ran).toBe(104);
  });

  it('HMAC-SM3: hmac_sm3_test.json (tags truncated to the group tagSize)', () => {
    const suite = load<MacGroup>('hmac_sm3_test.json');
    const failures: number[] = [];
    let ran = 0;
    for (const group of suite.testGroups) {
      for (const t of group.tests) {
        ran++;
        const full = hmacSm3(hexToBytes(t.key), hexToBytes(t.msg));
        const mac = full.subarray(0, group.tagSize / 8);
        const matches = equalBytes(mac, hexToBytes(t.tag));
        if (!judge(t.result, matches, matches)) failures.push(t.tcId);
      }
    }
    expect(failures).toEqual([]);
    expect(ran).toBe(suite.numberOfTests);
    expect(ran).toBe(174);
  });
});
