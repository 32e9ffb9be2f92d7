/**
 * Where the backend's keys come from.
 *
 * - KEKs (key-encryption keys) and the named secrets (blind-index, audit) come from a local key file
 *   (`waybill-seal keygen`): `WAYBILL_SEAL_KEYS` holds its JSON (containers, secret managers), or
 *   `WAYBILL_SEAL_KEY_FILE` names it. Without either, on an in-memory database only, fresh keys
 *   are generated for this run (what `npm run example:backend` does).
 * - Data keys live in the database (PgKeyStore, `waybill_seal_data_keys`), wrapped by the KEKs:
 *   the database alone opens nothing.
 *
 * Production keeps the KEKs in an HSM or a KMS instead of a key file: swap the LocalKeyring for
 * `Pkcs11Keyring` (waybill-seal/pkcs11), `AwsKmsKeyring` (waybill-seal/aws-kms) or
 * `VaultTransitKeyring` (waybill-seal/vault), wrapped in a `CachingKeyring`, and pass the key file's
 * LocalKeyring as their `secrets` (see README.md in this folder).
 */
import { LocalKeyring, newKeyFile, parseKeyFile, type Keyring, type SuiteName } from 'waybill-seal';
import { loadKeyFile } from 'waybill-seal/node';

export interface BackendKeys {
  readonly keyring: Keyring & { close?(): void };
  /** The deployment's default suite (from the key file): picks the sealer preset. */
  readonly suite: SuiteName;
  readonly source: 'env' | 'file' | 'ephemeral';
  readonly warning?: string;
}

/** A configuration problem found at start-up: the message names variables, never key material. */
export class StartupError extends Error {
  override name = 'StartupError';
}

export async function loadKeys(env: Readonly<Record<string, string | undefined>>, options: { persistentDatabase: boolean }): Promise<BackendKeys> {
  const inline = env['WAYBILL_SEAL_KEYS'];
  const path = env['WAYBILL_SEAL_KEY_FILE'];
  if (inline && path) throw new StartupError('set WAYBILL_SEAL_KEYS or WAYBILL_SEAL_KEY_FILE, not both');
  if (inline) {
    let json: unknown;
    try {
      json = JSON.parse(inline);
    } catch {
      throw new StartupError('WAYBILL_SEAL_KEYS is not valid JSON (it holds the text of a key file from waybill-seal keygen)');
    }
    const file = parseKeyFile(json);
    return { keyring: new LocalKeyring(file), suite: file.suite, source: 'env' };
  }
  if (path) {
    // The key file's own `dataKeys` are not used: data keys live in the database.
    const loaded = await loadKeyFile(path);
    return {
      keyring: loaded.keyring,
      suite: loaded.file.suite,
      source: 'file',
      ...(loaded.warning ? { warning: loaded.warning } : {}),
    };
  }
  if (options.persistentDatabase) {
    // Fresh keys for a database that outlives this process would leave its records unopenable
    // after a restart: refuse rather than seal data that will be lost.
    throw new StartupError(
      'a persistent database needs keys that persist too: create a key file (npx waybill-seal keygen --out keys.json) and set WAYBILL_SEAL_KEY_FILE=keys.json',
    );
  }
  const file = newKeyFile();
  return {
    keyring: new LocalKeyring(file),
    suite: file.suite,
    source: 'ephemeral',
    warning: 'keys are generated for this run only (in-memory database): set WAYBILL_SEAL_KEY_FILE to keep them',
  };
}
