/** Shared by the key-store index key tests: key classes with their `-index` classes, a one-mobile schema. */
import { defineSchema, generateLocalKeyMaterial, KEY_CLASSES, LocalKeyring, s, type Keyring, type SealedRecord } from '../../src/index.js';

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
