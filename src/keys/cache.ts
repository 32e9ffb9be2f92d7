/**
 * A bounded LRU cache of unwrapped data keys, each with the suite it was made for, and a time-to-live.
 * Evicted keys are dropped, not zeroed (a caller may still hold one mid-operation); `wipe()` zeroes
 * everything (`forget()` and `close()` of the key manager, which make callers re-take their keys).
 */
import { wipe } from '../crypto/bytes.js';

export interface KeyCacheOptions {
  /** Most keys held at once (default 1,000). */
  maxEntries?: number;
  /**
   * How long an unwrapped key may be reused, in ms (default 5 minutes). Also how long a sealer keeps
   * sealing under a key before it re-reads the key's row (a key shredded or retired elsewhere is
   * refused after at most this long).
   */
  ttlMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

export interface CachedKey {
  readonly suite: string;
  readonly key: Uint8Array;
}

export class KeyCache {
  readonly #entries = new Map<string, { entry: CachedKey; expires: number }>();
  readonly #max: number;
  readonly ttlMs: number;
  readonly now: () => number;

  constructor(o: KeyCacheOptions = {}) {
    this.#max = o.maxEntries ?? 1000;
    this.ttlMs = o.ttlMs ?? 5 * 60_000;
    this.now = o.now ?? Date.now;
    if (!(this.#max >= 1) || !(this.ttlMs >= 0)) throw new RangeError('KeyCache: maxEntries >= 1 and ttlMs >= 0');
  }

  get(id: string): CachedKey | undefined {
    const e = this.#entries.get(id);
    if (!e) return undefined;
    if (e.expires <= this.now()) {
      this.delete(id);
      return undefined;
    }
    // Re-insert to mark as most recently used.
    this.#entries.delete(id);
    this.#entries.set(id, e);
    return e.entry;
  }

  set(id: string, suite: string, key: Uint8Array): void {
    this.delete(id);
    this.#entries.set(id, { entry: { suite, key }, expires: this.now() + this.ttlMs });
    while (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next().value as string;
      this.delete(oldest);
    }
  }

  delete(id: string): void {
    this.#entries.delete(id);
  }

  /** Zero and drop every key: only when no operation can still be using them. */
  wipe(): void {
    for (const e of this.#entries.values()) wipe(e.entry.key);
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }
}
