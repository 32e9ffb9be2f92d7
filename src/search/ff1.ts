/**
 * FF1 format-preserving tokens (NIST SP 800-38G, noble's implementation, radix 10).
 *
 * FF1 is deterministic: equal digit strings under one key and tweak give equal tokens, so a token
 * reveals equality (like a blind index without truncation) and a downstream system can join on it.
 * It is a keyed permutation, not a hash: whoever holds the key can decrypt a token, so keep the
 * index root secret as carefully as a KEK. Domains below 10^6 (fewer than 6 digits) are refused.
 */
import { FF1 } from '@noble/ciphers/ff1.js';
import { ValidationError } from '../errors.js';
import { FF1_MIN_DIGITS } from '../schema/indexes.js';

export interface Ff1Cipher {
  encrypt(digits: readonly number[]): number[];
  decrypt(digits: readonly number[]): number[];
}

/**
 * Raw FF1 over radix-10 digit arrays with an AES-128/192/256 key. Rejects other key sizes and
 * digits outside 0–9; minimum lengths are the primitive's (radix^len ≥ 100), not the 10^6 policy.
 */
export function ff1Radix10(key: Uint8Array, tweak: Uint8Array): Ff1Cipher {
  if (!(key instanceof Uint8Array) || ![16, 24, 32].includes(key.length)) throw new RangeError('FF1 key must be 16, 24 or 32 bytes');
  const cipher = FF1(10, key, tweak);
  const check = (digits: readonly number[]): number[] => {
    if (!Array.isArray(digits) || digits.length < 2) throw new RangeError('FF1 input must have at least 2 digits');
    for (const d of digits) if (!Number.isInteger(d) || d < 0 || d > 9) throw new RangeError('FF1 input must be digits 0-9');
    return [...digits];
  };
  return {
    encrypt: (digits) => cipher.encrypt(check(digits)),
    decrypt: (digits) => cipher.decrypt(check(digits)),
  };
}

/** Encrypts a digit string of at least 6 digits; `path` names the field in the ValidationError. */
export function ff1EncryptDigits(cipher: Ff1Cipher, digits: string, path: string): string {
  if (!/^\d+$/.test(digits)) throw new ValidationError(path, 'ff1_not_digits');
  if (digits.length < FF1_MIN_DIGITS) throw new ValidationError(path, 'ff1_domain_too_small');
  return cipher.encrypt(Array.from(digits, Number)).join('');
}
