/**
 * Quota counters in a JSON file (the CLI's quota state): every `take` reads, updates and
 * atomically replaces the file under a lock file, so runs of several processes on one machine
 * share the counters. For several machines use a shared store (README, "Quotas across instances").
 */
import { isQuotaState, pruneState, takeFromState, type QuotaCounter, type QuotaOutcome, type QuotaState, type QuotaStore } from '../access/quota.js';
import { ConfigError } from '../errors.js';
import { acquireLock } from './file-lock.js';
import { writeFileAtomic } from './file-writes.js';
import { readJson } from './read-json.js';

const FORMAT = 'waybill-seal/quota-state';

export class JsonFileQuotaStore implements QuotaStore {
  #chain: Promise<unknown> = Promise.resolve();

  constructor(
    readonly path: string,
    readonly options: { readonly lockTimeoutMs?: number } = {},
  ) {}

  take(counters: readonly QuotaCounter[], now: number, cost = 1): Promise<QuotaOutcome> {
    const run = async () => {
      const release = await acquireLock(`${this.path}.lock`, { timeoutMs: this.options.lockTimeoutMs });
      try {
        const state = await this.#read();
        const outcome = takeFromState(state, counters, now, cost);
        if (outcome.ok) {
          pruneState(state, now);
          await writeFileAtomic(this.path, `${JSON.stringify({ format: FORMAT, version: 1, counters: state })}\n`, { sync: false });
        }
        return outcome;
      } finally {
        await release();
      }
    };
    const p = this.#chain.then(run, run);
    this.#chain = p.catch(() => undefined);
    return p;
  }

  async #read(): Promise<QuotaState> {
    // Refuse rather than start from zero: a reset quota is what an insider would want.
    const corrupt = () => new ConfigError(`quota state ${this.path} is corrupt; restore it or remove it deliberately`);
    const doc = await readJson(this.path, (problem) => (problem === 'unreadable' ? new ConfigError(`cannot read quota state ${this.path}`) : corrupt()), {
      missingIsUndefined: true,
    });
    if (doc === undefined) return {};
    const counters = (doc as { counters?: unknown } | null)?.counters;
    if ((doc as { format?: unknown } | null)?.format !== FORMAT || !isQuotaState(counters)) throw corrupt();
    return counters;
  }
}
