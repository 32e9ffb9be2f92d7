/** Reading and creating key files on disk (Node only). */
import { constants } from 'node:fs';
import { stat } from 'node:fs/promises';
import { FileError, KeyError } from '../errors.js';
import { newKeyFile, parseKeyFile, type KeyFile } from '../keys/key-file.js';
import type { IntegrityKeySource } from '../integrity/tag.js';
import type { SecretName } from '../keys/keyring.js';
import { decodeKey, LocalKeyring } from '../keys/local-keyring.js';
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
}

/** Writes a new key file with mode 0600; refuses to overwrite an existing file. */
export async function createKeyFile(path: string, suite?: SuiteName): Promise<KeyFile> {
  const file = newKeyFile(suite);
  await writeNewKeyFile(path, file);
  return file;
}

/**
 * Writes `file` to `path` (mode 0600) all or nothing: a full disk leaves no truncated key file, and
 * an existing file is never replaced.
 */
export async function writeNewKeyFile(path: string, file: KeyFile): Promise<void> {
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

/**
 * The integrity secrets of a key file, full or verify-only (`{"secrets":{"integrity":[…]}}`, what a
 * label printer or sorting centre gets): a key source for `createVerifier`. No KEK is read.
 */
export async function integrityKeysFromFile(path: string): Promise<Required<IntegrityKeySource>> {
  const json = await readKeyFileJson(path);
  const list = isPlainObject(json) && isPlainObject(json['secrets']) ? json['secrets']['integrity'] : undefined;
  if (!Array.isArray(list) || list.length === 0) throw new KeyError('no_secret', `${path} holds no integrity secret`);
  const keys = new Map<number, Uint8Array>();
  for (const s of list) {
    if (!isPlainObject(s) || !Number.isSafeInteger(s['version'])) throw new KeyError('bad_key_file', `${path}: malformed integrity secret`);
    keys.set(s['version'] as number, decodeKey(s['key'], `integrity secret v${String(s['version'])}`));
  }
  const versions = Object.freeze([...keys.keys()].sort((a, b) => a - b));
  return {
    async secret(_name: SecretName, version?: number) {
      const key = keys.get(version ?? versions.at(-1)!);
      if (!key) throw new KeyError('no_secret', `no integrity secret v${String(version)}`);
      return key;
    },
    async secretVersions() {
      return versions;
    },
  };
}

/** Loads a key file: its keyring, and a key store on the same file. */
export async function loadKeyFile(path: string): Promise<LoadedKeys> {
  const file = parseKeyFile(await readKeyFileJson(path));
  const mode = (await stat(path)).mode;
  const loose = (mode & (constants.S_IRWXG | constants.S_IRWXO)) !== 0;
  return {
    file,
    keyring: new LocalKeyring(file),
    keyStore: new JsonFileKeyStore(path),
    ...(loose ? { warning: `key file ${path} is readable by group or others (chmod 600 it)` } : {}),
  };
}

/** A keyring from an environment variable holding a key file's JSON (for containers). */
export function keyringFromEnv(name = 'WAYBILL_SEAL_KEYS', env: Record<string, string | undefined> = process.env): LocalKeyring {
  const text = env[name];
  if (!text) throw new KeyError('no_env_keys', `environment variable ${name} is not set`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new KeyError('bad_key_file', `${name} is not valid JSON`);
  }
  return new LocalKeyring(parseKeyFile(json));
}
