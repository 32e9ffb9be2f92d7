/** Sealers per suite for the suite-parametrised tests: each suite with the key file `keygen --suite` would write. */
import { SUITES, LocalKeyring, MemoryKeyStore, createSealer, newKeyFile, type SealerOptions, type SuiteName } from '../../src/index.js';

export const ALL_SUITES: readonly SuiteName[] = SUITES;

/** Every ordered pair of suites, the same suite included. */
export const SUITE_PAIRS: [SuiteName, SuiteName][] = ALL_SUITES.flatMap((a) => ALL_SUITES.map((b) => [a, b] as [SuiteName, SuiteName]));

/** These tests are about cryptography, not access control: every sealer opens everything, in plain. */
export const testSealer = (options: SealerOptions) => createSealer({ guard: 'allow-all', ...options });

export function suiteSealer(suite: SuiteName, options: Partial<SealerOptions> = {}) {
  const file = newKeyFile(suite);
  const keyring = new LocalKeyring(file);
  const keyStore = new MemoryKeyStore();
  const sealer = testSealer({ keyring, keyStore, suite, ...options });
  return { sealer, keyring, keyStore, file };
}

export const access = { principal: 'test', purpose: 'test', reveal: 'plain' } as const;
