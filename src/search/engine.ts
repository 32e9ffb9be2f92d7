/**
 * The search engine a sealer holds: derives per-index keys from the month's index data key (one per
 * field key class and scope: keys/index-keys.ts; lazily, once per index and key), writes tokens at
 * seal time and computes query tokens. No long-lived secret derives tokens.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { encodeParts, wipe } from '../crypto/bytes.js';
import { ConfigError, KeyError, ValidationError } from '../errors.js';
import type { BackendChoice } from '../crypto/backend.js';
import type { IndexKey, IndexKeys, SearchWindow } from '../keys/index-keys.js';
import { protectedFields } from '../schema/paths.js';
import type { PhoneParser } from '../normalize/phone-core.js';
import type { Schema } from '../schema/schema.js';
import { FF1_MIN_DIGITS, type IndexHash, type IndexSpec } from '../schema/indexes.js';
import { ff1EncryptDigits, ff1Radix10, type Ff1Cipher } from './ff1.js';
import { BlindTokenizer, deriveKey, FF1_KEY_LABEL, hashOf, INDEX_KEY_LABEL, keyInfo } from './tokens.js';
import { countryAt, ff1Digits, normalizePart, partsFromRecord, valueAt } from './transforms.js';

/** Tokens of a record: primary field path → { index name → token }. */
export type RecordTokens = Readonly<Record<string, Readonly<Record<string, string>>>>;

export interface TokenQueryOptions {
  /** Region for phone numbers written without a country code (default CN). */
  readonly country?: string;
  /** The months to search (default: every month whose index key is live; the sealer passes its retention's). */
  readonly window?: SearchWindow;
  /** With a window: also every scope that is not a month (the retention default keeps them). */
  readonly otherScopes?: boolean;
}

export interface RecordTokenOptions {
  /** Skip FF1 tokens of too-short digit strings instead of throwing ValidationError. */
  readonly lenient?: boolean;
  /** The record's data-key scope (its month), whose index key makes its tokens. */
  readonly scope?: string;
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
  readonly #entries = new Map<string, Entry>();
  readonly #pending = new Map<string, Promise<Entry>>();
  #closed = false;

  readonly #backend: BackendChoice;
  readonly #indexKeys: IndexKeys;

  /** Tokens come from the key store's per-month index keys; `backend: 'js'` keeps token MACs on the portable path (same tokens). */
  constructor(indexKeys: IndexKeys, hash: IndexHash = 'hmac-sha256', backend: BackendChoice = 'auto') {
    hashOf(hash);
    this.hash = hash;
    this.#backend = backend;
    this.#indexKeys = indexKeys;
  }

  /** The tokens `seal` stores for a plain (or opened) record, by primary field path. */
  async recordTokens(schema: Schema, record: unknown, options: WithParser<RecordTokenOptions> = {}): Promise<RecordTokens> {
    const specs = specsOf(schema);
    const out: Record<string, Record<string, string>> = {};
    if (specs.length === 0) return out;
    const scope = options.scope;
    if (scope === undefined) throw new ConfigError('record tokens need the record scope');
    // One index key per field key class of this record (copies, wiped at the end).
    const held = new Map<string, IndexKey>();
    try {
      for (const spec of specs) {
        const primary = spec.parts[0]!.path;
        const key = await heldKey(held, this.#indexKeys, classOf(schema, spec), scope);
        const label = labelOf(key);
        let token: string | undefined;
        if (spec.type === 'blind') {
          const parts = partsFromRecord(spec.parts, record, options.phone);
          if (parts === undefined) continue;
          token = (await this.#blind(schema, spec, key)).token(parts);
        } else {
          const d = ff1Digits(spec.parts[0]!.transform, valueAt(record, primary), countryAt(record, primary), options.phone);
          if (d === undefined) continue;
          if (d.digits.length < FF1_MIN_DIGITS && options.lenient === true) continue;
          token = `${label}.${ff1EncryptDigits(await this.#ff1(schema, spec, key, d.callingCode), d.digits, primary)}`;
        }
        (out[primary] ??= {})[spec.name] = token;
      }
    } finally {
      for (const key of held.values()) wipe(key.key);
    }
    return out;
  }

  /** Every token that may match `value` in `index`: one per live index key (month and generation) in the window, newest first. */
  async queryTokens(schema: Schema, index: string, value: string | readonly string[], options: WithParser<TokenQueryOptions> = {}): Promise<string[]> {
    const spec = indexSpec(schema, index);
    const parts = queryParts(spec, value, options.country, options.phone);
    const keys = await this.#indexKeys.live(classOf(schema, spec), options.window, options.otherScopes);
    const tokens: string[] = [];
    try {
      for (const key of keys) {
        if (spec.type === 'blind') {
          tokens.push((await this.#blind(schema, spec, key)).token(parts));
        } else {
          const raw = typeof value === 'string' ? value : value[0];
          const d = ff1Digits(spec.parts[0]!.transform, raw, options.country, options.phone);
          if (d === undefined) throw new ValidationError(spec.name, 'not_normalizable');
          tokens.push(`${labelOf(key)}.${ff1EncryptDigits(await this.#ff1(schema, spec, key, d.callingCode), d.digits, spec.name)}`);
        }
      }
    } finally {
      for (const key of keys) wipe(key.key);
    }
    return tokens;
  }

  /** Drops keys derived from key-store index keys (after `forget()`: a shredded month's keys must not linger). */
  forgetScoped(): void {
    this.#dropScoped(() => true);
  }

  /** Drops and zeroes the keys derived from the index keys `ids` (this process shredded them). */
  dropIndexKeys(ids: readonly string[]): void {
    const gone = new Set(ids);
    this.#dropScoped((id) => gone.has(id));
  }

  /** Drops and zeroes keys derived from index keys of `indexKeyClass` that are not in `live` (shredded elsewhere). */
  retainIndexKeys(indexKeyClass: string, live: ReadonlySet<string>): void {
    this.#dropScoped((id) => id.startsWith(`${indexKeyClass}/`) && !live.has(id));
  }

  #dropScoped(drop: (indexKeyId: string) => boolean): void {
    for (const [id, entry] of this.#entries) {
      const key = id.slice(0, id.indexOf('\u0000'));
      if (!key.includes('/') || !drop(key)) continue;
      if ('blind' in entry) entry.blind.destroy();
      else wipe(entry.ff1Key);
      this.#entries.delete(id);
    }
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

  async #blind(schema: Schema, spec: IndexSpec, key: IndexKey): Promise<BlindTokenizer> {
    const entry = await this.#entry(schema, spec, key);
    if (!('blind' in entry)) throw new ConfigError(`index ${spec.name} is not a blind index`);
    return entry.blind;
  }

  async #ff1(schema: Schema, spec: IndexSpec, key: IndexKey, callingCode: string): Promise<Ff1Cipher> {
    const entry = await this.#entry(schema, spec, key);
    if (!('ff1Key' in entry)) throw new ConfigError(`index ${spec.name} is not an FF1 index`);
    let cipher = entry.ciphers.get(callingCode);
    if (!cipher) {
      cipher = ff1Radix10(entry.ff1Key, ff1Tweak(schema.name, spec.parts[0]!.path, callingCode));
      entry.ciphers.set(callingCode, cipher);
    }
    return cipher;
  }

  async #entry(schema: Schema, spec: IndexSpec, key: IndexKey): Promise<Entry> {
    if (this.#closed) throw new KeyError('closed', 'this sealer has been closed');
    // Key-store index keys are cached by their id (a shred drops its derived keys) and bytes: an id
    // re-created after a shred (new random key, same `<month>~<generation>`) must never reuse keys
    // derived from the old one.
    const id = entryId(schema, spec, `${key.id}\u0000${fingerprint(key.key)}`);
    const ready = this.#entries.get(id);
    if (ready) return ready;
    let pending = this.#pending.get(id);
    if (!pending) {
      pending = this.#derive(schema, spec, key).then((entry) => {
        if (this.#closed) throw new KeyError('closed', 'this sealer has been closed');
        this.#entries.set(id, entry);
        return entry;
      });
      pending.catch(() => undefined).finally(() => this.#pending.delete(id));
      this.#pending.set(id, pending);
    }
    return pending;
  }

  async #derive(schema: Schema, spec: IndexSpec, key: IndexKey): Promise<Entry> {
    // The caller owns the index key's bytes (a copy it wipes): derive from them, never wipe them here.
    const root = key.key;
    if (spec.type === 'blind') {
      const derived = deriveKey(this.hash, root, keyInfo(INDEX_KEY_LABEL, this.hash, schema.name, spec.name, spec.id));
      const blind = new BlindTokenizer(this.hash, derived, spec.bits, labelOf(key), this.#backend);
      wipe(derived);
      return { blind };
    }
    return { ff1Key: deriveKey(this.hash, root, keyInfo(FF1_KEY_LABEL, this.hash, schema.name, spec.name, spec.id)), ciphers: new Map() };
  }

}

const entryId = (schema: Schema, spec: IndexSpec, label: string): string => `${label}\u0000${schema.name}\u0000${spec.name}\u0000${spec.id}`;

/** The index key of a field key class for this record, taken once per record. */
async function heldKey(held: Map<string, IndexKey>, indexKeys: IndexKeys, keyClass: string, scope: string): Promise<IndexKey> {
  let key = held.get(keyClass);
  if (key === undefined) {
    key = await indexKeys.forSeal(keyClass, scope);
    held.set(keyClass, key);
  }
  return key;
}

/** Names a key's bytes inside this process's cache (never stored or sent). */
const fingerprint = (key: Uint8Array): string => bytesToHex(sha256(key).subarray(0, 16));

/** The token prefix of a key-store index key: `<scope>~<generation>`. */
const labelOf = (key: IndexKey): string => `${key.scope}~${key.generation}`;

/** The field key class whose index keys make an index's tokens: its first protected source's ('plain' for none). */
export function classOf(schema: Schema, spec: IndexSpec): string {
  const source = spec.parts.find((p) => p.protected);
  return (source && protectedFields(schema).get(source.path)?.keyClass) ?? 'plain';
}

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

