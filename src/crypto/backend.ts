/**
 * Native crypto, where the runtime has it. The core imports no Node built-in: it asks for the
 * package-internal module `#backend`, which package.json maps per runtime condition, `node` to
 * `dist/backend-node.js` (OpenSSL through `node:crypto`) and `default` to `dist/backend-none.js` (no
 * native crypto: browsers, edge runtimes, bundles). Nothing changes in what is written: a native
 * primitive must give the same bytes as the portable one, which a known-answer self-test checks
 * before it is used (and the test suite checks for every size and the Wycheproof vectors).
 *
 * `WAYBILL_SEAL_BACKEND=js` in the environment (read by the Node module) or the sealer option
 * `backend: 'js'` keep everything on the portable path.
 * @module
 */

/** What a native module provides. Raw primitives only: the core adds checks and typed errors. */
export interface NativeCrypto {
  readonly name: string;
  /** RFC 8439 ChaCha20-Poly1305, 32-byte key, 12-byte nonce: ciphertext ‖ 16-byte tag. */
  chacha20poly1305Seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array;
  /** The plaintext, or undefined when the tag does not verify. */
  chacha20poly1305Open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array | undefined;
  /** AES-256-GCM, 32-byte key, 12-byte nonce: ciphertext ‖ 16-byte tag. */
  aes256gcmSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array;
  aes256gcmOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array | undefined;
  /** HMAC-SHA-256 of `data` (one call). */
  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array;
  /** Incremental HMAC-SHA-256. */
  hmacSha256Stream(key: Uint8Array): MacStream;
}

/** An incremental MAC: `update` any number of times, then `digest` once. */
export interface MacStream {
  update(data: Uint8Array): MacStream;
  digest(): Uint8Array;
}

/** `auto`: native where present (default); `js`: the portable implementations only. */
export type BackendChoice = 'auto' | 'js';

let native: NativeCrypto | undefined;

/** The installed native module (undefined until `loadNativeCrypto` (backend-load.ts) settles, or when there is none). */
export const nativeCrypto = (): NativeCrypto | undefined => native;

/** Internal: sets the native module (after its self-test, see backend-load.ts). */
export function setNativeCrypto(candidate: NativeCrypto | undefined): void {
  native = candidate;
}
