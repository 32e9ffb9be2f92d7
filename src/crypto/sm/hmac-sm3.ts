/**
 * HMAC-SM3: the RFC 2104 construction with SM3, via noble's generic `hmac`.
 * @module
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sm3 } from './sm3.js';

/** HMAC-SM3 of `data` under `key` (any length; keys over 64 bytes are hashed first). 32 bytes. */
export function hmacSm3(key: Uint8Array, data: Uint8Array): Uint8Array {
  if (!(key instanceof Uint8Array)) throw new TypeError('hmac-sm3: key must be a Uint8Array');
  if (!(data instanceof Uint8Array)) throw new TypeError('hmac-sm3: data must be a Uint8Array');
  return hmac(sm3, key, data);
}
