/**
 * Keyrings hold key-encryption keys (KEKs) and wrap/unwrap data keys. They are separate from the
 * data path: the sealer only sees this interface, so a local file, an HSM or a KMS can stand behind it.
 */
export interface WrapContext {
  readonly dataKeyId: string;
  readonly keyClass: string;
  readonly scope: string;
  readonly generation: number;
  readonly suite: string;
}

export interface WrappedDataKey {
  /** Which KEK wrapped it, e.g. `local:v1:contact`. */
  readonly kekId: string;
  /** base64url of the wrapped key. */
  readonly wrapped: string;
}

/** Named secrets for keyed features (blind indexes, audit chain, record integrity; `ed25519`/`sm2`: private keys of signed record tags). */
export type SecretName = 'index' | 'audit' | 'integrity' | 'ed25519' | 'sm2';

export interface Keyring {
  /** Wrap a data key under the current KEK of its key class. */
  wrap(dataKey: Uint8Array, ctx: WrapContext): Promise<WrappedDataKey>;
  /** Unwrap a data key; throws AuthenticationError if it does not verify, KeyError if the KEK is absent. */
  unwrap(wrapped: WrappedDataKey, ctx: WrapContext): Promise<Uint8Array>;
  /** The KEK id new data keys of this class are wrapped under (undefined: class not held). */
  currentKekId(keyClass: string): string | undefined;
  /**
   * Optional: re-encrypt a wrapped data key under the current KEK of its class inside the key
   * authority, without the data key leaving it (Vault Transit `rewrap`, AWS KMS `ReEncrypt`).
   * KEK rewrap uses it when present, else unwrap + wrap.
   */
  rewrap?(wrapped: WrappedDataKey, ctx: WrapContext): Promise<WrappedDataKey>;
  /**
   * Optional: have the key authority generate a new data key and return it with its wrapped form
   * (AWS KMS `GenerateDataKey`). When absent, data keys come from the local CSPRNG and `wrap`.
   */
  generateDataKey?(length: number, ctx: WrapContext): Promise<{ key: Uint8Array; wrapped: WrappedDataKey }>;
  /** A secret for keyed features, by name and version (default: current). */
  secret?(name: SecretName, version?: number): Promise<Uint8Array>;
  /**
   * Optional: the versions of a secret this keyring holds, ascending (the last is current). Blind
   * indexes query every held `index` version during a rotation window; without this method a
   * keyring is taken to hold version 1 only.
   */
  secretVersions?(name: SecretName): Promise<readonly number[]>;
  /**
   * Optional: zero the unwrapped data keys the keyring caches (CachingKeyring); the keyring stays
   * usable. A sealer's `forget()` and `close()` call it.
   */
  forget?(): void;
  /** Zero key material held in memory (best effort). */
  close?(): void;
}
