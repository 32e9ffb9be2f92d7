/**
 * Data keys: one random key per (key class, scope, generation), created on first use, wrapped by
 * the keyring and shared through the key store. Sealing moves to a new generation when a key
 * reaches its suite's message cap (random-nonce GCM); opening finds any generation by id.
 *
 * A sealing key is re-read from the store once per cache TTL, so a key shredded or retired by another
 * process is refused (and the sealer moves to a new generation) within that time; an opening key is
 * read again when its cache entry expires (the same TTL). A key leaving the cache is zeroed (once no
 * open that took it still runs: `release`); `forget()` and `close()` zero every key the manager holds
 * and the keyring's cached copies at once, and `epoch` tells a caller that held keys across an await
 * whether they may have been zeroed meanwhile.
 */
import { getSuite } from '../crypto/aead.js';
import { wipe } from '../crypto/bytes.js';
import { randomBytes } from '../crypto/random.js';
import { AuthenticationError, KeyError, ShreddedError } from '../errors.js';
import { DATA_KEY_ID } from '../format/sealed-field.js';
import { KeyCache, type KeyCacheOptions } from './cache.js';
import type { DataKeyRecord, KeyStore } from './key-store.js';
import type { Keyring, WrapContext } from './keyring.js';

export interface DataKey {
  readonly id: string;
  readonly suite: string;
  readonly key: Uint8Array;
}

export interface DataKeyManagerOptions {
  cache?: KeyCacheOptions;
  /** Overrides the suite's per-key message cap (lower only; for tests and cautious deployments). */
  messageCap?: number;
}

export const dataKeyId = (keyClass: string, scope: string, generation: number) => `${keyClass}/${scope}/${generation}`;

export function contextOf(r: Pick<DataKeyRecord, 'id' | 'keyClass' | 'scope' | 'generation' | 'suite'>): WrapContext {
  return { dataKeyId: r.id, keyClass: r.keyClass, scope: r.scope, generation: r.generation, suite: r.suite };
}

/** A key being read and unwrapped for `forOpen`, with how many callers wait for it. */
interface Loading {
  waiters: number;
  key: Promise<DataKey>;
}

interface Current {
  key: DataKey;
  used: number;
  /** When the key's store row was last read (a shred or retire elsewhere is seen at the next read). */
  checked: number;
}

export class DataKeyManager {
  readonly #cache: KeyCache;
  readonly #current = new Map<string, Current>();
  readonly #pending = new Map<string, Promise<DataKey>>();
  readonly #opening = new Map<string, Loading>();
  readonly #cap: number | undefined;
  #closed = false;
  #epoch = 0;

  constructor(
    readonly keyring: Keyring,
    readonly store: KeyStore,
    options: DataKeyManagerOptions = {},
  ) {
    this.#cache = new KeyCache(options.cache);
    this.#cap = options.messageCap;
  }

  /**
   * The key to seal `count` more messages of (class, scope) under `suite`. Reserving the count
   * here, before encrypting, is what keeps a key under its cap.
   */
  async forSeal(keyClass: string, scope: string, suite: string, count = 1): Promise<DataKey> {
    this.#assertOpen();
    const slot = `${keyClass}/${scope}/${suite}`;
    const cap = this.#capOf(suite);
    const cur = this.#current.get(slot);
    if (cur && this.#fresh(cur) && (cap === undefined || cur.used + count <= cap)) {
      cur.used += count;
      return cur.key;
    }
    const pending = this.#pending.get(slot);
    if (pending) {
      await pending;
      return this.forSeal(keyClass, scope, suite, count);
    }
    const next = this.#replace(slot, keyClass, scope, suite, cur, cap, count);
    this.#pending.set(slot, next);
    try {
      const own = await next;
      this.#assertOpen();
      return own;
    } finally {
      this.#pending.delete(slot);
    }
  }

  /** The slot's key after `cur`: `cur` again if its row still allows sealing and it has room, else the next one. */
  async #replace(slot: string, keyClass: string, scope: string, suite: string, cur: Current | undefined, cap: number | undefined, count: number): Promise<DataKey> {
    if (cur && (cap === undefined || cur.used + count <= cap)) {
      // Stale: a key shredded or retired by another process, or (a shared suite) one a newer generation
      // has replaced, must not seal another record.
      const still = this.#exclusive(suite)
        ? sealable(await this.store.get(cur.key.id), suite)
        : sealingTarget(await this.store.list({ keyClass, scope }), suite).adopt?.id === cur.key.id;
      if (still && this.#current.get(slot) === cur) {
        cur.checked = this.#cache.now();
        cur.used += count;
        return cur.key;
      }
      if (this.#current.get(slot) === cur) this.#drop(slot, cur);
    }
    const key = await this.#nextKey(keyClass, scope, suite);
    const own = { ...key, key: key.key.slice() };
    this.#current.set(slot, { key: own, used: count, checked: this.#cache.now() });
    return own;
  }

  #fresh(cur: Current): boolean {
    return this.#cache.now() < cur.checked + this.#cache.ttlMs;
  }

  /** Forgets a slot's sealing key (zeroed) and its cached copy (zeroed once no open has it pinned). */
  #drop(slot: string, cur: Current): void {
    this.#current.delete(slot);
    this.#epoch++;
    this.#cache.delete(cur.key.id);
    wipe(cur.key.key);
  }

  /**
   * Changes whenever held keys may have been zeroed (`forget()`, a refused sealing key): a caller that
   * took keys before an await compares it after, and takes them again if it moved.
   */
  get epoch(): number {
    return this.#epoch;
  }

  /**
   * `forSeal` without waiting, when the current key of (class, scope, suite) is held and has room for
   * `count` more messages (reserved here, as `forSeal` does); undefined otherwise (then call `forSeal`).
   */
  trySeal(keyClass: string, scope: string, suite: string, count = 1): DataKey | undefined {
    if (this.#closed) return undefined;
    const cur = this.#current.get(`${keyClass}/${scope}/${suite}`);
    if (!cur || !this.#fresh(cur)) return undefined;
    const cap = this.#capOf(suite);
    if (cap !== undefined && cur.used + count > cap) return undefined;
    cur.used += count;
    return cur.key;
  }

  /** `forOpen` without waiting, when the key is cached; undefined otherwise (then call `forOpen`). */
  tryOpen(id: string, suite: string): DataKey | undefined {
    if (this.#closed) return undefined;
    const cached = this.#cache.get(id);
    // A key serves only the suite it was made for (the ciphertext names its suite; a key is never
    // used under two algorithms), whether or not the cache is warm.
    if (cached === undefined || cached.suite !== suite) return undefined;
    this.#cache.pin(id, cached.key);
    return { id, suite, key: cached.key };
  }

  /**
   * The data key a ciphertext names, pinned: not zeroed when it leaves the cache (expiry, eviction)
   * before the caller passes it to `release`; `forget()` and `close()` still zero it (see `epoch`).
   */
  async forOpen(id: string, suite: string): Promise<DataKey> {
    this.#assertOpen();
    const cached = this.#cache.get(id);
    if (cached) {
      if (cached.suite !== suite) throw new AuthenticationError();
      this.#cache.pin(id, cached.key);
      return { id, suite, key: cached.key };
    }
    // Concurrent opens of one key (the fields of a record) share one store read and one unwrap; the
    // key is pinned once per waiting caller in the step that caches it (other work cannot evict it first).
    let load = this.#opening.get(id);
    if (!load) {
      const started: Loading = { waiters: 0, key: undefined as unknown as Promise<DataKey> };
      started.key = this.#load(id, started);
      this.#opening.set(id, started);
      load = started;
    }
    load.waiters++;
    const key = await load.key;
    if (key.suite !== suite) {
      this.release([key]);
      throw new AuthenticationError();
    }
    return key;
  }

  /** Releases keys from `forOpen`/`tryOpen` (once each): one that left the cache meanwhile is zeroed now. */
  release(keys: readonly DataKey[]): void {
    for (const k of keys) this.#cache.unpin(k.id, k.key);
  }

  async #load(id: string, load: Loading): Promise<DataKey> {
    try {
      const record = await this.store.get(id);
      if (!record) throw new KeyError('data_key_missing', `data key ${id} is not in the key store`);
      // A tombstone: the key was destroyed on purpose (crypto-shredding); masks stay readable.
      if (record.shreddedAt !== undefined) throw new ShreddedError(id, record.shreddedAt);
      return await this.#unwrap(record, () => load.waiters);
    } finally {
      // In the step that resolves the load: a later caller starts another, never joins one already counted.
      if (this.#opening.get(id) === load) this.#opening.delete(id);
    }
  }

  /**
   * The message bound of a capped suite (AES-256-GCM, SM4-GCM with 96-bit random nonces; any suite
   * under a `messageCap` option) across processes: each generation is created by put-if-absent for one
   * manager alone (a block of at most `cap` messages reserved atomically in the shared key store) and
   * sealed under by that manager only, which counts every message; a restart, a `--jobs` worker,
   * another instance or `forget()` takes a new generation, never an existing one. So no key of such a
   * suite ever encrypts more than `cap` messages, however many processes seal the scope.
   */
  #exclusive(suite: string): boolean {
    return this.#capOf(suite) !== undefined;
  }

  #capOf(suite: string): number | undefined {
    const suiteCap = getSuite(suite).messageCap;
    if (this.#cap === undefined) return suiteCap;
    return suiteCap === undefined ? this.#cap : Math.min(suiteCap, this.#cap);
  }

  async #nextKey(keyClass: string, scope: string, suite: string): Promise<DataKey> {
    const { adopt, next } = sealingTarget(await this.store.list({ keyClass, scope }), suite);
    // A sealer continues the newest generation (all processes converge on it). A row
    // this keyring cannot authenticate is refused, never adopted (KekNotAllowedError for a KEK the
    // keyring is not configured for): sealing stops rather than use a key someone else may know.
    // A capped suite (random-nonce GCM) never continues or shares a generation: see `#exclusive`.
    if (adopt && !this.#exclusive(suite)) {
      return this.#unwrap(adopt).catch((e: unknown) => {
        if (!(e instanceof AuthenticationError)) throw e;
        throw new KeyError('data_key_rejected', `data key ${adopt.id} in the key store does not authenticate under this keyring: refused for sealing (a row this deployment did not write?)`);
      });
    }
    return this.#create(keyClass, scope, suite, next);
  }

  async #create(keyClass: string, scope: string, suite: string, generation: number): Promise<DataKey> {
    const id = dataKeyId(keyClass, scope, generation);
    if (!DATA_KEY_ID.test(id)) throw new KeyError('bad_scope', `invalid data key id for key class "${keyClass}"`);
    const base = { id, keyClass, scope, generation, suite };
    const length = getSuite(suite).keyLength;
    // A key authority that generates data keys (KMS GenerateDataKey) does it in one call.
    const { key, wrapped } = this.keyring.generateDataKey
      ? await this.keyring.generateDataKey(length, contextOf(base))
      : await (async () => {
          const k = randomBytes(length);
          return { key: k, wrapped: await this.keyring.wrap(k, contextOf(base)) };
        })();
    if (key.length !== length) throw new KeyError('bad_key', `key authority returned a data key of the wrong size for ${id}`);
    const stored = await this.store.putIfAbsent({ ...base, ...wrapped, createdAt: new Date().toISOString() });
    if (stored.wrapped !== wrapped.wrapped) {
      wipe(key);
      // Another instance won the race for this id: use its key, so every record opens; if it
      // seals another suite (its key has another size and use) or the suite is capped (the
      // generation is that instance's alone), take the next generation.
      if (stored.suite === suite && !this.#exclusive(suite)) return this.#unwrap(stored);
      return this.#create(keyClass, scope, suite, generation + 1);
    }
    this.#cache.set(id, suite, key);
    return { id, suite, key };
  }

  /** Unwraps and caches a key, with `pins()` pins taken at once (opens waiting for it). */
  async #unwrap(record: DataKeyRecord, pins = () => 0): Promise<DataKey> {
    const key = await this.keyring.unwrap({ kekId: record.kekId, wrapped: record.wrapped }, contextOf(record));
    // Closed while unwrapping: the key is never cached (close() has already zeroed the cache).
    if (this.#closed) {
      wipe(key);
      throw new KeyError('closed', 'this sealer has been closed');
    }
    this.#cache.set(record.id, record.suite, key);
    this.#cache.pin(record.id, key, pins());
    return { id: record.id, suite: record.suite, key };
  }

  /**
   * Drops the keys `ids` name (this process shredded or retired them): a sealing key among them is
   * zeroed and replaced at the next seal, a cached one is zeroed (once no open that took it still runs).
   */
  evict(ids: Iterable<string>): void {
    const gone = new Set(ids);
    for (const [slot, cur] of this.#current) if (gone.has(cur.key.id)) this.#drop(slot, cur);
    for (const id of gone) this.#cache.delete(id);
  }

  /** Makes every sealing key re-read its row at its next use (a retire elsewhere is then seen at once). */
  recheck(): void {
    for (const cur of this.#current.values()) cur.checked = -Infinity;
  }

  /** Zero and drop every held key and the keyring's cached ones, e.g. after shredding, so the store is asked again. */
  forget(): void {
    this.#epoch++;
    for (const c of this.#current.values()) wipe(c.key.key);
    this.#current.clear();
    this.#cache.wipe();
    this.keyring.forget?.();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Zero every cached key; the manager refuses work afterwards. */
  close(): void {
    this.#closed = true;
    this.forget();
  }

  #assertOpen(): void {
    if (this.#closed) throw new KeyError('closed', 'this sealer has been closed');
  }
}

/** A row new seals of `suite` may use: of that suite, neither retired nor shredded, its id matching its columns. */
function sealable(r: DataKeyRecord | undefined, suite: string): r is DataKeyRecord {
  return r !== undefined && r.suite === suite && r.retiredAt === undefined && r.shreddedAt === undefined && r.id === dataKeyId(r.keyClass, r.scope, r.generation);
}

/**
 * Where new seals of one (key class, scope) go, from that scope's rows: generations only move
 * forward. The newest generation is adopted if new seals of `suite` may use it; otherwise (retired,
 * shredded, another suite, relabelled) generation `next` is created. An older row is never taken
 * again, even one not (or no longer) marked retired: `retired_at` is a plain column, and a database
 * writer who clears it on a rotated-away key, or sets it on the newest, must not send sealing back.
 */
export function sealingTarget(rows: readonly DataKeyRecord[], suite: string): { readonly adopt?: DataKeyRecord; readonly next: number } {
  const newest = Math.max(0, ...rows.map((r) => r.generation).filter(Number.isSafeInteger));
  const top = rows.filter((r) => r.generation === newest);
  const adopt = top.length === 1 && sealable(top[0], suite) ? top[0] : undefined;
  return adopt ? { adopt, next: newest + 1 } : { next: newest + 1 };
}
