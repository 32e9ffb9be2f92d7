/** Shared by the key-store index key tests: key classes with their `-index` classes, a one-mobile schema. */
import { defineSchema, generateLocalKeyMaterial, KEY_CLASSES, LocalKeyring, s, storedToken, type Keyring, type KeyStore, type SealedRecord } from '../../src/index.js';
import { contextOf } from '../../src/keys/data-keys.js';
import { queryParts } from '../../src/search/engine.js';
import { BlindTokenizer, deriveKey, INDEX_KEY_LABEL, keyInfo } from '../../src/search/tokens.js';

export const CLASSES = [...KEY_CLASSES, ...KEY_CLASSES.map((c) => `${c}-index`)];
/** 32-bit tokens: a chance match among 10^4 candidates is ~2·10^-6, so "none matches" is a sharp claim. */
export const people = defineSchema(
  'people',
  1,
  { id: s.string(), createdAt: s.date(), mobile: s.mobile() },
  { recordId: 'id', indexes: { mobile: { field: 'mobile', bits: 32 }, 'mobile:last4': { field: 'mobile', transform: 'phone-last4', bits: 9 } } },
);
export type Person = SealedRecord<typeof people>;
export const mobileOf = (i: number) => `139${String(4_000_000 + i * 7919).padStart(8, '0')}`;

/** A local keyring that keeps every `contact-index` key it wraps (the manager's own bytes): tests check they are zeroed. */
export function capturingKeyring(): { keyring: Keyring; made: Uint8Array[] } {
  const local = new LocalKeyring(generateLocalKeyMaterial(CLASSES));
  const made: Uint8Array[] = [];
  const keyring: Keyring = {
    currentKekId: (c) => local.currentKekId(c),
    wrap: async (key, ctx) => {
      if (ctx.keyClass === 'contact-index') made.push(key);
      return local.wrap(key, ctx);
    },
    unwrap: (w, ctx) => local.unwrap(w, ctx),
    secret: (n, v) => local.secret(n, v),
    secretVersions: (n) => local.secretVersions(n),
  };
  return { keyring, made };
}

/** The mobile numbers an attacker holding `key` (an index key's bytes) recovers from a record's screen mask and stored token. */
export function recoverWith(key: Uint8Array, record: Person): string[] {
  const stored = storedToken(people, record, 'mobile')!;
  const label = stored.slice(0, stored.indexOf('.'));
  const spec = people.indexes.mobile;
  const tokenizer = new BlindTokenizer('hmac-sha256', deriveKey('hmac-sha256', key, keyInfo(INDEX_KEY_LABEL, 'hmac-sha256', people.name, 'mobile', spec.id)), 32, label);
  const digits = record.mobile.mask['screen']!.replace(/\D/g, '');
  const hits: string[] = [];
  for (let i = 0; i < 10_000; i++) {
    const candidate = `${digits.slice(0, 3)}${String(i).padStart(4, '0')}${digits.slice(3)}`;
    if (tokenizer.token(queryParts(spec, candidate)) === stored) hits.push(candidate);
  }
  tokenizer.destroy();
  return hits;
}

/** The bytes of the index key `id` (what leaked). */
export async function leak(keyring: Keyring, store: KeyStore, id: string): Promise<Uint8Array> {
  const row = (await store.get(id))!;
  return keyring.unwrap({ kekId: row.kekId, wrapped: row.wrapped }, contextOf(row));
}
