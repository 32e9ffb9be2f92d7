/**
 * A bounded LRU cache of unwrapped data keys with a time-to-live. Evicted keys are dropped, not
 * zeroed (a caller may still hold one mid-operation); `wipe()` zeroes everything on close.
 */
import { wipe } from '../crypto/bytes.js';

export interface KeyCacheOptions {
  /** Most keys held at once (default 1,000). */
  maxEntries?: number;
  /** How long an unwrapped key may be reused, in ms (default 5 minutes). */
  ttlMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

export class KeyCache {
  readonly #entries = new Map<string, { key: Uint8Array; expires: number }>();
  readonly #max: number;
  readonly #ttl: number;
  readonly #now: () => number;

  constructor(o: KeyCacheOptions = {}) {
    this.#max = o.maxEntries ?? 1000;
    this.#ttl = o.ttlMs ?? 5 * 60_000;
    this.#now = o.now ?? Date.now;
    if (!(this.#max >= 1) || !(this.#ttl >= 0)) throw new RangeError('KeyCache: maxEntries >= 1 and ttlMs >= 0');
  }

  get(id: string): Uint8Array | undefined {
    const e = this.#entries.get(id);
    if (!e) return undefined;
    if (e.expires <= this.#now()) {
      this.delete(id);
      return undefined;
    }
    // Re-insert to mark as most recently used.
    this.#entries.delete(id);
    this.#entries.set(id, e);
    return e.key;
  }

  set(id: string, key: Uint8Array): void {
    this.delete(id);
    this.#entries.set(id, { key, expires: this.#now() + this.#ttl });
    while (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next().value as string;
      this.delete(oldest);
    }
  }

  delete(id: string): void {
    this.#entries.delete(id);
  }

  clear(): void {
    this.#entries.clear();
  }

  /** Zero and drop every key: only when no operation can still be using them. */
  wipe(): void {
    for (const e of this.#entries.values()) wipe(e.key);
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }
}
