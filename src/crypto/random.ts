/**
 * The one source of randomness for keys and nonces: the platform CSPRNG (`crypto.getRandomValues`)
 * via noble.
 *
 * Every nonce is its own CSPRNG draw at the moment it is used: nothing is drawn ahead and kept, so a
 * restored VM snapshot or a forked process cannot hand out the same pre-drawn nonces twice (the
 * platform CSPRNG reseeds itself on those events; a pool in our memory would not).
 */
import { randomBytes as nobleRandomBytes } from '@noble/ciphers/utils.js';

export type RandomSource = (length: number) => Uint8Array;

export const randomBytes: RandomSource = (length) => nobleRandomBytes(length);

/** The longest nonce asked for (XChaCha20-Poly1305's 24 bytes, with room to spare). */
export const MAX_NONCE_BYTES = 64;

/** A fresh random nonce of `length` bytes, drawn from the CSPRNG now. */
export function randomNonce(length: number): Uint8Array {
  if (!Number.isSafeInteger(length) || length < 1 || length > MAX_NONCE_BYTES) throw new RangeError('nonce length out of range');
  return nobleRandomBytes(length);
}
