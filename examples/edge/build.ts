/**
 * npx tsx examples/edge/build.ts [--out DIR]
 *
 * Bundles examples/edge/lookup.ts (and the parts of waybill-seal it uses) with esbuild for the
 * browser, checks that the bundle has no `node:` import and no `require(`, writes it as an ES module
 * to DIR/waybill-edge.js, then runs it where Node is not: a `vm` context holding only what every
 * browser and edge runtime has (TextEncoder, TextDecoder, crypto.getRandomValues) — no `process`,
 * no `require`, no `Buffer`. There it masks records sealed by a "server" (this script) and searches
 * by last four digits + district through the server's search service (the edge holds no key and
 * computes no token; the server decides and audits the query), and the results are compared with the
 * library run under Node.
 */
import { webcrypto } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { runInContext, createContext } from 'node:vm';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import {
  createAccessGuard,
  createFinder,
  createSealer,
  generateLocalKeyMaterial,
  LocalKeyring,
  mask,
  MemoryAuditSink,
  MemoryKeyStore,
  waybill,
  waybillPolicy,
  type IndexName,
  type Sealer,
  type SealedRecord,
  type WaybillSchema,
} from 'waybill-seal';
import { syntheticWaybills } from 'waybill-seal/testing';
import { runIfMain } from '../args.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const ENTRY = fileURLToPath(new URL('./lookup.ts', import.meta.url));

export interface EdgeBundle {
  readonly code: string;
  /** Source files in the bundle, relative to the repository. */
  readonly inputs: readonly string[];
}

/** Bundles the edge module for `--platform=browser`; `iife` exposes it as the global `WaybillEdge`. */
export async function bundleEdge(format: 'esm' | 'iife', minify = false): Promise<EdgeBundle> {
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    platform: 'browser',
    format,
    ...(format === 'iife' ? { globalName: 'WaybillEdge' } : {}),
    target: 'es2022',
    minify,
    write: false,
    metafile: true,
    logLevel: 'silent',
    // The repository's tsconfig maps `waybill-seal` to ./src/index.ts (an installed package
    // resolves through its `exports` the same way). It also maps the core's package-internal
    // native-crypto switch `#backend` to the Node module, for tests; outside Node the core takes
    // the portable module, which is what a browser bundle must contain.
    tsconfig: join(ROOT, 'tsconfig.json'),
    alias: { '#backend': './src/crypto/backend-none.ts' },
    absWorkingDir: ROOT,
  });
  return { code: result.outputFiles[0]!.text, inputs: Object.keys(result.metafile.inputs) };
}

/** What a browser bundle must not contain: Node built-in imports or CommonJS requires. */
export function nodeReferences(code: string): string[] {
  const found = new Set<string>();
  for (const m of code.matchAll(/["'`]node:[a-z_/]+["'`]/g)) found.add(m[0]);
  for (const m of code.matchAll(/\brequire\s*\(/g)) found.add(m[0]);
  return [...found];
}

/** A context with the Web APIs the bundle needs and nothing from Node. */
export function webContext(): Record<string, unknown> {
  return createContext({
    TextEncoder,
    TextDecoder,
    crypto: { getRandomValues: <T extends ArrayBufferView | null>(a: T) => webcrypto.getRandomValues(a as never) as T },
  });
}

/** Runs an `iife` bundle in a fresh web context; returns the context (its `WaybillEdge` is the module). */
export function runBundle(code: string): Record<string, unknown> {
  const ctx = webContext();
  runInContext(code, ctx, { filename: 'waybill-edge.js' });
  return ctx;
}

const say = (s = '') => process.stdout.write(`${s}\n`);

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { out: { type: 'string' } }, strict: true });
  const out = values.out ? resolve(values.out) : await mkdtemp(join(tmpdir(), 'waybill-seal-edge-'));

  // 1. Bundle for the browser, check it, write the ES module.
  const esm = await bundleEdge('esm', true);
  const problems = nodeReferences(esm.code);
  if (problems.length > 0 || esm.inputs.some((f) => f.startsWith('src/node') || f.startsWith('src/cli'))) {
    process.stderr.write(`the bundle refers to Node: ${problems.join(', ')}\n`);
    return 1;
  }
  await mkdir(out, { recursive: true });
  const file = join(out, 'waybill-edge.js');
  await writeFile(file, esm.code);
  const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
  say(`Bundled examples/edge/lookup.ts for the browser (esbuild --platform=browser): ${file}`);
  say(`  ${kib(Buffer.byteLength(esm.code))} minified, ${kib(gzipSync(esm.code).length)} gzipped, ${esm.inputs.length} source files; no node: imports, no require().`);

  // 2. The server side (here): seal a few waybills; hand out sealed records (for labels) and a search service.
  const material = generateLocalKeyMaterial();
  const audit = new MemoryAuditSink();
  const server = createSealer({ keyring: new LocalKeyring(material), keyStore: new MemoryKeyStore(), guard: createAccessGuard({ policy: waybillPolicy, audit }) });
  const sealed = await server.sealMany(waybill, syntheticWaybills({ count: 6, seed: 20250901 }));
  const target = syntheticWaybills({ count: 6, seed: 20250901 })[3]!;
  const last4 = target.receiver.mobile!.replace(/\D/g, '').slice(-4);
  const district = target.receiver.address.district;

  // 3. The edge: the bundle in a context without Node. Data crosses as JSON, as over the network.
  const ctx = runBundle((await bundleEdge('iife')).code);
  const globals = runInContext(`[typeof process, typeof require, typeof Buffer, typeof module, typeof global].join(' ')`, ctx) as string;
  say(`Edge context: process, require, Buffer, module, global are ${[...new Set(globals.split(' '))].join('/')}.`);
  ctx['recordsJson'] = JSON.stringify(sealed);
  ctx['service'] = searchService(server, sealed, { principal: 'cs-4', purpose: 'customer-service', context: { ticket: 'T-EDGE-1' } });
  ctx['query'] = JSON.stringify({ index: 'receiver.mobile:last4+district', value: [last4, district] });
  const labels = JSON.parse(runInContext(`JSON.stringify(WaybillEdge.views(JSON.parse(recordsJson), 'label'))`, ctx) as string) as unknown;
  const found = JSON.parse(
    (await runInContext(`WaybillEdge.search(service, JSON.parse(query)).then((r) => JSON.stringify(r.map((v) => v.waybillNo)))`, ctx)) as string,
  ) as string[];
  server.close();
  const audited = audit.events.filter((e) => e.type === 'search');

  const sameLabels = isDeepStrictEqual(labels, sealed.map((r) => mask(waybill, r, 'label')));
  say(`Label masks of ${sealed.length} sealed waybills at the edge: ${sameLabels ? 'identical to the library under Node' : 'DIFFERENT'}.`);
  for (const l of (labels as { waybillNo: string; receiver: { name: string; mobile?: string } }[]).slice(0, 3)) {
    say(`  ${l.waybillNo}  ${l.receiver.name}  ${l.receiver.mobile ?? ''}`);
  }
  say(`Search "尾号 ${last4}" in ${district} from the edge through the search service: found ${found.join(', ') || 'nothing'}; ${audited.length} search events audited (no value in them).`);
  const leaked = JSON.stringify(audit.events).includes(last4);
  return sameLabels && found.includes(target.waybillNo) && audited.length > 0 && !leaked ? 0 : 1;
}

/**
 * The server's search service as the edge sees it: a query in, masked screen views out. The sealer's
 * guard decides the query for the request's principal and purpose and audits it; candidates are
 * confirmed on the server; the device never sees a token or a key.
 */
export function searchService(server: Sealer, records: readonly SealedRecord<WaybillSchema>[], request: Parameters<Sealer['search']>[3]) {
  return async (query: { index: IndexName<WaybillSchema>; value: string | string[] }): Promise<string> => {
    const finder = await createFinder(server, waybill, query.index, query.value, request);
    const results = [];
    for (const r of records) if (await finder.matches(r)) results.push(mask(waybill, r, 'screen'));
    await finder.done();
    return JSON.stringify({ results });
  };
}

runIfMain(import.meta.url, 'edge build', main);
