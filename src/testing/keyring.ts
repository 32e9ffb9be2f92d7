/**
 * Test keys: a LocalKeyring whose KEKs and secrets are derived from a seed with HKDF-SHA256, so a
 * test suite gets the same keys on every run and machine without a key file. Anyone who reads the
 * seed has the keys: every entry point refuses to work when NODE_ENV is `production`.
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { toBase64Url } from '../crypto/bytes.js';
import { ConfigError, TestKitInProductionError } from '../errors.js';
import type { SecretName, WrapContext, WrappedDataKey } from '../keys/keyring.js';
import { MemoryKeyStore } from '../keys/key-store.js';
import { withIndexClasses } from '../keys/index-classes.js';
import { kekLength, LocalKeyring, type KekAlg, type LocalKeyMaterial } from '../keys/local-keyring.js';
import { KEY_CLASSES } from '../schema/kinds.js';
import { createSealer, type Sealer, type SealerOptions } from '../seal/sealer.js';

/** HKDF salt: names the purpose, so these keys can never equal keys derived elsewhere from the same seed. */
const SALT = new TextEncoder().encode('waybill-seal/testing/v1: UNSAFE TEST KEYS, NOT FOR PRODUCTION');
const SECRETS: readonly SecretName[] = ['audit', 'integrity'];

/** Throws TestKitInProductionError when `NODE_ENV` is `production` (read without importing Node built-ins). */
export function refuseProduction(what: string): void {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  if (env?.['NODE_ENV']?.trim().toLowerCase() === 'production') throw new TestKitInProductionError(what);
}

export interface TestKeyringOptions {
  /** Any non-empty string: the same seed gives the same keys (default `waybill-seal/testing`). */
  seed?: string;
  /** KEK algorithm (default `xchacha20-poly1305`; `sm4-gcm` for SM deployments under test). */
  kekAlg?: KekAlg;
  /** Key classes to hold KEKs for (default: all built-in classes); their `<class>-index` classes are added. */
  keyClasses?: readonly string[];
}

/** A LocalKeyring of seed-derived keys that refuses to wrap, unwrap or hand out secrets in production. */
export class UnsafeTestKeyring extends LocalKeyring {
  /** Marks the keyring as test-only for code that inspects keyrings (it is never true of a real one). */
  readonly unsafeTestKeys = true;

  override async wrap(dataKey: Uint8Array, ctx: WrapContext): Promise<WrappedDataKey> {
    refuseProduction('testKeyring');
    return super.wrap(dataKey, ctx);
  }

  override async unwrap(w: WrappedDataKey, ctx: WrapContext): Promise<Uint8Array> {
    refuseProduction('testKeyring');
    return super.unwrap(w, ctx);
  }

  override async secret(name: SecretName, version?: number): Promise<Uint8Array> {
    refuseProduction('testKeyring');
    return super.secret(name, version);
  }
}

/**
 * The key material `testKeyring` holds: HKDF-SHA256(seed, salt, `<use>`), one key per KEK class (with
 * the `<class>-index` classes of search tokens) and per secret (audit, integrity; no index secret).
 */
export function testKeyMaterial(options: TestKeyringOptions = {}): LocalKeyMaterial {
  refuseProduction('testKeyring');
  const seed = options.seed ?? 'waybill-seal/testing';
  if (typeof seed !== 'string' || seed.length === 0) throw new ConfigError('testKeyring: seed must be a non-empty string');
  const alg = options.kekAlg ?? 'xchacha20-poly1305';
  const ikm = new TextEncoder().encode(seed);
  const derive = (info: string, length: number) => toBase64Url(hkdf(sha256, ikm, SALT, new TextEncoder().encode(info), length));
  const keys: Record<string, string> = {};
  for (const c of withIndexClasses(options.keyClasses ?? KEY_CLASSES)) keys[c] = derive(`kek/v1/${alg}/${c}`, kekLength(alg));
  const secrets: Partial<Record<SecretName, { version: number; key: string }[]>> = {};
  for (const name of SECRETS) secrets[name] = [{ version: 1, key: derive(`secret/${name}/v1`, 32) }];
  return { keks: [{ version: 1, createdAt: '2000-01-01T00:00:00.000Z', alg, keys }], currentKek: 1, secrets };
}

/**
 * Deterministic, in-memory keys for unit tests (never for real data: the seed is the key). Same seed,
 * same keys, so records sealed in one test run open in the next. Throws TestKitInProductionError
 * when NODE_ENV is `production`, here and on every later use.
 */
export function testKeyring(options: TestKeyringOptions = {}): UnsafeTestKeyring {
  return new UnsafeTestKeyring(testKeyMaterial(options));
}

export interface TestSealerOptions extends Partial<SealerOptions> {
  /** Seed of the test keyring (ignored when `keyring` is given). */
  seed?: string;
}

/**
 * A sealer over `testKeyring({ seed })` and a fresh MemoryKeyStore that opens without a policy
 * (`guard: 'allow-all'`) unless told otherwise; any SealerOptions may be overridden. Refuses to run
 * when NODE_ENV is `production`.
 */
export function testSealer(options: TestSealerOptions = {}): Sealer {
  refuseProduction('testSealer');
  const { seed, ...rest } = options;
  return createSealer({
    guard: 'allow-all',
    ...rest,
    keyring: rest.keyring ?? testKeyring(seed === undefined ? {} : { seed }),
    keyStore: rest.keyStore ?? new MemoryKeyStore(),
  });
}
