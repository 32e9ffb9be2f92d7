/**
 * AEAD suites used for field encryption, each with its key and nonce sizes and its per-key message
 * cap, in two implementations that give the same bytes:
 *
 * - **portable** (every runtime): noble's XChaCha20-Poly1305 and AES-256-GCM (`gcm`), and SM4-GCM
 *   (RFC 8998, `./sm/sm4gcm`: this package's SM4 with noble's documented `ghash` export), each
 *   through its public API only, keyed per message;
 * - **native** (Node, `./backend`): AES-256-GCM in OpenSSL; XChaCha20-Poly1305 in libsodium where
 *   sodium-native loads, else as noble's HChaCha20 subkey plus OpenSSL's ChaCha20-Poly1305
 *   (draft-irtf-cfrg-xchacha §2.3.1); SM4-GCM stays portable (the keyed code beats one OpenSSL call
 *   per message for field-sized values).
 *
 * Per-key state (the XChaCha key words for HChaCha20) is kept for at most 64 keys (oldest dropped and
 * zeroed first), keyed by the key array and checked against a copy of its bytes on every use, so a
 * key array reused for other bytes never meets stale state. `forgetPreparedKeys()` zeroes it all
 * (sealer `forget()` and `close()`).
 */
import { gcm } from '@noble/ciphers/aes.js';
import { hchacha, xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { AuthenticationError, ConfigError } from '../errors.js';
import { nativeFor, type BackendChoice, type NativeCrypto } from './backend.js';
import { sm4gcm } from './sm/sm4gcm.js';

export const SUITES = ['xchacha20-poly1305', 'aes-256-gcm', 'sm4-gcm'] as const;
export type SuiteName = (typeof SUITES)[number];

export interface AeadSuite {
  readonly name: SuiteName;
  readonly keyLength: number;
  readonly nonceLength: number;
  readonly tagLength: number;
  /**
   * How many messages one data key may encrypt with random nonces before the sealer must move
   * to a new data key generation (undefined: no practical limit, as with 192-bit nonces).
   */
  readonly messageCap: number | undefined;
  /** Which implementation: `js` (portable) or the native module's name (`node:crypto`). */
  readonly backend: string;
  /** Returns ciphertext || tag. */
  encrypt(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array;
  /** Throws AuthenticationError on any failure; never returns partial plaintext. */
  decrypt(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array;
}

/**
 * NIST SP 800-38D caps random 96-bit nonces at 2^32 messages per key. Our counter is kept per
 * sealer instance, so the default leaves a wide margin for many instances sharing a scope key.
 */
export const GCM_DEFAULT_MESSAGE_CAP = 2 ** 28;

// ---- per-key state ----

interface Prepared<T> {
  readonly copy: Uint8Array;
  readonly state: T;
}

/** Per-key state for at most `max` keys (first in, first out), validated against the key bytes on every use. */
class PreparedKeys<T> {
  readonly #entries = new Map<Uint8Array, Prepared<T>>();

  constructor(
    readonly build: (key: Uint8Array) => T,
    readonly destroy: (state: T) => void,
    readonly max = 64,
  ) {}

  get(key: Uint8Array): T {
    const e = this.#entries.get(key);
    if (e !== undefined && sameBytes(e.copy, key)) return e.state;
    if (e !== undefined) this.#drop(key, e);
    const state = this.build(key);
    this.#entries.set(key, { copy: key.slice(), state });
    if (this.#entries.size > this.max) {
      const [oldest, entry] = this.#entries.entries().next().value as [Uint8Array, Prepared<T>];
      this.#drop(oldest, entry);
    }
    return state;
  }

  #drop(key: Uint8Array, e: Prepared<T>): void {
    this.#entries.delete(key);
    e.copy.fill(0);
    this.destroy(e.state);
  }

  clear(): void {
    for (const [k, e] of [...this.#entries]) this.#drop(k, e);
  }
}

/** Constant-time equality of two key arrays. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

/**
 * Bytes as 32-bit words in the host's order: noble's `hchacha` reads its inputs (and writes its
 * output) as word views of the bytes, swapping them itself on big-endian hosts.
 */
function wordView(bytes: Uint8Array, out: Uint32Array = new Uint32Array(bytes.length / 4)): Uint32Array {
  new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(bytes);
  return out;
}

const chachaKeys = new PreparedKeys<Uint32Array>(
  (key) => wordView(key),
  (w) => w.fill(0),
);
/** Zeroes every cached per-key state. */
export function forgetPreparedKeys(): void {
  chachaKeys.clear();
}

// ---- suites ----

type Seal = (key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array) => Uint8Array;
type Open = (key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array) => Uint8Array | undefined;

function suite(name: SuiteName, backend: string, keyLength: number, nonceLength: number, messageCap: number | undefined, seal: Seal, open: Open): AeadSuite {
  return {
    name,
    keyLength,
    nonceLength,
    tagLength: 16,
    messageCap,
    backend,
    encrypt(key, nonce, plaintext, aad) {
      if (!(key instanceof Uint8Array) || !(nonce instanceof Uint8Array) || key.length !== keyLength || nonce.length !== nonceLength) {
        throw new ConfigError(`${name}: wrong key or nonce size`);
      }
      if (!(plaintext instanceof Uint8Array) || !(aad instanceof Uint8Array)) throw new ConfigError(`${name}: plaintext and aad must be bytes`);
      return seal(key, nonce, plaintext, aad);
    },
    decrypt(key, nonce, sealed, aad) {
      if (!(key instanceof Uint8Array) || !(nonce instanceof Uint8Array) || key.length !== keyLength || nonce.length !== nonceLength) {
        throw new AuthenticationError();
      }
      if (!(sealed instanceof Uint8Array) || !(aad instanceof Uint8Array) || sealed.length < 16) throw new AuthenticationError();
      let plain: Uint8Array | undefined;
      try {
        plain = open(key, nonce, sealed, aad);
      } catch {
        throw new AuthenticationError();
      }
      if (plain === undefined) throw new AuthenticationError();
      return plain;
    },
  };
}

/** A portable GCM suite (96-bit nonces) over a noble-shaped `gcm(key, nonce, aad)`. */
function gcmSuite(name: SuiteName, keyLength: number, cipher: typeof sm4gcm): AeadSuite {
  return suite(
    name,
    'js',
    keyLength,
    12,
    GCM_DEFAULT_MESSAGE_CAP,
    (key, nonce, p, aad) => cipher(key, nonce, aad).encrypt(p),
    (key, nonce, s, aad) => cipher(key, nonce, aad).decrypt(s),
  );
}

const portable: Readonly<Record<SuiteName, AeadSuite>> = {
  'xchacha20-poly1305': suite(
    'xchacha20-poly1305',
    'js',
    32,
    24,
    undefined,
    (key, nonce, p, aad) => xchacha20poly1305(key, nonce, aad).encrypt(p),
    (key, nonce, s, aad) => xchacha20poly1305(key, nonce, aad).decrypt(s),
  ),
  'aes-256-gcm': gcmSuite('aes-256-gcm', 32, gcm),
  // GB/T 39786 deployments: 128-bit SM4 keys, RFC 8998 96-bit nonces, same cap as AES-GCM.
  'sm4-gcm': gcmSuite('sm4-gcm', 16, sm4gcm),
};

/** "expand 32-byte k" (RFC 8439 §2.3), as a word view. */
const SIGMA = wordView(new TextEncoder().encode('expand 32-byte k'));

/** XChaCha20-Poly1305 as noble's HChaCha20 + the native ChaCha20-Poly1305 (draft-irtf-cfrg-xchacha §2.3.1). */
function nativeXchacha(n: NativeCrypto): { readonly seal: Seal; readonly open: Open } {
  const nonceWords = new Uint32Array(4);
  const sub = new Uint32Array(8);
  // The subkey's bytes: the output words' memory, in the byte order noble wrote them for this host.
  const subkey = new Uint8Array(sub.buffer);
  const nonce12 = new Uint8Array(12);
  // The native ChaCha20-Poly1305 call `op` under the subkey of (key, nonce), zeroed right after.
  const withSubkey =
    <R>(op: (subkey: Uint8Array, nonce: Uint8Array, data: Uint8Array, aad: Uint8Array) => R) =>
    (key: Uint8Array, nonce: Uint8Array, data: Uint8Array, aad: Uint8Array): R => {
      hchacha(SIGMA, chachaKeys.get(key), wordView(nonce.subarray(0, 16), nonceWords), sub);
      nonce12.set(nonce.subarray(16, 24), 4);
      try {
        return op(subkey, nonce12, data, aad);
      } finally {
        subkey.fill(0);
      }
    };
  return {
    seal: withSubkey((k, iv, data, aad) => n.chacha20poly1305Seal(k, iv, data, aad)),
    open: withSubkey((k, iv, data, aad) => n.chacha20poly1305Open(k, iv, data, aad)),
  };
}

const nativeSuites = new WeakMap<NativeCrypto, Readonly<Record<SuiteName, AeadSuite>>>();

/** The suites over a native module (tests use this to run every vector against both). */
export function nativeSuitesOf(n: NativeCrypto): Readonly<Record<SuiteName, AeadSuite>> {
  let s = nativeSuites.get(n);
  if (!s) {
    const sodium = n.xchacha20poly1305;
    const x = sodium ?? nativeXchacha(n);
    s = {
      'xchacha20-poly1305': suite('xchacha20-poly1305', sodium?.name ?? n.name, 32, 24, undefined, x.seal, x.open),
      'aes-256-gcm': suite('aes-256-gcm', n.name, 32, 12, GCM_DEFAULT_MESSAGE_CAP, n.aes256gcmSeal, n.aes256gcmOpen),
      // The portable SM4-GCM (and so `backend: 'js'`, which is what runs): OpenSSL has SM4 but no SM4-GCM.
      'sm4-gcm': portable['sm4-gcm'],
    };
    nativeSuites.set(n, s);
  }
  return s;
}

export function isSuiteName(name: unknown): name is SuiteName {
  return typeof name === 'string' && Object.hasOwn(portable, name);
}

/**
 * The suite `name`: native where loaded (see `loadNativeCrypto`) unless `backend` is `'js'`, without
 * libsodium when it is `'openssl'`. All give the same bytes; only speed differs.
 */
export function getSuite(name: string, backend: BackendChoice = 'auto'): AeadSuite {
  if (!isSuiteName(name)) throw new ConfigError(`unknown suite "${name}" (known: ${SUITES.join(', ')})`);
  const n = nativeFor(backend);
  return n === undefined ? portable[name] : nativeSuitesOf(n)[name];
}
