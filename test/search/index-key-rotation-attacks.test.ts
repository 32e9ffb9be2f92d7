/**
 * Attack review R13c of the index-key rotation (retire → reindex → shredRetiredIndexKeys) and the
 * retention setting, each test the attack it stops.
 */
import { describe, expect, it } from 'vitest';
import {
  createResealer,
  createSealer,
  defineSchema,
  generateLocalKeyMaterial,
  KEY_CLASSES,
  LocalKeyring,
  MemoryKeyStore,
  reindex,
  retireDataKeys,
  s,
  shredRetiredIndexKeys,
  storedToken,
  type Keyring,
  type KeyStore,
  type SealedRecord,
} from '../../src/index.js';
import { contextOf } from '../../src/keys/data-keys.js';
import { parseEnc } from '../../src/format/sealed-field.js';
import { queryParts } from '../../src/search/engine.js';
import { BlindTokenizer, deriveKey, INDEX_KEY_LABEL, keyInfo } from '../../src/search/tokens.js';
import { SEARCH } from '../helpers.js';

const CLASSES = [...KEY_CLASSES, ...KEY_CLASSES.map((c) => `${c}-index`)];
// 32-bit tokens: a chance match among 10^4 candidates is negligible, so a hit is the attack working.
const people = defineSchema(
  'people',
  1,
  { id: s.string(), createdAt: s.date(), mobile: s.mobile() },
  { recordId: 'id', indexes: { mobile: { field: 'mobile', bits: 32 }, 'mobile:last4': { field: 'mobile', transform: 'phone-last4', bits: 9 } } },
);
type Person = SealedRecord<typeof people>;
const mobileOf = (i: number) => `139${String(4_000_000 + i * 7919).padStart(8, '0')}`;
const G1 = 'contact-index/2025-03/1';
const G2 = 'contact-index/2025-03/2';

/** The mobile numbers an attacker holding `key` (an index key's bytes) recovers from a record's screen mask and stored token. */
function recoverWith(key: Uint8Array, record: Person): string[] {
  const stored = storedToken(people, record, 'mobile')!;
  const spec = people.indexes.mobile;
  const tokenizer = new BlindTokenizer('hmac-sha256', deriveKey('hmac-sha256', key, keyInfo(INDEX_KEY_LABEL, 'hmac-sha256', people.name, 'mobile', spec.id)), 32, stored.slice(0, stored.indexOf('.')));
  const digits = record.mobile.mask['screen']!.replace(/\D/g, '');
  const hits: string[] = [];
  for (let i = 0; i < 10_000; i++) {
    const candidate = `${digits.slice(0, 3)}${String(i).padStart(4, '0')}${digits.slice(3)}`;
    if (tokenizer.token(queryParts(spec, candidate)) === stored) hits.push(candidate);
  }
  tokenizer.destroy();
  return hits;
}

async function leak(keyring: Keyring, store: KeyStore, id: string): Promise<Uint8Array> {
  const row = (await store.get(id))!;
  return keyring.unwrap({ kekId: row.kekId, wrapped: row.wrapped }, contextOf(row));
}

/** Database writer: `UPDATE data_keys SET retired_at = …` on one row (undefined clears it). */
async function setRetired(store: KeyStore, id: string, retiredAt: string | undefined): Promise<void> {
  const row = (await store.get(id))!;
  const { retiredAt: _old, ...rest } = row;
  expect(await store.replace(row, retiredAt === undefined ? rest : { ...rest, retiredAt })).toBe(true);
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

function setup() {
  const keyring = new LocalKeyring(generateLocalKeyMaterial(CLASSES));
  const keyStore = new MemoryKeyStore();
  return { keyring, keyStore, sealer: () => createSealer({ keyring, keyStore, guard: 'allow-all', indexKeys: 'key-store' }) };
}

describe('R13c H1: a database writer flipping retired_at cannot run a rotation backwards', () => {
  it('un-retiring the leaked generation after step 1: step 3 refuses (nothing shredded) instead of reporting success', async () => {
    const { keyring, keyStore, sealer } = setup();
    const operator = sealer();
    const records: Person[] = [];
    for (let i = 0; i < 3; i++) records.push(await operator.seal(people, { id: `M${i}`, createdAt: '2025-03-05T00:00:00Z', mobile: mobileOf(i) }));
    const leaked = await leak(keyring, keyStore, G1);
    const retired = await operator.retireIndexKeys({ keyClass: 'contact', scope: '2025-03' });
    expect(retired).toEqual([G1]);
    await setRetired(keyStore, G1, undefined);

    await collect(reindex(operator, people, records));
    await expect(operator.shredRetiredIndexKeys(retired)).rejects.toThrow(/no longer retired/);
    await expect(shredRetiredIndexKeys(keyStore, retired)).rejects.toThrow(/no longer retired/);
    expect((await keyStore.get(G1))?.shreddedAt).toBeUndefined();
    // The operator learns it: the leaked key still works, so the rotation is not done.
    expect(recoverWith(leaked, records[0]!)).toEqual([mobileOf(0)]);
  });

  it('flipping the flags (g1 live again, g2 retired): reindex moves records forward to g3, never back to the leaked g1, and step 3 refuses', async () => {
    const { keyring, keyStore, sealer } = setup();
    const service = sealer();
    const records: Person[] = [];
    for (let i = 0; i < 2; i++) records.push(await service.seal(people, { id: `M${i}`, createdAt: '2025-03-05T00:00:00Z', mobile: mobileOf(i) }));
    const leaked = await leak(keyring, keyStore, G1);
    const retired = await service.retireIndexKeys({ keyClass: 'contact', scope: '2025-03' });
    records.push(await service.seal(people, { id: 'M2', createdAt: '2025-03-09T00:00:00Z', mobile: mobileOf(2) }));
    expect(storedToken(people, records[2]!, 'mobile')).toMatch(/^2025-03~2\./);
    const retiredAt = (await keyStore.get(G1))!.retiredAt!;
    await setRetired(keyStore, G1, undefined);
    await setRetired(keyStore, G2, retiredAt);

    const operator = sealer(); // the rotation job
    const out = await collect(reindex(operator, people, records));
    const tokens = out.map((x) => storedToken(people, x.record, 'mobile')!);
    expect(tokens.every((t) => t.startsWith('2025-03~3.'))).toBe(true);
    for (const { record } of out) expect(recoverWith(leaked, record)).toEqual([]);
    // New seals, here and in a fresh process, go forward too.
    for (const s of [operator, sealer()]) {
      const late = await s.seal(people, { id: 'L', createdAt: '2025-03-20T00:00:00Z', mobile: mobileOf(5) });
      expect(storedToken(people, late, 'mobile')).toMatch(/^2025-03~3\./);
    }
    await expect(operator.shredRetiredIndexKeys(retired)).rejects.toThrow(/no longer retired/);
    // Even with g1 marked retired again, a newer generation retired outside this rotation is refused.
    await setRetired(keyStore, G1, retiredAt);
    await expect(operator.shredRetiredIndexKeys(retired)).rejects.toThrow(/contact-index\/2025-03\/2, newer than contact-index\/2025-03\/1, is retired too/);
    for (const id of [G1, G2]) expect((await keyStore.get(id))?.shreddedAt).toBeUndefined();
  });

  it('step 3 takes only the index keys step 1 retired', async () => {
    const { keyStore, sealer } = setup();
    const operator = sealer();
    await operator.seal(people, { id: 'M', createdAt: '2025-03-05T00:00:00Z', mobile: mobileOf(1) });
    await expect(operator.shredRetiredIndexKeys([])).rejects.toThrow(/ids retireIndexKeys returned/);
    await expect(operator.shredRetiredIndexKeys(['contact/2025-03/1'])).rejects.toThrow(/not an index key/);
    await expect(operator.shredRetiredIndexKeys(['contact-index/2025-04/1'])).rejects.toThrow(/not an index key/);
    await expect(operator.shredRetiredIndexKeys([G1])).rejects.toThrow(/no longer retired/);
    expect((await keyStore.get(G1))?.shreddedAt).toBeUndefined();
  });

  it('data-key rotation: the same flip does not send a reseal (or new seals) back to the old data key', async () => {
    const { keyStore, keyring, sealer } = setup();
    const service = sealer();
    const records: Person[] = [await service.seal(people, { id: 'M0', createdAt: '2025-03-05T00:00:00Z', mobile: mobileOf(0) })];
    const retired = await retireDataKeys(keyStore, { keyClass: 'contact', scope: '2025-03' });
    expect(retired).toEqual(['contact/2025-03/1']);
    records.push(await sealer().seal(people, { id: 'M1', createdAt: '2025-03-06T00:00:00Z', mobile: mobileOf(1) }));
    const keyOf = (r: Person) => parseEnc(r.mobile.enc).dataKeyId;
    expect(keyOf(records[1]!)).toBe('contact/2025-03/2');
    const retiredAt = (await keyStore.get('contact/2025-03/1'))!.retiredAt!;
    await setRetired(keyStore, 'contact/2025-03/1', undefined);
    await setRetired(keyStore, 'contact/2025-03/2', retiredAt);

    const resealer = createResealer({ keyring, keyStore });
    const out = await collect(resealer.reseal(people, records));
    resealer.close();
    expect(out.map((x) => keyOf(x.record))).toEqual(['contact/2025-03/1', 'contact/2025-03/3']);
    const late = await sealer().seal(people, { id: 'L', createdAt: '2025-03-07T00:00:00Z', mobile: mobileOf(2) });
    expect(keyOf(late)).toBe('contact/2025-03/3');
  });
});
