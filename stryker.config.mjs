// Mutation testing (`npm run mutate`; issue 18). CPU-heavy: it is not part of `npm test`. Run it
// niced, one file at a time, against the tests that guard that file:
//   MUTATE=src/format/aad.ts nice -n 15 npm run mutate
// Without MUTATE it mutates every file below against all the unit tests (hours on 2 cores).
const TESTS = {
  'src/format/aad.ts': ['test/format/*.test.ts'],
  'src/format/field-crypto.ts': ['test/format/*.test.ts', 'test/adversarial/bit-flips.test.ts'],
  'src/access/audit.ts': ['test/access/audit*.test.ts'],
  // The search half of the guard (authorizeSearch, confirm) is exercised by the search access tests.
  'src/access/guard.ts': ['test/access/policy.test.ts', 'test/access/guard*.test.ts', 'test/search/access.test.ts', 'test/search/confirm.test.ts'],
  'src/mask/phone.ts': ['test/mask/*.test.ts'],
};
const file = process.env.MUTATE;
if (file !== undefined && TESTS[file] !== undefined) process.env.MUTATE_TESTS = TESTS[file].join(',');

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutate.config.ts', related: false },
  plugins: ['@stryker-mutator/vitest-runner'],
  mutate: file
    ? [file]
    : ['src/format/**/*.ts', 'src/crypto/aead.ts', 'src/crypto/gcm.ts', 'src/crypto/random.ts', 'src/access/**/*.ts', 'src/integrity/**/*.ts', 'src/mask/**/*.ts', 'src/search/**/*.ts'],
  coverageAnalysis: 'perTest',
  concurrency: 1,
  timeoutMS: 5000,
  reporters: ['clear-text', 'progress-append-only', 'json'],
  jsonReporter: { fileName: `.tmp/mutation/${file ? file.replace(/[/.]/g, '_') : 'all'}.json` },
  tempDirName: '.tmp/stryker',
  cleanTempDir: 'always',
  ignoreStatic: true,
  thresholds: { high: 90, low: 85, break: null },
};
