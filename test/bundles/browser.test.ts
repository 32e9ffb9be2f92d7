/**
 * What browser and edge bundles of the published build contain (run after the build, as `npm test`
 * does): esbuild with `platform: 'browser'` over `dist/`, as a bundler of an application would.
 * - no bundle contains the Node crypto module (`#backend` resolves to backend-none outside Node) or a
 *   Node built-in;
 * - `waybill-seal/mask` contains no phone metadata (libphonenumber-js) and no sealer;
 * - `waybill-seal/phone` is where the metadata lives.
 * Sizes are checked by `npm run size` (size-limit, budgets in package.json).
 */
import { existsSync } from 'node:fs';
import { build, type Metafile } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;

async function bundle(entry: string, names: string): Promise<{ inputs: string[]; text: string }> {
  const result = await build({
    stdin: { contents: `import { ${names} } from './dist/${entry}'; globalThis.used = [${names}];`, resolveDir: root, loader: 'js' },
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'esm',
    metafile: true,
    minify: false,
    logLevel: 'silent',
  });
  const meta: Metafile = result.metafile!;
  return { inputs: Object.keys(meta.inputs), text: result.outputFiles.map((f) => f.text).join('\n') };
}

const nodeOnly = (inputs: string[]) => inputs.filter((i) => /backend-node|^node:|(^|\/)(crypto|fs|path|os|worker_threads)$/.test(i));

describe('browser bundles of the build', () => {
  beforeAll(() => {
    if (!existsSync(`${root}dist/mask.js`)) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  });

  it('seal/open (waybill-seal) resolves #backend to backend-none: no node:crypto, no Node built-in', async () => {
    const { inputs, text } = await bundle('index.js', 'createSealer, LocalKeyring, MemoryKeyStore, waybill');
    expect(inputs.some((i) => i.endsWith('dist/backend-none.js'))).toBe(true);
    expect(nodeOnly(inputs)).toEqual([]);
    expect(text).not.toMatch(/createCipheriv|createHmac|node:crypto/);
    // The default entry keeps phone metadata for its masks and validation.
    expect(inputs.some((i) => i.includes('libphonenumber-js'))).toBe(true);
  });

  it('masks (waybill-seal/mask) bundle without phone metadata, sealer, AEAD code or anything that computes a search token', async () => {
    const { inputs, text } = await bundle('mask.js', 'mask, computeMasks, createVerifier, usePhoneMetadata, waybill');
    expect(inputs.filter((i) => i.includes('libphonenumber-js'))).toEqual([]);
    expect(nodeOnly(inputs)).toEqual([]);
    expect(text).not.toMatch(/createSealer|xchachaSeal|sm4gcm/);
    // Issue 13: no device computes tokens. The index-key label and the FF1 cipher are not in the bundle.
    expect(text).not.toMatch(/waybill-seal\/index|waybill-seal\/ff1|queryTokens|BlindTokenizer/);
  });

  it('waybill-seal/mask exports no tokenizer', async () => {
    const entry: Record<string, unknown> = await import('waybill-seal/mask');
    expect(Object.keys(entry).filter((k) => /token/i.test(k))).toEqual([]);
  });

  it('the phone metadata comes from waybill-seal/phone', async () => {
    const { inputs } = await bundle('phone.js', 'phoneMetadata, usePhoneMetadata');
    expect(inputs.some((i) => i.includes('libphonenumber-js'))).toBe(true);
    expect(nodeOnly(inputs)).toEqual([]);
  });

  it('the test kit (waybill-seal/testing) bundles without Node built-ins or a test runner', async () => {
    const { inputs } = await bundle('testing.js', 'testKeyring, testSealer, syntheticWaybills, findPlaintext, matchers');
    expect(inputs.some((i) => i.endsWith('dist/backend-none.js'))).toBe(true);
    expect(nodeOnly(inputs)).toEqual([]);
    expect(inputs.filter((i) => /vitest|jest/.test(i))).toEqual([]);
  });

  it('the Node entry (platform node) still gets the native module', async () => {
    const result = await build({
      stdin: { contents: `import('#backend').then((m) => m)`, resolveDir: root, loader: 'js' },
      bundle: true,
      write: false,
      platform: 'node',
      format: 'esm',
      metafile: true,
      logLevel: 'silent',
    });
    expect(Object.keys(result.metafile!.inputs).some((i) => i.endsWith('dist/backend-node.js'))).toBe(true);
  });
});
