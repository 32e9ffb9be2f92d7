/**
 * Section `suites`: the three AEAD suites side by side.
 * - raw AEAD (the suite layer the sealer calls, keyed state cached per data key as in sealing) on
 *   64 B and 1 KiB with a 120-byte AAD, encrypt and decrypt, for the portable implementations and,
 *   where the runtime has them, the native ones (libsodium's XChaCha20-Poly1305, OpenSSL's);
 * - the waybill workload through the public sealer: seal and open of synthetic waybills (every
 *   protected field, masks, search tokens), data keys cached as in a running service. Each suite
 *   runs with its key file's preset (`presetFor`): sm4-gcm is the `china` preset.
 * Ratios are relative to the portable aes-256-gcm in each group (the international preset for the
 * waybill workload).
 */
import { syntheticWaybills } from 'waybill-seal/testing';
import { getSuite, nativeSuitesOf, type AeadSuite, type SuiteName } from '../src/crypto/aead.js';
import { nativeCrypto, opensslOnly } from '../src/crypto/backend.js';
import { randomBytes } from '../src/crypto/random.js';
import { createSealer, LocalKeyring, MemoryKeyStore, newKeyFile, presetFor, SUITES, waybill } from '../src/index.js';
import type { BenchCase, Section } from './harness.js';

const SIZES = [
  [64, '64 B'],
  [1024, '1 KiB'],
] as const;
const RECORDS = 64;

function rawCases(): BenchCase[] {
  const aad = randomBytes(120);
  const cases: BenchCase[] = [];
  for (const [size, label] of SIZES) {
    for (const op of ['encrypt', 'decrypt'] as const) {
      // The portable implementation of each suite, then each native one where the runtime has it
      // (libsodium and OpenSSL for XChaCha20-Poly1305; SM4-GCM stays portable).
      const native = nativeCrypto();
      const nativeImpls = native ? [...new Set([native, opensslOnly(native)])].flatMap((n) => SUITES.map((name) => nativeSuitesOf(n)[name])) : [];
      const impls: [string, AeadSuite][] = [
        ...SUITES.map((name): [string, AeadSuite] => [name, getSuite(name, 'js')]),
        ...new Map(nativeImpls.filter((suite) => suite.backend !== 'js').map((suite): [string, AeadSuite] => [`${suite.name} (${suite.backend})`, suite])),
      ];
      for (const [name, suite] of impls) {
        const key = randomBytes(suite.keyLength);
        const nonce = randomBytes(suite.nonceLength);
        const plain = randomBytes(size);
        const sealed = suite.encrypt(key, nonce, plain, aad);
        // Benchmark only: one nonce for every message. Never do this with real data.
        const run = op === 'encrypt' ? () => suite.encrypt(key, nonce, plain, aad) : () => suite.decrypt(key, nonce, sealed, aad);
        cases.push({ name: `${name} ${op}`, group: `AEAD ${op} ${label}`, bytes: size, run });
      }
    }
  }
  return cases;
}

async function sealerCases(): Promise<BenchCase[]> {
  const records = syntheticWaybills({ count: RECORDS, seed: 8998 });
  const seals: BenchCase[] = [];
  const opens: BenchCase[] = [];
  for (const name of SUITES as readonly SuiteName[]) {
    const file = newKeyFile(name);
    const sealer = createSealer({ ...presetFor(name), keyring: new LocalKeyring(file), keyStore: new MemoryKeyStore(), guard: 'allow-all' });
    // Creates the data keys (one per key class and month) before timing, as in a running service.
    const sealed = await sealer.sealMany(waybill, records);
    const access = { principal: 'bench', purpose: 'bench', reveal: 'plain' } as const;
    let i = 0;
    let j = 0;
    const label = name === 'sm4-gcm' ? `${name} (china)` : name === 'aes-256-gcm' ? `${name} (international)` : name;
    seals.push({ name: label, group: 'seal 1 waybill', run: () => sealer.seal(waybill, records[i++ % RECORDS]!) });
    opens.push({ name: label, group: 'open 1 waybill (all fields)', run: () => sealer.open(waybill, sealed[j++ % RECORDS]!, access) });
  }
  return [...seals, ...opens];
}

export const suitesSection: Section = {
  name: 'suites',
  description: 'xchacha20-poly1305 vs aes-256-gcm vs sm4-gcm: raw AEAD and the waybill workload',
  baseline: (c) => c.name.startsWith('aes-256-gcm ') || c.name.startsWith('aes-256-gcm (international)'),
  async setup() {
    return [...rawCases(), ...(await sealerCases())];
  },
};
