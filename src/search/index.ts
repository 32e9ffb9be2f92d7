/**
 * Keyed search: blind indexes (truncated HMAC-SHA-256 or HMAC-SM3 of normalised values, keys
 * derived per index from the month's index key in the key store), FF1 format-preserving tokens, a
 * planner for token lengths, confirmed lookups and re-indexing (legacy index-secret tokens, index key
 * rotation). Pure: no Node built-ins.
 * @module
 */
export {
  INDEX_TRANSFORMS,
  INDEX_HASHES,
  FF1_MIN_DIGITS,
  type IndexTransform,
  type IndexHash,
  type Ff1Transform,
  type IndexOption,
  type IndexPartOption,
  type IndexSource,
  type IndexesOption,
  type IndexSpec,
  type IndexPartSpec,
  type IndexName,
  type FieldPath,
} from '../schema/indexes.js';
export { type RecordTokens, type TokenQueryOptions, type RecordTokenOptions } from './engine.js';
export { planIndex, expectedFalsePositives, type PlanOptions, type IndexPlan, type PlanWarning, type PlanWarningCode } from './planner.js';
export { tokenVersion } from './tokens.js';
export { storedToken, createFinder, findRecords, type Finder, type FinderStats } from './find.js';
export { reindex, type ReindexOptions, type ReindexItem } from './reindex.js';
