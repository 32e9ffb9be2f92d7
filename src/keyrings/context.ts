/** What every keyring binds a wrapped data key to: its KEK id and the data key's identity. */
import { encodeParts } from '../crypto/bytes.js';
import type { Keyring, SecretName, WrapContext } from '../keys/keyring.js';

/** The associated data of a wrapped data key: same list as LocalKeyring's (docs/FORMAT.md §7). */
export function wrapAad(kekId: string, ctx: WrapContext): Uint8Array {
  return encodeParts(['waybill-seal/wrap', kekId, ctx.dataKeyId, ctx.keyClass, ctx.scope, String(ctx.generation), ctx.suite]);
}

/** Key class names as used in KEK labels and key names. */
export const KEY_CLASS = /^[a-z][a-z0-9-]{0,31}$/;

/** Where a KEK-only keyring (HSM, KMS, Vault) gets the library's named secrets (index, audit, integrity). */
export type SecretSource = Pick<Keyring, 'secret' | 'secretVersions'>;

/** Installs `secret` / `secretVersions` delegating to `source` on a keyring object. */
export function delegateSecrets(
  target: { secret?: (name: SecretName, version?: number) => Promise<Uint8Array>; secretVersions?: (name: SecretName) => Promise<readonly number[]> },
  source: SecretSource | undefined,
): void {
  if (source?.secret) target.secret = (name, version) => source.secret!(name, version);
  if (source?.secretVersions) target.secretVersions = (name) => source.secretVersions!(name);
}
