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
import { encodeParts, toBase64Url, wipe } from '../crypto/bytes.js';
import { sm3 } from '../crypto/sm/sm3.js';
import { ConfigError } from '../errors.js';
import type { IndexHash } from './definition.js';

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

/** HKDF with the index hash family (HKDF-SHA-256 or HKDF-SM3) from the index root secret. */
export function deriveKey(hash: IndexHash, root: Uint8Array, info: Uint8Array, length = 32): Uint8Array {
  return hkdf(hashOf(hash), root, undefined, info, length);
}

/** A blind-index tokenizer for one (index, version): HMAC state keyed once, cloned per token. */
export class BlindTokenizer {
  readonly #state: ReturnType<typeof hmac.create>;
  readonly #bits: number;
  readonly #prefix: string;

  constructor(hash: IndexHash, key: Uint8Array, bits: number, version: number) {
    this.#state = hmac.create(hashOf(hash), key);
    this.#bits = bits;
    this.#prefix = `${version}.`;
  }

  token(parts: readonly string[]): string {
    const mac = this.#state.clone().update(encodeParts(parts)).digest();
    return this.#prefix + toBase64Url(truncate(mac, this.#bits));
  }

  destroy(): void {
    this.#state.destroy();
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

/** The index-secret version a token was made with (the digits before the first dot), or undefined. */
export function tokenVersion(token: unknown): number | undefined {
  if (typeof token !== 'string') return undefined;
  const m = /^([1-9][0-9]{0,8})\./.exec(token);
  return m ? Number(m[1]) : undefined;
}
