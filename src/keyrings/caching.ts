/**
 * CachingKeyring: bounds the calls that reach a KEK authority (HSM, KMS, Vault). Unwrapped data
 * keys are cached with a maximum age and a maximum number of uses, concurrent unwraps of one key
 * share a single call, and one CachingKeyring can serve many sealers (and many scopes) at once.
 *
 * Sealing alone already costs one wrap per new data key: data keys are per (key class, scope,
 * generation) and each sealer keeps the keys it uses. The cache matters for opening across many
 * scopes and for several sealer instances in one process. Entries are keyed by the KEK id, the
 * wrapped bytes and the whole wrap context, so a tampered store row never hits another's entry.
 */
import { encodeParts, toBase64Url, wipe } from '../crypto/bytes.js';
import { ConfigError } from '../errors.js';
import type { Keyring, SecretName, WrapContext, WrappedDataKey } from '../keys/keyring.js';

export interface CachingKeyringOptions {
  /** How long an unwrapped key is served from the cache, in ms (default 5 minutes). */
  maxAgeMs?: number;
  /** How many unwraps one cached entry may answer before the authority is asked again (default 10,000). */
  maxUses?: number;
  /** Most keys held (default 1,000; least recently used evicted first). */
  maxEntries?: number;
  /** Clock, for tests. */
  now?: () => number;
}

export interface CachingKeyringStats {
  /** unwrap calls answered from the cache. */
  readonly hits: number;
  /** unwrap calls that reached the inner keyring. */
  readonly misses: number;
  /** wrap / generateDataKey / rewrap calls passed through. */
  readonly wraps: number;
  readonly size: number;
}

interface Entry {
  readonly key: Uint8Array;
  readonly expires: number;
  uses: number;
}

export class CachingKeyring implements Keyring {
  readonly #inner: Keyring;
  readonly #entries = new Map<string, Entry>();
  readonly #pending = new Map<string, Promise<Uint8Array>>();
  readonly #maxAge: number;
  readonly #maxUses: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  #hits = 0;
  #misses = 0;
  #wraps = 0;

  constructor(inner: Keyring, options: CachingKeyringOptions = {}) {
    this.#inner = inner;
    this.#maxAge = options.maxAgeMs ?? 5 * 60_000;
    this.#maxUses = options.maxUses ?? 10_000;
    this.#maxEntries = options.maxEntries ?? 1000;
    this.#now = options.now ?? Date.now;
    if (!(this.#maxAge >= 0) || !(this.#maxUses >= 1) || !(this.#maxEntries >= 1)) {
      throw new ConfigError('CachingKeyring: maxAgeMs >= 0, maxUses >= 1, maxEntries >= 1');
    }
    if (inner.rewrap) this.rewrap = (w, ctx) => (this.#wraps++, inner.rewrap!(w, ctx));
    if (inner.generateDataKey) this.generateDataKey = (n, ctx) => (this.#wraps++, inner.generateDataKey!(n, ctx));
    if (inner.secret) this.secret = (name: SecretName, version?: number) => inner.secret!(name, version);
    if (inner.secretVersions) this.secretVersions = (name: SecretName) => inner.secretVersions!(name);
  }

  rewrap?: (wrapped: WrappedDataKey, ctx: WrapContext) => Promise<WrappedDataKey>;
  generateDataKey?: (length: number, ctx: WrapContext) => Promise<{ key: Uint8Array; wrapped: WrappedDataKey }>;
  secret?: (name: SecretName, version?: number) => Promise<Uint8Array>;
  secretVersions?: (name: SecretName) => Promise<readonly number[]>;

  get stats(): CachingKeyringStats {
    return { hits: this.#hits, misses: this.#misses, wraps: this.#wraps, size: this.#entries.size };
  }

  currentKekId(keyClass: string): string | undefined {
    return this.#inner.currentKekId(keyClass);
  }

  wrap(dataKey: Uint8Array, ctx: WrapContext): Promise<WrappedDataKey> {
    this.#wraps++;
    return this.#inner.wrap(dataKey, ctx);
  }

  /** Returns a copy each time: a caller zeroing its key (sealer close) never zeroes another's. */
  async unwrap(wrapped: WrappedDataKey, ctx: WrapContext): Promise<Uint8Array> {
    const id = cacheId(wrapped, ctx);
    const e = this.#entries.get(id);
    if (e) {
      if (e.expires > this.#now() && e.uses < this.#maxUses) {
        e.uses++;
        this.#hits++;
        this.#entries.delete(id);
        this.#entries.set(id, e);
        return e.key.slice();
      }
      this.#drop(id);
    }
    let pending = this.#pending.get(id);
    if (pending) {
      this.#hits++;
      return (await pending).slice();
    }
    this.#misses++;
    pending = this.#inner.unwrap(wrapped, ctx);
    this.#pending.set(id, pending);
    try {
      const key = await pending;
      this.#entries.set(id, { key: key.slice(), expires: this.#now() + this.#maxAge, uses: 1 });
      while (this.#entries.size > this.#maxEntries) this.#drop(this.#entries.keys().next().value as string);
      return key;
    } finally {
      this.#pending.delete(id);
    }
  }

  /** Drops (and zeroes) every cached key. */
  clear(): void {
    for (const id of [...this.#entries.keys()]) this.#drop(id);
  }

  /** `clear()`: a sealer's `forget()` and `close()` zero the keys cached here too (other sealers hold copies). */
  forget(): void {
    this.clear();
  }

  /** Zeroes the cache and closes the inner keyring. */
  close(): void {
    this.clear();
    this.#inner.close?.();
  }

  #drop(id: string): void {
    const e = this.#entries.get(id);
    if (e) wipe(e.key);
    this.#entries.delete(id);
  }
}

function cacheId(w: WrappedDataKey, ctx: WrapContext): string {
  return toBase64Url(encodeParts([w.kekId, w.wrapped, ctx.dataKeyId, ctx.keyClass, ctx.scope, String(ctx.generation), ctx.suite]));
}
