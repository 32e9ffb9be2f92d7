/**
 * Looking records up by token. A search is an access: `createFinder` asks the sealer's guard (the
 * request's purpose, scope and search quota) and audits the query. A token match is a *candidate*:
 * truncated blind indexes return false positives by design (see planner.ts), so `matches` confirms a
 * candidate inside the sealer: its protected index sources are decrypted under the request's purpose
 * (its `confirm` grant; audited, charged to the open quota) and compared with the query, and only
 * the verdict comes back, never a value. Candidates outside the query's scope are never decrypted.
 */
import { isSealedField } from '../format/sealed-field.js';
import type { Schema, SealedRecord } from '../schema/schema.js';
import type { ScopeCondition } from '../access/guard.js';
import { sealerInternals, type SearchGrant, type SearchRequest, type Sealer } from '../seal/sealer.js';
import type { IndexName } from '../schema/indexes.js';
import { indexSpec, queryParts } from './engine.js';
import { valueAt } from './transforms.js';

/** The token a sealed record stores for an index (undefined: none). Needs no key. */
export function storedToken(schema: Schema, sealed: unknown, index: string): string | undefined {
  const field = valueAt(sealed, indexSpec(schema, index).parts[0]!.path);
  return isSealedField(field) ? field.tok?.[index] : undefined;
}

export interface FinderStats {
  /** Records whose token matched (in scope). */
  candidates: number;
  /** Candidates confirmed by comparing their decrypted sources with the query. */
  matches: number;
  /** Candidates that could not be checked (sources withheld or shredded, tag or ciphertext tampered): not reported as matches. */
  unverifiable: number;
  /** Token matches outside the query's scope (another outlet's parcels): never opened. */
  outOfScope: number;
}

export interface Finder<S extends Schema> {
  /** The query tokens (`WHERE tok = ANY($1)`). */
  readonly tokens: readonly string[];
  /** Plain fields a result must hold (one of them); add them to the database query. Empty: no scope. */
  readonly scope: readonly ScopeCondition[];
  readonly stats: Readonly<FinderStats>;
  /** Token match inside the query's scope: may be a false positive. */
  isCandidate(sealed: unknown): boolean;
  /**
   * Token match confirmed by comparing the decrypted protected sources with the query inside the
   * sealer (the request's principal and purpose: audited, charged to the open quota). A tampered
   * record counts as unverifiable, is audited and does not stop the search.
   */
  matches(sealed: SealedRecord<S>): Promise<boolean>;
  /** Audits the result counts of the query (call once when done; `findRecords` does). */
  done(): Promise<void>;
}

type FinderSealer = Pick<Sealer, 'search'>;

/**
 * A query through the sealer's access guard (`sealer.search`): refused unless the request's
 * purpose may search `index`; its tokens are audited before they are returned.
 */
export async function createFinder<S extends Schema>(
  sealer: FinderSealer,
  schema: S,
  index: IndexName<S>,
  value: string | readonly string[],
  request: SearchRequest,
): Promise<Finder<S>> {
  return finderFor(sealer, schema, index, value, request, await sealer.search(schema, index, value, request));
}

/** A finder over an already authorised query (the CLI's worker threads share the main thread's). */
export function finderFor<S extends Schema>(
  sealer: object,
  schema: S,
  index: IndexName<S>,
  value: string | readonly string[],
  request: SearchRequest,
  grant: Pick<SearchGrant, 'tokens' | 'scope' | 'inScope'> & Partial<Pick<SearchGrant, 'done'>>,
): Finder<S> {
  const internals = sealerInternals(sealer);
  const spec = indexSpec(schema, index);
  const wanted = queryParts(spec, value, request.country);
  const set = new Set(grant.tokens);
  const stats: FinderStats = { candidates: 0, matches: 0, unverifiable: 0, outOfScope: 0 };
  const tokenMatch = (sealed: unknown): boolean => {
    const token = storedToken(schema, sealed, index);
    return token !== undefined && set.has(token);
  };
  let finished = false;

  return {
    tokens: grant.tokens,
    scope: grant.scope,
    stats,
    isCandidate: (sealed) => tokenMatch(sealed) && grant.inScope(sealed),
    async matches(sealed) {
      if (!tokenMatch(sealed)) return false;
      if (!grant.inScope(sealed)) {
        stats.outOfScope++;
        return false;
      }
      stats.candidates++;
      const verdict = await internals.confirm(schema, sealed, index, wanted, request);
      if (verdict === 'unverifiable') stats.unverifiable++;
      else if (verdict === 'match') stats.matches++;
      return verdict === 'match';
    },
    async done() {
      if (finished) return;
      finished = true;
      await grant.done?.({ candidates: stats.candidates, matches: stats.matches, unverifiable: stats.unverifiable });
    },
  };
}

/** Streams the records that match (confirmed), unchanged; audits the result counts at the end. */
export async function* findRecords<S extends Schema>(
  sealer: FinderSealer,
  schema: S,
  index: IndexName<S>,
  value: string | readonly string[],
  records: AsyncIterable<SealedRecord<S>> | Iterable<SealedRecord<S>>,
  request: SearchRequest,
): AsyncGenerator<SealedRecord<S>> {
  const finder = await createFinder(sealer, schema, index, value, request);
  try {
    for await (const record of records) if (await finder.matches(record)) yield record;
  } finally {
    await finder.done();
  }
}
