/**
 * The verify-only key file (`waybill-seal keys export-verify`): the public keys of signed record
 * tags, for label printers, stations and `mask --verify-key`. It holds nothing that can make a tag
 * or open a field, so it may be copied to every device that checks records.
 *
 *   {"format":"waybill-seal/verify-keys","version":1,"alg":"ed25519","keys":[{"version":1,"publicKey":"<base64url>"}]}
 */
import { fromBase64Url, toBase64Url } from '../crypto/bytes.js';
import { KeyError } from '../errors.js';
import { isPlainObject } from '../schema/walk.js';
import { isSignatureAlg, publicKeyOf, type SignatureAlg } from '../crypto/signature.js';
import type { IntegrityKeySource } from './tag.js';

export const VERIFY_KEYS_FORMAT = 'waybill-seal/verify-keys';

export interface VerifyKeyFile {
  readonly format: typeof VERIFY_KEYS_FORMAT;
  readonly version: 1;
  readonly alg: SignatureAlg;
  readonly keys: readonly { readonly version: number; readonly publicKey: string }[];
}

/** Public keys of one signature algorithm, by version: a key source for `createVerifier`. */
export interface VerifyKeys extends Required<Pick<IntegrityKeySource, 'publicKey' | 'publicKeyVersions'>> {
  readonly alg: SignatureAlg;
}

/** Checks a verify-only key file and returns its keys. A file holding anything else (a secret, a KEK) is refused. */
export function parseVerifyKeys(json: unknown, where = 'verify key file'): VerifyKeys {
  const bad = (what: string): never => {
    throw new KeyError('bad_key_file', `${where}: ${what}`);
  };
  if (!isPlainObject(json) || json['format'] !== VERIFY_KEYS_FORMAT) return bad(`not a verify-only key file (format "${VERIFY_KEYS_FORMAT}"; write one with "waybill-seal keys export-verify")`);
  for (const k of Object.keys(json)) if (!['format', 'version', 'alg', 'keys'].includes(k)) bad(`unexpected member "${k}" (a verify-only file holds public keys only)`);
  if (json['version'] !== 1) bad('unsupported version');
  const alg = json['alg'];
  if (!isSignatureAlg(alg)) return bad('alg must be "ed25519" or "sm2"');
  const list = json['keys'];
  if (!Array.isArray(list) || list.length === 0) bad('keys must be a non-empty array');
  const keys = new Map<number, Uint8Array>();
  for (const k of list as unknown[]) {
    if (!isPlainObject(k) || Object.keys(k).some((m) => m !== 'version' && m !== 'publicKey')) bad('each key is { version, publicKey }');
    const { version, publicKey } = k as Record<string, unknown>;
    if (!Number.isSafeInteger(version) || (version as number) < 1 || keys.has(version as number)) bad('key versions are distinct positive integers');
    const bytes = typeof publicKey === 'string' ? fromBase64Url(publicKey) : undefined;
    if (!bytes || bytes.length !== (alg === 'ed25519' ? 32 : 65)) bad(`v${String(version)}: not a base64url ${alg} public key`);
    keys.set(version as number, bytes!);
  }
  const versions = Object.freeze([...keys.keys()].sort((a, b) => a - b));
  return {
    alg,
    async publicKey(a, version) {
      const key = a === alg ? keys.get(version) : undefined;
      if (!key) throw new KeyError('no_secret', `no ${a} public key v${version}`);
      return key.slice();
    },
    async publicKeyVersions(a) {
      return a === alg ? versions : [];
    },
  };
}

/**
 * The verify-only key file of a keyring's signing keys (every version it holds, or `versions`):
 * public keys only.
 */
export async function exportVerifyKeys(source: IntegrityKeySource, alg: SignatureAlg, versions?: readonly number[]): Promise<VerifyKeyFile> {
  if (typeof source.secret !== 'function') throw new KeyError('no_secret', `this keyring holds no ${alg} signing key`);
  const list = versions ?? (typeof source.secretVersions === 'function' ? await source.secretVersions(alg) : []);
  if (list.length === 0) throw new KeyError('no_secret', `this keyring holds no ${alg} signing key (create one with "waybill-seal keygen --integrity ${alg}")`);
  const keys = [];
  for (const version of list) keys.push({ version, publicKey: toBase64Url(await publicKeyOf(alg, await source.secret(alg, version))) });
  return { format: VERIFY_KEYS_FORMAT, version: 1, alg, keys };
}
