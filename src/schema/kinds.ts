/** The kinds of protected (encrypted and masked) fields, and the plaintext type each one holds. */
export const PROTECTED_KINDS = [
  'name',
  'mobile',
  'landline',
  'phone',
  'virtualNumber',
  'idNumber',
  'addressDetail',
  'email',
  'text',
] as const;
export type ProtectedKind = (typeof PROTECTED_KINDS)[number];

/** A privacy ("virtual") number: an 11-digit main number plus an extension, valid until `expiresAt`. */
export interface VirtualNumber {
  main: string;
  ext: string;
  expiresAt?: string;
}

/**
 * The longest value (UTF-16 code units) of each kind, for a virtual number of each of its parts.
 * Checked before any masking or normalising (`ValidationError(path, 'too_long')` on seal; the full
 * mask from `maskValue`), so every mask and parser runs on bounded input.
 */
export const MAX_VALUE_LENGTH: Readonly<Record<ProtectedKind, number>> = Object.freeze({
  name: 256,
  mobile: 64,
  landline: 64,
  phone: 64,
  virtualNumber: 64,
  idNumber: 64,
  addressDetail: 1024,
  email: 320,
  text: 8192,
});

export type ProtectedValueOf<K extends ProtectedKind> = K extends 'virtualNumber' ? VirtualNumber : string;

/** Key classes are cryptographic boundaries: each has its own KEK and data keys. */
export const KEY_CLASSES = ['contact', 'address', 'identity', 'note'] as const;
export type KeyClass = (typeof KEY_CLASSES)[number];

/**
 * Why a name cannot be a field key class, or undefined when it can. `<class>-index` names are the
 * classes of the month index keys (search tokens): a field of such a class would share its key-store
 * rows with the tokens, and a shred of `<class>` would destroy it.
 */
export function keyClassProblem(name: string): string | undefined {
  if (!/^[a-z][a-z0-9-]{0,31}$/.test(name)) return 'must be 1-32 lower-case letters, digits or "-", starting with a letter';
  if (name.endsWith('-index')) return 'the suffix "-index" is reserved for the key classes of search index keys';
  return undefined;
}

export const DEFAULT_KEY_CLASS: Record<ProtectedKind, KeyClass> = {
  name: 'contact',
  mobile: 'contact',
  landline: 'contact',
  phone: 'contact',
  virtualNumber: 'contact',
  email: 'contact',
  idNumber: 'identity',
  addressDetail: 'address',
  text: 'note',
};
