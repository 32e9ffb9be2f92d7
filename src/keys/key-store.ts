/**
 * Key stores keep wrapped data keys, shared by every process that seals or opens. Put-if-absent
 * is the only write that creates keys, so concurrent creators of one scope's key agree on one.
 */
export interface DataKeyRecord {
  /** `<keyClass>/<scope>/<generation>` */
  readonly id: string;
  readonly keyClass: string;
  readonly scope: string;
  readonly generation: number;
  readonly suite: string;
  readonly kekId: string;
  readonly wrapped: string;
  readonly createdAt: string;
  /** Set on a tombstone: the key was destroyed (crypto-shredding); `wrapped` is then empty. */
  readonly shreddedAt?: string;
  /**
   * Set when the data key is retired (suspected compromise, data-key rotation): sealing never
   * takes a retired key again and moves to a new generation; opening still uses it.
   */
  readonly retiredAt?: string;
}

export interface KeyFilter {
  keyClass?: string;
  scope?: string;
}

export interface KeyStore {
  get(id: string): Promise<DataKeyRecord | undefined>;
  /** Stores `record` unless its id exists; returns whichever record is stored afterwards. */
  putIfAbsent(record: DataKeyRecord): Promise<DataKeyRecord>;
  list(filter?: KeyFilter): Promise<DataKeyRecord[]>;
  /**
   * Compare-and-swap: replaces the stored record with `next` (same id) only while it still has
   * `expected`'s `kekId` and `wrapped`. Used by KEK rewrap and shredding, so concurrent writers
   * never lose a key. Returns whether it replaced.
   */
  replace(expected: DataKeyRecord, next: DataKeyRecord): Promise<boolean>;
  /** Removes a record entirely. Returns whether it existed. */
  delete(id: string): Promise<boolean>;
}

/** The same stored version of a key: what `replace` compares. */
export const sameVersion = (a: DataKeyRecord, b: DataKeyRecord): boolean =>
  a.id === b.id && a.kekId === b.kekId && a.wrapped === b.wrapped && a.shreddedAt === b.shreddedAt && a.retiredAt === b.retiredAt;

export function matchesFilter(r: DataKeyRecord, f: KeyFilter | undefined): boolean {
  return (f?.keyClass === undefined || r.keyClass === f.keyClass) && (f?.scope === undefined || r.scope === f.scope);
}

/** An in-process key store (tests, single-process tools). */
export class MemoryKeyStore implements KeyStore {
  readonly #keys = new Map<string, DataKeyRecord>();

  constructor(records: Iterable<DataKeyRecord> = []) {
    for (const r of records) this.#keys.set(r.id, r);
  }
  async get(id: string) {
    return this.#keys.get(id);
  }
  async putIfAbsent(record: DataKeyRecord) {
    const existing = this.#keys.get(record.id);
    if (existing) return existing;
    this.#keys.set(record.id, record);
    return record;
  }
  async list(filter?: KeyFilter) {
    return [...this.#keys.values()].filter((r) => matchesFilter(r, filter));
  }
  async replace(expected: DataKeyRecord, next: DataKeyRecord) {
    const current = this.#keys.get(expected.id);
    if (!current || next.id !== expected.id || !sameVersion(current, expected)) return false;
    this.#keys.set(next.id, next);
    return true;
  }
  async delete(id: string) {
    return this.#keys.delete(id);
  }
}
