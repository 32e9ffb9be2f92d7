/**
 * Native crypto, where the runtime has it. The core imports no Node built-in: it asks for the
 * package-internal module `#backend`, which package.json maps per runtime condition, `node` to
 * `dist/backend-node.js` (OpenSSL through `node:crypto`, plus libsodium's XChaCha20-Poly1305 through
 * the optional dependency `sodium-native` where its prebuilt binary loads) and `default` to
 * `dist/backend-none.js` (no native crypto: browsers, edge runtimes, bundles). Nothing changes in what is written: a native
 * primitive must give the same bytes as the portable one, which a known-answer self-test checks
 * before it is used (and the test suite checks for every size and the Wycheproof vectors).
 *
 * Order of preference for XChaCha20-Poly1305: libsodium, then OpenSSL (noble's HChaCha20 + OpenSSL's
 * ChaCha20-Poly1305), then noble. Each native layer passes a known-answer self-test before first use
 * or is not used (backend-load.ts).
 *
 * `WAYBILL_SEAL_BACKEND=js` in the environment (read by the Node module) or the sealer option
 * `backend: 'js'` keep everything on the portable path; `WAYBILL_SEAL_BACKEND=openssl` or
 * `backend: 'openssl'` leave libsodium out.
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
  /** libsodium's XChaCha20-Poly1305 (IETF), where loaded: preferred over HChaCha20 + `chacha20poly1305Seal`. */
  readonly xchacha20poly1305?: NativeAead;
  /** RFC 8032 Ed25519 signing with a 32-byte seed and its 32-byte public key (signed record tags). */
  ed25519Signer?(seed: Uint8Array, publicKey: Uint8Array): (message: Uint8Array) => Uint8Array;
  /** Ed25519 verification with a 32-byte public key; false for any bad input. */
  ed25519Verifier?(publicKey: Uint8Array): (message: Uint8Array, signature: Uint8Array) => boolean;
}

/** A native AEAD with its own name (e.g. `libsodium 1.0.20 (sodium-native)`). Same layout as the other calls. */
export interface NativeAead {
  readonly name: string;
  seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array;
  open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array | undefined;
}

/** An incremental MAC: `update` any number of times, then `digest` once. */
export interface MacStream {
  update(data: Uint8Array): MacStream;
  digest(): Uint8Array;
}

/**
 * `auto`: the fastest native code present (default: libsodium, then OpenSSL); `openssl`: native
 * without libsodium; `js`: the portable implementations only.
 */
export type BackendChoice = 'auto' | 'openssl' | 'js';

export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'openssl', 'js'];

let native: NativeCrypto | undefined;

/** The installed native module (undefined until `loadNativeCrypto` (backend-load.ts) settles, or when there is none). */
export const nativeCrypto = (): NativeCrypto | undefined => native;

const withoutSodium = new WeakMap<NativeCrypto, NativeCrypto>();

/** `n` without its libsodium layer (OpenSSL only); `n` itself when it has none. */
export function opensslOnly(n: NativeCrypto): NativeCrypto {
  if (n.xchacha20poly1305 === undefined) return n;
  let o = withoutSodium.get(n);
  if (o === undefined) {
    const { xchacha20poly1305: _sodium, ...rest } = n;
    o = rest;
    withoutSodium.set(n, o);
  }
  return o;
}

/** The native module a backend choice uses (undefined: portable code only). */
export function nativeFor(backend: BackendChoice): NativeCrypto | undefined {
  if (backend === 'js' || native === undefined) return undefined;
  return backend === 'openssl' ? opensslOnly(native) : native;
}

/** Internal: sets the native module (after its self-test, see backend-load.ts). */
export function setNativeCrypto(candidate: NativeCrypto | undefined): void {
  native = candidate;
}
