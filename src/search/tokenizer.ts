/**
 * Search tokens without a sealer: query tokens (and the tokens `seal` would store) from the index
 * secret alone, for a search service or an edge function that holds no KEK. Same tokens as the
 * sealer's `tokensFor` / `recordTokens` with the same `indexHash`.
 */
import type { PhoneParser } from '../normalize/phone-core.js';
import type { Schema } from '../schema/schema.js';
import type { IndexHash, IndexName } from './definition.js';
import { SearchEngine, type RecordTokenOptions, type RecordTokens, type TokenKeySource, type TokenQueryOptions } from './engine.js';

export interface TokenizerOptions {
  /** Anything with the keyring's `secret` (and `secretVersions`): a `LocalKeyring`, or your own. */
  readonly keyring: TokenKeySource;
  /** Keyed hash of the deployment's blind indexes (default `hmac-sha256`). */
  readonly indexHash?: IndexHash;
  /**
   * How phone numbers are read for `phone` / `phone-last4` indexes (default: the installed phone
   * metadata; `waybill-seal/mask` bundles install it with `usePhoneMetadata` from `waybill-seal/phone`).
   */
  readonly phone?: PhoneParser;
}

export interface Tokenizer {
  readonly indexHash: IndexHash;
  /** Every token that may match `value` (one per held index-secret version, newest first). */
  tokensFor<S extends Schema>(schema: S, index: IndexName<S>, value: string | readonly string[], options?: TokenQueryOptions): Promise<string[]>;
  /** The tokens `seal` stores for a plain record, by primary field path. */
  recordTokens<S extends Schema>(schema: S, record: unknown, options?: RecordTokenOptions): Promise<RecordTokens>;
  /** Index-secret versions the keyring holds, ascending. */
  versions(): Promise<number[]>;
  /** Zero the derived index keys; the tokenizer refuses work afterwards. */
  close(): void;
}

export function createTokenizer(options: TokenizerOptions): Tokenizer {
  const engine = new SearchEngine(options.keyring, options.indexHash ?? 'hmac-sha256');
  const phone = options.phone === undefined ? {} : { phone: options.phone };
  return {
    indexHash: engine.hash,
    tokensFor: (schema, index, value, o) => engine.queryTokens(schema, index, value, { ...o, ...phone }),
    recordTokens: (schema, record, o) => engine.recordTokens(schema, record, { ...o, ...phone }),
    versions: () => engine.versions(),
    close: () => engine.close(),
  };
}
