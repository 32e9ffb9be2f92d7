/**
 * Record integrity tags (docs/FORMAT.md §11): a MAC or a signature over the units of a sealed
 * record (signed plain fields, every ciphertext, mask and token), so a label printer or sorting
 * centre can check what it prints and routes on without being able to decrypt anything.
 *
 *   key      = HKDF-H(integrity secret vN, info = LP("waybill-seal/integrity", hash), 32)
 *   message  = LP("waybill-seal/tag", "t2", schema, version, recordId) ‖ unit₁ ‖ unit₂ ‖ …
 *   unit     = LP(path, content), in the schema's order (./message.ts); locator = Adler-32(unit), big-endian
 *   mac      = HMAC-H(key, message)                 (HMAC tags: checking needs the secret that makes them)
 *   sig      = Ed25519 / SM2 signature of message   (signed tags: checking needs only the public key)
 *   $tag     = "t2.<alg>.<N>.<base64url(mac or sig)>.<base64url(locator₁ ‖ locator₂ ‖ …)>"
 *
 * `t1` tags (units sorted by path, canonical JSON contents, FNV-1a locators inside the message:
 * ./canonical.ts) still verify; `tag` writes `t2`.
 *
 * The t2 locators are outside the MAC or signature: an unkeyed checksum of data stored in clear
 * anyway, so that after a failure the verifier can say which path differs. Once the MAC holds,
 * verify recomputes them and requires the stored section to be exactly theirs, so every bit of a
 * `$tag` is checked and a record has one valid tag (a fingerprint). After a MAC failure they are
 * a hint: someone who forges them along with the data can only misdirect that report.
 * Which keys a verifier accepts is its configuration (the current key and those listed in
 * `accept`), never whatever its keyring happens to hold.
 */
import { constantTimeEqual, encodeParts, fromBase64Url, toBase64Url, wipe } from '../crypto/bytes.js';
import { ConfigError, KeyError, ValidationError } from '../errors.js';
import type { SecretName } from '../keys/keyring.js';
import type { Schema } from '../schema/schema.js';
import { isPlainObject, TAG_FIELD, walkRecord } from '../schema/walk.js';
import { INDEX_HASHES, type IndexHash } from '../schema/indexes.js';
import type { BackendChoice } from '../crypto/backend.js';
import { deriveKey, hashOf, macOf, preferPortable } from '../search/tokens.js';
import { UnitWriter, type Units } from './canonical.js';
import { MessageWriter, writeMessage } from './message.js';
import { isSignatureAlg, publicKeyOf, SIGNATURE_BYTES, signerOf, verifierOf, type SignatureAlg, type SignFn, type VerifyFn } from '../crypto/signature.js';

/** The tag format `tag` writes; `t1` tags still verify. */
export const TAG_VERSION = 't2';
const LOCATOR_BYTES = 4;
const MAC_BYTES = 32;
const TAG = /^(t1|t2)\.(hmac-sha256|hmac-sm3|ed25519|sm2)\.([1-9][0-9]{0,8})\.([A-Za-z0-9_-]{43}|[A-Za-z0-9_-]{86})\.([A-Za-z0-9_-]*)$/;

/** What a tag is made with: a keyed hash (HMAC under the `integrity` secret) or a signature algorithm. */
export type TagAlg = IndexHash | SignatureAlg;
/** A key a verifier may accept besides the current one: a version of the configured algorithm, or `"alg:version"`. */
export type TagKeyRef = number | `${TagAlg}:${number}`;

/**
 * What a tagger or verifier needs. Keyrings fit: `secret('integrity', v)` for HMAC tags, and
 * `secret('ed25519' | 'sm2', v)` (the private signing key) for signed ones. A verify-only key file
 * (`parseVerifyKeys`) gives `publicKey` instead: it can check signatures and make none.
 */
export interface IntegrityKeySource {
  secret?(name: SecretName, version?: number): Promise<Uint8Array>;
  secretVersions?(name: SecretName): Promise<readonly number[]>;
  /** The public key of signature algorithm `alg`, version `version` (verify-only sources). */
  publicKey?(alg: SignatureAlg, version: number): Promise<Uint8Array>;
  /** Versions of `alg` public keys held, ascending. */
  publicKeyVersions?(alg: SignatureAlg): Promise<readonly number[]>;
}

export interface IntegrityOptions {
  /**
   * `'hmac'` (default, fast): an HMAC under the keyring's `integrity` secret; whoever can check it
   * can also make it. `'ed25519'` or `'sm2'`: a signature by the keyring's private signing key
   * (secret of that name); verifiers need only the public key (`keys export-verify`).
   */
  readonly alg?: 'hmac' | SignatureAlg;
  /** Key version written and accepted (default: the newest the keyring holds). */
  readonly version?: number;
  /**
   * Other keys whose tags `open` and `verify` accept (rotation, migration from HMAC to signatures):
   * versions of `alg`, or `"hmac-sha256:1"`-style references. Nothing else is accepted, whatever
   * the keyring holds.
   */
  readonly accept?: readonly TagKeyRef[];
}

export interface TaggerOptions extends IntegrityOptions {
  readonly backend?: BackendChoice;
  /**
   * Accept every key the source holds instead (verify-only key files, whose keys are the
   * verifier's configuration).
   */
  readonly acceptHeld?: boolean;
}

export type VerifyResult =
  | { readonly ok: true }
  | {
      readonly ok: false;
      /**
       * The first path that differs ('' for the record as a whole, `$tag` when the tag itself is bad).
       * After a MAC failure it comes from the t2 locators, which are outside the MAC: an
       * unauthenticated hint of where to look, not proof of what changed (FORMAT §11).
       */
      readonly path: string;
      readonly reason: 'missing_tag' | 'malformed_tag' | 'unknown_key_version' | 'key_not_accepted' | 'altered' | 'added' | 'removed' | 'not_a_record';
    };

export interface RecordTagger {
  readonly hash: IndexHash;
  /** What `tag` writes: the keyed hash, or the signature algorithm. */
  readonly alg: TagAlg;
  /**
   * The `$tag` value for a sealed record, under key `version` (default: the configured one, else
   * the newest the keyring holds); `hash` overrides the keyed hash of an HMAC tagger.
   */
  tag(schema: Schema, sealed: Record<string, unknown>, hash?: IndexHash, version?: number): Promise<string>;
  /** The key version `tag` writes by default. */
  currentVersion(): Promise<number>;
  /** Checks a sealed record's `$tag`; never throws for bad records, only for a missing key. */
  verify(schema: Schema, sealed: unknown): Promise<VerifyResult>;
  close(): void;
}

const NO_SECRET = 'this keyring holds no integrity secret (needed for record tags)';

export function createTagger(source: IntegrityKeySource, hash: IndexHash = 'hmac-sha256', options: TaggerOptions = {}): RecordTagger {
  hashOf(hash);
  const sigAlg = options.alg === undefined || options.alg === 'hmac' ? undefined : options.alg;
  if (options.alg !== undefined && options.alg !== 'hmac' && !isSignatureAlg(options.alg)) throw new ConfigError('integrity.alg must be "hmac", "ed25519" or "sm2"');
  if (options.version !== undefined && !(Number.isSafeInteger(options.version) && options.version > 0)) throw new ConfigError('integrity.version must be a positive integer');
  const writes: TagAlg = sigAlg ?? hash;
  const accepted = new Set<string>();
  for (const ref of options.accept ?? []) {
    const [alg, v] = typeof ref === 'number' ? [writes, ref] : ref.split(':');
    if (!(isSignatureAlg(alg) || (INDEX_HASHES as readonly string[]).includes(alg as string)) || !/^[1-9][0-9]{0,8}$/.test(String(v))) {
      throw new ConfigError(`integrity.accept: "${String(ref)}" is not a key version or "alg:version"`);
    }
    accepted.add(keyId(alg as TagAlg, Number(v)));
  }
  const keys = new Map<string, Promise<Uint8Array>>();
  const signers = new Map<number, Promise<SignFn>>();
  const verifiers = new Map<string, Promise<VerifyFn>>();
  // One message buffer per tagger and format, reused: each message is written and MACed without an await between.
  const writer = new MessageWriter();
  let legacy: UnitWriter | undefined;

  const memo = <K, T>(cache: Map<K, Promise<T>>, id: K, make: () => Promise<T>): Promise<T> => {
    let p = cache.get(id);
    if (!p) {
      p = make();
      p.catch(() => cache.delete(id));
      cache.set(id, p);
    }
    return p;
  };

  const secretOf = async (name: SecretName, version: number): Promise<Uint8Array> => {
    if (typeof source.secret !== 'function') throw new KeyError('no_secret', name === 'integrity' ? NO_SECRET : `this key source holds no ${name} signing key`);
    return source.secret(name, version);
  };

  const macKey = (h: IndexHash, version: number): Promise<Uint8Array> =>
    memo(keys, `${h}:${version}`, async () => {
      const derived = deriveKey(h, await secretOf('integrity', version), encodeParts(['waybill-seal/integrity', h]));
      return options.backend === 'js' ? preferPortable(derived) : derived;
    });

  const signer = (alg: SignatureAlg, version: number): Promise<SignFn> => memo(signers, version, async () => signerOf(alg, await secretOf(alg, version), options.backend));

  const sigVerifier = (alg: SignatureAlg, version: number): Promise<VerifyFn> =>
    memo(verifiers, keyId(alg, version), async () => {
      const pub = typeof source.publicKey === 'function' ? await source.publicKey(alg, version) : await publicKeyOf(alg, await secretOf(alg, version));
      return verifierOf(alg, pub, options.backend);
    });

  /** Versions of the key family of `alg` that the source holds. */
  const held = async (alg: TagAlg): Promise<readonly number[] | undefined> => {
    if (!isSignatureAlg(alg)) return typeof source.secretVersions === 'function' ? source.secretVersions('integrity') : undefined;
    if (typeof source.publicKeyVersions === 'function') return source.publicKeyVersions(alg);
    return typeof source.secretVersions === 'function' ? source.secretVersions(alg) : undefined;
  };

  const currentVersion = async (): Promise<number> => {
    if (options.version !== undefined) return options.version;
    const versions = await held(writes);
    if (versions === undefined) return 1;
    if (versions.length === 0) throw new KeyError('no_secret', sigAlg ? `this keyring holds no ${sigAlg} signing key (needed for signed record tags)` : NO_SECRET);
    return Math.max(...versions);
  };

  /** Whether a tag made with (alg, version) is one this verifier vouches for. */
  const accepts = async (alg: TagAlg, version: number): Promise<VerifyResult | undefined> => {
    if (options.acceptHeld === true) {
      const versions = await held(alg);
      const ok = versions === undefined ? (isSignatureAlg(alg) ? typeof source.publicKey === 'function' || typeof source.secret === 'function' : typeof source.secret === 'function') : versions.includes(version);
      return ok ? undefined : { ok: false, path: TAG_FIELD, reason: versions === undefined || versions.length === 0 ? 'key_not_accepted' : 'unknown_key_version' };
    }
    if (accepted.has(keyId(alg, version))) return undefined;
    // HMAC tags under either keyed hash come from the same integrity secret.
    const family = isSignatureAlg(alg) ? alg === sigAlg : sigAlg === undefined;
    if (family && version === (await currentVersion())) return undefined;
    return { ok: false, path: TAG_FIELD, reason: 'key_not_accepted' };
  };

  /** A `t1` tag (written by 0.1.0): units sorted by path, canonical JSON contents, FNV-1a locators. */
  const verifyT1 = (schema: Schema, sealed: Record<string, unknown>, locators: Uint8Array, check: (bytes: Uint8Array) => boolean): VerifyResult => {
    const w = (legacy ??= new UnitWriter());
    const units = messageT1(w, schema, sealed);
    const end = w.length;
    if (check(withLocatorsT1(w, locators))) return { ok: true };
    const actual = locatorsT1(w, units);
    w.length = end;
    if (check(withLocatorsT1(w, actual))) return { ok: false, path: TAG_FIELD, reason: 'altered' };
    return locate(units.paths, actual, locators);
  };

  return {
    hash,
    alg: writes,
    currentVersion,
    async tag(schema, sealed, h = hash, v) {
      const version = v ?? (await currentVersion());
      const sign = sigAlg ? await signer(sigAlg, version) : undefined;
      const key = sigAlg ? undefined : await macKey(h, version);
      const problem = writeMessage(writer, schema, sealed);
      if (problem) throw new ValidationError(problem.path, 'not_in_schema');
      const bytes = writer.bytes();
      if (!bytes) throw new ValidationError('', 'malformed_unicode');
      const proof = sign ? sign(bytes) : macOf(h, key!, bytes);
      return `${TAG_VERSION}.${sigAlg ?? h}.${version}.${toBase64Url(proof)}.${toBase64Url(writer.locators())}`;
    },
    async verify(schema, sealed) {
      if (!isPlainObject(sealed) || typeof sealed[schema.recordId] !== 'string') return { ok: false, path: '', reason: 'not_a_record' };
      const tag = sealed[TAG_FIELD];
      if (tag === undefined) return { ok: false, path: TAG_FIELD, reason: 'missing_tag' };
      const m = typeof tag === 'string' ? TAG.exec(tag) : null;
      const alg = m?.[2] as TagAlg | undefined;
      const stored = m ? fromBase64Url(m[4]!) : undefined;
      // t2 locators are outside the MAC: compared as text once it holds, decoded only after a failure.
      const locators = m?.[1] === 't1' ? fromBase64Url(m[5]!) : NO_LOCATORS;
      if (!alg || !stored || !locators || locators.length % LOCATOR_BYTES !== 0 || stored.length !== (isSignatureAlg(alg) ? SIGNATURE_BYTES : MAC_BYTES)) {
        return { ok: false, path: TAG_FIELD, reason: 'malformed_tag' };
      }
      const version = Number(m![3]);
      // Only the configured keys count: a key the keyring merely holds (an old version, another
      // party's) is not one this verifier vouches for. A key missing entirely is a KeyError.
      const refused = await accepts(alg, version);
      if (refused) return refused;
      let check: (bytes: Uint8Array) => boolean;
      if (isSignatureAlg(alg)) {
        const verifySig = await sigVerifier(alg, version);
        check = (bytes) => verifySig(bytes, stored);
      } else {
        const key = await macKey(alg, version);
        check = (bytes) => constantTimeEqual(macOf(alg, key, bytes), stored);
      }
      if (m![1] === 't1') return verifyT1(schema, sealed, locators, check);
      const problem = writeMessage(writer, schema, sealed);
      if (problem) return { ok: false, path: problem.path, reason: 'not_a_record' };
      const bytes = writer.bytes();
      if (!bytes) return { ok: false, path: '', reason: 'not_a_record' };
      // Locators are outside the t2 message, so once the MAC holds they must be exactly the record's
      // own (canonical base64url): every bit of `$tag` is then checked and a record has one tag.
      if (check(bytes)) return m![5] === toBase64Url(writer.locators()) ? { ok: true } : { ok: false, path: TAG_FIELD, reason: 'altered' };
      // After a failure they name the unit that differs: a hint, as they are not authenticated.
      const storedLocators = fromBase64Url(m![5]!);
      if (!storedLocators || storedLocators.length % LOCATOR_BYTES !== 0) return { ok: false, path: TAG_FIELD, reason: 'malformed_tag' };
      return locate(writer.paths, writer.locators(), storedLocators);
    },
    close() {
      legacy = undefined;
      for (const k of keys.values()) void k.then(wipe, () => undefined);
      keys.clear();
      signers.clear();
      verifiers.clear();
    },
  };
}

/**
 * A record's tag checked as a whole record: the schema walk first (mode `sealed`, or `mixed` where
 * protected fields may still hold legacy plaintext), so a record with anything the schema does not
 * describe (an extra field, a nested `$tag`, a value of the wrong shape) is refused whatever its tag says.
 */
export async function verifyRecord(tagger: RecordTagger, schema: Schema, sealed: unknown, mode: 'sealed' | 'mixed' = 'sealed'): Promise<VerifyResult> {
  try {
    walkRecord(schema.shape, sealed, mode);
  } catch (e) {
    if (e instanceof ValidationError) return { ok: false, path: e.path, reason: 'not_a_record' };
    throw e;
  }
  return tagger.verify(schema, sealed);
}

const keyId = (alg: TagAlg, version: number): string => `${alg}:${version}`;

const LOCATORS_PART = encodeParts(['locators']);
const NO_LOCATORS = new Uint8Array(0);

const heads = new WeakMap<Schema, Uint8Array>();

/** The t1 message up to its locator section: the head, LP(recordId), then each unit as LP(path) LP(content), sorted by path. */
function messageT1(writer: UnitWriter, schema: Schema, sealed: Record<string, unknown>): Units {
  let head = heads.get(schema);
  if (!head) {
    head = encodeParts(['waybill-seal/tag', 't1', schema.name, String(schema.version)]);
    heads.set(schema, head);
  }
  writer.reset();
  writer.put(head);
  writer.part(sealed[schema.recordId] as string);
  return writer.units(schema, sealed);
}

function withLocatorsT1(writer: UnitWriter, locators: Uint8Array): Uint8Array {
  writer.put(LOCATORS_PART);
  writer.u32(locators.length);
  writer.put(locators);
  return writer.bytes();
}

/** Per t1 unit, FNV-1a-32 of UTF-8(path) ‖ 0x00 ‖ content, read from the message bytes. */
function locatorsT1(writer: UnitWriter, units: Units): Uint8Array {
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

/** The keyed hash a stored HMAC tag was made with (undefined when the value is not an HMAC tag). */
export function tagHash(tag: unknown): IndexHash | undefined {
  const m = typeof tag === 'string' ? TAG.exec(tag) : null;
  return m && !isSignatureAlg(m[2]) ? (m[2] as IndexHash) : undefined;
}

export { INDEX_HASHES as TAG_HASHES };
