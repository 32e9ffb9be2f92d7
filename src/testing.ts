/**
 * `waybill-seal/testing`: a kit for the unit tests of code that uses waybill-seal. NOT FOR
 * PRODUCTION: its keys come from a seed anyone can read, and `testKeyring`/`testSealer` throw
 * TestKitInProductionError when NODE_ENV is `production`.
 *
 * - `testKeyring({ seed })`, `testSealer({ seed })`: deterministic in-memory keys (HKDF-SHA256 of the seed);
 * - `syntheticWaybills({ seed, count, locale })`: realistic generated waybills (no personal data);
 * - `findPlaintext(haystack, records)`: where protected values of the records appear (never the values);
 * - `matchers` for `expect.extend` (or `import 'waybill-seal/testing/vitest'`): `toContainNoPlaintext`,
 *   `toBeSealed`, `toMatchMasks`.
 * @module
 */
export { testKeyring, testSealer, testKeyMaterial, UnsafeTestKeyring, type TestKeyringOptions, type TestSealerOptions } from './testing/keyring.js';
export { syntheticWaybills, type SyntheticOptions, type SyntheticWaybill } from './testing/synthetic.js';
export { findPlaintext, describeFindings, type PlaintextFinding, type PlaintextForm, type FindPlaintextOptions } from './testing/find-plaintext.js';
export { matchers, type MatcherResult, type WaybillSealMatchers } from './testing/matchers.js';
export { TestKitInProductionError } from './errors.js';
