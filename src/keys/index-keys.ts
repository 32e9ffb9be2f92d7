/**
 * Index keys as data keys (`createSealer({ indexKeys: 'key-store' })`): the root of a month's search
 * tokens is a random 256-bit key of its own key class (`<field key class>-index`, e.g.
 * `contact-index`), per scope, wrapped by that class's KEK and kept in the key store next to the
 * field data keys. It is created, cached, retired and shredded by the same `DataKeyManager` code, so
 * nobody holds a long-lived secret that derives every token, and shredding a month (`shred`,
 * `shredBefore`) destroys its tokens' key with its data keys: the month's tokens can no longer be
 * computed by anyone.
 */
import { AuthenticationError, KekNotAllowedError, KeyError, ShreddedError } from '../errors.js';
import { cacheTiming, type KeyCacheOptions } from './cache.js';
import { DataKeyManager, dataKeyId, sealingTarget, type DataKey } from './data-keys.js';
import type { DataKeyRecord, KeyStore } from './key-store.js';
import type { Keyring } from './keyring.js';
import { retireDataKeys } from './rotation.js';

import { indexKeyClass } from './index-classes.js';

export { indexKeyClass, shredClasses, withIndexClasses } from './index-classes.js';

/**
 * Index keys are 32 random bytes. The stored row names this suite only for its key length and wrap
 * context; no field is ever encrypted under an index key (its class is never a field's class).
 */
export const INDEX_KEY_SUITE = 'xchacha20-poly1305';

/** Months `from` … `to` (`YYYY-MM`, both included); either end open. */
export interface SearchWindow {
  readonly from?: string;
  readonly to?: string;
}

/** One live index key: its scope and generation name the tokens it makes (`<scope>~<generation>.…`). */
export interface IndexKey extends DataKey {
  readonly scope: string;
  readonly generation: number;
}

/** The field key classes an index-key filter names (`keyClass`: a field class such as `contact`, or all). */
export interface IndexKeyFilter {
  /** A field key class (`contact`): its index keys (`contact-index`); default every index-key class. */
  readonly keyClass?: string;
  /** One scope (month); default every scope. */
  readonly scope?: string;
}

/** The key-store rows of index keys a filter names (every `-index` class when it names no class). */
export async function indexKeyRows(store: KeyStore, filter: IndexKeyFilter = {}): Promise<DataKeyRecord[]> {
  const scope = filter.scope === undefined ? {} : { scope: filter.scope };
  if (filter.keyClass !== undefined) return store.list({ keyClass: filter.keyClass.endsWith('-index') ? filter.keyClass : indexKeyClass(filter.keyClass), ...scope });
  return (await store.list(scope)).filter((r) => r.keyClass.endsWith('-index'));
}

/**
 * Index-key rotation, step 1 (e.g. a month's index key has leaked): marks the live index keys the
 * filter names retired. New seals then take a new generation; queries still use the retired one too
 * until it is shredded, so nothing stops being found. Step 2 is `reindex` (it moves every record off
 * retired generations), step 3 `shredRetiredIndexKeys`. Returns the retired ids.
 */
export async function retireIndexKeys(store: KeyStore, filter: IndexKeyFilter = {}, options: RetireOptions = {}): Promise<string[]> {
  const ids: string[] = [];
  const now = options.now ?? (() => new Date());
  for (const keyClass of new Set((await indexKeyRows(store, filter)).map((r) => r.keyClass))) {
    ids.push(...(await retireDataKeys(store, { keyClass, ...(filter.scope === undefined ? {} : { scope: filter.scope }) }, now)));
  }
  ids.sort();
  // Step 1 of a rotation leaves a trail like step 3's shred does (ids, not values: nothing personal).
  if (options.audit && ids.length > 0) {
    const request = { indexKeys: filter.keyClass ?? '*', ...(filter.scope === undefined ? {} : { scope: filter.scope }) };
    await options.audit.write({ type: 'retire', time: now().toISOString(), dataKeyIds: ids, request });
  }
  return ids;
}

/** The audit event of `retireIndexKeys` (one of `AuditEvent`). */
export interface RetireEvent {
  readonly type: 'retire';
  readonly time: string;
  readonly dataKeyIds: readonly string[];
  /** What was asked: the field key class (or `*`) and scope. */
  readonly request: Readonly<Record<string, string>>;
}

export interface RetireOptions {
  /** Records a `retire` event (an `AuditSink`). */
  readonly audit?: { write(event: RetireEvent): Promise<void> };
  /** Clock (a sealer passes its key cache clock). */
  readonly now?: () => Date;
}

/** Called with an index-key class and the ids of its live keys whenever the listing is read from the store. */
export type ListingListener = (indexKeyClass: string, live: ReadonlySet<string>) => void;

interface Listing {
  readonly rows: Promise<DataKeyRecord[]>;
  readonly at: number;
  /** The ids the listing named, once read. */
  ids?: ReadonlySet<string>;
}

export class IndexKeys {
  // No message cap: an index key encrypts nothing, and every process must share one per scope.
  readonly #keys: DataKeyManager;
  readonly #store: KeyStore;
  /** The store's index-key rows per class, read at most once per cache TTL (one round trip, not one per query). */
  readonly #listings = new Map<string, Listing>();
  readonly #ttlMs: number;
  readonly #now: () => number;
  #listener: ListingListener | undefined;

  constructor(keyring: Keyring, store: KeyStore, cache?: KeyCacheOptions) {
    this.#keys = new DataKeyManager(keyring, store, cache ? { cache } : {});
    this.#store = store;
    ({ ttlMs: this.#ttlMs, now: this.#now } = cacheTiming(cache));
  }

  /** Tells `listener` which index keys of a class are live each time their listing is read. */
  onListing(listener: ListingListener): void {
    this.#listener = listener;
  }

  /**
   * The index key new seals of (field key class, scope) use: created on first use. Like `live`, it
   * returns a copy of the key bytes (a concurrent `forget()` zeroes the manager's, not this one):
   * the caller wipes it when done.
   */
  async forSeal(keyClass: string, scope: string): Promise<IndexKey> {
    const indexClass = indexKeyClass(keyClass);
    const key = await this.#keys.forSeal(indexClass, scope, INDEX_KEY_SUITE);
    // A key the cached listing does not name yet (a new month or generation): the next query lists
    // again, so a record this process has just sealed is found at once.
    const listing = this.#listings.get(indexClass);
    if (listing !== undefined && listing.ids?.has(key.id) !== true) this.#listings.delete(indexClass);
    return { ...key, key: key.key.slice(), scope, generation: generationOf(key.id) };
  }

  /**
   * The generation new seals of (field key class, scope) take, read from the store now: the newest
   * index key of the scope if it is neither retired nor shredded (generations only move forward, see
   * `sealingTarget`); undefined when there is none (the next seal creates one). Creates nothing.
   */
  async sealingGeneration(keyClass: string, scope: string): Promise<number | undefined> {
    return sealingTarget(await this.#store.list({ keyClass: indexKeyClass(keyClass), scope }), INDEX_KEY_SUITE).adopt?.generation;
  }

  /**
   * Every index key of a field key class that is not shredded and whose scope lies in the window
   * (scopes that are not months only without a window, or with `otherScopes`), newest scope and
   * generation first: a query makes one token with each. The listing is cached for the key cache
   * TTL: a key created, shredded or retired by another process is seen within that time, one through
   * this sealer at once (`evict`, `forSeal`).
   */
  async live(keyClass: string, window: SearchWindow = {}, otherScopes = false): Promise<IndexKey[]> {
    const indexClass = indexKeyClass(keyClass);
    const rows = (await this.#listing(indexClass))
      .filter((r) => r.shreddedAt === undefined && ((otherScopes && !MONTH.test(r.scope)) || inWindow(r.scope, window)))
      .sort((a, b) => (a.scope === b.scope ? b.generation - a.generation : a.scope < b.scope ? 1 : -1));
    const out: IndexKey[] = [];
    for (const r of rows) {
      // A row whose scope or generation columns do not match its id was relabelled by a database
      // writer (to make one month's key serve another): its id, which the wrap binds, is the truth.
      if (r.id !== dataKeyId(r.keyClass, r.scope, r.generation)) continue;
      try {
        const key = await this.#keys.forOpen(r.id, r.suite);
        out.push({ ...key, key: key.key.slice(), scope: r.scope, generation: r.generation });
        this.#keys.release([key]);
      } catch (e) {
        // Shredded between the listing and the read: that month is gone. A row that does not unwrap
        // here (injected, copied, foreign KEK) is no index key of ours: it must not stop every search.
        // A row deleted since the listing was read: skipped, and the next query lists again.
        const missing = e instanceof KeyError && e.reason === 'data_key_missing';
        if (missing) this.#listings.delete(indexClass);
        if (!(missing || e instanceof ShreddedError || e instanceof AuthenticationError || e instanceof KekNotAllowedError)) throw e;
      }
    }
    return out;
  }

  async #listing(indexClass: string): Promise<DataKeyRecord[]> {
    const cached = this.#listings.get(indexClass);
    if (cached !== undefined && this.#now() < cached.at + this.#ttlMs) return cached.rows;
    const listing: Listing = { rows: this.#store.list({ keyClass: indexClass }), at: this.#now() };
    this.#listings.set(indexClass, listing);
    try {
      const rows = await listing.rows;
      const live = new Set(rows.filter((r) => r.shreddedAt === undefined && r.id === dataKeyId(r.keyClass, r.scope, r.generation)).map((r) => r.id));
      if (this.#listings.get(indexClass) === listing) {
        // Keys shredded or deleted elsewhere: their bytes are zeroed now, not when the cache is next asked for them.
        const current = new Set(rows.map((r) => r.id));
        listing.ids = current;
        this.#keys.evict([...rows.filter((r) => r.shreddedAt !== undefined).map((r) => r.id), ...[...(cached?.ids ?? [])].filter((id) => !current.has(id))]);
        this.#listener?.(indexClass, live);
      }
      return rows;
    } catch (e) {
      if (this.#listings.get(indexClass) === listing) this.#listings.delete(indexClass);
      throw e;
    }
  }

  /**
   * This process shred or retired `ids`: the next query reads the listing again, and the shredded or
   * retired keys are dropped (a retired one stops sealing at once; zeroed, taken again to query).
   */
  evict(ids: readonly string[]): void {
    this.#listings.clear();
    this.#keys.evict(ids);
  }

  /** Sealing keys re-read their rows at their next use (a reindex run starts with this). */
  recheck(): void {
    this.#keys.recheck();
  }

  /** Changes whenever held keys may have been zeroed (see DataKeyManager.epoch). */
  get epoch(): number {
    return this.#keys.epoch;
  }

  forget(): void {
    this.#listings.clear();
    this.#keys.forget();
  }

  close(): void {
    this.#listings.clear();
    this.#keys.close();
  }
}

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

function inWindow(scope: string, window: SearchWindow): boolean {
  if (window.from === undefined && window.to === undefined) return true;
  if (!MONTH.test(scope)) return false;
  return (window.from === undefined || scope >= window.from) && (window.to === undefined || scope <= window.to);
}

/** Checks a search window: months `YYYY-MM`, `from` ≤ `to`. Returns an error message, or undefined. */
export function windowProblem(window: unknown): string | undefined {
  if (window === undefined) return undefined;
  if (typeof window !== 'object' || window === null) return 'window must be { from?, to? }';
  const { from, to, ...rest } = window as Record<string, unknown>;
  if (Object.keys(rest).length > 0) return 'window takes only from and to';
  for (const m of [from, to]) if (m !== undefined && (typeof m !== 'string' || !MONTH.test(m))) return 'window months look like 2025-03';
  if (typeof from === 'string' && typeof to === 'string' && from > to) return 'window.from is after window.to';
  return undefined;
}

function generationOf(id: string): number {
  return Number(id.slice(id.lastIndexOf('/') + 1));
}
