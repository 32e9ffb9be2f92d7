/**
 * MultiKeyring: wrap under one keyring (the primary), unwrap with any. The way to move between key
 * authorities (a key file to an HSM, Vault to KMS …) without downtime: make the new authority the
 * primary, keep the old one as a secondary, run `rewrapDataKeys`, then drop the old one.
 */
import { AuthenticationError, ConfigError, KekNotAllowedError, KeyError } from '../errors.js';
import type { Keyring, SecretName, WrapContext, WrappedDataKey } from '../keys/keyring.js';

const notHeld = (e: unknown): boolean => e instanceof KeyError && e.reason === 'no_kek';

export class MultiKeyring implements Keyring {
  readonly primary: Keyring;
  readonly others: readonly Keyring[];

  constructor(primary: Keyring, ...others: Keyring[]) {
    if (!primary) throw new ConfigError('MultiKeyring needs a primary keyring');
    this.primary = primary;
    this.others = others;
  }

  get keyrings(): readonly Keyring[] {
    return [this.primary, ...this.others];
  }

  currentKekId(keyClass: string): string | undefined {
    return this.primary.currentKekId(keyClass);
  }

  wrap(dataKey: Uint8Array, ctx: WrapContext): Promise<WrappedDataKey> {
    return this.primary.wrap(dataKey, ctx);
  }

  /**
   * Tries each keyring in order. A keyring that does not hold the KEK (`KeyError('no_kek')`) or is
   * not configured to accept it (`KekNotAllowedError`: every member pins its own KEKs) passes to the
   * next; the first success wins. Fails with `AuthenticationError` if some keyring rejected the
   * wrapped key, else `KekNotAllowedError` if some member holds the class but none accepts the KEK,
   * else `KeyError('no_kek')`.
   */
  async unwrap(wrapped: WrappedDataKey, ctx: WrapContext): Promise<Uint8Array> {
    let auth: unknown;
    let pinned: unknown;
    for (const k of this.keyrings) {
      try {
        return await k.unwrap(wrapped, ctx);
      } catch (e) {
        if (e instanceof KekNotAllowedError) pinned = e;
        else if (e instanceof AuthenticationError) auth = e;
        else if (!notHeld(e)) throw e;
      }
    }
    if (auth) throw new AuthenticationError();
    if (pinned) throw new KekNotAllowedError(wrapped.kekId, ctx.dataKeyId, ctx.keyClass);
    throw new KeyError('no_kek', `no keyring holds KEK ${wrapped.kekId}`);
  }

  /** In-authority rewrap when the primary holds the old KEK and can; otherwise unwrap (any) + wrap (primary). */
  async rewrap(wrapped: WrappedDataKey, ctx: WrapContext): Promise<WrappedDataKey> {
    if (this.primary.rewrap) {
      try {
        return await this.primary.rewrap(wrapped, ctx);
      } catch (e) {
        if (!notHeld(e) && !(e instanceof AuthenticationError) && !(e instanceof KekNotAllowedError)) throw e;
      }
    }
    const key = await this.unwrap(wrapped, ctx);
    try {
      return await this.primary.wrap(key, ctx);
    } finally {
      key.fill(0);
    }
  }

  async secret(name: SecretName, version?: number): Promise<Uint8Array> {
    for (const k of this.keyrings) {
      if (!k.secret) continue;
      try {
        return await k.secret(name, version);
      } catch (e) {
        if (!(e instanceof KeyError)) throw e;
      }
    }
    throw new KeyError('no_secret', `no keyring holds a ${name} secret${version ? ` v${version}` : ''}`);
  }

  /** The versions held by the first keyring that holds the secret at all. */
  async secretVersions(name: SecretName): Promise<readonly number[]> {
    for (const k of this.keyrings) {
      if (!k.secret) continue;
      if (k.secretVersions) {
        const v = await k.secretVersions(name);
        if (v.length > 0) return v;
        continue;
      }
      try {
        await k.secret(name);
        return [1];
      } catch (e) {
        if (!(e instanceof KeyError)) throw e;
      }
    }
    return [];
  }

  forget(): void {
    for (const k of this.keyrings) k.forget?.();
  }

  close(): void {
    for (const k of this.keyrings) k.close?.();
  }
}
