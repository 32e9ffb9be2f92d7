/**
 * Data-key rotation: retire data keys, re-seal records under new generations (streaming, verified,
 * resumable), with crash injection on the file driver.
 */
import { appendFile, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AuthenticationError,
  createResealer,
  createSealer,
  generateLocalKeyMaterial,
  LocalKeyring,
  MemoryKeyStore,
  retireDataKeys,
  waybill,
  type KeyStore,
} from '../../src/index.js';
import { resealFile } from '../../src/node.js';
import { dataKeyIds, waybills } from './fixtures.js';

const keyring = new LocalKeyring(generateLocalKeyMaterial());
const access = { principal: 'reseal-test', purpose: 'verify', reveal: 'plain' } as const;

async function sealed(keyStore: KeyStore, n: number, months = 3) {
  const sealer = createSealer({ keyring, keyStore });
  const plain = waybills(n, months);
  const out = [];
  for (const p of plain) out.push(await sealer.seal(waybill, p as never));
  sealer.close();
  return { plain, sealed: out };
}

/** Masks and tokens of every sealed field, by path. */
function masksAndTokens(v: unknown, path = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (Array.isArray(v)) v.forEach((x, i) => Object.assign(out, masksAndTokens(x, `${path}.${i}`)));
  else if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o['enc'] === 'string') out[path] = { mask: o['mask'], tok: o['tok'] };
    else for (const [k, x] of Object.entries(o)) Object.assign(out, masksAndTokens(x, path ? `${path}.${k}` : k));
  }
  return out;
}

describe('reseal (library)', () => {
  it('re-encrypts only fields under retired keys, keeps masks and tokens, moves to a new generation', async () => {
    const keyStore = new MemoryKeyStore();
    const { plain, sealed: input } = await sealed(keyStore, 60, 3);
    const retired = await retireDataKeys(keyStore, { scope: '2025-01' });
    expect(retired.length).toBeGreaterThan(0);
    expect(retired.every((id) => id.includes('/2025-01/1'))).toBe(true);

    const resealer = createResealer({ keyring, keyStore });
    const out = [];
    for await (const r of resealer.reseal(waybill, input)) out.push(r);
    resealer.close();

    const reader = createSealer({ keyring, keyStore, guard: 'allow-all' });
    for (let i = 0; i < input.length; i++) {
      const { record, resealed } = out[i]!;
      const jan = plain[i]!.createdAt.startsWith('2025-01');
      expect(resealed > 0).toBe(jan);
      if (jan) {
        expect(dataKeyIds(record).every((id) => id.endsWith('/2'))).toBe(true);
        expect(record).not.toEqual(input[i]);
      } else {
        expect(record).toEqual(input[i]);
      }
      expect(masksAndTokens(record)).toEqual(masksAndTokens(input[i]));
      expect((await reader.open(waybill, record, access)).record).toEqual(plain[i]);
    }
    // New generation 2 keys exist and are live; retired ones are still there for old data.
    const keys = await keyStore.list({ scope: '2025-01' });
    expect(keys.filter((k) => k.retiredAt === undefined).every((k) => k.generation === 2)).toBe(true);
    expect(keys.filter((k) => k.retiredAt !== undefined).length).toBe(retired.length);
  });

  it('after retirement, a new sealer never seals under a retired key', async () => {
    const keyStore = new MemoryKeyStore();
    await sealed(keyStore, 6, 1);
    await retireDataKeys(keyStore);
    const { sealed: more } = await sealed(keyStore, 6, 1);
    const retired = new Set((await keyStore.list()).filter((k) => k.retiredAt).map((k) => k.id));
    expect(more.flatMap(dataKeyIds).some((id) => retired.has(id))).toBe(false);
  });

  it('rejects a record that does not open, whole, and writes nothing for it', async () => {
    const keyStore = new MemoryKeyStore();
    const { sealed: input } = await sealed(keyStore, 2, 1);
    await retireDataKeys(keyStore);
    const forged = structuredClone(input[0]!) as typeof input[0] & { waybillNo: string };
    forged.waybillNo = 'SF-FORGED';
    const resealer = createResealer({ keyring, keyStore });
    await expect(resealer.resealRecord(waybill, forged)).rejects.toBeInstanceOf(AuthenticationError);
    expect((await resealer.resealRecord(waybill, input[1]!)).resealed).toBeGreaterThan(0);
  });
});

describe('resealFile: resumable, never in place, crash injection', () => {
  let dir: string;
  let inPath: string;
  let plain: ReturnType<typeof waybills>;
  let storeDocs: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ws-reseal-'));
    const keyStore = new MemoryKeyStore();
    const s = await sealed(keyStore, 1200, 4);
    plain = s.plain;
    inPath = join(dir, 'in.jsonl');
    await writeFile(inPath, s.sealed.map((r) => JSON.stringify(r)).join('\n') + '\n');
    storeDocs = JSON.stringify(await keyStore.list());
  }, 120_000);

  const freshStore = () => new MemoryKeyStore(JSON.parse(storeDocs));

  it('crashes at random points (also with torn writes past the checkpoint), resumes, and ends with every record exactly once', async () => {
    const keyStore = freshStore();
    const out = join(dir, 'out-crash.jsonl');
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let crashes = 0;
    let last;
    for (let attempt = 0; attempt < 50; attempt++) {
      const crashAt = crashes < 6 ? 1 + Math.floor(rand() * 1200) : Infinity;
      try {
        last = await resealFile({
          keyring,
          keyStore,
          schema: waybill,
          input: inPath,
          output: out,
          batch: 97,
          onProgress: (p) => {
            if (p.lines >= crashAt) throw new Error('injected crash');
          },
        });
        break;
      } catch (e) {
        if ((e as Error).message !== 'injected crash') throw e;
        crashes++;
        // A crash may leave bytes after the last checkpoint: the next run must drop them.
        if (crashes % 2 === 0) await appendFile(out, '{"torn":');
      }
    }
    expect(crashes).toBe(6);
    expect(last!.resumedAfter).toBeGreaterThanOrEqual(0);
    expect(last!.written).toBe(1200);
    await expect(stat(`${out}.checkpoint.json`)).rejects.toThrow(); // removed on completion

    const lines = (await readFile(out, 'utf8')).trim().split('\n');
    expect(lines.length).toBe(1200);
    const retired = new Set((await keyStore.list()).filter((k) => k.retiredAt).map((k) => k.id));
    expect(retired.size).toBe(24); // 4 months × (4 key classes + 2 index key classes), all retired at the fresh start
    const reader = createSealer({ keyring, keyStore, guard: 'allow-all' });
    for (const [i, line] of lines.entries()) {
      const r = JSON.parse(line);
      expect(dataKeyIds(r).some((id) => retired.has(id))).toBe(false); // nothing left under a retired key
      expect((await reader.open(waybill, r, access)).record).toEqual(plain[i]); // in order, each once
    }
    // Exactly one new generation per (class, scope): resumed runs reused the keys of earlier ones.
    expect((await keyStore.list()).filter((k) => !k.retiredAt).map((k) => k.generation)).toEqual(Array(16).fill(2));
  }, 120_000);

  it('refuses to write in place or over an existing file; --only-retired on a fresh store re-seals nothing', async () => {
    const keyStore = freshStore();
    await expect(resealFile({ keyring, keyStore, schema: waybill, input: inPath, output: inPath })).rejects.toThrow(/in place/);
    const existing = join(dir, 'exists.jsonl');
    await writeFile(existing, 'x\n');
    await expect(resealFile({ keyring, keyStore, schema: waybill, input: inPath, output: existing })).rejects.toThrow(/exists/);
    const summary = await resealFile({ keyring, keyStore, schema: waybill, input: inPath, output: join(dir, 'noop.jsonl'), retire: false });
    expect(summary).toMatchObject({ written: 1200, resealedRecords: 0, retired: [] });
    expect(await readFile(join(dir, 'noop.jsonl'), 'utf8')).toBe(await readFile(inPath, 'utf8'));
  }, 120_000);

  it('reports throughput', async () => {
    const keyStore = freshStore();
    const t = performance.now();
    const s = await resealFile({ keyring, keyStore, schema: waybill, input: inPath, output: join(dir, 'speed.jsonl') });
    const secs = (performance.now() - t) / 1000;
    console.info(`reseal: ${s.written} waybills (${s.resealedFields} fields) in ${secs.toFixed(2)} s = ${Math.round(s.written / secs)} records/s`);
    expect(s.resealedRecords).toBe(1200);
  }, 120_000);
});
