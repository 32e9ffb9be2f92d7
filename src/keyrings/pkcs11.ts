/**
 * Pkcs11Keyring: KEKs are non-extractable AES-256 keys inside a PKCS#11 token (an HSM, or
 * SoftHSM2 for tests), found by label `<prefix>:<keyClass>:v<version>`. Data keys are wrapped
 * with CKM_AES_GCM inside the token: a fresh random 96-bit IV, 128-bit tag, and the data key's
 * identity (KEK id, data key id, key class, scope, generation, suite) as associated data, so a
 * wrapped key moved to another store row fails to unwrap. The KEK never leaves the token.
 *
 * `wrapped` = base64url(iv(12) ‖ ciphertext(32) ‖ tag(16)); kekId = `pkcs11:<label>`.
 *
 * Every token failure while unwrapping (SoftHSM reports CKR_GENERAL_ERROR for a bad tag) is an
 * `AuthenticationError`; a lost session or login is re-established once and the call retried.
 *
 * Node only (native module `pkcs11js`, an optional peer dependency): `waybill-seal/pkcs11`.
 */
import type * as P from 'pkcs11js';
import { concatBytes, fromBase64Url, toBase64Url } from '../crypto/bytes.js';
import { randomBytes } from '../crypto/random.js';
import { AuthenticationError, ConfigError, KekNotAllowedError, KeyError } from '../errors.js';
import type { KeyStore } from '../keys/key-store.js';
import type { Keyring, SecretName, WrapContext, WrappedDataKey } from '../keys/keyring.js';
import { assertKekUnused } from '../keys/rotation.js';
import { delegateSecrets, KEY_CLASS, wrapAad, type SecretSource } from './context.js';

type Pkcs11Module = typeof P;

export interface Pkcs11KeyringOptions {
  /** Path of the PKCS#11 library, e.g. `/usr/lib/softhsm/libsofthsm2.so`. */
  module: string;
  /** Label of the token to use (default: the first slot with a token). */
  tokenLabel?: string;
  /** User PIN. */
  pin: string;
  /** KEK label prefix (default `waybill-seal`): labels are `<prefix>:<keyClass>:v<version>`. */
  labelPrefix?: string;
  /** Pin the current KEK version (default: the highest version on the token, per key class). */
  currentVersion?: number;
  /** Where `secret()` (blind-index, audit, integrity secrets) comes from; the token holds none. */
  secrets?: SecretSource;
  /** Loads `pkcs11js` (default: dynamic import); for tests and bundlers. */
  load?: () => Promise<Pkcs11Module>;
}

export interface Pkcs11KekInfo {
  readonly kekId: string;
  readonly label: string;
  readonly keyClass: string;
  readonly version: number;
}

const IV = 12;
const TAG = 16;

/** Library handles are per process: initialise each module once, finalise after the last user. */
const modules = new Map<string, { p: P.PKCS11; refs: number; mod: Pkcs11Module }>();

export class Pkcs11Keyring implements Keyring {
  readonly #opts: Pkcs11KeyringOptions;
  readonly #prefix: string;
  readonly #mod: Pkcs11Module;
  readonly #p: P.PKCS11;
  #slot: Buffer;
  #session: Buffer | undefined;
  /** label → object handle */
  #handles = new Map<string, Buffer>();
  #current: number | undefined;
  #closed = false;
  /** Calls that reached the token (wrap, unwrap, generate, destroy): for tests and metrics. */
  calls = 0;
  /** Sessions re-opened after the token dropped one (reset, logout, device removed). */
  reconnects = 0;

  private constructor(opts: Pkcs11KeyringOptions, mod: Pkcs11Module, p: P.PKCS11, slot: Buffer) {
    this.#opts = opts;
    this.#prefix = opts.labelPrefix ?? 'waybill-seal';
    this.#mod = mod;
    this.#p = p;
    this.#slot = slot;
    this.#current = opts.currentVersion;
    delegateSecrets(this, opts.secrets);
  }

  secret?: (name: SecretName, version?: number) => Promise<Uint8Array>;
  secretVersions?: (name: SecretName) => Promise<readonly number[]>;

  /** Loads the module, opens a session on the token, logs in and finds the KEKs. */
  static async open(opts: Pkcs11KeyringOptions): Promise<Pkcs11Keyring> {
    if (!opts?.module || typeof opts.pin !== 'string') throw new ConfigError('Pkcs11Keyring needs module and pin');
    const prefix = opts.labelPrefix ?? 'waybill-seal';
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(prefix)) throw new ConfigError('labelPrefix must match [A-Za-z0-9_.-]{1,64}');
    let entry = modules.get(opts.module);
    if (!entry) {
      let mod: Pkcs11Module;
      try {
        const loaded = (await (opts.load ?? (() => import('pkcs11js')))()) as Pkcs11Module & { default?: Pkcs11Module };
        // A CommonJS module: its full exports object is `default` under ESM (named exports may miss constants).
        mod = loaded.default && typeof loaded.default.PKCS11 === 'function' ? loaded.default : loaded;
      } catch {
        throw new ConfigError('waybill-seal/pkcs11 needs the optional peer dependency "pkcs11js" (npm install pkcs11js)');
      }
      const p = new mod.PKCS11();
      try {
        p.load(opts.module);
      } catch {
        throw new KeyError('hsm_unavailable', `cannot load PKCS#11 module ${opts.module}`);
      }
      try {
        p.C_Initialize();
      } catch (e) {
        if (codeOf(e) !== mod.CKR_CRYPTOKI_ALREADY_INITIALIZED) throw new KeyError('hsm_unavailable', `C_Initialize failed (${nameOf(e)})`);
      }
      entry = { p, refs: 0, mod };
      modules.set(opts.module, entry);
    }
    const slot = findSlot(entry.p, opts.tokenLabel);
    entry.refs++;
    const keyring = new Pkcs11Keyring(opts, entry.mod, entry.p, slot);
    try {
      keyring.#connect();
    } catch (e) {
      keyring.close();
      throw e;
    }
    return keyring;
  }

  /** The KEKs found on the token. */
  keks(): Pkcs11KekInfo[] {
    const out: Pkcs11KekInfo[] = [];
    for (const label of this.#handles.keys()) {
      const parsed = this.#parseLabel(label);
      if (parsed) out.push({ kekId: `pkcs11:${label}`, label, ...parsed });
    }
    return out.sort((a, b) => a.keyClass.localeCompare(b.keyClass) || a.version - b.version);
  }

  currentKekId(keyClass: string): string | undefined {
    const v = this.#currentVersion(keyClass);
    return v === undefined ? undefined : `pkcs11:${this.#label(keyClass, v)}`;
  }

  async wrap(dataKey: Uint8Array, ctx: WrapContext): Promise<WrappedDataKey> {
    const kekId = this.currentKekId(ctx.keyClass);
    if (!kekId) throw new KeyError('no_kek', `the token holds no KEK for key class "${ctx.keyClass}"`);
    const iv = randomBytes(IV);
    const out = this.#withSession((s) => {
      const handle = this.#handle(kekId.slice('pkcs11:'.length));
      if (!handle) throw new KeyError('no_kek', `the token holds no KEK ${kekId}`);
      this.calls++;
      this.#p.C_EncryptInit(s, this.#gcm(iv, wrapAad(kekId, ctx)), handle);
      return this.#p.C_Encrypt(s, Buffer.from(dataKey), Buffer.alloc(dataKey.length + TAG));
    });
    return { kekId, wrapped: toBase64Url(concatBytes(iv, new Uint8Array(out))) };
  }

  /**
   * Pinned: only a KEK labelled `<prefix>:<the data key's class>:v<n>` in the token (another
   * application's key in the same token, or a label of another class, is refused with
   * `KekNotAllowedError` before the token is asked).
   */
  async unwrap(w: WrappedDataKey, ctx: WrapContext): Promise<Uint8Array> {
    const label = this.#ownLabel(w.kekId);
    const parsed = label === undefined ? undefined : this.#parseLabel(label);
    if (label === undefined || !parsed || parsed.keyClass !== ctx.keyClass) {
      if (this.#currentVersion(ctx.keyClass) === undefined) throw new KeyError('no_kek', `the token holds no KEK for key class "${ctx.keyClass}"`);
      throw new KekNotAllowedError(w.kekId, ctx.dataKeyId, ctx.keyClass);
    }
    const raw = fromBase64Url(w.wrapped);
    if (!raw || raw.length < IV + TAG + 1) throw new AuthenticationError();
    let handle = this.#handle(label);
    if (!handle) {
      // Another instance may have rotated: look again once.
      this.#withSession(() => this.#scan());
      handle = this.#handle(label);
      if (!handle) throw new KekNotAllowedError(w.kekId, ctx.dataKeyId, ctx.keyClass);
    }
    const out = this.#withSession((s) => {
      const h = this.#handle(label);
      if (!h) throw new KekNotAllowedError(w.kekId, ctx.dataKeyId, ctx.keyClass);
      this.calls++;
      try {
        this.#p.C_DecryptInit(s, this.#gcm(raw.subarray(0, IV), wrapAad(w.kekId, ctx)), h);
        return this.#p.C_Decrypt(s, Buffer.from(raw.subarray(IV)), Buffer.alloc(raw.length - IV));
      } catch (e) {
        if (this.#sessionLost(e)) throw e;
        throw new AuthenticationError();
      }
    });
    const key = new Uint8Array(out);
    out.fill(0);
    return key;
  }

  /**
   * Generates a new KEK version in the token for each key class (setup and rotation): version =
   * highest version on the token + 1 (or `version`). The new version becomes current unless the
   * keyring was opened with a pinned `currentVersion`. Returns the new KEK ids.
   */
  async generateKeks(keyClasses: readonly string[], version?: number): Promise<string[]> {
    const v = version ?? Math.max(0, ...this.keks().map((k) => k.version)) + 1;
    if (!Number.isSafeInteger(v) || v < 1) throw new ConfigError('KEK version must be a positive integer');
    const ids: string[] = [];
    this.#withSession((s) => {
      for (const keyClass of keyClasses) {
        if (!KEY_CLASS.test(keyClass)) throw new ConfigError(`invalid key class "${keyClass}"`);
        const label = this.#label(keyClass, v);
        if (this.#handles.has(label)) throw new KeyError('exists', `the token already holds ${label}`);
        const m = this.#mod;
        this.calls++;
        const h = this.#p.C_GenerateKey(s, { mechanism: m.CKM_AES_KEY_GEN }, [
          { type: m.CKA_CLASS, value: m.CKO_SECRET_KEY },
          { type: m.CKA_KEY_TYPE, value: m.CKK_AES },
          { type: m.CKA_VALUE_LEN, value: 32 },
          { type: m.CKA_TOKEN, value: true },
          { type: m.CKA_PRIVATE, value: true },
          { type: m.CKA_SENSITIVE, value: true },
          { type: m.CKA_EXTRACTABLE, value: false },
          { type: m.CKA_ENCRYPT, value: true },
          { type: m.CKA_DECRYPT, value: true },
          { type: m.CKA_WRAP, value: false },
          { type: m.CKA_UNWRAP, value: false },
          { type: m.CKA_LABEL, value: label },
          { type: m.CKA_ID, value: Buffer.from(label) },
        ]);
        this.#handles.set(label, h);
        ids.push(`pkcs11:${label}`);
      }
    });
    return ids;
  }

  /** KEK rotation: a new version for every key class the token holds; it becomes current. */
  async rotate(): Promise<string[]> {
    const classes = [...new Set(this.keks().map((k) => k.keyClass))];
    if (classes.length === 0) throw new KeyError('no_kek', 'the token holds no KEK to rotate');
    return this.generateKeks(classes);
  }

  /**
   * Destroys every KEK of `version` in the token. Refused for a current KEK and while `store`
   * holds any live data key wrapped under one of them (run `rewrapDataKeys` first).
   */
  async destroyVersion(version: number, store: KeyStore): Promise<string[]> {
    const victims = this.keks().filter((k) => k.version === version);
    if (victims.length === 0) throw new KeyError('no_kek', `the token holds no KEK version ${version}`);
    for (const k of victims) {
      if (this.currentKekId(k.keyClass) === k.kekId) throw new KeyError('kek_current', `${k.kekId} is current; rotate first`);
    }
    await assertKekUnused(store, victims.map((k) => k.kekId));
    this.#withSession((s) => {
      for (const k of victims) {
        const h = this.#handles.get(k.label);
        if (!h) continue;
        this.calls++;
        this.#p.C_DestroyObject(s, h);
        this.#handles.delete(k.label);
      }
    });
    return victims.map((k) => k.kekId);
  }

  /** Looks for KEKs again (after another process rotated). */
  refresh(): void {
    this.#withSession(() => this.#scan());
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#session) {
      try {
        this.#p.C_CloseSession(this.#session);
      } catch {
        // already gone
      }
      this.#session = undefined;
    }
    this.#handles.clear();
    const entry = modules.get(this.#opts.module);
    if (entry && --entry.refs <= 0) {
      modules.delete(this.#opts.module);
      try {
        entry.p.C_Finalize();
      } catch {
        // nothing left to do
      }
      try {
        entry.p.close();
      } catch {
        // nothing left to do
      }
    }
  }

  // -------------------------------------------------------------------------------------------

  #connect(): void {
    const m = this.#mod;
    if (this.#session) {
      try {
        this.#p.C_CloseSession(this.#session);
      } catch {
        // stale
      }
    }
    try {
      this.#slot = findSlot(this.#p, this.#opts.tokenLabel);
      this.#session = this.#p.C_OpenSession(this.#slot, m.CKF_SERIAL_SESSION | m.CKF_RW_SESSION);
    } catch (e) {
      if (e instanceof KeyError) throw e;
      throw new KeyError('hsm_unavailable', `cannot open a session on the token (${nameOf(e)})`);
    }
    try {
      this.#p.C_Login(this.#session, m.CKU_USER, this.#opts.pin);
    } catch (e) {
      if (codeOf(e) !== m.CKR_USER_ALREADY_LOGGED_IN) throw new KeyError('hsm_login', `token login failed (${nameOf(e)})`);
    }
    this.#scan();
  }

  #scan(): void {
    const m = this.#mod;
    const s = this.#session!;
    this.#p.C_FindObjectsInit(s, [{ type: m.CKA_CLASS, value: m.CKO_SECRET_KEY }]);
    const found: Buffer[] = [];
    try {
      for (;;) {
        const batch = this.#p.C_FindObjects(s, 64);
        if (batch.length === 0) break;
        found.push(...batch);
      }
    } finally {
      this.#p.C_FindObjectsFinal(s);
    }
    const handles = new Map<string, Buffer>();
    for (const h of found) {
      const label = this.#p.C_GetAttributeValue(s, h, [{ type: m.CKA_LABEL }])[0]?.value;
      const text = Buffer.isBuffer(label) ? label.toString('utf8') : undefined;
      if (text !== undefined && this.#parseLabel(text)) handles.set(text, h);
    }
    this.#handles = handles;
  }

  /** Runs `fn` with the session; re-opens a lost session (token reset, logout) once. */
  #withSession<T>(fn: (session: Buffer) => T): T {
    if (this.#closed) throw new KeyError('closed', 'this keyring has been closed');
    try {
      return fn(this.#session!);
    } catch (e) {
      if (!this.#sessionLost(e)) throw e;
      this.reconnects++;
      this.#connect();
      return fn(this.#session!);
    }
  }

  #sessionLost(e: unknown): boolean {
    const m = this.#mod;
    const c = codeOf(e);
    return (
      c === m.CKR_SESSION_HANDLE_INVALID ||
      c === m.CKR_SESSION_CLOSED ||
      c === m.CKR_USER_NOT_LOGGED_IN ||
      c === m.CKR_DEVICE_REMOVED ||
      c === m.CKR_TOKEN_NOT_PRESENT ||
      c === m.CKR_OBJECT_HANDLE_INVALID
    );
  }

  #gcm(iv: Uint8Array, aad: Uint8Array): P.Mechanism {
    const m = this.#mod;
    const parameter: P.GcmParams = { type: m.CK_PARAMS_AES_GCM, iv: Buffer.from(iv), aad: Buffer.from(aad), ivBits: IV * 8, tagBits: TAG * 8 };
    return { mechanism: m.CKM_AES_GCM, parameter };
  }

  #currentVersion(keyClass: string): number | undefined {
    if (this.#current !== undefined) return this.#handles.has(this.#label(keyClass, this.#current)) ? this.#current : undefined;
    let best: number | undefined;
    for (const k of this.keks()) if (k.keyClass === keyClass && (best === undefined || k.version > best)) best = k.version;
    return best;
  }

  #handle(label: string): Buffer | undefined {
    return this.#handles.get(label);
  }

  #label(keyClass: string, version: number): string {
    return `${this.#prefix}:${keyClass}:v${version}`;
  }

  #ownLabel(kekId: string): string | undefined {
    const p = `pkcs11:${this.#prefix}:`;
    return kekId.startsWith(p) ? kekId.slice('pkcs11:'.length) : undefined;
  }

  #parseLabel(label: string): { keyClass: string; version: number } | undefined {
    const head = `${this.#prefix}:`;
    if (!label.startsWith(head)) return undefined;
    const m = /^([a-z][a-z0-9-]{0,31}):v([1-9][0-9]{0,8})$/.exec(label.slice(head.length));
    return m ? { keyClass: m[1]!, version: Number(m[2]) } : undefined;
  }
}

function findSlot(p: P.PKCS11, tokenLabel: string | undefined): Buffer {
  let slots: Buffer[];
  try {
    slots = p.C_GetSlotList(true);
  } catch (e) {
    throw new KeyError('hsm_unavailable', `C_GetSlotList failed (${nameOf(e)})`);
  }
  for (const s of slots) {
    if (tokenLabel === undefined || p.C_GetTokenInfo(s).label.trim() === tokenLabel) return s;
  }
  throw new KeyError('hsm_unavailable', tokenLabel === undefined ? 'no token present' : `no token labelled "${tokenLabel}"`);
}

const codeOf = (e: unknown): number | undefined => (typeof (e as { code?: unknown })?.code === 'number' ? (e as { code: number }).code : undefined);
const nameOf = (e: unknown): string => (e instanceof Error ? e.message.split('\n')[0]!.slice(0, 80) : 'unknown error');
