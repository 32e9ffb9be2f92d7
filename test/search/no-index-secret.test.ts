/**
 * Issue 13: no long-lived secret makes search tokens. Written as the attack it stops: an insider
 * with a database dump (records with their screen masks and tokens, the key store's rows) and
 * everything a key file holds except the KEKs of the `<class>-index` classes (every other KEK, the
 * audit and integrity secrets, every data key those KEKs unwrap) tries each of those keys as the
 * token root and brute-forces the 10^4 numbers a screen mask leaves. Before, the key file's `index`
 * secret was such a root: it recovered every mobile. Now none of them is one.
 */
import { describe, expect, it } from 'vitest';
import { createSealer, defineSchema, generateLocalKeyMaterial, LocalKeyring, MemoryKeyStore, newKeyFile, s, storedToken, type SealedRecord } from '../../src/index.js';
import { fromBase64Url } from '../../src/crypto/bytes.js';
import { contextOf } from '../../src/keys/data-keys.js';
import { BlindTokenizer, deriveKey, INDEX_KEY_LABEL, keyInfo } from '../../src/search/tokens.js';
import { testKeyMaterial } from '../../src/testing/keyring.js';
import { indexKeyOf } from '../helpers.js';

/** 32-bit tokens: a chance match among the roots × 10^4 candidates is ~10^-4, so "none matches" is a sharp claim. */
const people = defineSchema('people', 1, { id: s.string(), createdAt: s.date(), mobile: s.mobile(), name: s.name() }, { recordId: 'id', indexes: { mobile: { field: 'mobile', bits: 32 } } });
const spec = people.indexes.mobile;

/** Every token root candidate tries the 10^4 numbers of the mask; returns the numbers whose token is the stored one. */
function bruteForce(root: Uint8Array, victim: SealedRecord<typeof people>): string[] {
  const stored = storedToken(people, victim, 'mobile')!;
  const label = stored.slice(0, stored.indexOf('.'));
  const digits = victim.mobile.mask['screen']!.replace(/\D/g, '');
  const blind = new BlindTokenizer('hmac-sha256', deriveKey('hmac-sha256', root, keyInfo(INDEX_KEY_LABEL, 'hmac-sha256', people.name, 'mobile', spec.id)), spec.bits, label, 'js');
  const hits: string[] = [];
  for (let i = 0; i < 10_000; i++) {
    const candidate = `${digits.slice(0, 3)}${String(i).padStart(4, '0')}${digits.slice(3)}`;
    if (blind.token([`+86${candidate}`]) === stored) hits.push(candidate);
  }
  blind.destroy();
  return hits;
}

describe('no secret outside the index KEKs computes a token', () => {
  it('the material of a new key file and the test keyring hold no index secret, and a KEK for every index key class', () => {
    for (const m of [newKeyFile(), newKeyFile('sm4-gcm'), generateLocalKeyMaterial(), testKeyMaterial()]) {
      expect(m.secrets?.index).toBeUndefined();
      expect(Object.keys(m.keks[0]!.keys).sort()).toEqual(['address', 'address-index', 'contact', 'contact-index', 'identity', 'identity-index', 'note', 'note-index']);
    }
  });

  it('a dump plus every key of the key file but the -index KEKs recovers no mobile from its mask; the month index key does', async () => {
    const material = generateLocalKeyMaterial();
    const keyring = new LocalKeyring(material);
    const keyStore = new MemoryKeyStore();
    const sealer = createSealer({ keyring, keyStore, guard: 'allow-all' });
    const victims = [];
    for (const [i, month] of ['2025-01', '2025-02'].entries()) {
      victims.push(await sealer.seal(people, { id: `V${i}`, createdAt: `${month}-05T00:00:00Z`, mobile: `1391234${5670 + i}`, name: '张三' }));
    }

    // The insider's key file: every KEK but the index ones, every secret.
    const keys = Object.fromEntries(Object.entries(material.keks[0]!.keys).filter(([c]) => !c.endsWith('-index')));
    const insider = new LocalKeyring({ ...material, keks: [{ ...material.keks[0]!, keys }] });
    const roots: Uint8Array[] = [...Object.values(keys), ...Object.values(material.secrets ?? {}).flatMap((list) => list.map((x) => x.key))].map((b64) => fromBase64Url(b64)!);
    // The dump: every key store row. The insider unwraps what its KEKs open; the index keys it cannot.
    const rows = await keyStore.list();
    expect(rows.filter((r) => r.keyClass === 'contact-index')).toHaveLength(2);
    for (const row of rows) {
      const unwrapping = insider.unwrap({ kekId: row.kekId, wrapped: row.wrapped }, contextOf(row));
      if (row.keyClass.endsWith('-index')) await expect(unwrapping).rejects.toMatchObject({ reason: 'no_kek' });
      else roots.push(await unwrapping);
    }
    expect(roots.length).toBeGreaterThanOrEqual(4 + 2 + 2);

    for (const victim of victims) for (const root of roots) expect(bruteForce(root, victim)).toEqual([]);
    // Control: the month's index key (what the -index KEK unwraps) finds exactly the number.
    expect(bruteForce(await indexKeyOf(keyring, keyStore, 'contact', '2025-01'), victims[0]!)).toEqual(['13912345670']);
    expect(bruteForce(await indexKeyOf(keyring, keyStore, 'contact', '2025-01'), victims[1]!)).toEqual([]);
  });
});
