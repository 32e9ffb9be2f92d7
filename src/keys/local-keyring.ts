/**
 * LocalKeyring: raw KEKs held in process memory (from a key file or an environment variable).
 * Data keys are wrapped under the KEK of their key class, with the data key's identity as
 * associated data, so a wrapped key moved to another store row fails to unwrap. Each KEK version
 * names its wrapping algorithm: XChaCha20-Poly1305 with 256-bit KEKs (the default, and what every
 * file without `alg` holds) or SM4-GCM with 128-bit KEKs (GB/T 39786 deployments).
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { sm4gcm } from '../crypto/sm/sm4gcm.js';
import { concatBytes, encodeParts, fromBase64Url, toBase64Url, wipe } from '../crypto/bytes.js';
import { randomBytes } from '../crypto/random.js';
import { AuthenticationError, KekNotAllowedError, KeyError } from '../errors.js';
import type { Keyring, SecretName, WrapContext, WrappedDataKey } from './keyring.js';
import { KEY_CLASSES } from '../schema/kinds.js';
import { withIndexClasses } from './index-classes.js';

/** Algorithms a local KEK wraps data keys with. */
export const KEK_ALGS = ['xchacha20-poly1305', 'sm4-gcm'] as const;
export type KekAlg = (typeof KEK_ALGS)[number];

export interface KekVersion {
  readonly version: number;
  readonly createdAt: string;
  /** Wrapping algorithm of every KEK of this version (absent: `xchacha20-poly1305`, as in files written before it existed). */
  readonly alg?: KekAlg;
  /** base64url KEK per key class (256-bit for XChaCha20-Poly1305, 128-bit for SM4-GCM); a keyring may hold only some classes. */
  readonly keys: Readonly<Record<string, string>>;
}

export interface SecretVersion {
  readonly version: number;
  readonly key: string;
}

export interface LocalKeyMaterial {
  readonly keks: readonly KekVersion[];
  /** The KEK version new data keys are wrapped under. */
  readonly currentKek: number;
  readonly secrets?: Partial<Record<SecretName, readonly SecretVersion[]>>;
}

const KEK_ID = /^local:v([1-9][0-9]{0,8}):([a-z][a-z0-9-]{0,31})$/;

interface KekSpec {
  readonly keyLength: number;
  readonly nonceLength: number;
  readonly cipher: (key: Uint8Array, nonce: Uint8Array, aad: Uint8Array) => {
    encrypt(p: Uint8Array): Uint8Array;
    decrypt(c: Uint8Array): Uint8Array;
  };
}

/** `wrapped` = base64url(nonce ‖ ciphertext ‖ 16-byte tag) for both algorithms. */
const KEK_SPECS: Readonly<Record<KekAlg, KekSpec>> = {
  'xchacha20-poly1305': { keyLength: 32, nonceLength: 24, cipher: xchacha20poly1305 },
  'sm4-gcm': { keyLength: 16, nonceLength: 12, cipher: sm4gcm },
};

export const isKekAlg = (v: unknown): v is KekAlg => typeof v === 'string' && (KEK_ALGS as readonly string[]).includes(v);

/** Size in bytes of a KEK of this algorithm. */
export const kekLength = (alg: KekAlg = 'xchacha20-poly1305'): number => KEK_SPECS[alg].keyLength;

interface Kek {
  readonly alg: KekAlg;
  readonly key: Uint8Array;
}

export const kekId = (version: number, keyClass: string) => `local:v${version}:${keyClass}`;

/** Decodes a base64url key and refuses wrong sizes and all-zero keys. */
export function decodeKey(b64: unknown, what: string, length = 32): Uint8Array {
  const key = typeof b64 === 'string' ? fromBase64Url(b64) : undefined;
  if (!key || key.length !== length) throw new KeyError('bad_key', `${what} must be ${length * 8}-bit base64url`);
  if (key.every((b) => b === 0)) throw new KeyError('weak_key', `${what} is all zeros`);
  return key;
}

export interface LocalKeyMaterialOptions {
  /** Wrapping algorithm of the KEKs (default `xchacha20-poly1305`; `sm4-gcm` for 128-bit SM4 KEKs). */
  kekAlg?: KekAlg;
}

/**
 * Fresh KEKs, one per key class and one per index key class (`<class>-index`, whose month keys make
 * search tokens), and 256-bit audit/integrity secrets. No `index` secret: nothing derives tokens from
 * a long-lived key.
 */
export function generateLocalKeyMaterial(keyClasses: readonly string[] = KEY_CLASSES, options: LocalKeyMaterialOptions = {}): LocalKeyMaterial {
  const alg = options.kekAlg ?? 'xchacha20-poly1305';
  if (!isKekAlg(alg)) throw new KeyError('bad_kek', `unknown KEK algorithm "${String(alg)}"`);
  const keys: Record<string, string> = {};
  for (const c of withIndexClasses(keyClasses)) keys[c] = toBase64Url(randomBytes(kekLength(alg)));
  const secret = (): SecretVersion[] => [{ version: 1, key: toBase64Url(randomBytes(32)) }];
  return {
    keks: [{ version: 1, createdAt: new Date().toISOString(), alg, keys }],
    currentKek: 1,
    secrets: { audit: secret(), integrity: secret() },
  };
}

export class LocalKeyring implements Keyring {
  readonly #keks = new Map<string, Kek>();
  readonly #secrets = new Map<string, Uint8Array>();
  readonly #currentSecret = new Map<SecretName, number>();
  /** Secret versions by name, ascending (the material is fixed at construction; asked on every seal). */
  readonly #secretVersions = new Map<SecretName, readonly number[]>();
  readonly #current: number;

  constructor(material: LocalKeyMaterial) {
    if (!Array.isArray(material?.keks) || material.keks.length === 0) throw new KeyError('no_kek', 'keyring has no KEK');
    for (const v of material.keks) {
      if (!Number.isSafeInteger(v.version) || v.version < 1) throw new KeyError('bad_kek', 'KEK version must be a positive integer');
      const alg = v.alg ?? 'xchacha20-poly1305';
      if (!isKekAlg(alg)) throw new KeyError('bad_kek', `KEK version ${v.version} names an unknown algorithm`);
      for (const [keyClass, b64] of Object.entries(v.keys ?? {})) {
        const id = kekId(v.version, keyClass);
        if (!KEK_ID.test(id)) throw new KeyError('bad_kek', `invalid key class "${keyClass}"`);
        this.#keks.set(id, { alg, key: decodeKey(b64, `KEK ${id} (${alg})`, kekLength(alg)) });
      }
    }
    if (!material.keks.some((v) => v.version === material.currentKek)) {
      throw new KeyError('bad_kek', 'currentKek names no KEK version');
    }
    this.#current = material.currentKek;
    for (const [name, versions] of Object.entries(material.secrets ?? {}) as [SecretName, SecretVersion[]][]) {
      // An old key file's index secret computes every legacy token: never decoded, never handed out.
      if (name === 'index') continue;
      for (const s of versions) this.#secrets.set(`${name}:${s.version}`, decodeKey(s.key, `${name} secret v${s.version}`));
      const max = Math.max(...versions.map((s) => s.version));
      if (versions.length > 0) this.#currentSecret.set(name, max);
    }
  }

  currentKekId(keyClass: string): string | undefined {
    const id = kekId(this.#current, keyClass);
    return this.#keks.has(id) ? id : undefined;
  }

  async wrap(dataKey: Uint8Array, ctx: WrapContext): Promise<WrappedDataKey> {
    const id = this.currentKekId(ctx.keyClass);
    if (!id) throw new KeyError('no_kek', `this keyring holds no KEK for key class "${ctx.keyClass}"`);
    const kek = this.#keks.get(id)!;
    const spec = KEK_SPECS[kek.alg];
    const nonce = randomBytes(spec.nonceLength);
    const sealed = spec.cipher(kek.key, nonce, wrapAad(id, ctx)).encrypt(dataKey);
    return { kekId: id, wrapped: toBase64Url(concatBytes(nonce, sealed)) };
  }

  /**
   * Pinned: only a KEK of the data key's class that this keyring holds; any other id is refused before
   * anything is decrypted (`KekNotAllowedError`; `no_kek` when the keyring holds no KEK of the class).
   */
  async unwrap(w: WrappedDataKey, ctx: WrapContext): Promise<Uint8Array> {
    const m = KEK_ID.exec(w.kekId);
    const kek = m && m[2] === ctx.keyClass ? this.#keks.get(w.kekId) : undefined;
    if (!kek) {
      if (!this.#holdsClass(ctx.keyClass)) throw new KeyError('no_kek', `this keyring holds no KEK for key class "${ctx.keyClass}"`);
      throw new KekNotAllowedError(w.kekId, ctx.dataKeyId, ctx.keyClass);
    }
    const spec = KEK_SPECS[kek.alg];
    const raw = fromBase64Url(w.wrapped);
    if (!raw || raw.length < spec.nonceLength + 16) throw new AuthenticationError();
    try {
      return spec.cipher(kek.key, raw.subarray(0, spec.nonceLength), wrapAad(w.kekId, ctx)).decrypt(raw.subarray(spec.nonceLength));
    } catch {
      throw new AuthenticationError();
    }
  }

  #holdsClass(keyClass: string): boolean {
    for (const id of this.#keks.keys()) if (KEK_ID.exec(id)?.[2] === keyClass) return true;
    return false;
  }

  async secret(name: SecretName, version?: number): Promise<Uint8Array> {
    if (name === 'index') {
      throw new KeyError('index_secret_removed', 'the index secret is no longer used or loaded: search tokens come from per-month index keys (reindex, then "waybill-seal keys drop-index-secret")');
    }
    const v = version ?? this.#currentSecret.get(name);
    const key = v === undefined ? undefined : this.#secrets.get(`${name}:${v}`);
    if (!key) throw new KeyError('no_secret', `this keyring holds no ${name} secret${version ? ` v${version}` : ''}`);
    return key;
  }

  async secretVersions(name: SecretName): Promise<readonly number[]> {
    let versions = this.#secretVersions.get(name);
    if (!versions) {
      const prefix = `${name}:`;
      versions = Object.freeze([...this.#secrets.keys()].filter((k) => k.startsWith(prefix)).map((k) => Number(k.slice(prefix.length))).sort((a, b) => a - b));
      this.#secretVersions.set(name, versions);
    }
    return versions;
  }

  /** `using keyring = new LocalKeyring(…)`: zeroes the keys when the scope ends. */
  [Symbol.dispose](): void {
    this.close();
  }

  close(): void {
    wipe(...[...this.#keks.values()].map((k) => k.key), ...this.#secrets.values());
    this.#keks.clear();
    this.#secrets.clear();
    this.#secretVersions.clear();
  }
}

export function wrapAad(kekId: string, ctx: WrapContext): Uint8Array {
  return encodeParts(['waybill-seal/wrap', kekId, ctx.dataKeyId, ctx.keyClass, ctx.scope, String(ctx.generation), ctx.suite]);
}
