/**
 * The local key file (`waybill-seal keygen`): KEK versions, named secrets, the default suite and
 * the wrapped data keys. Parsing is pure, so the file can come from anywhere (disk, env, a secret store).
 */
import { isSuiteName, type SuiteName } from '../crypto/aead.js';
import { KeyError } from '../errors.js';
import { isPlainObject } from '../schema/walk.js';
import type { DataKeyRecord } from './key-store.js';
import type { SecretName } from './keyring.js';
import { toBase64Url } from '../crypto/bytes.js';
import { isSignatureAlg, type SignatureAlg } from '../crypto/signature.js';
import { randomBytes } from '../crypto/random.js';
import { generateLocalKeyMaterial, isKekAlg, kekLength, type KekAlg, type LocalKeyMaterial } from './local-keyring.js';
import { withIndexClasses } from './index-classes.js';

export const KEY_FILE_FORMAT = 'waybill-seal/keys';

export interface KeyFile extends LocalKeyMaterial {
  readonly format: typeof KEY_FILE_FORMAT;
  readonly version: 1;
  /** Suite a sealer built from this file uses by default. */
  readonly suite: SuiteName;
  readonly dataKeys: readonly DataKeyRecord[];
  /**
   * Record tags of sealers built from this file: HMAC under `secrets.integrity` (absent, the
   * default), or a signature by the private key in `secrets.ed25519` / `secrets.sm2`.
   */
  readonly integrity?: SignatureAlg;
  /**
   * Record-tag keys (`"hmac-sha256:1"`, `"ed25519:1"`) sealers built from this file accept besides
   * their current one: written by `keys add-integrity --accept-previous`, so records tagged before a
   * switch to signatures keep opening until they are re-tagged. Absent: the current key only.
   */
  readonly integrityAccept?: readonly TagKeyRef[];
  /**
   * Written by `keygen --index-keys key-store` before per-month index keys became the only kind;
   * accepted and ignored (every sealer takes search-token keys from the `<class>-index` key classes).
   */
  readonly indexKeys?: 'key-store';
}

/** A record-tag key reference of `integrityAccept`: `alg:version` (a `TagKeyRef` of src/integrity/tag.ts). */
type TagKeyRef = `${'hmac-sha256' | 'hmac-sm3' | SignatureAlg}:${number}`;
const TAG_KEY_REF = /^(hmac-sha256|hmac-sm3|ed25519|sm2):[1-9][0-9]{0,8}$/;

export interface NewKeyFileOptions {
  /** KEK wrapping algorithm; default `sm4-gcm` for the `sm4-gcm` suite, else `xchacha20-poly1305`. */
  kekAlg?: KekAlg;
}

/** The KEK algorithm a new key file for this suite gets: national algorithms end to end for SM. */
export const defaultKekAlg = (suite: SuiteName): KekAlg => (suite === 'sm4-gcm' ? 'sm4-gcm' : 'xchacha20-poly1305');

export function newKeyFile(suite: SuiteName = 'xchacha20-poly1305', options: NewKeyFileOptions = {}): KeyFile {
  const kekAlg = options.kekAlg ?? defaultKekAlg(suite);
  return { format: KEY_FILE_FORMAT, version: 1, suite, ...generateLocalKeyMaterial(undefined, { kekAlg }), dataKeys: [] };
}

/** Checks the structure of a parsed key file; key bytes are checked when a keyring is built. */
export function parseKeyFile(json: unknown): KeyFile {
  if (!isPlainObject(json) || json['format'] !== KEY_FILE_FORMAT) throw new KeyError('bad_key_file', 'not a waybill-seal key file');
  if (json['version'] !== 1) throw new KeyError('bad_key_file', 'unsupported key file version');
  if (!isSuiteName(json['suite'])) throw new KeyError('bad_key_file', 'key file names an unknown suite');
  if (!Array.isArray(json['keks']) || !json['keks'].every(isKekVersion)) throw new KeyError('bad_key_file', 'malformed keks');
  if (!Number.isSafeInteger(json['currentKek'])) throw new KeyError('bad_key_file', 'malformed currentKek');
  const dataKeys = json['dataKeys'] ?? [];
  if (!Array.isArray(dataKeys) || !dataKeys.every(isDataKeyRecord)) throw new KeyError('bad_key_file', 'malformed dataKeys');
  if (json['secrets'] !== undefined && !isSecrets(json['secrets'])) throw new KeyError('bad_key_file', 'malformed secrets');
  const integrity = json['integrity'];
  if (integrity !== undefined && !isSignatureAlg(integrity)) throw new KeyError('bad_key_file', 'integrity must be "ed25519" or "sm2"');
  if (integrity !== undefined && !(isPlainObject(json['secrets']) && Array.isArray(json['secrets'][integrity]))) {
    throw new KeyError('bad_key_file', `integrity is ${integrity} but the file holds no ${integrity} signing key`);
  }
  integrityAcceptOf(json);
  if (json['indexKeys'] !== undefined && json['indexKeys'] !== 'key-store') throw new KeyError('bad_key_file', 'indexKeys must be "key-store"');
  return json as unknown as KeyFile;
}

/** A key file's `integrityAccept` (full or integrity-only file), checked; [] when absent. */
export function integrityAcceptOf(json: Record<string, unknown>): readonly TagKeyRef[] {
  const accept = json['integrityAccept'];
  if (accept === undefined) return [];
  if (!(Array.isArray(accept) && accept.every((r) => typeof r === 'string' && TAG_KEY_REF.test(r)))) {
    throw new KeyError('bad_key_file', 'integrityAccept must list "alg:version" record-tag keys');
  }
  return accept as TagKeyRef[];
}

const newest = (list: readonly { version: number }[] | undefined): number => (list ?? []).reduce((max, s) => Math.max(max, s.version), 0);

/**
 * The key file with `key` as a new version (newest + 1) of signing key `alg`, which becomes the file's
 * record-tag algorithm. With `acceptPrevious`, the tag key its sealers wrote until now (HMAC under the
 * newest `integrity` secret, or the previous signing key) is added to `integrityAccept`, so records
 * tagged before keep opening; without, they are refused until re-tagged. Pure.
 */
export function withSigningKey(file: KeyFile, alg: SignatureAlg, key: Uint8Array, acceptPrevious = false): KeyFile {
  const version = newest(file.secrets?.[alg]) + 1;
  const secrets = { ...file.secrets, [alg]: [...(file.secrets?.[alg] ?? []), { version, key: toBase64Url(key) }] };
  let previous: TagKeyRef[] = [];
  if (file.integrity !== undefined) previous = [`${file.integrity}:${newest(file.secrets?.[file.integrity])}`];
  else if (newest(file.secrets?.integrity) > 0) previous = (['hmac-sha256', 'hmac-sm3'] as const).map((h) => `${h}:${newest(file.secrets?.integrity)}` as const);
  const accept = [...new Set([...(file.integrityAccept ?? []), ...(acceptPrevious ? previous : [])])];
  const { integrityAccept: _old, ...rest } = file;
  return { ...rest, integrity: alg, secrets, ...(accept.length > 0 ? { integrityAccept: accept } : {}) };
}

function isKekVersion(v: unknown): boolean {
  return (
    isPlainObject(v) &&
    Number.isSafeInteger(v['version']) &&
    typeof v['createdAt'] === 'string' &&
    (v['alg'] === undefined || isKekAlg(v['alg'])) &&
    isPlainObject(v['keys']) &&
    Object.values(v['keys']).every((k) => typeof k === 'string')
  );
}

function isSecrets(v: unknown): boolean {
  return (
    isPlainObject(v) &&
    Object.values(v).every(
      (list) => Array.isArray(list) && list.every((s) => isPlainObject(s) && Number.isSafeInteger(s['version']) && typeof s['key'] === 'string'),
    )
  );
}

export function isDataKeyRecord(v: unknown): v is DataKeyRecord {
  return (
    isPlainObject(v) &&
    typeof v['id'] === 'string' &&
    typeof v['keyClass'] === 'string' &&
    typeof v['scope'] === 'string' &&
    Number.isSafeInteger(v['generation']) &&
    typeof v['suite'] === 'string' &&
    typeof v['kekId'] === 'string' &&
    typeof v['wrapped'] === 'string' &&
    typeof v['createdAt'] === 'string' &&
    (v['shreddedAt'] === undefined || typeof v['shreddedAt'] === 'string') &&
    (v['retiredAt'] === undefined || typeof v['retiredAt'] === 'string')
  );
}

/**
 * A copy of the key material with a new random version of a named secret (e.g. `integrity`),
 * numbered one above the highest held; the new version becomes current. Pure. Refused for `index`:
 * no secret makes search tokens any more (index keys are rotated in the key store).
 */
export function addSecretVersion<M extends LocalKeyMaterial>(material: M, name: SecretName): M {
  if (name === 'index') throw new KeyError('index_secret_removed', 'search tokens come from per-month index keys: there is no index secret to add');
  const versions = material.secrets?.[name] ?? [];
  const version = versions.reduce((max, s) => Math.max(max, s.version), 0) + 1;
  const next = [...versions, { version, key: toBase64Url(randomBytes(32)) }];
  return { ...material, secrets: { ...material.secrets, [name]: next } };
}

/**
 * A copy of the key material with a KEK for every index key class (`<class>-index`) of its current
 * KEK version's classes that has none: a key file written before per-month index keys can then seal
 * indexed records. Pure; the material unchanged (same object) when nothing is missing.
 */
export function withIndexKeks<M extends LocalKeyMaterial>(material: M): M {
  const current = material.keks.find((v) => v.version === material.currentKek);
  if (!current) throw new KeyError('bad_kek', 'currentKek names no KEK version');
  const missing = withIndexClasses(Object.keys(current.keys)).filter((c) => !Object.hasOwn(current.keys, c));
  if (missing.length === 0) return material;
  const keys = { ...current.keys };
  for (const c of missing) keys[c] = toBase64Url(randomBytes(kekLength(current.alg)));
  return { ...material, keks: material.keks.map((v) => (v === current ? { ...v, keys } : v)) };
}

/**
 * A copy of the key material without its `index` secret (every version): nothing reads it since
 * search tokens come from per-month index keys, and whoever holds it computes every token made
 * from it, stored in records not yet re-indexed and in backups. Pure.
 */
export function withoutIndexSecret<M extends LocalKeyMaterial>(material: M): M {
  if (material.secrets?.index === undefined) return material;
  const { index: _index, ...secrets } = material.secrets;
  return { ...material, secrets };
}

/**
 * A copy of the key material without one version of a named secret (after a re-index pass no record
 * needs it). Refuses to drop the current (highest) version. Pure.
 */
export function dropSecretVersion<M extends LocalKeyMaterial>(material: M, name: SecretName, version: number): M {
  const versions = material.secrets?.[name] ?? [];
  const current = versions.reduce((max, s) => Math.max(max, s.version), 0);
  if (!versions.some((s) => s.version === version)) throw new KeyError('no_secret', `no ${name} secret v${version} to drop`);
  if (version === current) throw new KeyError('current_secret', `${name} secret v${version} is current; add a newer version first`);
  return { ...material, secrets: { ...material.secrets, [name]: versions.filter((s) => s.version !== version) } };
}
