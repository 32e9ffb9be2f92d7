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
 * the population a query really searches.
 *
 * Masks: what is stored in clear next to a token counts. A screen mask `138****5678` hides 4 of a
 * mobile's 11 digits, so whoever can compute tokens (the search service, a stolen token key) needs
 * the token only to separate 10^4 candidates, not 10^10: a 19-bit token names one of them. Give
 * `maskLeaves` (10^4 next to a screen mask; a label mask `*******5678` hides 7: 10^7, but both are
 * stored, so plan with the screen mask) and the planner caps the length at log2(maskLeaves / 2), so
 * each token value still stands for at least 2 of the values the mask leaves. Queries then return
 * more token matches (N · 2^-bits): filter them by the stored mask (the query's own mask) before
 * confirming, which leaves about N · (maskLeaves / D) · 2^-bits. A mask that shows the whole indexed
 * value (the last four digits of a screen mask) leaves 1: the token reveals nothing the mask does not.
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
  /**
   * Values of the domain a stored mask leaves for one record (default: the whole domain, i.e. no
   * mask): 10^4 for a mainland mobile next to its screen mask, 1 when the mask shows the whole
   * indexed value (last four digits). Tokens are capped so that each keeps ≥ 2 of these values.
   */
  readonly maskLeaves?: number;
}

export type PlanWarningCode = 'nearly_unique' | 'too_few_records' | 'bounds_unmet' | 'capped_by_mask' | 'mask_shows_value';

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
  /**
   * Values per token value that the stored mask leaves (maskLeaves / 2^bits; D / 2^bits without a
   * mask): below 2, whoever can compute tokens and reads the mask nearly knows the value.
   */
  readonly valuesPerToken: number;
  /** False positives per query left after filtering token matches by the stored mask: N · ((maskLeaves − 1) / D) · 2^-bits. */
  readonly falsePositivesAfterMask: number;
  /** Every length whose false positives lie within the bounds (undefined: none does). */
  readonly bitRange: { readonly min: number; readonly max: number } | undefined;
  /** The longest length that still keeps ≥ 2 values per token: floor(log2(maskLeaves / 2)), D without a mask. */
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
  const leaves = options.maskLeaves ?? d;
  if (!Number.isFinite(leaves) || leaves < 1 || leaves > d) throw new ConfigError('planIndex: maskLeaves must be from 1 to the domain');

  const fp = (bits: number) => expectedFalsePositives(n, d, bits);
  const fitting: number[] = [];
  for (let bits = 1; bits <= MAX_BITS; bits++) if (fp(bits) >= min && fp(bits) <= max) fitting.push(bits);
  const bitRange = fitting.length > 0 ? { min: fitting[0]!, max: fitting.at(-1)! } : undefined;
  // A mask that shows the whole value leaves nothing for a token to give away.
  const shown = leaves < 2;
  const maxPrivateBits = Math.max(0, Math.floor(Math.log2((shown ? d : leaves) / 2)));
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

  if (shown) {
    warnings.push({ code: 'mask_shows_value', message: 'the stored mask shows the whole indexed value: the token reveals nothing the mask does not' });
  } else if (options.maskLeaves !== undefined && bits > maxPrivateBits) {
    warnings.push({
      code: 'capped_by_mask',
      message:
        `a stored mask leaves ${leaves} values: ${bits}-bit tokens would nearly name one of them, so tokens are capped at ${maxPrivateBits} bits ` +
        `(about ${round(fp(maxPrivateBits))} token matches per query; filter them by the stored mask before opening)`,
    });
    bits = maxPrivateBits;
  }
  const valuesPerToken = (shown ? d : leaves) / 2 ** bits;
  if (valuesPerToken < 2 && !shown) {
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
    falsePositivesAfterMask: n * ((leaves - 1) / d) * 2 ** -bits,
    bitRange,
    maxPrivateBits,
    warnings,
  };
}

const round = (x: number) => Math.round(x * 1000) / 1000;
