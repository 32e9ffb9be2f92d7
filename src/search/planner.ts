/**
 * Blind-index planner (after CipherSweet's FieldIndexPlanner and the AWS DB-ESDK beacon-length
 * guidance): picks a token length from the expected record count so that a query returns a bounded
 * number of false positives.
 *
 * Model: N records whose indexed values spread evenly over a domain of D values; a `bits`-bit token
 * is a keyed random function of the value, so two different values share a token with probability
 * 2^-bits. A query for one value then returns about N/D true matches and
 *
 *     FP(bits) = N · (1 − 1/D) · 2^-bits        false positives (records of other values).
 *
 * False positives are the point of truncation: a token that matches at least `minFalsePositives`
 * other records does not single out one value, so equal tokens do not prove equal values. They also
 * cost one `open` each to weed out, hence `maxFalsePositives`. The planner returns the lengths whose
 * FP lies in [min, max] and picks the shortest (most coincidences, `prefer: 'privacy'`, default) or
 * the longest (fewest opens, `prefer: 'speed'`).
 *
 * Small domains: when 2^bits approaches D the tokens stop merging values (last four digits have only
 * 10^4 values: 14 bits make the token a stand-in for the digits). The plan then carries a
 * `nearly_unique` warning; for such lookups prefer a compound index (last 4 + district) or plan for
 * the population a query really searches. Note also what is visible in clear: with a screen mask
 * `138****5678` stored next to it, a full-mobile token only has to separate 10^4 candidates.
 */
import { ConfigError } from '../errors.js';

export interface PlanOptions {
  /** Expected number of records the index covers (N). */
  readonly records: number;
  /** Number of distinct values the indexed input can take (D): 10^4 for last 4 digits, ~10^10 for mobiles. */
  readonly domain: number;
  /** Fewest false positives a query should return (default 2). */
  readonly minFalsePositives?: number;
  /** Most false positives per query the application accepts (default max(2 × min, √N)). */
  readonly maxFalsePositives?: number;
  /** 'privacy' (default): the shortest tokens within the bounds; 'speed': the longest. */
  readonly prefer?: 'privacy' | 'speed';
}

export type PlanWarningCode = 'nearly_unique' | 'too_few_records' | 'bounds_unmet';

/** Returned, never logged: the caller decides. Messages carry numbers only. */
export interface PlanWarning {
  readonly code: PlanWarningCode;
  readonly message: string;
}

export interface IndexPlan {
  /** The chosen token length. */
  readonly bits: number;
  /** Expected false positives per query at `bits`. */
  readonly expectedFalsePositives: number;
  /** Expected true matches per query (N / D). */
  readonly expectedMatches: number;
  /** Domain values per token value (D / 2^bits); below 2 the token nearly names the value. */
  readonly valuesPerToken: number;
  /** Every length whose false positives lie within the bounds (undefined: none does). */
  readonly bitRange: { readonly min: number; readonly max: number } | undefined;
  /** The longest length that still keeps ≥ 2 domain values per token: floor(log2(D / 2)). */
  readonly maxPrivateBits: number;
  readonly warnings: readonly PlanWarning[];
}

const MAX_BITS = 256;

/** Expected false positives per query for N records over D values at `bits`. */
export function expectedFalsePositives(records: number, domain: number, bits: number): number {
  return records * (1 - 1 / domain) * 2 ** -bits;
}

export function planIndex(options: PlanOptions): IndexPlan {
  const { records: n, domain: d } = options;
  if (!Number.isFinite(n) || n < 1) throw new ConfigError('planIndex: records must be at least 1');
  if (!Number.isFinite(d) || d < 2) throw new ConfigError('planIndex: domain must be at least 2');
  const min = options.minFalsePositives ?? 2;
  const max = options.maxFalsePositives ?? Math.max(2 * min, Math.sqrt(n));
  if (!(min >= 0) || !(max >= min) || !Number.isFinite(max)) throw new ConfigError('planIndex: need 0 <= minFalsePositives <= maxFalsePositives');

  const fp = (bits: number) => expectedFalsePositives(n, d, bits);
  const fitting: number[] = [];
  for (let bits = 1; bits <= MAX_BITS; bits++) if (fp(bits) >= min && fp(bits) <= max) fitting.push(bits);
  const bitRange = fitting.length > 0 ? { min: fitting[0]!, max: fitting.at(-1)! } : undefined;
  const maxPrivateBits = Math.max(0, Math.floor(Math.log2(d / 2)));
  const warnings: PlanWarning[] = [];

  let bits: number;
  if (bitRange) {
    bits = options.prefer === 'speed' ? bitRange.max : bitRange.min;
  } else if (fp(1) < min) {
    bits = 1;
    warnings.push({
      code: 'too_few_records',
      message: `${n} records cannot give ${min} false positives per query at any length; tokens will be near-unique per record`,
    });
  } else {
    // Keep the cost bound; say that the privacy bound is not met.
    bits = 1;
    while (bits < MAX_BITS && fp(bits) > max) bits++;
    warnings.push({ code: 'bounds_unmet', message: `no length gives between ${min} and ${max} false positives; ${bits} bits give ${round(fp(bits))}` });
  }

  const valuesPerToken = d / 2 ** bits;
  if (valuesPerToken < 2) {
    warnings.push({
      code: 'nearly_unique',
      message:
        `${bits}-bit tokens over a domain of ${d} values are nearly unique (${round(valuesPerToken)} values per token): ` +
        `equal tokens reveal equal values; at most ${maxPrivateBits} bits keep 2 or more values per token`,
    });
  }
  return {
    bits,
    expectedFalsePositives: fp(bits),
    expectedMatches: n / d,
    valuesPerToken,
    bitRange,
    maxPrivateBits,
    warnings,
  };
}

const round = (x: number) => Math.round(x * 1000) / 1000;
