/**
 * Record integrity tags (docs/FORMAT.md §11): a MAC over the canonical units of a sealed record
 * (signed plain fields, every ciphertext, mask and token), keyed by the keyring's `integrity` secret,
 * separate from the KEKs, so a label printer or sorting centre can check what it prints and routes
 * on without being able to decrypt anything.
 *
 *   key      = HKDF-H(integrity secret vN, info = LP("waybill-seal/integrity", hash), 32)
 *   locator  = FNV-1a-32(UTF-8(path) ‖ 0x00 ‖ content), big-endian
 *   mac      = HMAC-H(key, LP("waybill-seal/tag", "t1", schema, version, recordId, path₁, content₁, …, "locators", locator₁ ‖ …))
 *   $tag     = "t1.<hash>.<N>.<base64url(mac)>.<base64url(locator₁ ‖ locator₂ ‖ …)>"
 *
 * The record MAC (which also covers the locators) is the only check. Locators are diagnostics: an
 * unkeyed checksum of data stored in clear anyway, so that after a MAC failure the verifier can say
 * which path differs. Someone who forges them can only misdirect that report, never pass the check.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { constantTimeEqual, encodeParts, fromBase64Url, toBase64Url, wipe } from '../crypto/bytes.js';
import { KeyError } from '../errors.js';
import type { SecretName } from '../keys/keyring.js';
import type { Schema } from '../schema/schema.js';
import { isPlainObject, TAG_FIELD } from '../schema/walk.js';
import { INDEX_HASHES, type IndexHash } from '../search/definition.js';
import type { BackendChoice } from '../crypto/backend.js';
import { deriveKey, hashOf, macOf, preferPortable } from '../search/tokens.js';
import { unitsOf, type Unit } from './canonical.js';

export const TAG_VERSION = 't1';
const LOCATOR_BYTES = 4;
const TAG = /^t1\.(hmac-sha256|hmac-sm3)\.([1-9][0-9]{0,8})\.([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]*)$/;

/** What a verifier needs: the `integrity` secret, by version. Any keyring with `secret()` fits. */
export interface IntegrityKeySource {
  secret?(name: SecretName, version?: number): Promise<Uint8Array>;
  secretVersions?(name: SecretName): Promise<readonly number[]>;
}

export type VerifyResult =
  | { readonly ok: true }
  | {
      readonly ok: false;
      /** The first path that differs ('' for the record as a whole, `$tag` when the tag itself is bad). */
      readonly path: string;
      readonly reason: 'missing_tag' | 'malformed_tag' | 'unknown_key_version' | 'altered' | 'added' | 'removed' | 'not_a_record';
    };

export interface RecordTagger {
  readonly hash: IndexHash;
  /** The `$tag` value for a sealed record (under the newest integrity secret version; `hash` overrides the tagger's). */
  tag(schema: Schema, sealed: Record<string, unknown>, hash?: IndexHash): Promise<string>;
  /** Checks a sealed record's `$tag`; never throws for bad records, only for a missing key. */
  verify(schema: Schema, sealed: unknown): Promise<VerifyResult>;
  close(): void;
}

export function createTagger(source: IntegrityKeySource, hash: IndexHash = 'hmac-sha256', options: { readonly backend?: BackendChoice } = {}): RecordTagger {
  hashOf(hash);
  const keys = new Map<string, Promise<Uint8Array>>();

  const keyFor = (h: IndexHash, version: number): Promise<Uint8Array> => {
    const id = `${h}:${version}`;
    let key = keys.get(id);
    if (!key) {
      key = (async () => {
        if (typeof source.secret !== 'function') throw new KeyError('no_secret', 'this keyring holds no integrity secret (needed for record tags)');
        const root = await source.secret('integrity', version);
        const derived = deriveKey(h, root, encodeParts(['waybill-seal/integrity', h]));
        return options.backend === 'js' ? preferPortable(derived) : derived;
      })();
      key.catch(() => keys.delete(id));
      keys.set(id, key);
    }
    return key;
  };

  const currentVersion = async (): Promise<number> => {
    if (typeof source.secretVersions !== 'function') return 1;
    const versions = await source.secretVersions('integrity');
    if (versions.length === 0) throw new KeyError('no_secret', 'this keyring holds no integrity secret (needed for record tags)');
    return Math.max(...versions);
  };

  return {
    hash,
    async tag(schema, sealed, h = hash) {
      const version = await currentVersion();
      return format(h, version, await keyFor(h, version), schema, sealed);
    },
    async verify(schema, sealed) {
      if (!isPlainObject(sealed) || typeof sealed[schema.recordId] !== 'string') return { ok: false, path: '', reason: 'not_a_record' };
      const tag = sealed[TAG_FIELD];
      if (tag === undefined) return { ok: false, path: TAG_FIELD, reason: 'missing_tag' };
      const m = typeof tag === 'string' ? TAG.exec(tag) : null;
      const mac = m ? fromBase64Url(m[3]!) : undefined;
      const locators = m ? fromBase64Url(m[4]!) : undefined;
      if (!m || !mac || !locators || locators.length % LOCATOR_BYTES !== 0) return { ok: false, path: TAG_FIELD, reason: 'malformed_tag' };
      const h = m[1] as IndexHash;
      const version = Number(m[2]);
      // A version this keyring does not hold is a tag it cannot vouch for (a key missing entirely is a KeyError).
      if (typeof source.secretVersions === 'function' && !(await source.secretVersions('integrity')).includes(version)) {
        return { ok: false, path: TAG_FIELD, reason: 'unknown_key_version' };
      }
      const key = await keyFor(h, version);
      const recordId = sealed[schema.recordId] as string;
      const units = unitsOf(schema, sealed);
      if (constantTimeEqual(recordMac(h, key, schema, recordId, units, locators), mac)) return { ok: true };
      // Data intact but the locator section altered: the MAC over the true locators still matches.
      const actual = locatorsOf(units);
      if (constantTimeEqual(recordMac(h, key, schema, recordId, units, actual), mac)) return { ok: false, path: TAG_FIELD, reason: 'altered' };
      return locate(units, actual, locators);
    },
    close() {
      for (const k of keys.values()) void k.then(wipe, () => undefined);
      keys.clear();
    },
  };
}

function format(hash: IndexHash, version: number, key: Uint8Array, schema: Schema, sealed: Record<string, unknown>): string {
  const recordId = sealed[schema.recordId] as string;
  const units = unitsOf(schema, sealed);
  const locators = locatorsOf(units);
  return `${TAG_VERSION}.${hash}.${version}.${toBase64Url(recordMac(hash, key, schema, recordId, units, locators))}.${toBase64Url(locators)}`;
}

function recordMac(hash: IndexHash, key: Uint8Array, schema: Schema, recordId: string, units: readonly Unit[], locators: Uint8Array): Uint8Array {
  const head = encodeParts(['waybill-seal/tag', TAG_VERSION, schema.name, String(schema.version), recordId]);
  const tail = encodeParts(['locators']);
  // Each unit as two length-prefixed items, then the locators, continuing the same list encoding:
  // assembled in one buffer (worst-case size) and MACed in one call.
  let size = head.length + tail.length + 4 + locators.length;
  for (const u of units) size += 8 + 3 * u.path.length + u.content.length;
  const message = new Uint8Array(size);
  message.set(head);
  let o = head.length;
  for (const u of units) o = putBytes(message, putText(message, o, u.path), u.content);
  message.set(tail, o);
  o = putBytes(message, o + tail.length, locators);
  return macOf(hash, key, message.subarray(0, o));
}

function locatorsOf(units: readonly Unit[]): Uint8Array {
  const out = new Uint8Array(units.length * LOCATOR_BYTES);
  const view = new DataView(out.buffer);
  units.forEach((u, i) => {
    const pathHash = fnv1a32(encoder.encode(`${u.path}\0`));
    view.setUint32(i * LOCATOR_BYTES, fnv1a32(u.content, pathHash));
  });
  return out;
}

/** FNV-1a, 32 bits (offset basis 2166136261, prime 16777619): a checksum, not a cryptographic hash. */
function fnv1a32(bytes: Uint8Array, seed = 0x811c9dc5): number {
  let h = seed;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193) >>> 0;
  return h;
}

const encoder = new TextEncoder();

/** A length-prefixed UTF-8 item (the `encodeParts` encoding of one string) at m[o]; returns the end. */
function putText(m: Uint8Array, o: number, s: string): number {
  const { written } = encoder.encodeInto(s, m.subarray(o + 4));
  putLength(m, o, written);
  return o + 4 + written;
}

/** A length-prefixed byte string at m[o]; returns the end. */
function putBytes(m: Uint8Array, o: number, b: Uint8Array): number {
  putLength(m, o, b.length);
  m.set(b, o + 4);
  return o + 4 + b.length;
}

function putLength(m: Uint8Array, o: number, n: number): void {
  m[o] = n >>> 24;
  m[o + 1] = (n >>> 16) & 0xff;
  m[o + 2] = (n >>> 8) & 0xff;
  m[o + 3] = n & 0xff;
}

/** After a MAC mismatch over changed data: the first unit whose locator differs, or the path added ('' when one was removed). */
function locate(units: readonly Unit[], actual: Uint8Array, stored: Uint8Array): VerifyResult {
  const at = (b: Uint8Array, i: number) => b.subarray(i * LOCATOR_BYTES, (i + 1) * LOCATOR_BYTES);
  const count = stored.length / LOCATOR_BYTES;
  if (units.length > count) {
    const known = new Set<string>();
    for (let i = 0; i < count; i++) known.add(toBase64Url(at(stored, i)));
    return { ok: false, path: units.find((_, i) => !known.has(toBase64Url(at(actual, i))))?.path ?? '', reason: 'added' };
  }
  // A removed unit leaves no name behind: the locators carry none.
  if (units.length < count) return { ok: false, path: '', reason: 'removed' };
  for (let i = 0; i < units.length; i++) {
    if (!constantTimeEqual(at(actual, i), at(stored, i))) return { ok: false, path: units[i]!.path, reason: 'altered' };
  }
  return { ok: false, path: TAG_FIELD, reason: 'altered' };
}

/** The keyed hash a stored tag was made with (undefined when the value is not a tag). */
export function tagHash(tag: unknown): IndexHash | undefined {
  const m = typeof tag === 'string' ? TAG.exec(tag) : null;
  return m ? (m[1] as IndexHash) : undefined;
}

export { INDEX_HASHES as TAG_HASHES };
