/**
 * Looking records up by token. A search is an access: `createFinder` asks the sealer's guard (the
 * request's purpose, scope and search quota) and audits the query. A token match is a *candidate*:
 * truncated blind indexes return false positives by design (see planner.ts), so `matches` confirms a
 * candidate by opening its protected index sources (the request's purpose; audited, charged to the
 * open quota) and comparing normalised values. Candidates outside the query's scope are never opened.
 */
import { ShreddedError } from '../errors.js';
import { isSealedField } from '../format/sealed-field.js';
import type { Schema, SealedRecord } from '../schema/schema.js';
import type { ScopeCondition } from '../access/guard.js';
import type { SearchGrant, SearchRequest, Sealer } from '../seal/sealer.js';
import type { IndexName } from '../schema/indexes.js';
import { indexSpec, queryParts } from './engine.js';
import { partsFromRecord, valueAt } from './transforms.js';

/** The token a sealed record stores for an index (undefined: none). Needs no key. */
export function storedToken(schema: Schema, sealed: unknown, index: string): string | undefined {
  const field = valueAt(sealed, indexSpec(schema, index).parts[0]!.path);
  return isSealedField(field) ? field.tok?.[index] : undefined;
}

export interface FinderStats {
  /** Records whose token matched (in scope). */
  candidates: number;
  /** Candidates confirmed by opening. */
  matches: number;
  /** Candidates whose sources could not be opened (withheld, shredded): not reported as matches. */
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
   * Token match confirmed by opening the protected sources (with the request's principal and
   * purpose: audited, charged to the open quota) and comparing normalised values.
   */
  matches(sealed: SealedRecord<S>): Promise<boolean>;
  /** Audits the result counts of the query (call once when done; `findRecords` does). */
  done(): Promise<void>;
}

type FinderSealer = Pick<Sealer, 'open' | 'search'>;

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
  sealer: Pick<Sealer, 'open'>,
  schema: S,
  index: IndexName<S>,
  value: string | readonly string[],
  request: SearchRequest,
  grant: Pick<SearchGrant, 'tokens' | 'scope' | 'inScope'> & Partial<Pick<SearchGrant, 'done'>>,
): Finder<S> {
  const spec = indexSpec(schema, index);
  const wanted = queryParts(spec, value, request.country);
  const set = new Set(grant.tokens);
  const sources = spec.parts.filter((p) => p.protected).map((p) => p.path);
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
      let opened: { record: unknown; opened: readonly string[] };
      try {
        opened = await sealer.open(schema, sealed, {
          principal: request.principal,
          purpose: request.purpose ?? 'search',
          fields: sources,
          reveal: 'plain',
          ...(request.context ? { context: request.context } : {}),
        });
      } catch (e) {
        if (!(e instanceof ShreddedError)) throw e;
        stats.unverifiable++;
        return false;
      }
      if (!sources.every((p) => opened.opened.includes(p))) {
        stats.unverifiable++;
        return false;
      }
      // Stored values are read as at seal time (record's country), the query as typed.
      const got = partsFromRecord(spec.parts, opened.record);
      const ok = got !== undefined && got.every((v, i) => v === wanted[i]);
      if (ok) stats.matches++;
      return ok;
    },
    async done() {
      if (finished) return;
      finished = true;
      await grant.done?.({ candidates: stats.candidates, matches: stats.matches });
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
