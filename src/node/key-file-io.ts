/** Reading and creating key files on disk (Node only). */
import { constants } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { KeyError } from '../errors.js';
import { newKeyFile, parseKeyFile, type KeyFile } from '../keys/key-file.js';
import { LocalKeyring } from '../keys/local-keyring.js';
import type { SuiteName } from '../crypto/aead.js';
import { JsonFileKeyStore } from './json-file-key-store.js';

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
  try {
    await writeFile(path, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new KeyError('exists', `${path} exists; refusing to overwrite keys`);
    throw new KeyError('write_failed', `cannot write ${path}`);
  }
  return file;
}

/** A key file's JSON, unchecked; the errors name the file, never its content. */
export async function readKeyFileJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new KeyError('key_file_unreadable', `cannot read key file ${path}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new KeyError('bad_key_file', `key file ${path} is not valid JSON`);
  }
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
