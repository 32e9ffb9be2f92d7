/**
 * Keyed tokens (docs/FORMAT.md §10). Per index and index-secret version:
 *
 *   key   = HKDF-H(ikm = index root secret vN, salt = none, info = LP("waybill-seal/index", hash, schema, index, spec id), 32)
 *   token = "<N>." + base64url(first ⌈bits/8⌉ bytes of HMAC-H(key, LP(part₁, part₂, …)), unused low bits zeroed)
 *
 * LP is the length-prefixed list encoding of the AAD (§6); H is SHA-256 or SM3. FF1 tokens use an
 * AES-256 key from the same root (`waybill-seal/ff1`), see ff1.ts.
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import type { CHash } from '@noble/hashes/utils.js';
import { nativeCrypto, type BackendChoice, type MacStream } from '../crypto/backend.js';
import { constantTimeEqual, encodeParts, toBase64Url, wipe } from '../crypto/bytes.js';
import { sm3 } from '../crypto/sm/sm3.js';
import { ConfigError } from '../errors.js';
import type { IndexHash } from '../schema/indexes.js';

export const INDEX_KEY_LABEL = 'waybill-seal/index';
export const FF1_KEY_LABEL = 'waybill-seal/ff1';

const HASHES: Readonly<Record<IndexHash, CHash>> = { 'hmac-sha256': sha256, 'hmac-sm3': sm3 };

export function hashOf(name: IndexHash): CHash {
  const hash = Object.hasOwn(HASHES, name) ? HASHES[name] : undefined;
  if (!hash) throw new ConfigError(`unknown index hash "${String(name)}" (hmac-sha256 or hmac-sm3)`);
  return hash;
}

/** The HKDF info of an index key: binds the label, hash, schema name, index name and definition. */
export function keyInfo(label: string, hash: IndexHash, schemaName: string, indexName: string, specId: string): Uint8Array {
  return encodeParts([label, hash, schemaName, indexName, specId]);
}

type Hmac = ReturnType<typeof hmac.create>;

/** One key's MAC, keyed once: noble's keyed HMAC state, cloned per message. */
interface KeyedMac {
  mac(message: Uint8Array): Uint8Array;
  destroy(): void;
}

function keyedMac(hash: IndexHash, key: Uint8Array): KeyedMac {
  const state = hmac.create(hashOf(hash), key);
  let scratch: Hmac | undefined;
  return {
    mac(message) {
      // The keyed state copied into a reused scratch: no key schedule, no allocation but the output.
      const h: Hmac = (scratch = state._cloneInto(scratch) as Hmac);
      const out = new Uint8Array(h.outputLen);
      h.update(message).digestInto(out);
      return out;
    },
    destroy() {
      state.destroy();
      scratch?.destroy();
    },
  };
}

/** Keys whose MACs stay on the portable path (sealers created with `backend: 'js'`). */
const portableKeys = new WeakSet<Uint8Array>();

/** Marks `key` for the portable HMAC (same bytes; no native call). Returns the key. */
export function preferPortable(key: Uint8Array): Uint8Array {
  portableKeys.add(key);
  return key;
}

const nativeFor = (hash: IndexHash, key: Uint8Array) => (hash === 'hmac-sha256' && !portableKeys.has(key) ? nativeCrypto() : undefined);

interface KeyedState {
  readonly copy: Uint8Array;
  readonly hash: IndexHash;
  readonly mac: KeyedMac;
  /** noble's keyed HMAC, made on the first `macState` call without native crypto. */
  stream: Hmac | undefined;
}
const keyedStates = new Map<Uint8Array, KeyedState>();

/** The keyed MAC of `key` (at most 16 kept, oldest dropped first; checked against the key bytes on every use). */
function keyedState(hash: IndexHash, key: Uint8Array): KeyedState {
  let e = keyedStates.get(key);
  if (e === undefined || e.hash !== hash || !constantTimeEqual(e.copy, key)) {
    if (e !== undefined) dropState(e);
    e = { copy: key.slice(), hash, mac: keyedMac(hash, key), stream: undefined };
    keyedStates.delete(key);
    keyedStates.set(key, e);
    if (keyedStates.size > 16) {
      const [oldest, old] = keyedStates.entries().next().value!;
      keyedStates.delete(oldest);
      dropState(old);
    }
  }
  return e;
}

function dropState(e: KeyedState): void {
  e.mac.destroy();
  e.stream?.destroy();
  e.copy.fill(0);
}

/** Destroys every keyed HMAC state kept by `macOf` / `macState` (sealer `close()`). */
export function forgetMacKeys(): void {
  for (const e of keyedStates.values()) dropState(e);
  keyedStates.clear();
}

/** Below this many bytes the keyed JS MAC beats a native call (whose fixed cost is ~2 µs). */
const NATIVE_MAC_MIN = 512;

/**
 * HMAC-H(key, message) in one call: the key's keyed MAC (no key schedule, no allocation but the
 * output), or for long messages native HMAC-SHA-256 where present.
 */
export function macOf(hash: IndexHash, key: Uint8Array, message: Uint8Array): Uint8Array {
  const native = message.length >= NATIVE_MAC_MIN ? nativeFor(hash, key) : undefined;
  if (native !== undefined) return native.hmacSha256(key, message);
  return keyedState(hash, key).mac.mac(message);
}

/**
 * A fresh incremental HMAC-H under `key`: the native HMAC-SHA-256 where the runtime has one, else
 * noble's HMAC keyed once per key (a small LRU keyed by the key array, checked against its bytes)
 * and cloned per message, so no message pays for the key schedule. Same bytes either way.
 */
export function macState(hash: IndexHash, key: Uint8Array): MacStream {
  const native = nativeFor(hash, key);
  if (native !== undefined) return native.hmacSha256Stream(key);
  const e = keyedState(hash, key);
  return (e.stream ??= hmac.create(hashOf(hash), key)).clone();
}

/** HKDF with the index hash family (HKDF-SHA-256 or HKDF-SM3) from the index root secret. */
export function deriveKey(hash: IndexHash, root: Uint8Array, info: Uint8Array, length = 32): Uint8Array {
  return hkdf(hashOf(hash), root, undefined, info, length);
}

/**
 * A blind-index tokenizer for one (index, version): its key's MAC keyed once (no per-token key
 * schedule), or, for HMAC-SHA-256 messages long enough to gain from it, one native HMAC call where
 * the runtime has native crypto (same bytes; see crypto/backend.ts).
 */
export class BlindTokenizer {
  readonly #mac: KeyedMac;
  readonly #key: Uint8Array | undefined;
  readonly #bits: number;
  readonly #prefix: string;

  /** `label`: the index-secret version, or `<scope>~<generation>` of a key-store index key. */
  constructor(hash: IndexHash, key: Uint8Array, bits: number, label: number | string, backend: BackendChoice = 'auto') {
    this.#mac = keyedMac(hash, key);
    // Kept (and wiped by destroy) only where a native HMAC-SHA-256 may use it.
    this.#key = hash === 'hmac-sha256' && backend !== 'js' ? key.slice() : undefined;
    this.#bits = bits;
    this.#prefix = `${label}.`;
  }

  token(parts: readonly string[]): string {
    return this.#prefix + toBase64Url(truncate(this.mac(encodeParts(parts)), this.#bits));
  }

  /** The full HMAC of `message` under this tokenizer's key (native only for long messages, see macOf). */
  mac(message: Uint8Array): Uint8Array {
    const native = this.#key === undefined || message.length < NATIVE_MAC_MIN ? undefined : nativeCrypto();
    if (native !== undefined) return native.hmacSha256(this.#key!, message);
    return this.#mac.mac(message);
  }

  destroy(): void {
    this.#mac.destroy();
    this.#key?.fill(0);
  }
}

/** The first `bits` bits of `mac`, in ⌈bits/8⌉ bytes with the unused low bits of the last byte zero. */
export function truncate(mac: Uint8Array, bits: number): Uint8Array {
  const out = mac.slice(0, Math.ceil(bits / 8));
  const spare = out.length * 8 - bits;
  if (spare > 0) out[out.length - 1]! &= (0xff << spare) & 0xff;
  wipe(mac);
  return out;
}

/** The scope of a key-store token (`<scope>~<generation>.…`), or undefined for other tokens. */
export function tokenScope(token: unknown): string | undefined {
  if (typeof token !== 'string') return undefined;
  const m = /^([A-Za-z0-9_-]{1,64})~[1-9][0-9]{0,8}\./.exec(token);
  return m ? m[1] : undefined;
}

/** The index-secret version a token was made with (the digits before the first dot), or undefined. */
export function tokenVersion(token: unknown): number | undefined {
  if (typeof token !== 'string') return undefined;
  const m = /^([1-9][0-9]{0,8})\./.exec(token);
  return m ? Number(m[1]) : undefined;
}
