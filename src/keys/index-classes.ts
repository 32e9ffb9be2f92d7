/** Names of the index key classes (no imports: keyrings and key files use them without the key manager). */

/** The key class of the index keys of fields of `keyClass`. */
export const indexKeyClass = (keyClass: string): string => `${keyClass}-index`;

/**
 * `keyClasses` and their index key classes (`contact` → `contact`, `contact-index`): what a keyring
 * needs KEKs for. A class whose index class name would pass 32 characters gets none (such a class
 * cannot be indexed; its seal says so: no KEK for the class).
 */
export function withIndexClasses(keyClasses: readonly string[]): string[] {
  const out = new Set(keyClasses);
  for (const c of keyClasses) if (!c.endsWith('-index') && indexKeyClass(c).length <= 32) out.add(indexKeyClass(c));
  return [...out];
}

/** The key classes a shred of `keyClass` covers: the class and its index keys. */
export const shredClasses = (keyClass: string): readonly string[] => (keyClass.endsWith('-index') ? [keyClass] : [keyClass, indexKeyClass(keyClass)]);
