import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: {
      index: 'src/index.ts',
      node: 'src/node.ts',
      sm: 'src/sm.ts',
      // Adapters with optional peer dependencies (kept external): one subpath each.
      pkcs11: 'src/pkcs11.ts',
      vault: 'src/vault.ts',
      'aws-kms': 'src/aws-kms.ts',
      pg: 'src/pg.ts',
    },
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
    entry: { 'cli/main': 'src/cli/main.ts' },
    format: ['esm'],
    dts: false,
    sourcemap: false,
    clean: false,
    target: 'node20',
    platform: 'node',
    splitting: false,
    banner: { js: '#!/usr/bin/env node' },
  },
]);
