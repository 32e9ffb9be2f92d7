/**
 * The vitest configuration Stryker runs (`npm run mutate`): the in-process unit tests of the
 * mutated folders, without the CLI, example and native-component tests (they run the built bin or
 * need SoftHSM2/PostgreSQL, so a mutant in src/ cannot change their outcome or they would only slow
 * every mutant down).
 */
import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    globalSetup: [],
    reporters: ['default'],
    typecheck: { enabled: false },
    // stryker.config.mjs narrows the tests to the mutated file's (MUTATE_TESTS, comma-separated).
    include: process.env['MUTATE_TESTS']?.split(',') ?? [
      'test/access/*.test.ts',
      'test/adversarial/bit-flips.test.ts',
      'test/adversarial/misuse.test.ts',
      'test/crypto/*.test.ts',
      'test/format/*.test.ts',
      'test/integrity/*.test.ts',
      'test/mask/*.test.ts',
      'test/search/*.test.ts',
      'test/seal/*.test.ts',
      'test/suites/*.test.ts',
    ],
    exclude: ['test/**/cli*.test.ts', 'test/suites/sm-entry.test.ts'],
  },
});
