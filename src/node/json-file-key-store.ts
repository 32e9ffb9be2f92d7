/**
 * A key store in a JSON file (the CLI's and the demo's default): data keys live in the file's
 * `dataKeys` array, other properties (a key file's KEKs) are preserved. Every write re-reads the
 * file under a lock file and replaces it atomically (temp file + rename), so concurrent processes
 * never lose each other's keys.
 */
import { KeyError } from '../errors.js';
import { isDataKeyRecord } from '../keys/key-file.js';
import { matchesFilter, sameVersion, type DataKeyRecord, type KeyFilter, type KeyStore } from '../keys/key-store.js';
import { acquireLock } from './file-lock.js';
import { sweepTempFiles, writeFileAtomic } from './file-writes.js';
import { readJson } from './read-json.js';

const LOCK_TIMEOUT_MS = 10_000;

export class JsonFileKeyStore implements KeyStore {
  #chain: Promise<unknown> = Promise.resolve();

  constructor(readonly path: string) {}

  async get(id: string) {
    return (await this.#read()).keys.find((r) => r.id === id);
  }

  async list(filter?: KeyFilter) {
    return (await this.#read()).keys.filter((r) => matchesFilter(r, filter));
  }

  putIfAbsent(record: DataKeyRecord): Promise<DataKeyRecord> {
    return this.#update((keys, doc) => {
      // A process still holding a KEK version retired from this file must not add keys under it.
      if (retiredLocalKek(doc, record.kekId)) throw new KeyError('kek_retired', `KEK ${record.kekId} is retired in ${this.path}; reload the key file`);
      const existing = keys.find((r) => r.id === record.id);
      return existing ? { keys, result: existing } : { keys: [...keys, record], result: record };
    });
  }

  replace(expected: DataKeyRecord, next: DataKeyRecord): Promise<boolean> {
    return this.#update((keys) => {
      const i = keys.findIndex((r) => r.id === expected.id);
      if (i < 0 || next.id !== expected.id || !sameVersion(keys[i]!, expected)) return { keys, result: false };
      return { keys: keys.map((r, j) => (j === i ? next : r)), result: true };
    });
  }

  delete(id: string): Promise<boolean> {
    return this.#update((keys) => {
      const rest = keys.filter((r) => r.id !== id);
      return { keys: rest, result: rest.length !== keys.length };
    });
  }

  async #read(): Promise<{ doc: Record<string, unknown>; keys: DataKeyRecord[] }> {
    const doc = await readJson(
      this.path,
      (problem) =>
        problem === 'unreadable' ? new KeyError('store_unreadable', `cannot read key store ${this.path}`) : new KeyError('store_corrupt', `key store ${this.path} is not valid JSON`),
      { missingIsUndefined: true },
    );
    if (doc === undefined) return { doc: {}, keys: [] };
    const keys = (doc as Record<string, unknown>)?.['dataKeys'] ?? [];
    if (typeof doc !== 'object' || doc === null || !Array.isArray(keys) || !keys.every(isDataKeyRecord)) {
      throw new KeyError('store_corrupt', `key store ${this.path} has malformed dataKeys`);
    }
    return { doc: doc as Record<string, unknown>, keys };
  }

  /** Serialises updates in this process, and across processes with a lock file. */
  #update<T>(fn: (keys: DataKeyRecord[], doc: Record<string, unknown>) => { keys: DataKeyRecord[]; result: T }): Promise<T> {
    const run = async () => {
      const release = await lockKeyFile(this.path);
      try {
        const { doc, keys } = await this.#read();
        const { keys: next, result } = fn(keys, doc);
        if (next !== keys) await writeFileAtomic(this.path, `${JSON.stringify({ ...doc, dataKeys: next }, null, 2)}\n`);
        return result;
      } finally {
        await release();
      }
    };
    const p = this.#chain.then(run, run);
    this.#chain = p.catch(() => undefined);
    return p;
  }
}

function retiredLocalKek(doc: Record<string, unknown>, kekId: string): boolean {
  const m = /^local:v([0-9]+):/.exec(kekId);
  const retired = doc['retiredKeks'];
  return m !== null && Array.isArray(retired) && retired.some((r) => (r as { version?: unknown })?.version === Number(m[1]));
}

/**
 * Takes the lock every writer of a key file holds (exported for key-file rotation), then destroys
 * the temp files killed writers left: they may hold KEKs or wrapped keys, and under the lock no
 * live writer has one open.
 */
export async function lockKeyFile(path: string): Promise<() => Promise<void>> {
  const release = await acquireLock(`${path}.lock`, { timeoutMs: LOCK_TIMEOUT_MS, busy: (m) => new KeyError('store_locked', m) });
  try {
    await sweepTempFiles(path, { all: true, destroy: true });
  } catch (e) {
    await release();
    throw e;
  }
  return release;
}
