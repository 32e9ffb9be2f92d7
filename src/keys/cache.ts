/**
 * A bounded LRU cache of unwrapped data keys, each with the suite it was made for, and a time-to-live.
 * A key leaving the cache (expiry, eviction, `delete`) is zeroed at once, or, if an operation has it
 * pinned (taken for an open still under way), when the last pin is released; `wipe()` zeroes
 * everything, pinned or not (`forget()` and `close()` of the key manager, which make callers re-take
 * their keys).
 */
import { wipe } from '../crypto/bytes.js';

export interface KeyCacheOptions {
  /** Most keys held at once (default 1,000). */
  maxEntries?: number;
  /**
   * How long an unwrapped key may be reused, in ms (default 5 minutes). Also how long a sealer keeps
   * sealing under a key, or opening with it, before it re-reads the key's row (a key shredded or
   * retired elsewhere is refused after at most this long).
   */
  ttlMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

export interface CachedKey {
  readonly suite: string;
  readonly key: Uint8Array;
}

/** The TTL and clock of cache options (defaults: 5 minutes, `Date.now`): also what other key-derived caches follow. */
export function cacheTiming(o: KeyCacheOptions = {}): { readonly ttlMs: number; readonly now: () => number } {
  const ttlMs = o.ttlMs ?? 5 * 60_000;
  if (!(ttlMs >= 0)) throw new RangeError('KeyCache: ttlMs >= 0');
  return { ttlMs, now: o.now ?? Date.now };
}

export class KeyCache {
  readonly #entries = new Map<string, { entry: CachedKey; expires: number }>();
  /** Pins per key buffer: taken by an operation that still uses the key. */
  readonly #pins = new Map<Uint8Array, number>();
  readonly #max: number;
  /** The earliest expiry of any entry: expired entries are zeroed at the first get or set after it, not only when asked for. */
  #sweepAt = Infinity;
  readonly ttlMs: number;
  readonly now: () => number;

  constructor(o: KeyCacheOptions = {}) {
    this.#max = o.maxEntries ?? 1000;
    ({ ttlMs: this.ttlMs, now: this.now } = cacheTiming(o));
    if (!(this.#max >= 1)) throw new RangeError('KeyCache: maxEntries >= 1');
  }

  get(id: string): CachedKey | undefined {
    this.#sweep();
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
    this.#sweep();
    const old = this.#entries.get(id)?.entry.key;
    this.#entries.delete(id);
    if (old !== undefined && old !== key) this.#release(old);
    const expires = this.now() + this.ttlMs;
    this.#entries.set(id, { entry: { suite, key }, expires });
    this.#sweepAt = Math.min(this.#sweepAt, expires);
    while (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next().value as string;
      this.delete(oldest);
    }
  }

  /** Zeroes every expired entry (a key nobody asks for again must not stay in memory). */
  #sweep(): void {
    const now = this.now();
    if (now < this.#sweepAt) return;
    let next = Infinity;
    for (const [id, e] of [...this.#entries]) {
      if (e.expires <= now) this.delete(id);
      else next = Math.min(next, e.expires);
    }
    this.#sweepAt = next;
  }

  /** Drops the key cached under `id`: zeroed now, or when its last pin is released. */
  delete(id: string): void {
    const e = this.#entries.get(id);
    if (e === undefined) return;
    this.#entries.delete(id);
    this.#release(e.entry.key);
  }

  /**
   * Pins the key cached under `id` (`count` times) if it is `key`, so not zeroed; false if it is not
   * (zeroed or replaced meanwhile: take it again). Each pin is released with `unpin`.
   */
  pin(id: string, key: Uint8Array, count = 1): boolean {
    if (this.#entries.get(id)?.entry.key !== key) return false;
    if (count > 0) this.#pins.set(key, (this.#pins.get(key) ?? 0) + count);
    return true;
  }

  /** Releases one pin of `key`; zeroes it if it has left the cache and no pin remains. */
  unpin(id: string, key: Uint8Array): void {
    const n = this.#pins.get(key);
    if (n === undefined) return;
    if (n > 1) this.#pins.set(key, n - 1);
    else {
      this.#pins.delete(key);
      if (this.#entries.get(id)?.entry.key !== key) wipe(key);
    }
  }

  #release(key: Uint8Array): void {
    if (!this.#pins.has(key)) wipe(key);
  }

  /** Zero and drop every key, pinned or not: only when no operation can still be using them. */
  wipe(): void {
    for (const e of this.#entries.values()) wipe(e.entry.key);
    for (const key of this.#pins.keys()) wipe(key);
    this.#entries.clear();
    this.#pins.clear();
    this.#sweepAt = Infinity;
  }

  get size(): number {
    return this.#entries.size;
  }
}
