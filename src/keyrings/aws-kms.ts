/**
 * AwsKmsKeyring: KEKs are AWS KMS symmetric keys, one per key class, named by key id, ARN or
 * alias and resolved to ARNs at connect (`DescribeKey`). Data keys are wrapped with `Encrypt`
 * (or generated with `GenerateDataKey` when `generateDataKeys` is on), unwrapped with `Decrypt`
 * pinned to the expected key, and moved to another key with `ReEncrypt` (the data key never
 * leaves KMS). Every call carries an encryption context with the key class, scope, generation,
 * suite and data key id, which KMS binds to the ciphertext (and logs in CloudTrail).
 *
 * kekId = `aws-kms:<key ARN>`; `wrapped` = base64url of the KMS ciphertext blob. KMS's own key
 * rotation keeps the ARN (nothing to rewrap); pointing an alias at a new key and calling
 * `refresh()` makes that key current, and `rewrapDataKeys` moves data keys over with ReEncrypt.
 *
 * Pinned: `unwrap` and `rewrap` send only ARNs configured for the data key's class (the current key,
 * keys it resolved to before in this process, and `previousKeys`); a key-store row naming any other
 * KMS key (one a database writer controls, which our credentials might be allowed to use) is refused
 * with `KekNotAllowedError` before any request.
 *
 * Uses `@aws-sdk/client-kms` (optional peer dependency): `waybill-seal/aws-kms`. Retries on
 * throttling and 5xx are the SDK's (`maxAttempts` on the client).
 */
import { DecryptCommand, DescribeKeyCommand, EncryptCommand, GenerateDataKeyCommand, ReEncryptCommand } from '@aws-sdk/client-kms';
import { fromBase64Url, toBase64Url } from '../crypto/bytes.js';
import { AuthenticationError, ConfigError, KekNotAllowedError, KeyError } from '../errors.js';
import type { Keyring, SecretName, WrapContext, WrappedDataKey } from '../keys/keyring.js';
import { delegateSecrets, type SecretSource } from './context.js';

/** The part of `KMSClient` this keyring uses. */
export interface KmsClientLike {
  send(command: unknown): Promise<unknown>;
}

export interface AwsKmsKeyringOptions {
  /** A configured `KMSClient` (region, credentials, endpoint, maxAttempts). */
  client: KmsClientLike;
  /** KMS key (id, ARN or `alias/...`) per key class. */
  keys: Readonly<Record<string, string>>;
  /** Let KMS generate data keys (`GenerateDataKey`, one call) instead of the local CSPRNG + `Encrypt`. */
  generateDataKeys?: boolean;
  /** Grant tokens sent with every call. */
  grantTokens?: readonly string[];
  /** Where `secret()` comes from; KMS holds none of the library's secrets. */
  secrets?: SecretSource;
  /**
   * KMS keys (id, ARN or alias) per key class that data keys may still be wrapped under, besides the
   * current one: after pointing an alias at a new key, list the old key here until `rewrapDataKeys`
   * has moved every data key. Unwrap refuses every key not configured.
   */
  previousKeys?: Readonly<Record<string, readonly string[]>>;
}

const CONTEXT_PREFIX = 'waybill-seal:';

/** The KMS encryption context of a data key. */
export function encryptionContext(ctx: WrapContext): Record<string, string> {
  return {
    [`${CONTEXT_PREFIX}key-class`]: ctx.keyClass,
    [`${CONTEXT_PREFIX}scope`]: ctx.scope,
    [`${CONTEXT_PREFIX}generation`]: String(ctx.generation),
    [`${CONTEXT_PREFIX}suite`]: ctx.suite,
    [`${CONTEXT_PREFIX}data-key`]: ctx.dataKeyId,
  };
}

export class AwsKmsKeyring implements Keyring {
  readonly #o: AwsKmsKeyringOptions;
  readonly #arns = new Map<string, string>();
  /** ARNs per key class whose data keys may be unwrapped (current, earlier current, previousKeys). */
  readonly #pinned = new Map<string, Set<string>>();
  /** KMS requests made (not counting SDK retries): for tests and metrics. */
  calls = 0;

  private constructor(o: AwsKmsKeyringOptions) {
    this.#o = o;
    delegateSecrets(this, o.secrets);
    if (o.generateDataKeys) {
      this.generateDataKey = async (length, ctx) => {
        const arn = this.#arn(ctx.keyClass);
        const out = (await this.#send(
          new GenerateDataKeyCommand({ KeyId: arn, NumberOfBytes: length, EncryptionContext: encryptionContext(ctx), ...this.#grants() }),
          'wrap',
        )) as { CiphertextBlob?: Uint8Array; Plaintext?: Uint8Array; KeyId?: string };
        if (!out.CiphertextBlob || !out.Plaintext || out.KeyId !== arn) throw new KeyError('kms_response', 'KMS GenerateDataKey returned an unexpected answer');
        return { key: out.Plaintext, wrapped: { kekId: `aws-kms:${arn}`, wrapped: toBase64Url(out.CiphertextBlob) } };
      };
    }
  }

  secret?: (name: SecretName, version?: number) => Promise<Uint8Array>;
  secretVersions?: (name: SecretName) => Promise<readonly number[]>;
  generateDataKey?: (length: number, ctx: WrapContext) => Promise<{ key: Uint8Array; wrapped: WrappedDataKey }>;

  /** Resolves every key class's key (alias, id or ARN) to its ARN with `DescribeKey`. */
  static async connect(options: AwsKmsKeyringOptions): Promise<AwsKmsKeyring> {
    if (!options?.client || !options.keys || Object.keys(options.keys).length === 0) throw new ConfigError('AwsKmsKeyring needs client and keys');
    const k = new AwsKmsKeyring(options);
    await k.refresh();
    return k;
  }

  /** Re-resolves the keys (after an alias was pointed at a new key); the keys resolved before stay accepted for unwrap. */
  async refresh(): Promise<void> {
    for (const [keyClass, keyId] of Object.entries(this.#o.keys)) {
      const arn = await this.#describe(keyClass, keyId);
      this.#arns.set(keyClass, arn);
      this.#pin(keyClass, arn);
      for (const old of this.#o.previousKeys?.[keyClass] ?? []) this.#pin(keyClass, await this.#describe(keyClass, old));
    }
  }

  async #describe(keyClass: string, keyId: string): Promise<string> {
    const out = (await this.#send(new DescribeKeyCommand({ KeyId: keyId, ...this.#grants() }), 'call')) as {
      KeyMetadata?: { Arn?: string; Enabled?: boolean };
    };
    const arn = out.KeyMetadata?.Arn;
    if (!arn) throw new KeyError('kms_response', `KMS DescribeKey gave no ARN for key class "${keyClass}"`);
    return arn;
  }

  #pin(keyClass: string, arn: string): void {
    let set = this.#pinned.get(keyClass);
    if (!set) this.#pinned.set(keyClass, (set = new Set()));
    set.add(arn);
  }

  currentKekId(keyClass: string): string | undefined {
    const arn = this.#arns.get(keyClass);
    return arn === undefined ? undefined : `aws-kms:${arn}`;
  }

  async wrap(dataKey: Uint8Array, ctx: WrapContext): Promise<WrappedDataKey> {
    const arn = this.#arn(ctx.keyClass);
    const out = (await this.#send(
      new EncryptCommand({ KeyId: arn, Plaintext: dataKey, EncryptionContext: encryptionContext(ctx), ...this.#grants() }),
      'wrap',
    )) as { CiphertextBlob?: Uint8Array; KeyId?: string };
    if (!out.CiphertextBlob || out.KeyId !== arn) throw new KeyError('kms_response', 'KMS Encrypt returned an unexpected answer');
    return { kekId: `aws-kms:${arn}`, wrapped: toBase64Url(out.CiphertextBlob) };
  }

  async unwrap(w: WrappedDataKey, ctx: WrapContext): Promise<Uint8Array> {
    const { arn, blob } = this.#parse(w, ctx);
    const out = (await this.#send(
      new DecryptCommand({ KeyId: arn, CiphertextBlob: blob, EncryptionContext: encryptionContext(ctx), ...this.#grants() }),
      'unwrap',
    )) as { Plaintext?: Uint8Array; KeyId?: string };
    if (!out.Plaintext || out.KeyId !== arn) throw new AuthenticationError();
    return out.Plaintext;
  }

  /** `ReEncrypt` under the key class's current key, same encryption context. */
  async rewrap(w: WrappedDataKey, ctx: WrapContext): Promise<WrappedDataKey> {
    const { arn, blob } = this.#parse(w, ctx);
    const target = this.#arn(ctx.keyClass);
    const ec = encryptionContext(ctx);
    const out = (await this.#send(
      new ReEncryptCommand({
        CiphertextBlob: blob,
        SourceKeyId: arn,
        SourceEncryptionContext: ec,
        DestinationKeyId: target,
        DestinationEncryptionContext: ec,
        ...this.#grants(),
      }),
      'unwrap',
    )) as { CiphertextBlob?: Uint8Array; KeyId?: string; SourceKeyId?: string };
    if (!out.CiphertextBlob || out.KeyId !== target) throw new KeyError('kms_response', 'KMS ReEncrypt returned an unexpected answer');
    return { kekId: `aws-kms:${target}`, wrapped: toBase64Url(out.CiphertextBlob) };
  }

  close(): void {
    this.#arns.clear();
    this.#pinned.clear();
  }

  // -------------------------------------------------------------------------------------------

  #arn(keyClass: string): string {
    const arn = this.#arns.get(keyClass);
    if (!arn) throw new KeyError('no_kek', `no KMS key for key class "${keyClass}"`);
    return arn;
  }

  /** The ARN of a wrapped key, refused unless it is pinned for the data key's class. */
  #parse(w: WrappedDataKey, ctx: WrapContext): { arn: string; blob: Uint8Array } {
    const pinned = this.#pinned.get(ctx.keyClass);
    if (!pinned) throw new KeyError('no_kek', `no KMS key for key class "${ctx.keyClass}"`);
    const arn = w.kekId.startsWith('aws-kms:arn:') ? w.kekId.slice('aws-kms:'.length) : undefined;
    if (arn === undefined || !pinned.has(arn)) throw new KekNotAllowedError(w.kekId, ctx.dataKeyId, ctx.keyClass);
    const blob = fromBase64Url(w.wrapped);
    if (!blob || blob.length === 0) throw new AuthenticationError();
    return { arn, blob };
  }

  #grants(): { GrantTokens?: string[] } {
    return this.#o.grantTokens?.length ? { GrantTokens: [...this.#o.grantTokens] } : {};
  }

  async #send(command: unknown, what: 'wrap' | 'unwrap' | 'call'): Promise<unknown> {
    this.calls++;
    try {
      return await this.#o.client.send(command);
    } catch (e) {
      throw mapKmsError(e, what);
    }
  }
}

/** KMS errors → library errors. Messages name the KMS error type, never data. */
function mapKmsError(e: unknown, what: 'wrap' | 'unwrap' | 'call'): Error {
  const name = (e as { name?: unknown })?.name;
  const type = typeof name === 'string' ? name : 'UnknownError';
  if (what === 'unwrap' && (type === 'InvalidCiphertextException' || type === 'IncorrectKeyException')) return new AuthenticationError();
  if (type === 'NotFoundException') return new KeyError('no_kek', `KMS key not found (${type})`);
  if (type === 'DisabledException' || type === 'KMSInvalidStateException') return new KeyError('kek_disabled', `KMS key is not usable (${type})`);
  if (type === 'AccessDeniedException' || type === 'InvalidGrantTokenException') return new KeyError('kek_denied', `KMS denied the request (${type})`);
  return new KeyError('kek_unavailable', `KMS request failed (${type})`);
}
