/**
 * The example scripts, run as users run them (`npx tsx examples/<name>.ts`), with their output
 * checked: pickup-station lookup, key rotation, plaintext migration, and the edge bundle (also built
 * here with esbuild and run in a `vm` context without Node globals).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { runInContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createAccessGuard,
  createSealer,
  generateLocalKeyMaterial,
  LocalKeyring,
  mask,
  MemoryAuditSink,
  MemoryKeyStore,
  presets,
  waybill,
  waybillPolicy,
  type SealedRecord,
  type WaybillSchema,
} from 'waybill-seal';
import { syntheticWaybills } from 'waybill-seal/testing';
import 'waybill-seal/testing/vitest';
import { bundleEdge, nodeReferences, runBundle, searchService } from '../../examples/edge/build.js';
import { CUSTOMER_PARCEL, OTHER_STATION, outletOf, PARCELS, SEED as STATION_SEED, STATION } from '../../examples/pickup-station.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const exec = promisify(execFile);

async function tsx(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(TSX, args, { cwd: ROOT, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

const num = (text: string, re: RegExp): number => {
  const m = re.exec(text);
  expect(m, String(re)).not.toBeNull();
  return Number(m![1]);
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ws-scripts-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('npx tsx examples/pickup-station.ts', () => {
  it('the station holds no key: it finds its customer’s parcels through the search service, never another outlet’s, at most 60 queries an hour', async () => {
    const r = await tsx(['examples/pickup-station.ts']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const parcels = syntheticWaybills({ count: PARCELS, seed: STATION_SEED });
    const customer = parcels[CUSTOMER_PARCEL]!;
    const last4 = customer.receiver.mobile!.replace(/\D/g, '').slice(-4);
    expect(r.stdout).toContain(`Head office sealed ${PARCELS} waybills`);
    expect(r.stdout).toContain(`Station terminal ${STATION}: holds no key`);
    expect(r.stdout).toContain(`A customer says: "尾号 ${last4}"`);
    const candidates = num(r.stdout, /token candidates at this outlet: (\d+)/);
    const confirmed = num(r.stdout, /confirmed parcels: (\d+)/);
    const owners = parcels.filter((w, i) => outletOf(i) === STATION && w.receiver.mobile!.replace(/\D/g, '').endsWith(last4));
    expect(confirmed).toBe(owners.length);
    expect(candidates).toBeGreaterThanOrEqual(confirmed);
    const listed = r.stdout.split('\n').filter((l) => l.trimStart().startsWith('shelf '));
    expect(listed).toHaveLength(confirmed);
    for (const w of owners) expect(listed.some((l) => l.includes(w.waybillNo) && l.includes(`*******${last4}`))).toBe(true);
    expect(r.stdout).toMatch(new RegExp(`A parcel at ${OTHER_STATION} \\("尾号 \\d{4}"\\) searched from ${STATION}: not found`));
    expect(r.stdout).toContain(`Asking the service for ${OTHER_STATION}'s parcels: refused (out_of_scope).`);
    expect(r.stdout).toContain('Searching on and on: 60 queries answered this hour, then refused (quota_exceeded).');
    expect(r.stdout).toMatch(/Audit log: \d+ search events, 1 quota alert; none holds the digits asked for\./);
    // Masks only: no full phone number and no full name of any parcel is printed.
    expect(r.stdout).toContainNoPlaintext(parcels);
  }, 180_000);
});

describe('npx tsx examples/key-rotation.ts', () => {
  it('rotates the KEK, refuses to retire it early, rewraps, retires, and everything still opens', async () => {
    const r = await tsx(['examples/key-rotation.ts']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^1\. Sealed 200 waybills: (\d+) data keys under KEK v1\.$/);
    const before = num(r.stdout, /^1\. Sealed 200 waybills: (\d+) data keys/m);
    expect(r.stdout).toMatch(new RegExp(`2\\. Rotated: KEK v2 is current\\. Sealing went on \\(40 more\\): ${before} data keys under KEK v1, (\\d+) data keys under KEK v2\\.`));
    const added = num(r.stdout, /data keys under KEK v1, (\d+) data keys under KEK v2/);
    expect(added).toBeGreaterThan(0);
    expect(r.stdout).toContain('3. Retire v1 now? Refused: kek_in_use');
    expect(r.stdout).toContain(`4. Rewrap: ${before + added} data keys scanned, ${before} re-wrapped, ${added} already under v2; no field re-encrypted.`);
    expect(r.stdout).toContain(`Run again: 0 re-wrapped, ${before + added} already current. Now: ${before + added} data keys under KEK v2.`);
    expect(r.stdout).toContain('5. Retired KEK v1 (the keyring keeps versions [2], retired: [1]).');
    expect(r.stdout).toContain('A restarted service opened 240 of 240 waybills, every field equal to what was sealed.');
    expect(r.stdout).toContain('Search is unaffected (KEK rotation leaves the month index keys as they are): found by receiver mobile.');
    expect(r.stdout).toContain('6. An old copy of KEK v1 opens nothing: KekNotAllowedError (kek_not_allowed).');
  }, 180_000);
});

describe('npx tsx examples/migrate-plaintext.ts', () => {
  it('seals a plaintext table in batches, survives a crash, re-runs idempotently and leaves no plaintext', async () => {
    const r = await tsx(['examples/migrate-plaintext.ts']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('rows whose phone numbers a dump shows in clear: 1000');
    expect(r.stdout).toContain('Run 1: sealed 400 rows in batches of 200, then stopped (simulated crash).');
    expect(r.stdout).toContain('a migrated row opens receiver.mobile (legacy plaintext fields: 0)');
    expect(r.stdout).toContain('a row not migrated yet opens receiver.mobile too, through the same policy and audit (legacy plaintext fields: 9)');
    expect(r.stdout).toContain('audit events so far: 2');
    // 600 plaintext rows (one with a remark an old code path wrote in clear); the new sealed row is left alone.
    expect(r.stdout).toContain('Run 2 (re-run from the start): scanned 1001, sealed 600, unchanged 401, conflicts 0.');
    expect(r.stdout).toContain('Run 3 (nothing left): scanned 1001, sealed 0, unchanged 1001.');
    expect(r.stdout).toContain('Check: 1001 of 1001 rows fully sealed; rows whose phone numbers a dump shows in clear: 0.');
    expect(r.stdout).toContain('1001 of 1001 rows open with a strict sealer (no acceptPlaintext).');
    expect(r.stdout).toMatch(/Search by last four digits \+ district after the migration: found/);
  }, 180_000);
});

describe('examples/edge: a browser bundle that masks and searches without Node', () => {
  it('npx tsx examples/edge/build.ts writes the bundle and checks it at the edge against the library', async () => {
    const out = join(dir, 'edge');
    const r = await tsx(['examples/edge/build.ts', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('no node: imports, no require()');
    expect(r.stdout).toContain('Edge context: process, require, Buffer, module, global are undefined.');
    expect(r.stdout).toContain('Label masks of 6 sealed waybills at the edge: identical to the library under Node.');
    expect(r.stdout).toMatch(/from the edge through the search service: found WS\d{12}.*; \d+ search events audited/);
    const code = await readFile(join(out, 'waybill-edge.js'), 'utf8');
    expect(nodeReferences(code)).toEqual([]);
    expect(code).not.toMatch(/from\s*["']node:|import\(\s*["']node:/);
  }, 180_000);

  it('bundles with esbuild --platform=browser, with no node: import or require and nothing from src/node or src/cli', async () => {
    for (const format of ['esm', 'iife'] as const) {
      const b = await bundleEdge(format);
      expect(nodeReferences(b.code), format).toEqual([]);
      expect(b.inputs).toContain('examples/edge/lookup.ts');
      expect(b.inputs).toContain('src/index.ts');
      expect(b.inputs.filter((f) => /^src\/(node|cli)\/|^src\/(node|pkcs11|aws-kms|vault|pg)\.ts$|backend-node/.test(f))).toEqual([]);
    }
  }, 180_000);

  it('runs in a vm context without process, require or Buffer: the library’s masks; search only through the service, audited', async () => {
    const material = generateLocalKeyMaterial();
    const audit = new MemoryAuditSink();
    // The china preset: SM4-GCM fields and HMAC-SM3 tokens, computed only on the server.
    const server = createSealer({ ...presets.china, keyring: new LocalKeyring(material), keyStore: new MemoryKeyStore(), guard: createAccessGuard({ policy: waybillPolicy, audit }) });
    const plain = syntheticWaybills({ count: 40, seed: 4242 });
    const sealed: SealedRecord<WaybillSchema>[] = await server.sealMany(waybill, plain);

    const code = (await bundleEdge('iife')).code;
    // Issue 13: nothing on the device computes a token (no index-key label, no keyed hash of a query).
    expect(code).not.toMatch(/waybill-seal\/index|waybill-seal\/ff1|queryTokens|tokensFor/);
    const ctx = runBundle(code);
    expect(runInContext('[typeof process, typeof require, typeof Buffer, typeof module, typeof global, typeof setTimeout].join()', ctx)).toBe(
      'undefined,undefined,undefined,undefined,undefined,undefined',
    );
    ctx['recordsJson'] = JSON.stringify(sealed);
    for (const profile of ['screen', 'label']) {
      const views = JSON.parse(runInContext(`JSON.stringify(WaybillEdge.views(JSON.parse(recordsJson), ${JSON.stringify(profile)}))`, ctx) as string);
      expect(views).toEqual(sealed.map((r) => mask(waybill, r, profile)));
    }
    ctx['service'] = searchService(server, sealed, { principal: 'cs-4', purpose: 'customer-service', context: { ticket: 'T-9' } });
    const edgeFind = async (index: string, value: unknown) =>
      JSON.parse(
        (await runInContext(`WaybillEdge.search(service, ${JSON.stringify({ index, value })}).then((r) => JSON.stringify(r.map((v) => v.waybillNo)))`, ctx)) as string,
      ) as string[];
    for (const i of [0, 17, 39]) {
      const w = plain[i]!;
      const digits = w.receiver.mobile!.replace(/\D/g, '');
      expect(await edgeFind('receiver.mobile', w.receiver.mobile)).toEqual(plain.filter((p) => p.receiver.mobile!.replace(/\D/g, '') === digits).map((p) => p.waybillNo));
      expect(await edgeFind('receiver.mobile:last4+district', [digits.slice(-4), w.receiver.address.district])).toContain(w.waybillNo);
    }
    // customer-service may not open sender.mobile, so it may not search it: refused on the server, audited.
    await expect(edgeFind('sender.mobile:last4', '1234')).rejects.toThrow(/index_not_granted/);
    const searches = audit.events.filter((e) => e.type === 'search');
    expect(searches.filter((e) => e.outcome === 'issued')).toHaveLength(6);
    expect(searches.filter((e) => e.outcome === 'denied')).toHaveLength(1);
    const log = JSON.stringify(audit.events);
    for (const i of [0, 17, 39]) expect(log).not.toContain(plain[i]!.receiver.mobile!.replace(/\D/g, '').slice(-7));
  }, 180_000);
});
