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
import { constantTimeEqual, encodeParts, fromBase64Url, toBase64Url, wipe } from '../crypto/bytes.js';
import { KeyError } from '../errors.js';
import type { SecretName } from '../keys/keyring.js';
import type { Schema } from '../schema/schema.js';
import { isPlainObject, TAG_FIELD } from '../schema/walk.js';
import { INDEX_HASHES, type IndexHash } from '../search/definition.js';
import type { BackendChoice } from '../crypto/backend.js';
import { deriveKey, hashOf, macOf, preferPortable } from '../search/tokens.js';
import { UnitWriter, type Units } from './canonical.js';

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
  /**
   * The `$tag` value for a sealed record, under integrity secret `version` (default: the newest the
   * keyring holds); `hash` overrides the tagger's.
   */
  tag(schema: Schema, sealed: Record<string, unknown>, hash?: IndexHash, version?: number): Promise<string>;
  /** The newest integrity secret version (what `tag` writes by default). */
  currentVersion(): Promise<number>;
  /** Checks a sealed record's `$tag`; never throws for bad records, only for a missing key. */
  verify(schema: Schema, sealed: unknown): Promise<VerifyResult>;
  close(): void;
}

export function createTagger(source: IntegrityKeySource, hash: IndexHash = 'hmac-sha256', options: { readonly backend?: BackendChoice } = {}): RecordTagger {
  hashOf(hash);
  const keys = new Map<string, Promise<Uint8Array>>();
  // One message buffer per tagger, reused: each message is written and MACed without an await between.
  const writer = new UnitWriter();

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
    currentVersion,
    async tag(schema, sealed, h = hash, v) {
      const version = v ?? (await currentVersion());
      const key = await keyFor(h, version);
      const units = message(writer, schema, sealed);
      const locators = locatorsOf(writer, units);
      return `${TAG_VERSION}.${h}.${version}.${toBase64Url(macWith(writer, h, key, locators))}.${toBase64Url(locators)}`;
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
      const units = message(writer, schema, sealed);
      const end = writer.length;
      if (constantTimeEqual(macWith(writer, h, key, locators), mac)) return { ok: true };
      // Data intact but the locator section altered: the MAC over the true locators still matches.
      const actual = locatorsOf(writer, units);
      writer.length = end;
      if (constantTimeEqual(macWith(writer, h, key, actual), mac)) return { ok: false, path: TAG_FIELD, reason: 'altered' };
      return locate(units.paths, actual, locators);
    },
    close() {
      for (const k of keys.values()) void k.then(wipe, () => undefined);
      keys.clear();
    },
  };
}

const heads = new WeakMap<Schema, Uint8Array>();
const LOCATORS_PART = encodeParts(['locators']);

/**
 * Writes the MAC message up to its locator section: LP("waybill-seal/tag", "t1", schema, version,
 * recordId), then each unit as LP(path) LP(content).
 */
function message(writer: UnitWriter, schema: Schema, sealed: Record<string, unknown>): Units {
  let head = heads.get(schema);
  if (!head) {
    head = encodeParts(['waybill-seal/tag', TAG_VERSION, schema.name, String(schema.version)]);
    heads.set(schema, head);
  }
  writer.reset();
  writer.put(head);
  writer.part(sealed[schema.recordId] as string);
  return writer.units(schema, sealed);
}

/** Appends the locator section (LP("locators") LP(locators)) to the message and MACs it. */
function macWith(writer: UnitWriter, hash: IndexHash, key: Uint8Array, locators: Uint8Array): Uint8Array {
  writer.put(LOCATORS_PART);
  writer.u32(locators.length);
  writer.put(locators);
  return macOf(hash, key, writer.bytes());
}

/** Per unit, FNV-1a-32 of UTF-8(path) ‖ 0x00 ‖ content, read from the message bytes. */
function locatorsOf(writer: UnitWriter, units: Units): Uint8Array {
  const bytes = writer.bytes();
  const { spans } = units;
  const count = spans.length / 3;
  const out = new Uint8Array(count * LOCATOR_BYTES);
  for (let i = 0; i < count; i++) {
    const contentStart = spans[3 * i + 1]!;
    const h = fnv1a32(bytes, contentStart, spans[3 * i + 2]!, Math.imul(fnv1a32(bytes, spans[3 * i]!, contentStart - 4), 0x01000193) >>> 0);
    out[4 * i] = h >>> 24;
    out[4 * i + 1] = (h >>> 16) & 0xff;
    out[4 * i + 2] = (h >>> 8) & 0xff;
    out[4 * i + 3] = h & 0xff;
  }
  return out;
}

/** FNV-1a, 32 bits (offset basis 2166136261, prime 16777619) of bytes[from, to): a checksum, not a cryptographic hash. */
function fnv1a32(bytes: Uint8Array, from: number, to: number, seed = 0x811c9dc5): number {
  let h = seed;
  for (let i = from; i < to; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193) >>> 0;
  return h;
}

/** After a MAC mismatch over changed data: the first unit whose locator differs, or the path added ('' when one was removed). */
function locate(paths: readonly string[], actual: Uint8Array, stored: Uint8Array): VerifyResult {
  const at = (b: Uint8Array, i: number) => b.subarray(i * LOCATOR_BYTES, (i + 1) * LOCATOR_BYTES);
  const count = stored.length / LOCATOR_BYTES;
  if (paths.length > count) {
    const known = new Set<string>();
    for (let i = 0; i < count; i++) known.add(toBase64Url(at(stored, i)));
    return { ok: false, path: paths.find((_, i) => !known.has(toBase64Url(at(actual, i)))) ?? '', reason: 'added' };
  }
  // A removed unit leaves no name behind: the locators carry none.
  if (paths.length < count) return { ok: false, path: '', reason: 'removed' };
  for (let i = 0; i < paths.length; i++) {
    if (!constantTimeEqual(at(actual, i), at(stored, i))) return { ok: false, path: paths[i]!, reason: 'altered' };
  }
  return { ok: false, path: TAG_FIELD, reason: 'altered' };
}

/** The keyed hash a stored tag was made with (undefined when the value is not a tag). */
export function tagHash(tag: unknown): IndexHash | undefined {
  const m = typeof tag === 'string' ? TAG.exec(tag) : null;
  return m ? (m[1] as IndexHash) : undefined;
}

export { INDEX_HASHES as TAG_HASHES };
