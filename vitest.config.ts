import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string) => fileURLToPath(new URL(`./src/${p}`, import.meta.url));

export default defineConfig({
  resolve: {
    // Examples import the package by name, as users do; tests run them against the source.
    alias: [
      { find: /^waybill-seal$/, replacement: src('index.ts') },
      { find: /^waybill-seal\/node$/, replacement: src('node.ts') },
      { find: /^waybill-seal\/sm$/, replacement: src('sm.ts') },
      { find: /^waybill-seal\/(pkcs11|vault|aws-kms|pg|prisma|typeorm|mask|phone|testing)$/, replacement: src('$1.ts') },
      { find: /^waybill-seal\/testing\/(vitest|jest)$/, replacement: src('testing/$1.ts') },
      // The core's native crypto module (package.json "imports": `node` condition).
      { find: /^#backend$/, replacement: src('crypto/backend-node.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // kill -9 loops and concurrent writers take minutes: `npm run faults` runs them (the fast fault tests stay here).
    exclude: ['**/node_modules/**', 'test/faults/*.slow.test.ts'],
    // Real SoftHSM2 token and PostgreSQL server for the keyring and key-store tests (issue 5).
    globalSetup: ['test/global-setup.ts'],
    // Phone metadata as the `waybill-seal` entry installs it (tests import internal modules directly).
    setupFiles: ['test/setup-phone.ts'],
    // The JSON report lets .ci/run print a plain "N passed, N failed" line.
    reporters: ['default', ['json', { outputFile: '.tmp/vitest-report.json' }]],
    // Native libraries (PKCS#11) read their environment per process: keep forks.
    pool: 'forks',
    testTimeout: 60_000,
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'] },
  },
});
