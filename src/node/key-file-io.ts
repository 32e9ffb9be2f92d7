/** Reading and creating key files on disk (Node only). */
import { constants } from 'node:fs';
import { stat } from 'node:fs/promises';
import { FileError, KeyError } from '../errors.js';
import { integrityAcceptOf, newKeyFile, parseKeyFile, type KeyFile } from '../keys/key-file.js';
import type { IntegrityKeySource, IntegrityOptions, TagKeyRef } from '../integrity/tag.js';
import { isSignatureAlg, type SignatureAlg } from '../crypto/signature.js';
import { parseVerifyKeys, type VerifyKeyFile, type VerifyKeys } from '../integrity/verify-keys.js';
import type { SecretName } from '../keys/keyring.js';
import { decodeKey, LocalKeyring } from '../keys/local-keyring.js';
import { withIndexClasses } from '../keys/index-classes.js';
import { isPlainObject } from '../schema/walk.js';
import type { SuiteName } from '../crypto/aead.js';
import { writeFileAtomic } from './file-writes.js';
import { JsonFileKeyStore } from './json-file-key-store.js';
import { readJson } from './read-json.js';

export interface LoadedKeys {
  readonly file: KeyFile;
  readonly keyring: LocalKeyring;
  readonly keyStore: JsonFileKeyStore;
  /** Set when the file is readable by group or others. */
  readonly warning?: string;
  /** Set when the file still holds an `index` secret (unused) or lacks index-key KEKs: the migration step to take. */
  readonly indexNotice?: string;
}

/** Writes a new key file with mode 0600; refuses to overwrite an existing file. */
export async function createKeyFile(path: string, suite?: SuiteName): Promise<KeyFile> {
  const file = newKeyFile(suite);
  await writeNewKeyFile(path, file);
  return file;
}

/**
 * Writes `file` (a key file, or a verify-only one) to `path` (mode 0600) all or nothing: a full disk leaves no truncated key file, and
 * an existing file is never replaced.
 */
export async function writeNewKeyFile(path: string, file: KeyFile | VerifyKeyFile): Promise<void> {
  try {
    await writeFileAtomic(path, `${JSON.stringify(file, null, 2)}\n`, { exclusive: true });
  } catch (e) {
    if (e instanceof FileError && e.reason === 'EEXIST') throw new KeyError('exists', `${path} exists; refusing to overwrite keys`);
    throw e;
  }
}

/** A key file's JSON, unchecked; the errors name the file, never its content. */
export const readKeyFileJson = (path: string): Promise<unknown> =>
  readJson(path, (problem) =>
    problem === 'unreadable' ? new KeyError('key_file_unreadable', `cannot read key file ${path}`) : new KeyError('bad_key_file', `key file ${path} is not valid JSON`),
  );

const TAG_SECRETS = ['integrity', 'ed25519', 'sm2'] as const;

/**
 * The record-tag keys of a key file, full or integrity-only (`{"secrets":{"integrity":[…]}}`): a
 * key source for `createVerifier`, and the tag algorithm the file names (`integrity`, default
 * HMAC). No KEK is read.
 */
export async function integrityKeysFromFile(path: string): Promise<{ keys: IntegrityKeySource; alg: 'hmac' | SignatureAlg; accept: readonly TagKeyRef[] }> {
  const json = await readKeyFileJson(path);
  const accept = isPlainObject(json) ? integrityAcceptOf(json) : [];
  const secrets = isPlainObject(json) && isPlainObject(json['secrets']) ? json['secrets'] : {};
  const alg = isPlainObject(json) && isSignatureAlg(json['integrity']) ? json['integrity'] : 'hmac';
  const keys = new Map<string, Uint8Array>();
  const versions = new Map<SecretName, readonly number[]>();
  for (const name of TAG_SECRETS) {
    const list = secrets[name];
    if (list === undefined) continue;
    if (!Array.isArray(list)) throw new KeyError('bad_key_file', `${path}: malformed ${name} secrets`);
    for (const s of list) {
      if (!isPlainObject(s) || !Number.isSafeInteger(s['version'])) throw new KeyError('bad_key_file', `${path}: malformed ${name} secret`);
      keys.set(`${name}:${s['version'] as number}`, decodeKey(s['key'], `${name} secret v${String(s['version'])}`));
    }
    versions.set(name, Object.freeze(list.map((s) => (s as { version: number }).version).sort((a, b) => a - b)));
  }
  const needed = alg === 'hmac' ? 'integrity' : alg;
  if (!versions.get(needed)?.length) throw new KeyError('no_secret', `${path} holds no ${alg === 'hmac' ? 'integrity secret' : `${alg} signing key`}`);
  return {
    alg,
    accept,
    keys: {
      async secret(name: SecretName, version?: number) {
        const key = keys.get(`${name}:${version ?? versions.get(name)?.at(-1)}`);
        if (!key) throw new KeyError('no_secret', `no ${name} secret v${String(version)}`);
        return key;
      },
      async secretVersions(name: SecretName) {
        return versions.get(name) ?? [];
      },
    },
  };
}

/** A verify-only key file (`keys export-verify`): public keys for `createVerifier`; anything else is refused. */
export async function loadVerifyKeys(path: string): Promise<VerifyKeys> {
  return parseVerifyKeys(await readKeyFileJson(path), path);
}

/** The record tags of sealers built from a key file: HMAC, or signatures by its `integrity` algorithm. */
export const integrityOf = (file: KeyFile): IntegrityOptions => ({
  ...(file.integrity ? { alg: file.integrity } : {}),
  ...(file.integrityAccept?.length ? { accept: file.integrityAccept } : {}),
});

/** Loads a key file: its keyring, and a key store on the same file. */
export async function loadKeyFile(path: string): Promise<LoadedKeys> {
  const file = parseKeyFile(await readKeyFileJson(path));
  const mode = (await stat(path)).mode;
  const loose = (mode & (constants.S_IRWXG | constants.S_IRWXO)) !== 0;
  const notice = indexNotice(file, path);
  return {
    file,
    keyring: new LocalKeyring(file),
    keyStore: new JsonFileKeyStore(path),
    ...(loose ? { warning: `key file ${path} is readable by group or others (chmod 600 it)` } : {}),
    ...(notice ? { indexNotice: notice } : {}),
  };
}

/**
 * What a key file written before per-month index keys still needs: KEKs for the `<class>-index`
 * classes (without them nothing indexed can be sealed) and, once `reindex` has moved every record,
 * the removal of its `index` secret, which nothing reads any more but which computes every token
 * stored before (backups included). Undefined when there is nothing to do.
 */
export function indexNotice(file: KeyFile, path: string, origin = `key file ${path}`): string | undefined {
  const current = file.keks.find((v) => v.version === file.currentKek);
  const classes = Object.keys(current?.keys ?? {});
  const missing = withIndexClasses(classes).filter((c) => !classes.includes(c));
  const steps: string[] = [];
  if (missing.length > 0) steps.push(`it has no KEK for ${missing.join(', ')} (search tokens' keys): run "waybill-seal keys add-index-keks --keys ${path}"`);
  if (file.secrets?.index !== undefined) {
    steps.push(`it holds an index secret that nothing uses any more: once reindex (waybill-seal/search) has moved every stored record to per-month tokens, run "waybill-seal keys drop-index-secret --keys ${path}"`);
  }
  return steps.length > 0 ? `${origin}: ${steps.join('; ')}` : undefined;
}

/**
 * A keyring from an environment variable holding a key file's JSON (for containers). The migration
 * steps `loadKeyFile` returns as `indexNotice` (the CLI prints them) go to `process.emitWarning`
 * (code `WAYBILL_SEAL_INDEX_KEYS`), naming the key file the variable was made from as KEYS.json.
 */
export function keyringFromEnv(name = 'WAYBILL_SEAL_KEYS', env: Record<string, string | undefined> = process.env): LocalKeyring {
  const text = env[name];
  if (!text) throw new KeyError('no_env_keys', `environment variable ${name} is not set`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new KeyError('bad_key_file', `${name} is not valid JSON`);
  }
  const file = parseKeyFile(json);
  const keyring = new LocalKeyring(file);
  const notice = indexNotice(file, 'KEYS.json', `the key file in ${name}`);
  if (notice) process.emitWarning(notice, { code: 'WAYBILL_SEAL_INDEX_KEYS' });
  return keyring;
}
