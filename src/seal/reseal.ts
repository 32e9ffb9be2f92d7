/**
 * Re-sealing (data-key rotation, e.g. after a suspected key compromise): records come in sealed
 * and go out sealed, with every field whose data key is retired re-encrypted under a new
 * generation of its (key class, scope). Masks and search tokens are kept as they are (they do not
 * depend on data keys); fields under live keys are copied unchanged. Each output record is
 * verified before it is returned: every field opens, and every new data key is read back from the
 * key store and unwrapped by the keyring, so nothing is counted that a fresh reader could not open.
 *
 * Retire keys first with `retireDataKeys` (src/keys/rotation.ts); sealers never take a retired key
 * again. Streaming in and out (`reseal` takes and yields async iterables); resuming from a
 * checkpoint is the caller's (see `resealFile` in `waybill-seal/node`).
 */
import { getSuite, type SuiteName } from '../crypto/aead.js';
import { constantTimeEqual, wipe } from '../crypto/bytes.js';
import { randomNonce } from '../crypto/random.js';
import { AuthenticationError, ConfigError, IntegrityError, KeyError } from '../errors.js';
import { decryptField, encryptField } from '../format/field-crypto.js';
import { DATA_KEY_ID, parseEnc, type ParsedEnc, type SealedField } from '../format/sealed-field.js';
import type { KeyCacheOptions } from '../keys/cache.js';
import { contextOf, DataKeyManager, type DataKey } from '../keys/data-keys.js';
import type { KeyStore } from '../keys/key-store.js';
import type { Keyring } from '../keys/keyring.js';
import type { VirtualNumber } from '../schema/kinds.js';
import type { Schema, SealedRecord } from '../schema/schema.js';
import { createTagger, tagHash, type IntegrityOptions } from '../integrity/tag.js';
import { TAG_FIELD, walkRecord, type Leaf } from '../schema/walk.js';

export interface ResealerOptions {
  keyring: Keyring;
  keyStore: KeyStore;
  /** Suite of re-encrypted fields (default: each field keeps its own). */
  suite?: SuiteName;
  /** Unwrapped data-key cache bounds. */
  cache?: KeyCacheOptions;
  /** Check each record's integrity tag and write a new one (default true; see SealerOptions.integrity). */
  integrity?: boolean | IntegrityOptions;
  /**
   * Re-encrypt fields under exactly these data keys (e.g. the ids `retireDataKeys` returned), not
   * those the key store marks retired: `retired_at` is a plain column a DB writer can clear, which
   * would make a reseal skip every row. Retire them too, so that sealers stop using them.
   */
  dataKeyIds?: Iterable<string>;
}

export interface ResealResult<S extends Schema> {
  readonly record: SealedRecord<S>;
  /** Fields re-encrypted in this record (0: it held no field under a retired key). */
  readonly resealed: number;
}

export interface Resealer {
  /** Re-seals one record (verified before it returns). */
  resealRecord<S extends Schema>(schema: S, record: SealedRecord<S>): Promise<ResealResult<S>>;
  /** Re-seals a stream of records, in order; stops at the first record that fails. */
  reseal<S extends Schema>(
    schema: S,
    records: AsyncIterable<SealedRecord<S>> | Iterable<SealedRecord<S>>,
  ): AsyncGenerator<ResealResult<S>, void, undefined>;
  /** Zero cached keys; the resealer refuses work afterwards. */
  close(): void;
}

interface Field {
  leaf: Leaf<SealedField>;
  enc: ParsedEnc;
  retired: boolean;
  plain?: string | VirtualNumber;
}

export function createResealer(options: ResealerOptions): Resealer {
  if (!options?.keyring || !options.keyStore) throw new ConfigError('createResealer needs a keyring and a keyStore');
  const { keyring, keyStore } = options;
  if (options.suite !== undefined) getSuite(options.suite);
  const keys = new DataKeyManager(keyring, keyStore, options.cache ? { cache: options.cache } : {});
  const tagger = options.integrity === false ? undefined : createTagger(keyring, undefined, options.integrity === true || options.integrity === undefined ? {} : options.integrity);
  const retiredById = new Map<string, Promise<boolean>>();
  const targets = options.dataKeyIds === undefined ? undefined : new Set(options.dataKeyIds);
  if (targets && (targets.size === 0 || [...targets].some((id) => typeof id !== 'string'))) throw new ConfigError('dataKeyIds must be a non-empty list of data key ids');
  const verified = new Map<string, Promise<void>>();

  const isRetired = (id: string): Promise<boolean> => {
    let p = retiredById.get(id);
    if (!p) {
      p = keyStore.get(id).then((r) => {
        if (!r) throw new KeyError('data_key_missing', `data key ${id} is not in the key store`);
        return targets ? targets.has(id) : r.retiredAt !== undefined;
      });
      retiredById.set(id, p);
      p.catch(() => retiredById.delete(id));
    }
    return p;
  };

  /** A new data key counts only once a fresh read of the store unwraps to the very same key. */
  const verifyStored = (key: DataKey): Promise<void> => {
    let p = verified.get(key.id);
    if (!p) {
      p = (async () => {
        const record = await keyStore.get(key.id);
        if (!record || record.retiredAt !== undefined || record.shreddedAt !== undefined) {
          throw new KeyError('reseal_verify', `new data key ${key.id} is not live in the key store`);
        }
        const stored = await keyring.unwrap({ kekId: record.kekId, wrapped: record.wrapped }, contextOf(record));
        const same = constantTimeEqual(stored, key.key);
        wipe(stored);
        if (!same) throw new KeyError('reseal_verify', `data key ${key.id} in the key store differs from the one used`);
      })();
      verified.set(key.id, p);
      p.catch(() => verified.delete(key.id));
    }
    return p;
  };

  async function resealRecord<S extends Schema>(schema: S, record: SealedRecord<S>): Promise<ResealResult<S>> {
    const { copy, leaves } = walkRecord(schema.shape, record, 'sealed');
    const recordId = copy[schema.recordId] as string;
    const bindingOf = (leaf: Leaf<SealedField>) => ({ schemaName: schema.name, schemaVersion: schema.version, recordId, fieldPath: leaf.path });

    const fields: Field[] = [];
    for (const leaf of leaves) {
      const enc = parseEnc(leaf.value.enc);
      fields.push({ leaf, enc, retired: await isRetired(enc.dataKeyId) });
    }
    // Open every field first: a record that does not open is rejected whole, nothing is re-encrypted.
    // Pinned (not zeroed if they leave the key cache) until decrypted; each released once.
    const loads = await Promise.allSettled(fields.map((f) => keys.forOpen(f.enc.dataKeyId, f.enc.suite)));
    const oldKeys = loads.flatMap((l) => (l.status === 'fulfilled' ? [l.value] : []));
    try {
      for (const l of loads) if (l.status === 'rejected') throw l.reason;
      if (keys.closed) throw new KeyError('closed', 'this resealer has been closed');
      fields.forEach((f, i) => {
        f.plain = decryptField(getSuite(f.enc.suite), oldKeys[i]!.key, f.enc, bindingOf(f.leaf), f.leaf.def.kind);
      });
    } finally {
      keys.release(oldKeys);
    }
    // As in open: ciphertexts first (AuthenticationError), then the record tag, before anything is re-sealed.
    if (tagger) {
      const verdict = await tagger.verify(schema, record);
      if (!verdict.ok) throw new IntegrityError(verdict.path, verdict.reason);
    }

    // New keys: one reservation per (key class, scope, suite) for all of this record's fields.
    const slots = new Map<string, { keyClass: string; scope: string; suite: SuiteName; count: number; key?: DataKey }>();
    for (const f of fields) {
      if (!f.retired) continue;
      const m = DATA_KEY_ID.exec(f.enc.dataKeyId)!;
      const suite = options.suite ?? (f.enc.suite as SuiteName);
      const slot = `${m[1]}/${m[2]}/${suite}`;
      const s = slots.get(slot) ?? { keyClass: m[1]!, scope: m[2]!, suite, count: 0 };
      s.count++;
      slots.set(slot, s);
    }
    // Taken again if a held key was zeroed meanwhile (as in seal).
    for (let attempt = 0, epoch = -1; epoch !== keys.epoch; attempt++) {
      if (attempt === 3) throw new KeyError('keys_forgotten', 'data keys kept being zeroed while this record was resealed; try again');
      epoch = keys.epoch;
      for (const s of slots.values()) {
        s.key = await keys.forSeal(s.keyClass, s.scope, s.suite, s.count);
        if (await isRetired(s.key.id)) throw new KeyError('reseal_retired', `data key ${s.key.id} is retired; restart the resealer`);
        await verifyStored(s.key);
      }
    }
    if (keys.closed) throw new KeyError('closed', 'this resealer has been closed');

    let resealed = 0;
    for (const f of fields) {
      if (!f.retired) continue;
      const m = DATA_KEY_ID.exec(f.enc.dataKeyId)!;
      const suiteName = options.suite ?? (f.enc.suite as SuiteName);
      const key = slots.get(`${m[1]}/${m[2]}/${suiteName}`)!.key!;
      const suite = getSuite(suiteName);
      const binding = bindingOf(f.leaf);
      const enc = encryptField(suite, key, randomNonce(suite.nonceLength), binding, f.plain!);
      // Verify: the new ciphertext opens, with the key read back from the store, to the same value.
      const back = decryptField(suite, key.key, parseEnc(enc), binding, f.leaf.def.kind);
      if (!sameValue(back, f.plain!)) throw new AuthenticationError();
      const field: SealedField = { ...f.leaf.value, enc };
      f.leaf.parent[f.leaf.key] = field;
      resealed++;
    }
    for (const f of fields) if (!f.retired) f.leaf.parent[f.leaf.key] = f.leaf.value;
    // New ciphertexts, new tag (same keyed hash as before).
    if (tagger) copy[TAG_FIELD] = await tagger.tag(schema, copy, tagHash((record as Record<string, unknown>)[TAG_FIELD]));
    return { record: copy as SealedRecord<S>, resealed };
  }

  return {
    resealRecord,
    async *reseal(schema, records) {
      for await (const r of records) yield await resealRecord(schema, r);
    },
    close: () => keys.close(),
  };
}

function sameValue(a: string | VirtualNumber, b: string | VirtualNumber): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return a.main === b.main && a.ext === b.ext && a.expiresAt === b.expiresAt;
}
