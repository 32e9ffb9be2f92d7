/**
 * The one source of randomness for keys and nonces: the platform CSPRNG (`crypto.getRandomValues`)
 * via noble.
 *
 * Nonces are public and needed by the million, so they come from a pool: one CSPRNG call fills
 * `NONCE_POOL_BYTES`, each nonce is a copy of the next unused bytes, consumed bytes are zeroed and
 * never handed out again, and an exhausted pool is replaced by a fresh CSPRNG draw. Keys never come
 * from the pool (future key bytes would otherwise sit in memory).
 */
import { randomBytes as nobleRandomBytes } from '@noble/ciphers/utils.js';

export type RandomSource = (length: number) => Uint8Array;

export const randomBytes: RandomSource = (length) => nobleRandomBytes(length);

/** Bytes drawn from the CSPRNG per pool refill (170 XChaCha or 341 GCM nonces). */
export const NONCE_POOL_BYTES = 4096;

let pool = new Uint8Array(0);
let position = 0;

/** A fresh random nonce of `length` bytes (at most NONCE_POOL_BYTES), from the pooled CSPRNG output. */
export function randomNonce(length: number): Uint8Array {
  if (!Number.isSafeInteger(length) || length < 1 || length > NONCE_POOL_BYTES) throw new RangeError('nonce length out of range');
  if (position + length > pool.length) {
    pool.fill(0);
    pool = nobleRandomBytes(NONCE_POOL_BYTES);
    position = 0;
  }
  const end = position + length;
  const nonce = pool.slice(position, end);
  // Consumed bytes are zeroed: a nonce is used once, and a pool never rewinds.
  pool.fill(0, position, end);
  position = end;
  return nonce;
}
