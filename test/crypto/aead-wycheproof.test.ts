import { describe, expect, it } from 'vitest';
import { getSuite, nativeSuitesOf, type SuiteName } from '../../src/crypto/aead.js';
import { opensslOnly } from '../../src/crypto/backend.js';
import { backend as nodeBackend } from '../../src/crypto/backend-node.js';
import { AuthenticationError } from '../../src/errors.js';
import { hex, loadVectors, toHex } from '../helpers.js';

interface Case { tcId: number; key: string; iv: string; aad: string; msg: string; ct: string; tag: string; result: string }
interface File { numberOfTests: number; testGroups: { keySize: number; ivSize: number; tagSize: number; tests: Case[] }[] }

// Every vector against every implementation: the portable suites, the native ones with libsodium
// (sodium-native) and without it (node:crypto only).
const FILES = [
  ['xchacha20-poly1305', 'xchacha20_poly1305_test.json'],
  ['aes-256-gcm', 'aes_gcm_test.json'],
  ['sm4-gcm', 'sm4_gcm_test.json'],
] as const;
const BACKENDS = {
  js: (name: SuiteName) => getSuite(name, 'js'),
  'node:crypto': (name: SuiteName) => nativeSuitesOf(opensslOnly(nodeBackend!))[name],
  libsodium: (name: SuiteName) => nativeSuitesOf(nodeBackend!)[name],
};

describe.each(FILES.flatMap(([suite, file]) => Object.keys(BACKENDS).map((b) => [suite, file, b] as const)))('Wycheproof %s against the AEAD layer (%s, %s)', (suiteName, file, backend) => {
  const suite = BACKENDS[backend as keyof typeof BACKENDS](suiteName);
  const data = loadVectors<File>(file);

  it('accepts every valid case with the exact output, rejects every invalid one, refuses other sizes', () => {
    let run = 0;
    let inSuite = 0;
    for (const g of data.testGroups) {
      const fits = g.keySize === suite.keyLength * 8 && g.ivSize === suite.nonceLength * 8 && g.tagSize === 128;
      for (const t of g.tests) {
        run++;
        const [key, iv, aad, msg] = [hex(t.key), hex(t.iv), hex(t.aad), hex(t.msg)];
        const sealed = hex(t.ct + t.tag);
        if (!fits) {
          // Sizes outside the suite are refused outright, never silently used.
          expect(() => suite.decrypt(key, iv, sealed, aad)).toThrow(AuthenticationError);
          expect(() => suite.encrypt(key, iv, msg, aad)).toThrow();
          continue;
        }
        inSuite++;
        if (t.result === 'valid') {
          expect(toHex(suite.encrypt(key, iv, msg, aad)), `tc ${t.tcId}`).toBe(t.ct + t.tag);
          expect(toHex(suite.decrypt(key, iv, sealed, aad)), `tc ${t.tcId}`).toBe(t.msg);
        } else {
          expect(() => suite.decrypt(key, iv, sealed, aad), `tc ${t.tcId}`).toThrow(AuthenticationError);
        }
      }
    }
    expect(run).toBe(data.numberOfTests);
    expect(inSuite).toBeGreaterThan(50);
  });
});
