/**
 * Issue 13, part 1: index keys join the key hierarchy (`indexKeys: 'key-store'`). A month's tokens
 * come from a random index key of key class `<class>-index`, per month, in the key store, shredded
 * with the month's data keys. Written as the attack it stops: with a long-lived index secret,
 * whoever kept it could recompute a shredded month's tokens and recover its mobiles from the stored
 * screen masks (10^4 candidates each).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  createSealer,
  generateLocalKeyMaterial,
  LocalKeyring,
  MemoryKeyStore,
  reindex,
  shred,
  shredBefore,
  storedToken,
  type Keyring,
  type KeyStore,
} from '../../src/index.js';
import { toBase64Url } from '../../src/crypto/bytes.js';
import { contextOf } from '../../src/keys/data-keys.js';
import { sealerInternals } from '../../src/seal/sealer.js';
import { hex, SEARCH } from '../helpers.js';
import { searchVectorSchema, type SearchVectorInput } from './search-vector-builder.js';
import { CLASSES, mobileOf, people, type Person } from './index-key-fixtures.js';
import { legacySealed } from './legacy-tokens.js';

function sealerFor(keyring: Keyring, keyStore: KeyStore) {
  return createSealer({ keyring, keyStore, guard: 'allow-all' });
}

/** The 10^4 numbers a screen mask `139****5678` leaves. */
function candidates(screenMask: string): string[] {
  const digits = screenMask.replace(/\D/g, '');
  return Array.from({ length: 10_000 }, (_, i) => `${digits.slice(0, 3)}${String(i).padStart(4, '0')}${digits.slice(3)}`);
}

describe('key-store index keys', () => {
  it('tokens name their month and index key generation; a query returns one token per live month in its window', async () => {
    const keyring = new LocalKeyring(generateLocalKeyMaterial(CLASSES));
    const keyStore = new MemoryKeyStore();
    const sealer = sealerFor(keyring, keyStore);
    const jan = await sealer.seal(people, { id: 'J', createdAt: '2025-01-10T00:00:00Z', mobile: '13912345678' });
    const feb = await sealer.seal(people, { id: 'F', createdAt: '2025-02-10T00:00:00Z', mobile: '13912345678' });
    expect(storedToken(people, jan, 'mobile')).toMatch(/^2025-01~1\.[A-Za-z0-9_-]{6}$/);
    expect(storedToken(people, feb, 'mobile')).toMatch(/^2025-02~1\./);
    // Different months, unrelated tokens of the same number.
    expect(storedToken(people, jan, 'mobile')!.slice(10)).not.toBe(storedToken(people, feb, 'mobile')!.slice(10));
    expect((await keyStore.list()).filter((r) => r.keyClass === 'contact-index').map((r) => r.id).sort()).toEqual(['contact-index/2025-01/1', 'contact-index/2025-02/1']);
    const all = await sealer.tokensFor(people, 'mobile', '+86 139 1234 5678', SEARCH);
    expect(all).toEqual([storedToken(people, feb, 'mobile'), storedToken(people, jan, 'mobile')]);
    expect(await sealer.tokensFor(people, 'mobile', '13912345678', { ...SEARCH, window: { from: '2025-02' } })).toEqual([storedToken(people, feb, 'mobile')]);
    expect(await sealer.tokensFor(people, 'mobile', '13912345678', { ...SEARCH, window: { from: '2024-01', to: '2024-12' } })).toEqual([]);
    await expect(sealer.tokensFor(people, 'mobile', '13912345678', { ...SEARCH, window: { from: '2025-3' } })).rejects.toThrow(/2025-03/);
    await expect(sealer.tokensFor(people, 'mobile', '13912345678', { ...SEARCH, window: { from: '2025-03', to: '2025-01' } })).rejects.toThrow(/after/);
    // A second instance on the same key store shares the month's index key.
    const other = sealerFor(keyring, keyStore);
    expect((await other.seal(people, { id: 'J2', createdAt: '2025-01-20T00:00:00Z', mobile: '13912345678' })).mobile.tok).toEqual(jan.mobile.tok);
  });

  it('after shredding a month, brute-forcing its mask candidates with every key the system still holds matches none of its tokens', async () => {
    const keyring = new LocalKeyring(generateLocalKeyMaterial(CLASSES));
    const keyStore = new MemoryKeyStore();
    const sealer = sealerFor(keyring, keyStore);
    const victims: Person[] = [];
    for (let i = 0; i < 2; i++) victims.push(await sealer.seal(people, { id: `J${i}`, createdAt: '2025-01-05T00:00:00Z', mobile: mobileOf(i) }));
    const survivor = await sealer.seal(people, { id: 'F0', createdAt: '2025-02-05T00:00:00Z', mobile: mobileOf(9) });
    const recovered = async (victim: Person, tokensOf: (candidate: string) => Promise<readonly string[]>) => {
      const stored = storedToken(people, victim, 'mobile')!;
      const hits: string[] = [];
      for (const c of candidates(victim.mobile.mask['screen']!)) if ((await tokensOf(c)).includes(stored)) hits.push(c);
      return hits;
    };
    // Before the shred, whoever can compute tokens recovers the number exactly (the attack works).
    expect(await recovered(victims[0]!, (c) => sealer.tokensFor(people, 'mobile', c, SEARCH))).toEqual([mobileOf(0)]);

    const report = await shred(keyStore, 'contact', '2025-01');
    expect(report.shredded).toEqual(['contact-index/2025-01/1', 'contact/2025-01/1']);
    sealer.forget();

    // Every key the system still holds: the keyring (KEKs; no index secret), the live key store.
    await expect(keyring.secret('index')).rejects.toMatchObject({ reason: 'index_secret_removed' });
    const internals = sealerInternals(sealer);
    for (const [i, victim] of victims.entries()) {
      expect(await sealer.tokensFor(people, 'mobile', mobileOf(i), { ...SEARCH, window: { from: '2025-01', to: '2025-01' } })).toEqual([]);
      expect(await recovered(victim, (c) => sealer.tokensFor(people, 'mobile', c, SEARCH))).toEqual([]);
    }
    // Sealing into the shredded month takes a new index key: its tokens are unrelated to the old ones,
    // and queries then include that new key, which matches nothing of the shredded records either.
    const sealNow = async (c: string) => [(await internals.recordTokens(people, { id: 'x', createdAt: '2025-01-05T00:00:00Z', mobile: c }))['mobile']!['mobile']!];
    for (const victim of victims) expect(await recovered(victim, sealNow)).toEqual([]);
    expect((await keyStore.get('contact-index/2025-01/2'))?.shreddedAt).toBeUndefined();
    expect(await recovered(victims[0]!, (c) => sealer.tokensFor(people, 'mobile', c, SEARCH))).toEqual([]);
    // The live month is still searchable.
    expect(await sealer.tokensFor(people, 'mobile', mobileOf(9), SEARCH)).toContain(storedToken(people, survivor, 'mobile'));
  });

  it('shredBefore (also by key class) covers the classes’ index keys', async () => {
    const keyring = new LocalKeyring(generateLocalKeyMaterial(CLASSES));
    const keyStore = new MemoryKeyStore();
    const sealer = sealerFor(keyring, keyStore);
    for (const month of ['2024-11', '2024-12', '2025-01']) await sealer.seal(people, { id: month, createdAt: `${month}-02T00:00:00Z`, mobile: mobileOf(1) });
    expect((await shredBefore(keyStore, '2024-12', { keyClasses: ['contact'] })).shredded).toEqual(['contact-index/2024-11/1', 'contact/2024-11/1']);
    expect((await shredBefore(keyStore, '2025-01')).shredded).toEqual(['contact-index/2024-12/1', 'contact/2024-12/1']);
    sealer.forget();
    expect((await sealer.tokensFor(people, 'mobile', mobileOf(1), SEARCH)).map((t) => t.slice(0, 9))).toEqual(['2025-01~1']);
  });

  it('reindex moves records sealed under the index secret to key-store tokens, resumably and idempotently', async () => {
    const keyring = new LocalKeyring(generateLocalKeyMaterial(CLASSES));
    const keyStore = new MemoryKeyStore();
    const sealer = sealerFor(keyring, keyStore);
    const secret = new Uint8Array(32).fill(7);
    const records = [];
    for (let i = 0; i < 4; i++) records.push(await legacySealed(sealer, people, { id: `R${i}`, createdAt: `2025-0${1 + (i % 2)}-03T00:00:00Z`, mobile: mobileOf(i) }, secret));
    expect(storedToken(people, records[0]!, 'mobile')).toMatch(/^1\./);
    const first = [];
    for await (const item of reindex(sealer, people, records)) {
      first.push(item);
      if (item.checkpoint === 2) break;
    }
    const rest = [];
    for await (const item of reindex(sealer, people, records, { resumeFrom: 2 })) rest.push(item);
    const moved = [...first, ...rest];
    expect(moved.map((x) => x.changed)).toEqual([true, true, true, true]);
    for (const [i, { record }] of moved.entries()) {
      const month = `2025-0${1 + (i % 2)}`;
      expect(storedToken(people, record, 'mobile')).toMatch(new RegExp(`^${month}~1\\.`));
      expect(storedToken(people, record, 'mobile:last4')).toMatch(new RegExp(`^${month}~1\\.`));
      expect(record.mobile.enc).toBe(records[i]!.mobile.enc);
      expect(await sealer.tokensFor(people, 'mobile', mobileOf(i), SEARCH)).toContain(storedToken(people, record, 'mobile'));
      expect((await sealer.verify(people, record)).ok).toBe(true);
    }
    const again = [];
    for await (const item of reindex(sealer, people, moved.map((x) => x.record))) again.push(item);
    expect(again.every((x) => !x.changed)).toBe(true);
  });
});

describe('docs/FORMAT.md §10.6: key-store index keys give the §10.5 tokens under their month prefix', () => {
  const spec = readFileSync(new URL('../../docs/FORMAT.md', import.meta.url), 'utf8');
  const block = /<!-- search-vectors:begin -->\s*```json\n([\s\S]*?)```\s*<!-- search-vectors:end -->/.exec(spec);
  const vectors = JSON.parse(block![1]!) as { input: SearchVectorInput; tok: Record<string, Record<string, string>>; indexes: Record<string, Record<string, string>> }[];
  const documented = /<!-- index-key-vector:begin -->\s*```json\n([\s\S]*?)```\s*<!-- index-key-vector:end -->/.exec(spec);
  const example = JSON.parse(documented![1]!) as { dataKeyId: string; keyClass: string; scope: string; generation: number; tok: Record<string, Record<string, string>> };

  it.each(vectors.map((v) => [v.input.hash, v] as const))('%s: the index data key holding the vector key seals and queries the same tokens, prefixed <month>~<generation>', async (_, v) => {
    const keyring = new LocalKeyring(generateLocalKeyMaterial(['contact', 'contact-index', 'identity', 'identity-index']));
    const keyStore = new MemoryKeyStore();
    const key = hex(v.input.indexSecret.key);
    const base = { id: example.dataKeyId, keyClass: example.keyClass, scope: example.scope, generation: example.generation, suite: 'xchacha20-poly1305' };
    await keyStore.putIfAbsent({ ...base, ...(await keyring.wrap(key, contextOf(base))), createdAt: '2025-03-01T00:00:00Z' });
    const sealer = createSealer({ keyring, keyStore, guard: 'allow-all', indexHash: v.input.hash, indexKeys: 'key-store' });
    const sealed = await sealer.seal(searchVectorSchema, v.input.plain);
    const prefixed = (tok: Record<string, string>) => Object.fromEntries(Object.entries(tok).map(([k, t]) => [k, t.replace(/^1\./, `${example.scope}~${example.generation}.`)]));
    expect(sealed.mobile.tok).toEqual(prefixed(v.tok['mobile']!));
    expect(sealed.name.tok).toEqual(prefixed(v.tok['name']!));
    if (v.input.hash === 'hmac-sha256') expect({ mobile: sealed.mobile.tok, name: sealed.name.tok }).toEqual(example.tok);
    expect(await sealer.tokensFor(searchVectorSchema, 'mobile', '+86 138-1234-5678', SEARCH)).toEqual([prefixed({ t: v.indexes['mobile']!['token']! })['t']]);
    expect(toBase64Url(key)).toHaveLength(43);
  });
});
