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
  /** Removes a key (crypto-shredding). Returns whether it existed. */
  delete(id: string): Promise<boolean>;
}

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
  async delete(id: string) {
    return this.#keys.delete(id);
  }
}
