/**
 * KEK rotation: add a version, rewrap every data key under it (compare-and-swap, resumable,
 * idempotent), retire the old version — with crash injection and sealing going on meanwhile.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addKekVersion,
  createSealer,
  generateLocalKeyMaterial,
  kekUsage,
  LocalKeyring,
  MemoryKeyStore,
  newKeyFile,
  removeKekVersion,
  rewrapDataKeys,
  type DataKeyRecord,
  type KeyStore,
  type RotatableKeyMaterial,
} from '../../src/index.js';
import { JsonFileKeyStore, loadKeyFile, retireKeyFileKek, rotateKeyFile } from '../../src/node.js';
import { tinySchema } from '../keyrings/keyring-contract.js';

class Crash extends Error {}

/** A store that dies at its `crashAt`-th replace: before writing, or just after (lost reply). */
class CrashingStore implements KeyStore {
  replaces = 0;
  constructor(
    readonly inner: KeyStore,
    readonly crashAt: number,
    readonly afterCommit: boolean,
  ) {}
  get(id: string) {
    return this.inner.get(id);
  }
  list(f?: Parameters<KeyStore['list']>[0]) {
    return this.inner.list(f);
  }
  putIfAbsent(r: DataKeyRecord) {
    return this.inner.putIfAbsent(r);
  }
  delete(id: string) {
    return this.inner.delete(id);
  }
  async replace(a: DataKeyRecord, b: DataKeyRecord) {
    if (++this.replaces === this.crashAt) {
      if (this.afterCommit) await this.inner.replace(a, b);
      throw new Crash('injected crash');
    }
    return this.inner.replace(a, b);
  }
}

const rec = (i: number) => ({ id: `K${i}`, createdAt: `20${20 + (i % 4)}-${String(1 + (i % 12)).padStart(2, '0')}-05T00:00:00Z`, name: '郑十一', note: `n${i}` });
const open = (keyring: LocalKeyring, keyStore: KeyStore) => createSealer({ keyring, keyStore, guard: 'allow-all' });

async function sealSome(keyring: LocalKeyring, keyStore: KeyStore, from: number, count: number) {
  const sealer = createSealer({ keyring, keyStore });
  const out = [];
  for (let i = from; i < from + count; i++) out.push({ plain: rec(i), sealed: await sealer.seal(tinySchema, rec(i)) });
  sealer.close();
  return out;
}

describe('KEK rotation on local key material', () => {
  it('addKekVersion numbers versions in creation order and never reuses a retired number', () => {
    let m: RotatableKeyMaterial = generateLocalKeyMaterial(['contact', 'note']);
    m = addKekVersion(m);
    expect(m.currentKek).toBe(2);
    expect(Object.keys(m.keks[1]!.keys).sort()).toEqual(['contact', 'contact-index', 'note', 'note-index']);
    m = removeKekVersion(m, 1, new Map());
    expect(m.keks.map((k) => k.version)).toEqual([2]);
    m = addKekVersion(m);
    expect(m.currentKek).toBe(3);
    expect(() => removeKekVersion(m, 3, new Map())).toThrow(/current/);
    expect(() => removeKekVersion(m, 9, new Map())).toThrow(/no KEK version 9/);
    expect(() => removeKekVersion(m, 2, new Map([['local:v2:note', 4]]))).toThrow(/still wraps 4 data keys/);
  });

  it('rewrap is idempotent and touches no field ciphertext', async () => {
    const m1 = generateLocalKeyMaterial();
    const keyStore = new MemoryKeyStore();
    const records = await sealSome(new LocalKeyring(m1), keyStore, 0, 48);
    const m2 = addKekVersion(m1);
    const kr2 = new LocalKeyring(m2);
    const first = await rewrapDataKeys(kr2, keyStore);
    expect(first).toMatchObject({ rewrapped: first.scanned, alreadyCurrent: 0 });
    expect(await rewrapDataKeys(kr2, keyStore)).toMatchObject({ rewrapped: 0, alreadyCurrent: first.scanned });
    const reader = open(new LocalKeyring(removeKekVersion(m2, 1, await kekUsage(keyStore))), keyStore);
    for (const r of records) expect((await reader.open(tinySchema, r.sealed, { principal: 'r', purpose: 'p', reveal: 'plain' })).record).toEqual(r.plain);
  });

  it('crash injection: rewrap stopped at random points (before or after a write) and resumed loses no key', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ at: fc.integer({ min: 1, max: 30 }), afterCommit: fc.boolean() }), { minLength: 1, maxLength: 6 }),
        async (crashes) => {
          const m1 = generateLocalKeyMaterial();
          const base = new MemoryKeyStore();
          const records = await sealSome(new LocalKeyring(m1), base, 0, 40);
          const m2 = addKekVersion(m1);
          const kr2 = new LocalKeyring(m2);
          let crashed = 0;
          for (const c of crashes) {
            try {
              await rewrapDataKeys(kr2, new CrashingStore(base, c.at, c.afterCommit), { concurrency: 1 + (c.at % 3) });
            } catch (e) {
              if (!(e instanceof Crash)) throw e;
              crashed++;
            }
            // Sealing goes on between attempts, with the new keyring.
            records.push(...(await sealSome(kr2, base, 1000 + records.length, 3)));
          }
          const final = await rewrapDataKeys(kr2, base);
          expect(final.scanned).toBe((await base.list()).length);
          const usage = await kekUsage(base);
          expect([...usage.keys()].every((id) => id.startsWith('local:v2:'))).toBe(true);
          // v1 can go; a keyring without it opens every record.
          const reader = open(new LocalKeyring(removeKekVersion(m2, 1, usage)), base);
          for (const r of records) expect((await reader.open(tinySchema, r.sealed, { principal: 'c', purpose: 'p', reveal: 'plain' })).record).toEqual(r.plain);
          return crashed >= 0;
        },
      ),
      { numRuns: 15 },
    );
  });

  it('two rewrap runs at once resolve their conflicts by compare-and-swap', async () => {
    const m1 = generateLocalKeyMaterial();
    const keyStore = new MemoryKeyStore();
    const records = await sealSome(new LocalKeyring(m1), keyStore, 0, 48);
    const kr2 = new LocalKeyring(addKekVersion(m1));
    const [a, b] = await Promise.all([rewrapDataKeys(kr2, keyStore), rewrapDataKeys(kr2, keyStore)]);
    const total = (await keyStore.list()).length;
    expect(a.rewrapped + b.rewrapped).toBe(total);
    expect(a.rewrapped + a.alreadyCurrent + a.conflicts).toBeGreaterThanOrEqual(total);
    const reader = open(kr2, keyStore);
    for (const r of records) expect((await reader.open(tinySchema, r.sealed, { principal: 'c', purpose: 'p', reveal: 'plain' })).record).toEqual(r.plain);
  });
});

describe('KEK rotation on a key file', () => {
  it('rotate → stale sealer keeps writing under v1 → retire refused → rewrap → retire → stale writes refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ws-rot-'));
    const path = join(dir, 'keys.json');
    await writeFile(path, JSON.stringify(newKeyFile()), { mode: 0o600 });
    const stale = await loadKeyFile(path); // an instance that loaded before the rotation
    const records = await sealSome(stale.keyring, stale.keyStore, 0, 24);

    expect(await rotateKeyFile(path)).toBe(2);
    records.push(...(await sealSome(stale.keyring, stale.keyStore, 100, 30))); // new months, still under v1
    await expect(retireKeyFileKek(path, 1)).rejects.toMatchObject({ reason: 'kek_in_use' });

    const fresh = await loadKeyFile(path);
    await rewrapDataKeys(fresh.keyring, fresh.keyStore);
    await retireKeyFileKek(path, 1);
    const doc = JSON.parse(await readFile(path, 'utf8'));
    expect(doc.keks.map((k: { version: number }) => k.version)).toEqual([2]);
    expect(doc.retiredKeks.map((k: { version: number }) => k.version)).toEqual([1]);

    // The stale instance would now create a key under the retired KEK: the file store refuses it.
    const staleSealer = createSealer({ keyring: stale.keyring, keyStore: new JsonFileKeyStore(path) });
    await expect(staleSealer.seal(tinySchema, { ...rec(7777), createdAt: '2030-01-01T00:00:00Z' })).rejects.toMatchObject({ reason: 'kek_retired' });
    // (Existing scopes fail too: their keys are under v2, a KEK the stale instance is not configured with.)
    await expect(staleSealer.seal(tinySchema, rec(1))).rejects.toMatchObject({ reason: 'kek_not_allowed' });

    const reader = open((await loadKeyFile(path)).keyring, new JsonFileKeyStore(path));
    for (const r of records) expect((await reader.open(tinySchema, r.sealed, { principal: 'f', purpose: 'p', reveal: 'plain' })).record).toEqual(r.plain);
  });
});
