import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: {
      index: 'src/index.ts',
      node: 'src/node.ts',
      sm: 'src/sm.ts',
      // Masks and search tokens without the sealer or phone metadata (browser bundles), and the metadata.
      mask: 'src/mask.ts',
      phone: 'src/phone.ts',
      // Adapters with optional peer dependencies (kept external): one subpath each.
      pkcs11: 'src/pkcs11.ts',
      vault: 'src/vault.ts',
      'aws-kms': 'src/aws-kms.ts',
      pg: 'src/pg.ts',
      prisma: 'src/prisma.ts',
      typeorm: 'src/typeorm.ts',
      // The test kit (never for production code) and its matcher registrations per test runner.
      testing: 'src/testing.ts',
      'testing/vitest': 'src/testing/vitest.ts',
      'testing/jest': 'src/testing/jest.ts',
      // Native crypto, loaded by the core as `#backend` (package.json "imports"): node:crypto under
      // the `node` condition, nothing elsewhere. Kept external so bundlers resolve it per platform.
      'backend-node': 'src/crypto/backend-node.ts',
      'backend-none': 'src/crypto/backend-none.ts',
    },
    external: ['#backend', 'vitest'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: false,
    clean: true,
    target: 'node20',
    platform: 'neutral',
    splitting: true,
    treeshake: true,
  },
  {
    // The worker script of `--jobs` is loaded from next to main.js (new URL('./worker.js', import.meta.url)).
    entry: { 'cli/main': 'src/cli/main.ts', 'cli/worker': 'src/cli/worker.ts' },
    format: ['esm'],
    dts: false,
    sourcemap: false,
    clean: false,
    target: 'node20',
    platform: 'node',
    splitting: false,
    external: ['#backend'],
    banner: { js: '#!/usr/bin/env node' },
  },
]);
