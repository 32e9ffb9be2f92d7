/**
 * Looking records up by token. A token match is a *candidate*: truncated blind indexes return false
 * positives by design (see planner.ts), so `createFinder(...).matches` confirms a candidate by
 * opening its protected index sources (purpose `search`) and comparing normalised values.
 */
import { ShreddedError } from '../errors.js';
import { isSealedField } from '../format/sealed-field.js';
import type { Schema, SealedRecord } from '../schema/schema.js';
import type { Sealer } from '../seal/sealer.js';
import type { IndexName } from './definition.js';
import { indexSpec, queryParts } from './engine.js';
import { partsFromRecord, valueAt } from './transforms.js';

/** The token a sealed record stores for an index (undefined: none). Needs no key. */
export function storedToken(schema: Schema, sealed: unknown, index: string): string | undefined {
  const field = valueAt(sealed, indexSpec(schema, index).parts[0]!.path);
  return isSealedField(field) ? field.tok?.[index] : undefined;
}

export interface FindOptions {
  /** Region for phone numbers written without a country code (default CN). */
  readonly country?: string;
  /** Who confirms candidates (default `system:search`); the purpose is `search`. */
  readonly principal?: string;
  /** Evidence passed to the access policy. */
  readonly context?: Readonly<Record<string, string>>;
}

export interface FinderStats {
  /** Records whose token matched. */
  candidates: number;
  /** Candidates confirmed by opening. */
  matches: number;
  /** Candidates whose sources could not be opened (withheld, shredded): not reported as matches. */
  unverifiable: number;
}

export interface Finder<S extends Schema> {
  /** The query tokens (every index-secret version held). */
  readonly tokens: readonly string[];
  readonly stats: Readonly<FinderStats>;
  /** Token match only: no key but the index secret, may be a false positive. */
  isCandidate(sealed: unknown): boolean;
  /** Token match confirmed by opening the protected sources and comparing normalised values. */
  matches(sealed: SealedRecord<S>): Promise<boolean>;
}

export async function createFinder<S extends Schema>(
  sealer: Pick<Sealer, 'open' | 'tokensFor'>,
  schema: S,
  index: IndexName<S>,
  value: string | readonly string[],
  options: FindOptions = {},
): Promise<Finder<S>> {
  const spec = indexSpec(schema, index);
  const country = options.country === undefined ? {} : { country: options.country };
  const wanted = queryParts(spec, value, options.country);
  const tokens = await sealer.tokensFor(schema, index, value, country);
  const set = new Set(tokens);
  const sources = spec.parts.filter((p) => p.protected).map((p) => p.path);
  const stats: FinderStats = { candidates: 0, matches: 0, unverifiable: 0 };

  const isCandidate = (sealed: unknown): boolean => {
    const token = storedToken(schema, sealed, index);
    return token !== undefined && set.has(token);
  };

  return {
    tokens,
    stats,
    isCandidate,
    async matches(sealed) {
      if (!isCandidate(sealed)) return false;
      stats.candidates++;
      let opened: { record: unknown; opened: readonly string[] };
      try {
        opened = await sealer.open(schema, sealed, {
          principal: options.principal ?? 'system:search',
          purpose: 'search',
          fields: sources,
          reveal: 'plain',
          ...(options.context ? { context: options.context } : {}),
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
  };
}

/** Streams the records that match (confirmed), unchanged. */
export async function* findRecords<S extends Schema>(
  sealer: Pick<Sealer, 'open' | 'tokensFor'>,
  schema: S,
  index: IndexName<S>,
  value: string | readonly string[],
  records: AsyncIterable<SealedRecord<S>> | Iterable<SealedRecord<S>>,
  options: FindOptions = {},
): AsyncGenerator<SealedRecord<S>> {
  const finder = await createFinder(sealer, schema, index, value, options);
  for await (const record of records) if (await finder.matches(record)) yield record;
}
