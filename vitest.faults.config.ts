/**
 * `npm run faults` (issue 18): the fault suite alone — kill -9 at random points, full and read-only
 * file systems (tmpfs when root may mount one; a failing write stub otherwise), concurrent writers.
 * It runs the built bin (`npm run build` first) and needs no PostgreSQL or SoftHSM2.
 */
import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['test/faults/*.test.ts'],
    exclude: ['**/node_modules/**'],
    globalSetup: [],
    reporters: ['default'],
    typecheck: { enabled: false },
    hookTimeout: 120_000,
    testTimeout: 120_000,
    // Each file mounts its own file systems and spawns CLI processes: one file at a time.
    fileParallelism: false,
  },
});
