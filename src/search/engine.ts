/**
 * The search engine a sealer holds: derives per-index keys from the keyring's `index` secret
 * (lazily, once per index and version), writes tokens at seal time and computes query tokens.
 */
import { encodeParts, wipe } from '../crypto/bytes.js';
import { ConfigError, KeyError, ValidationError } from '../errors.js';
import type { BackendChoice } from '../crypto/backend.js';
import type { Keyring } from '../keys/keyring.js';
import type { PhoneParser } from '../normalize/phone-core.js';
import type { Schema } from '../schema/schema.js';
import { FF1_MIN_DIGITS, type IndexHash, type IndexSpec } from '../schema/indexes.js';
import { ff1EncryptDigits, ff1Radix10, type Ff1Cipher } from './ff1.js';
import { BlindTokenizer, deriveKey, FF1_KEY_LABEL, hashOf, INDEX_KEY_LABEL, keyInfo } from './tokens.js';
import { countryAt, ff1Digits, normalizePart, partsFromRecord, valueAt } from './transforms.js';

/** What token derivation needs from a keyring: the `index` secret by version. Any `Keyring` fits. */
export type TokenKeySource = Pick<Keyring, 'secret' | 'secretVersions'>;

/** Tokens of a record: primary field path → { index name → token }. */
export type RecordTokens = Readonly<Record<string, Readonly<Record<string, string>>>>;

export interface TokenQueryOptions {
  /** Region for phone numbers written without a country code (default CN). */
  readonly country?: string;
  /** Only this index-secret version (default: every version the keyring holds, newest first). */
  readonly version?: number;
}

export interface RecordTokenOptions {
  /** Index-secret version to write (default: the newest held). */
  readonly version?: number;
  /** Skip FF1 tokens of too-short digit strings instead of throwing ValidationError. */
  readonly lenient?: boolean;
}

/** Internal: the phone parser the sealer uses for the record (one parse per value). */
type WithParser<T> = T & { readonly phone?: PhoneParser | undefined };

type Entry = { readonly blind: BlindTokenizer } | { readonly ff1Key: Uint8Array; readonly ciphers: Map<string, Ff1Cipher> };

/** The index definitions of a schema (an empty object for schemas without indexes). */
export const indexesOf = (schema: Schema): Readonly<Record<string, IndexSpec>> => schema.indexes ?? {};

export function indexSpec(schema: Schema, index: string): IndexSpec {
  const spec = Object.hasOwn(indexesOf(schema), index) ? indexesOf(schema)[index] : undefined;
  if (!spec) throw new ConfigError(`"${index}" is not an index of schema ${schema.name}`);
  return spec;
}

/**
 * Normalised query parts for an index: a string for a one-field index, one string per field
 * (in definition order) for a compound index. Throws ValidationError(index, 'not_normalizable').
 */
export function queryParts(spec: IndexSpec, value: string | readonly string[], country?: string, parser?: PhoneParser): string[] {
  const values = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(values) || values.length !== spec.parts.length) {
    throw new ConfigError(`index ${spec.name} takes ${spec.parts.length} value${spec.parts.length === 1 ? '' : 's'}`);
  }
  return spec.parts.map((part, i) => {
    const v = normalizePart(part.transform, values[i], 'query', country, parser);
    if (v === undefined) throw new ValidationError(spec.name, 'not_normalizable');
    return v;
  });
}

export class SearchEngine {
  readonly hash: IndexHash;
  readonly #keyring: TokenKeySource;
  readonly #entries = new Map<string, Entry>();
  readonly #pending = new Map<string, Promise<Entry>>();
  #closed = false;

  readonly #backend: BackendChoice;

  /** `backend: 'js'` keeps token MACs on the portable path (same tokens). */
  constructor(keyring: TokenKeySource, hash: IndexHash = 'hmac-sha256', backend: BackendChoice = 'auto') {
    hashOf(hash);
    this.#keyring = keyring;
    this.hash = hash;
    this.#backend = backend;
  }

  /** Index-secret versions the keyring holds, ascending (the last is current). */
  async versions(): Promise<number[]> {
    if (typeof this.#keyring.secret !== 'function') {
      throw new KeyError('no_secret', 'this keyring holds no index secret (needed for search tokens)');
    }
    if (typeof this.#keyring.secretVersions !== 'function') return [1];
    const versions = [...(await this.#keyring.secretVersions('index'))].sort((a, b) => a - b);
    if (versions.length === 0) throw new KeyError('no_secret', 'this keyring holds no index secret (needed for search tokens)');
    return versions;
  }

  /** The tokens `seal` stores for a plain (or opened) record, by primary field path. */
  async recordTokens(schema: Schema, record: unknown, options: WithParser<RecordTokenOptions> = {}): Promise<RecordTokens> {
    const specs = specsOf(schema);
    const out: Record<string, Record<string, string>> = {};
    if (specs.length === 0) return out;
    const version = options.version ?? (await this.versions()).at(-1)!;
    for (const spec of specs) {
      const primary = spec.parts[0]!.path;
      let token: string | undefined;
      if (spec.type === 'blind') {
        const parts = partsFromRecord(spec.parts, record, options.phone);
        if (parts === undefined) continue;
        const ready = this.#entries.get(entryId(schema, spec, version));
        token = (ready !== undefined && 'blind' in ready ? ready.blind : await this.#blind(schema, spec, version)).token(parts);
      } else {
        const d = ff1Digits(spec.parts[0]!.transform, valueAt(record, primary), countryAt(record, primary), options.phone);
        if (d === undefined) continue;
        if (d.digits.length < FF1_MIN_DIGITS && options.lenient === true) continue;
        token = `${version}.${ff1EncryptDigits(await this.#ff1(schema, spec, version, d.callingCode), d.digits, primary)}`;
      }
      (out[primary] ??= {})[spec.name] = token;
    }
    return out;
  }

  /** Every token that may match `value` in `index`: one per held index-secret version, newest first. */
  async queryTokens(schema: Schema, index: string, value: string | readonly string[], options: WithParser<TokenQueryOptions> = {}): Promise<string[]> {
    const spec = indexSpec(schema, index);
    const parts = queryParts(spec, value, options.country, options.phone);
    const versions = options.version !== undefined ? [options.version] : (await this.versions()).reverse();
    const tokens: string[] = [];
    for (const version of versions) {
      if (spec.type === 'blind') {
        tokens.push((await this.#blind(schema, spec, version)).token(parts));
      } else {
        const raw = typeof value === 'string' ? value : value[0];
        const d = ff1Digits(spec.parts[0]!.transform, raw, options.country, options.phone);
        if (d === undefined) throw new ValidationError(spec.name, 'not_normalizable');
        tokens.push(`${version}.${ff1EncryptDigits(await this.#ff1(schema, spec, version, d.callingCode), d.digits, spec.name)}`);
      }
    }
    return tokens;
  }

  /** Destroys derived keys; the engine refuses work afterwards. */
  close(): void {
    this.#closed = true;
    for (const entry of this.#entries.values()) {
      if ('blind' in entry) entry.blind.destroy();
      else wipe(entry.ff1Key);
    }
    this.#entries.clear();
    this.#pending.clear();
  }

  async #blind(schema: Schema, spec: IndexSpec, version: number): Promise<BlindTokenizer> {
    const entry = await this.#entry(schema, spec, version);
    if (!('blind' in entry)) throw new ConfigError(`index ${spec.name} is not a blind index`);
    return entry.blind;
  }

  async #ff1(schema: Schema, spec: IndexSpec, version: number, callingCode: string): Promise<Ff1Cipher> {
    const entry = await this.#entry(schema, spec, version);
    if (!('ff1Key' in entry)) throw new ConfigError(`index ${spec.name} is not an FF1 index`);
    let cipher = entry.ciphers.get(callingCode);
    if (!cipher) {
      cipher = ff1Radix10(entry.ff1Key, ff1Tweak(schema.name, spec.parts[0]!.path, callingCode));
      entry.ciphers.set(callingCode, cipher);
    }
    return cipher;
  }

  async #entry(schema: Schema, spec: IndexSpec, version: number): Promise<Entry> {
    if (this.#closed) throw new KeyError('closed', 'this sealer has been closed');
    const id = entryId(schema, spec, version);
    const ready = this.#entries.get(id);
    if (ready) return ready;
    let pending = this.#pending.get(id);
    if (!pending) {
      pending = this.#derive(schema, spec, version).then((entry) => {
        if (this.#closed) throw new KeyError('closed', 'this sealer has been closed');
        this.#entries.set(id, entry);
        return entry;
      });
      pending.catch(() => undefined).finally(() => this.#pending.delete(id));
      this.#pending.set(id, pending);
    }
    return pending;
  }

  async #derive(schema: Schema, spec: IndexSpec, version: number): Promise<Entry> {
    if (!Number.isSafeInteger(version) || version < 1) throw new ConfigError('index secret versions are positive integers');
    if (typeof this.#keyring.secret !== 'function') throw new KeyError('no_secret', 'this keyring holds no index secret (needed for search tokens)');
    // The keyring owns the root secret: derive from it, never wipe it.
    const root = await this.#keyring.secret('index', version);
    if (spec.type === 'blind') {
      const key = deriveKey(this.hash, root, keyInfo(INDEX_KEY_LABEL, this.hash, schema.name, spec.name, spec.id));
      const blind = new BlindTokenizer(this.hash, key, spec.bits, version, this.#backend);
      wipe(key);
      return { blind };
    }
    return { ff1Key: deriveKey(this.hash, root, keyInfo(FF1_KEY_LABEL, this.hash, schema.name, spec.name, spec.id)), ciphers: new Map() };
  }
}

const entryId = (schema: Schema, spec: IndexSpec, version: number): string => `${version}\u0000${schema.name}\u0000${spec.name}\u0000${spec.id}`;

const specCache = new WeakMap<object, readonly IndexSpec[]>();
/** A schema's index definitions as an array (memoised per `indexes` object). */
function specsOf(schema: Schema): readonly IndexSpec[] {
  const indexes = indexesOf(schema);
  let specs = specCache.get(indexes);
  if (!specs) {
    specs = Object.values(indexes);
    specCache.set(indexes, specs);
  }
  return specs;
}

/** FF1 tweak: the label, schema name, field path and the number's country calling code ('' for `digits`). */
export function ff1Tweak(schemaName: string, path: string, callingCode: string): Uint8Array {
  return encodeParts([FF1_KEY_LABEL, schemaName, path, callingCode]);
}

