/**
 * Key rotation without downtime, on any Keyring and KeyStore.
 *
 * - KEK rotation: a new KEK version becomes current (in the keyring), then `rewrapDataKeys`
 *   re-wraps every data key under it with compare-and-swap writes (`KeyStore.replace`): no field
 *   is re-encrypted, sealing goes on, and a run can be stopped at any point and run again (keys
 *   already under the current KEK are skipped). A KEK version is retired only when no data key is
 *   wrapped under it any more (`assertKekUnused`).
 * - Data-key rotation: `retireDataKeys` marks data keys retired; sealers then move to a new
 *   generation and `reseal` (src/seal/reseal.ts) re-encrypts records under the new keys.
 *
 * Also: pure helpers to add and remove versions in local key material (the key file).
 */
import { constantTimeEqual, toBase64Url, wipe } from '../crypto/bytes.js';
import { randomBytes } from '../crypto/random.js';
import { KeyError } from '../errors.js';
import { contextOf } from './data-keys.js';
import type { DataKeyRecord, KeyFilter, KeyStore } from './key-store.js';
import type { Keyring, WrappedDataKey } from './keyring.js';
import { kekId as localKekId, kekLength, type KekVersion, type LocalKeyMaterial } from './local-keyring.js';

// ---------------------------------------------------------------------------------------------
// KEK rewrap

export type RewrapOutcome = 'rewrapped' | 'current' | 'shredded' | 'deleted';

export interface RewrapEvent {
  readonly id: string;
  readonly outcome: RewrapOutcome;
  /** KEK the key was wrapped under before. */
  readonly from: string;
  /** KEK it is wrapped under now. */
  readonly to: string;
}

export interface RewrapOptions {
  /** Only keys of this class / scope. */
  filter?: KeyFilter;
  /** Keys rewrapped at once (default 4). */
  concurrency?: number;
  /**
   * Unwrap the new wrapping and compare it with the old key before the store is updated (default
   * true; only when the keyring has no in-authority `rewrap`, where the key never leaves it).
   */
  verify?: boolean;
  /** Called after each key is settled. Throwing stops the run; running again resumes it. */
  onKey?: (event: RewrapEvent) => void;
  signal?: AbortSignal;
}

export interface RewrapSummary {
  /** Data keys looked at. */
  readonly scanned: number;
  /** Re-wrapped under the current KEK by this run. */
  readonly rewrapped: number;
  /** Already under the current KEK (an earlier or concurrent run did it, or it was created after the rotation). */
  readonly alreadyCurrent: number;
  /** Shredded tombstones (nothing to wrap) and keys deleted meanwhile. */
  readonly skipped: number;
  /** Compare-and-swap conflicts with concurrent writers, each resolved by re-reading the key. */
  readonly conflicts: number;
}

const MAX_CAS_ATTEMPTS = 8;

/**
 * Re-wraps every data key (matching `filter`) that is not under its class's current KEK. Each
 * key is replaced atomically with compare-and-swap, so a concurrent rewrap, shred or retire never
 * loses an update. Idempotent and resumable: it keeps no state besides the store.
 */
export async function rewrapDataKeys(keyring: Keyring, store: KeyStore, options: RewrapOptions = {}): Promise<RewrapSummary> {
  const records = await store.list(options.filter);
  const concurrency = Math.max(1, options.concurrency ?? 4);
  let rewrapped = 0;
  let alreadyCurrent = 0;
  let skipped = 0;
  let conflicts = 0;
  let next = 0;

  const one = async (start: DataKeyRecord): Promise<void> => {
    let r: DataKeyRecord | undefined = start;
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      if (!r) return settle('deleted', start.kekId, start.kekId, start.id);
      if (r.shreddedAt !== undefined || r.wrapped === '') return settle('shredded', r.kekId, r.kekId, r.id);
      const target = keyring.currentKekId(r.keyClass);
      if (!target) throw new KeyError('no_kek', `the keyring has no current KEK for key class "${r.keyClass}"`);
      if (r.kekId === target) return settle('current', r.kekId, r.kekId, r.id);
      const wrapped = await rewrapOne(keyring, r, options.verify !== false);
      if (await store.replace(r, { ...r, kekId: wrapped.kekId, wrapped: wrapped.wrapped })) {
        return settle('rewrapped', r.kekId, wrapped.kekId, r.id);
      }
      conflicts++;
      r = await store.get(r.id);
    }
    throw new KeyError('rewrap_conflict', `data key ${start.id} kept changing during rewrap; run rewrap again`);
  };

  const settle = (outcome: RewrapOutcome, from: string, to: string, id: string): void => {
    if (outcome === 'rewrapped') rewrapped++;
    else if (outcome === 'current') alreadyCurrent++;
    else skipped++;
    options.onKey?.({ id, outcome, from, to });
  };

  const worker = async (): Promise<void> => {
    while (next < records.length) {
      if (options.signal?.aborted) throw new KeyError('aborted', 'rewrap aborted; run it again to resume');
      await one(records[next++]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, records.length) }, worker));
  return { scanned: records.length, rewrapped, alreadyCurrent, skipped, conflicts };
}

async function rewrapOne(keyring: Keyring, r: DataKeyRecord, verify: boolean): Promise<WrappedDataKey> {
  const ctx = contextOf(r);
  const old = { kekId: r.kekId, wrapped: r.wrapped };
  if (keyring.rewrap) {
    try {
      return await keyring.rewrap(old, ctx);
    } catch (e) {
      // A multi-keyring may hold the old KEK in another authority: fall back to unwrap + wrap (which
      // refuses the KEK for good if no member is configured for it).
      if (!(e instanceof KeyError && (e.reason === 'no_kek' || e.reason === 'kek_not_allowed'))) throw e;
    }
  }
  const key = await keyring.unwrap(old, ctx);
  try {
    const wrapped = await keyring.wrap(key, ctx);
    if (verify) {
      const check = await keyring.unwrap(wrapped, ctx);
      const same = constantTimeEqual(check, key);
      wipe(check);
      if (!same) throw new KeyError('rewrap_mismatch', `rewrapping data key ${r.id} did not round-trip; store left unchanged`);
    }
    return wrapped;
  } finally {
    wipe(key);
  }
}

/** How many live (not shredded) data keys each KEK wraps. */
export async function kekUsage(store: KeyStore, filter?: KeyFilter): Promise<Map<string, number>> {
  const usage = new Map<string, number>();
  for (const r of await store.list(filter)) {
    if (r.shreddedAt !== undefined) continue;
    usage.set(r.kekId, (usage.get(r.kekId) ?? 0) + 1);
  }
  return usage;
}

/** Throws `KeyError('kek_in_use')` while any live data key is wrapped under one of `kekIds`. */
export async function assertKekUnused(store: KeyStore, kekIds: Iterable<string>): Promise<void> {
  const usage = await kekUsage(store);
  for (const id of kekIds) {
    const n = usage.get(id) ?? 0;
    if (n > 0) throw new KeyError('kek_in_use', `KEK ${id} still wraps ${n} data key${n === 1 ? '' : 's'}; run rewrap first`);
  }
}

// ---------------------------------------------------------------------------------------------
// Data-key rotation

/**
 * Marks every live data key matching `filter` as retired (compare-and-swap, idempotent). Sealers
 * that look up a key afterwards create a new generation; records sealed under a retired key still
 * open, and `reseal` moves them to new keys. Returns the ids of all retired keys in the filter.
 *
 * A sealer that already holds a key keeps sealing under it until it is recreated or `forget()`
 * is called on its key manager: restart sealing instances after retiring keys.
 */
export async function retireDataKeys(store: KeyStore, filter?: KeyFilter, now: () => Date = () => new Date()): Promise<string[]> {
  const ids: string[] = [];
  for (const start of await store.list(filter)) {
    let r: DataKeyRecord | undefined = start;
    for (let attempt = 0; r && r.retiredAt === undefined && r.shreddedAt === undefined; attempt++) {
      if (attempt >= MAX_CAS_ATTEMPTS) throw new KeyError('retire_conflict', `data key ${start.id} kept changing; run again`);
      if (await store.replace(r, { ...r, retiredAt: now().toISOString() })) break;
      r = await store.get(r.id);
    }
    if (r && r.shreddedAt === undefined) ids.push(r.id);
  }
  return ids.sort();
}

// ---------------------------------------------------------------------------------------------
// Local key material (the key file): add and remove KEK versions

export interface RetiredKek {
  readonly version: number;
  readonly retiredAt: string;
}

/** Local key material that also remembers retired KEK versions, so version numbers are never reused. */
export type RotatableKeyMaterial = LocalKeyMaterial & { readonly retiredKeks?: readonly RetiredKek[] };

/**
 * Adds a KEK version (the next number after every version ever created, retired ones included)
 * with fresh KEKs for the same key classes and algorithm as the current version, and makes it
 * current. Pure: returns new material; the caller persists it.
 */
export function addKekVersion<M extends RotatableKeyMaterial>(material: M, now: Date = new Date()): M {
  const current = material.keks.find((v) => v.version === material.currentKek);
  if (!current) throw new KeyError('bad_kek', 'currentKek names no KEK version');
  const version = Math.max(0, ...material.keks.map((v) => v.version), ...(material.retiredKeks ?? []).map((v) => v.version)) + 1;
  const keys: Record<string, string> = {};
  for (const keyClass of Object.keys(current.keys)) keys[keyClass] = toBase64Url(randomBytes(kekLength(current.alg)));
  const added: KekVersion = { version, createdAt: now.toISOString(), ...(current.alg ? { alg: current.alg } : {}), keys };
  return { ...material, keks: [...material.keks, added], currentKek: version };
}

/** The KEK ids (`local:v<N>:<class>`) of one version of local key material. */
export function localKekIds(material: LocalKeyMaterial, version: number): string[] {
  const v = material.keks.find((k) => k.version === version);
  return v ? Object.keys(v.keys).map((c) => localKekId(version, c)) : [];
}

/**
 * Removes KEK version `version`. Refused for the current version, for an unknown one, and while
 * `usage` (from `kekUsage`) shows any data key wrapped under one of its KEKs.
 */
export function removeKekVersion<M extends RotatableKeyMaterial>(
  material: M,
  version: number,
  usage: ReadonlyMap<string, number>,
  now: Date = new Date(),
): M {
  if (!material.keks.some((v) => v.version === version)) throw new KeyError('no_kek', `there is no KEK version ${version}`);
  if (version === material.currentKek) throw new KeyError('kek_current', `KEK version ${version} is current; rotate first`);
  for (const id of localKekIds(material, version)) {
    const n = usage.get(id) ?? 0;
    if (n > 0) throw new KeyError('kek_in_use', `KEK ${id} still wraps ${n} data key${n === 1 ? '' : 's'}; run rewrap first`);
  }
  return {
    ...material,
    keks: material.keks.filter((v) => v.version !== version),
    retiredKeks: [...(material.retiredKeks ?? []), { version, retiredAt: now.toISOString() }],
  };
}
