/**
 * VaultTransitKeyring: KEKs are HashiCorp Vault (or OpenBao) Transit keys, one per key class
 * (default name `waybill-seal-<keyClass>`), created with `derived: true`. Data keys are wrapped
 * with `POST /v1/<mount>/encrypt/<name>`, unwrapped with `decrypt` and re-wrapped under the
 * latest key version with `rewrap` (the data key never leaves Vault on rewrap). Every request
 * carries a `context` (the key-derivation input) that encodes the data key's identity — key
 * class, scope, generation, suite and id — so a wrapped key moved to another store row fails.
 *
 * kekId = `vault:<mount>/<name>:v<version>`; `wrapped` is Vault's own ciphertext string
 * (`vault:v<version>:<base64>`), stored as is. Plain `fetch`, no SDK: runs anywhere.
 *
 * Retries with exponential back-off and jitter on 5xx, 429 and transport failures (no HTTP
 * response at all); never on other 4xx. On unwrap, a 400 (bad ciphertext, wrong context) is an
 * `AuthenticationError`; 403 and 404 are `KeyError`s (permission, missing key).
 */
import { AuthenticationError, ConfigError, KekNotAllowedError, KeyError } from '../errors.js';
import type { Keyring, SecretName, WrapContext, WrappedDataKey } from '../keys/keyring.js';
import { fromBase64, toBase64 } from './base64.js';
import { delegateSecrets, KEY_CLASS, wrapAad, type SecretSource } from './context.js';

export interface VaultTransitKeyringOptions {
  /** Vault address, e.g. `https://vault.internal:8200`. */
  address: string;
  /** Vault token, or a function returning the current one (renewed tokens, agent sink). */
  token: string | (() => string | Promise<string>);
  /** Enterprise/OpenBao namespace, sent as `X-Vault-Namespace`. */
  namespace?: string;
  /** Transit mount path (default `transit`). */
  mount?: string;
  /** Transit key name for a key class (default `waybill-seal-<keyClass>`). */
  keyName?: (keyClass: string) => string;
  /** Key classes to use (their latest versions are read at connect). */
  keyClasses: readonly string[];
  /** Attempts per request on 5xx/429/transport errors (default 4). */
  maxAttempts?: number;
  /** First back-off delay in ms (default 100; doubles each retry, with jitter, capped at 5 s). */
  backoffMs?: number;
  /** Per-request timeout in ms (default 10 s). */
  timeoutMs?: number;
  /** `fetch` to use (default the global one). */
  fetch?: typeof fetch;
  /** Where `secret()` comes from; Vault Transit holds none of the library's secrets. */
  secrets?: SecretSource;
  /** Sleep, for tests. */
  sleep?: (ms: number) => Promise<void>;
}

interface VaultResponse {
  status: number;
  body: { data?: Record<string, unknown>; errors?: unknown[] } | undefined;
}

export class VaultError extends KeyError {
  readonly status: number;
  constructor(reason: string, status: number, message: string) {
    super(reason, message);
    this.status = status;
  }
}

export class VaultTransitKeyring implements Keyring {
  readonly #o: Required<Pick<VaultTransitKeyringOptions, 'mount' | 'maxAttempts' | 'backoffMs' | 'timeoutMs'>> & VaultTransitKeyringOptions;
  readonly #latest = new Map<string, number>();
  readonly #fetch: typeof fetch;
  readonly #sleep: (ms: number) => Promise<void>;
  /** HTTP requests sent (retries included): for tests and metrics. */
  requests = 0;

  private constructor(o: VaultTransitKeyringOptions) {
    this.#o = { mount: 'transit', maxAttempts: 4, backoffMs: 100, timeoutMs: 10_000, ...o };
    this.#fetch = o.fetch ?? globalThis.fetch;
    this.#sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    delegateSecrets(this, o.secrets);
  }

  secret?: (name: SecretName, version?: number) => Promise<Uint8Array>;
  secretVersions?: (name: SecretName) => Promise<readonly number[]>;

  /** Reads the latest version of each key class's Transit key. */
  static async connect(options: VaultTransitKeyringOptions): Promise<VaultTransitKeyring> {
    if (!options?.address || !options.token) throw new ConfigError('VaultTransitKeyring needs address and token');
    if (!/^[A-Za-z0-9_/-]{1,128}$/.test(options.mount ?? 'transit')) throw new ConfigError('invalid Transit mount path');
    for (const c of options.keyClasses ?? []) if (!KEY_CLASS.test(c)) throw new ConfigError(`invalid key class "${c}"`);
    const k = new VaultTransitKeyring(options);
    await k.refresh();
    return k;
  }

  /**
   * Setup helper: creates each key class's Transit key (`aes256-gcm96`, `derived: true`) if it
   * does not exist. Needs a token allowed to write `<mount>/keys/<name>`.
   */
  static async createKeys(options: VaultTransitKeyringOptions): Promise<VaultTransitKeyring> {
    const k = new VaultTransitKeyring(options);
    for (const c of options.keyClasses) {
      const r = await k.#request('GET', `keys/${k.#name(c)}`, undefined, 'read');
      if (r.status === 404) await k.#call('POST', `keys/${k.#name(c)}`, { type: 'aes256-gcm96', derived: true });
      else k.#check(r, 'read');
    }
    await k.refresh();
    return k;
  }

  /** Re-reads the latest key versions (after a rotation elsewhere). */
  async refresh(): Promise<void> {
    for (const c of this.#o.keyClasses) {
      const data = await this.#call('GET', `keys/${this.#name(c)}`);
      const latest = data['latest_version'];
      if (!Number.isSafeInteger(latest) || (latest as number) < 1) throw new KeyError('vault_response', `Vault key ${this.#name(c)} has no latest_version`);
      if (data['derived'] !== true) throw new KeyError('vault_key_not_derived', `Vault key ${this.#name(c)} must be created with derived=true`);
      this.#latest.set(c, latest as number);
    }
  }

  /** KEK rotation: `POST keys/<name>/rotate` for each key class; the new versions become current. */
  async rotate(): Promise<string[]> {
    const ids: string[] = [];
    for (const c of this.#o.keyClasses) {
      await this.#call('POST', `keys/${this.#name(c)}/rotate`, {});
    }
    await this.refresh();
    for (const c of this.#o.keyClasses) ids.push(this.currentKekId(c)!);
    return ids;
  }

  /**
   * Retires old versions: sets `min_decryption_version` so Vault refuses versions below it.
   * Check first that no data key is wrapped under them (`assertKekUnused`).
   */
  async setMinDecryptionVersion(keyClass: string, version: number): Promise<void> {
    await this.#call('POST', `keys/${this.#name(keyClass)}/config`, { min_decryption_version: version });
  }

  currentKekId(keyClass: string): string | undefined {
    const v = this.#latest.get(keyClass);
    return v === undefined ? undefined : this.#kekId(keyClass, v);
  }

  async wrap(dataKey: Uint8Array, ctx: WrapContext): Promise<WrappedDataKey> {
    if (!this.#latest.has(ctx.keyClass)) throw new KeyError('no_kek', `no Vault key for key class "${ctx.keyClass}"`);
    const data = await this.#call('POST', `encrypt/${this.#name(ctx.keyClass)}`, {
      plaintext: toBase64(dataKey),
      context: this.#context(ctx),
    });
    return this.#wrapped(ctx.keyClass, data);
  }

  async unwrap(w: WrappedDataKey, ctx: WrapContext): Promise<Uint8Array> {
    this.#versionOf(w, ctx);
    const r = await this.#request('POST', `decrypt/${this.#name(ctx.keyClass)}`, { ciphertext: w.wrapped, context: this.#context(ctx) }, 'unwrap');
    if (r.status === 400) {
      if (errorText(r).includes('too old')) throw new VaultError('kek_retired', 400, `Vault refuses ${w.kekId}: below min_decryption_version`);
      throw new AuthenticationError();
    }
    const data = this.#check(r, 'unwrap');
    const key = typeof data['plaintext'] === 'string' ? fromBase64(data['plaintext']) : undefined;
    if (!key) throw new AuthenticationError();
    return key;
  }

  /** `POST rewrap/<name>`: the wrapped key moves to the latest version inside Vault. */
  async rewrap(w: WrappedDataKey, ctx: WrapContext): Promise<WrappedDataKey> {
    this.#versionOf(w, ctx);
    const r = await this.#request('POST', `rewrap/${this.#name(ctx.keyClass)}`, { ciphertext: w.wrapped, context: this.#context(ctx) }, 'rewrap');
    if (r.status === 400) throw new AuthenticationError();
    return this.#wrapped(ctx.keyClass, this.#check(r, 'rewrap'));
  }

  close(): void {
    this.#latest.clear();
  }

  // -------------------------------------------------------------------------------------------

  #name(keyClass: string): string {
    const n = (this.#o.keyName ?? ((c: string) => `waybill-seal-${c}`))(keyClass);
    if (!/^[A-Za-z0-9_.-]{1,128}$/.test(n)) throw new ConfigError(`invalid Transit key name for "${keyClass}"`);
    return n;
  }

  #kekId(keyClass: string, version: number): string {
    return `vault:${this.#o.mount}/${this.#name(keyClass)}:v${version}`;
  }

  /**
   * Pinned: a stored wrapped key must name this mount and the key class's configured Transit key
   * (`KekNotAllowedError` otherwise, before any request), and its ciphertext must match its kekId.
   */
  #versionOf(w: WrappedDataKey, ctx: WrapContext): number {
    if (!this.#latest.has(ctx.keyClass)) throw new KeyError('no_kek', `no Vault key for key class "${ctx.keyClass}"`);
    const prefix = `vault:${this.#o.mount}/`;
    const m = w.kekId.startsWith(prefix) ? /^(.+):v([1-9][0-9]{0,8})$/.exec(w.kekId.slice(prefix.length)) : null;
    if (!m || m[1] !== this.#name(ctx.keyClass)) throw new KekNotAllowedError(w.kekId, ctx.dataKeyId, ctx.keyClass);
    const c = /^vault:v([1-9][0-9]{0,8}):[A-Za-z0-9+/=]+$/.exec(w.wrapped);
    if (!c || c[1] !== m[2]) throw new AuthenticationError();
    return Number(m[2]);
  }

  #wrapped(keyClass: string, data: Record<string, unknown>): WrappedDataKey {
    const ct = data['ciphertext'];
    const m = typeof ct === 'string' ? /^vault:v([1-9][0-9]{0,8}):/.exec(ct) : null;
    if (!m) throw new KeyError('vault_response', 'Vault returned no ciphertext');
    const version = Number(m[1]);
    if (version > (this.#latest.get(keyClass) ?? 0)) this.#latest.set(keyClass, version);
    return { kekId: this.#kekId(keyClass, version), wrapped: ct as string };
  }

  /** The key-derivation context: the data key's identity (kekId-independent, so rewrap keeps it). */
  #context(ctx: WrapContext): string {
    return toBase64(wrapAad(`vault:${this.#o.mount}/${this.#name(ctx.keyClass)}`, ctx));
  }

  async #call(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
    return this.#check(await this.#request(method, path, body, 'call'), 'call');
  }

  #check(r: VaultResponse, what: string): Record<string, unknown> {
    if (r.status >= 200 && r.status < 300) return r.body?.data ?? {};
    if (r.status === 403) throw new VaultError('kek_denied', r.status, `Vault denied the ${what} request (403 permission denied)`);
    if (r.status === 404) throw new VaultError('no_kek', r.status, `Vault key or mount not found (404)`);
    throw new VaultError('vault_error', r.status, `Vault ${what} request failed with HTTP ${r.status}`);
  }

  async #request(method: string, path: string, body: unknown, what: string): Promise<VaultResponse> {
    const url = `${this.#o.address.replace(/\/+$/, '')}/v1/${this.#o.mount}/${path}`;
    let delay = this.#o.backoffMs;
    for (let attempt = 1; ; attempt++) {
      const token = typeof this.#o.token === 'function' ? await this.#o.token() : this.#o.token;
      const headers: Record<string, string> = { 'X-Vault-Token': token, 'X-Vault-Request': 'true' };
      if (this.#o.namespace) headers['X-Vault-Namespace'] = this.#o.namespace;
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      let res: Response | undefined;
      this.requests++;
      try {
        res = await this.#fetch(url, {
          method,
          headers,
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          signal: AbortSignal.timeout(this.#o.timeoutMs),
        });
      } catch {
        res = undefined; // transport failure: no response at all
      }
      const retryable = res === undefined || res.status >= 500 || res.status === 429;
      if (!retryable) {
        let parsed: VaultResponse['body'];
        try {
          const text = await res!.text();
          parsed = text ? (JSON.parse(text) as VaultResponse['body']) : undefined;
        } catch {
          parsed = undefined;
        }
        return { status: res!.status, body: parsed };
      }
      await res?.body?.cancel().catch(() => undefined);
      if (attempt >= this.#o.maxAttempts) {
        throw new VaultError('kek_unavailable', res?.status ?? 0, `Vault ${what} request failed after ${attempt} attempts (${res ? `HTTP ${res.status}` : 'no response'})`);
      }
      const retryAfter = Number(res?.headers.get('retry-after'));
      const wait = Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter * 1000, 5000) : delay * (0.5 + Math.random() / 2);
      await this.#sleep(wait);
      delay = Math.min(delay * 2, 5000);
    }
  }
}

function errorText(r: VaultResponse): string {
  return Array.isArray(r.body?.errors) ? r.body!.errors.filter((e) => typeof e === 'string').join('; ') : '';
}
