/**
 * Quota counters: sliding-window logs of opened records, per principal, per (principal, purpose)
 * and per export grant. `take` is all-or-nothing over several counters, so an hourly quota is not
 * charged for a record the daily quota refuses.
 *
 * Several backend instances must share one store, or each instance grants the full quota. The
 * interface is small on purpose: a Redis Lua script over sorted sets or one SQL transaction
 * implements it (see README, "Quotas across instances").
 */

export interface QuotaCounter {
  /** Identifies the counter, e.g. `["principal","courier-17","1h"]` as JSON. */
  readonly key: string;
  /** Sliding window length in ms; `Infinity` counts forever (export budgets). */
  readonly windowMs: number;
  /** Most hits allowed inside the window. */
  readonly limit: number;
}

export type QuotaOutcome =
  | { readonly ok: true }
  /** The first counter that would go over its limit, and its count before this take. */
  | { readonly ok: false; readonly counter: QuotaCounter; readonly used: number };

export interface QuotaStore {
  /**
   * Atomically: for every counter, count hits in `(now - windowMs, now]`; if every count + `cost`
   * is within its limit, record `cost` hits at `now` on every counter and return `{ ok: true }`;
   * otherwise record nothing and return the first counter that would exceed.
   */
  take(counters: readonly QuotaCounter[], now: number, cost?: number): Promise<QuotaOutcome>;
}

/** Serializable state of the sliding logs: per key, the window (null: forever) and hit times. */
export type QuotaState = Record<string, { w: number | null; t: number[] }>;

/** The `take` algorithm on a plain state object (mutates it); shared by the memory and file stores. */
export function takeFromState(state: QuotaState, counters: readonly QuotaCounter[], now: number, cost = 1): QuotaOutcome {
  if (!Number.isSafeInteger(cost) || cost < 1) throw new RangeError('quota cost must be a positive integer');
  const used: number[] = [];
  for (const c of counters) {
    const entry = state[c.key];
    const n = entry ? countSince(entry.t, c.windowMs, now) : 0;
    if (n + cost > c.limit) return { ok: false, counter: c, used: n };
    used.push(n);
  }
  for (const c of counters) {
    const entry = (state[c.key] ??= { w: Number.isFinite(c.windowMs) ? c.windowMs : null, t: [] });
    if (Number.isFinite(c.windowMs)) entry.t = entry.t.filter((t) => t > now - c.windowMs);
    for (let i = 0; i < cost; i++) entry.t.push(now);
  }
  return { ok: true };
}

/** Drops hits that left their window, and empty counters (keeps state files small). */
export function pruneState(state: QuotaState, now: number): void {
  for (const [key, entry] of Object.entries(state)) {
    if (entry.w !== null) entry.t = entry.t.filter((t) => t > now - entry.w!);
    if (entry.t.length === 0) delete state[key];
  }
}

function countSince(times: readonly number[], windowMs: number, now: number): number {
  if (!Number.isFinite(windowMs)) return times.length;
  const cut = now - windowMs;
  let n = 0;
  for (const t of times) if (t > cut) n++;
  return n;
}

/** Quota counters in this process's memory: one instance, tests, or a CLI run (with a state file). */
export class MemoryQuotaStore implements QuotaStore {
  readonly #state: QuotaState;

  constructor(state: QuotaState = {}) {
    this.#state = structuredClone(state);
  }

  async take(counters: readonly QuotaCounter[], now: number, cost = 1): Promise<QuotaOutcome> {
    return takeFromState(this.#state, counters, now, cost);
  }

  /** A copy of the counters, e.g. to persist them. */
  snapshot(): QuotaState {
    return structuredClone(this.#state);
  }
}

/** Checks a parsed quota state file. */
export function isQuotaState(v: unknown): v is QuotaState {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  return Object.values(v).every(
    (e) =>
      typeof e === 'object' &&
      e !== null &&
      (e.w === null || (typeof e.w === 'number' && e.w > 0)) &&
      Array.isArray(e.t) &&
      e.t.every((t: unknown) => typeof t === 'number' && Number.isFinite(t)),
  );
}
