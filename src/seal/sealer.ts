/**
 * The data path: seal (plain → sealed) and open (sealed → plain, for a principal and a purpose).
 * Masks are computed here, at seal time, so that `mask()` later needs no key at all.
 */
import { getSuite, type SuiteName } from '../crypto/aead.js';
import { randomBytes } from '../crypto/random.js';
import { ConfigError, KeyError, ValidationError } from '../errors.js';
import { decryptField, encryptField } from '../format/field-crypto.js';
import { parseEnc, type SealedField } from '../format/sealed-field.js';
import type { KeyCacheOptions } from '../keys/cache.js';
import { DataKeyManager, type DataKey } from '../keys/data-keys.js';
import type { KeyStore } from '../keys/key-store.js';
import type { Keyring } from '../keys/keyring.js';
import { checkProtectedValue, computeMasks, maskAll } from '../mask/index.js';
import type { VirtualNumber } from '../schema/kinds.js';
import type { OpenedRecord, PlainRecord, Schema, SealedRecord } from '../schema/schema.js';
import { protectedPaths } from '../schema/paths.js';
import { walkRecord, type Leaf } from '../schema/walk.js';
import { monthScope, scopeOf, type ScopeFunction } from './scope.js';

export interface SealerOptions {
  keyring: Keyring;
  keyStore: KeyStore;
  /** AEAD suite for new seals (default `xchacha20-poly1305`). Any suite opens. */
  suite?: SuiteName;
  /** Data-key scope of a record (default: UTC month of the schema's `scopeFrom` date). */
  scope?: ScopeFunction;
  /** Seal values that fail validation anyway, masking every digit and letter (default false). */
  lenient?: boolean;
  /** Unwrapped data-key cache bounds. */
  cache?: KeyCacheOptions;
  /** Lower the per-data-key message cap (tests, cautious deployments). */
  messageCap?: number;
}

/** Who opens, and why. Policies (scopes, quotas) are checked against this. */
export interface AccessRequest {
  readonly principal: string;
  readonly purpose: string;
  /** Schema paths to open (`receiver.mobile`, `items[].name`); default: every protected field. */
  readonly fields?: readonly string[];
  /** Evidence for scoped purposes (ticket id, route, outlet, approval id …). */
  readonly context?: Readonly<Record<string, string>>;
}

export interface OpenResult<S extends Schema> {
  /** The record; fields that were not opened hold their screen masks. */
  readonly record: OpenedRecord<S>;
  /** Value paths that were decrypted. */
  readonly opened: readonly string[];
}

export interface Sealer {
  readonly suite: SuiteName;
  seal<S extends Schema>(schema: S, record: PlainRecord<S>): Promise<SealedRecord<S>>;
  sealMany<S extends Schema>(schema: S, records: readonly PlainRecord<S>[]): Promise<SealedRecord<S>[]>;
  open<S extends Schema>(schema: S, sealed: SealedRecord<S>, access: AccessRequest): Promise<OpenResult<S>>;
  /** Zero cached keys; the sealer refuses work afterwards. */
  close(): void;
}

export function createSealer(options: SealerOptions): Sealer {
  if (!options?.keyring || !options.keyStore) throw new ConfigError('createSealer needs a keyring and a keyStore');
  const suiteName = options.suite ?? 'xchacha20-poly1305';
  const suite = getSuite(suiteName);
  const scopeFn = options.scope ?? monthScope;
  const keys = new DataKeyManager(options.keyring, options.keyStore, {
    ...(options.cache ? { cache: options.cache } : {}),
    ...(options.messageCap !== undefined ? { messageCap: options.messageCap } : {}),
  });

  async function seal<S extends Schema>(schema: S, record: PlainRecord<S>): Promise<SealedRecord<S>> {
    const { copy, leaves } = walkRecord(schema.shape, record, 'plain');
    const recordId = copy[schema.recordId] as string;
    if (recordId.length === 0) throw new ValidationError(schema.recordId, 'empty');
    const scope = scopeOf(scopeFn, copy, schema);
    const prepared = leaves.map((leaf) => ({ leaf, masks: masksFor(leaf, options.lenient === true) }));

    const perClass = new Map<string, number>();
    for (const { leaf } of prepared) perClass.set(leaf.def.keyClass, (perClass.get(leaf.def.keyClass) ?? 0) + 1);
    const dataKeys = new Map<string, DataKey>();
    for (const [keyClass, count] of perClass) dataKeys.set(keyClass, await keys.forSeal(keyClass, scope, suite.name, count));

    // No await below: a concurrent close() cannot zero a key between this check and its use.
    if (keys.closed) throw new KeyError('closed', 'this sealer has been closed');
    for (const { leaf, masks } of prepared) {
      const binding = { schemaName: schema.name, schemaVersion: schema.version, recordId, fieldPath: leaf.path };
      const enc = encryptField(suite, dataKeys.get(leaf.def.keyClass)!, randomBytes(suite.nonceLength), binding, leaf.value);
      const field: SealedField = { enc, mask: masks };
      leaf.parent[leaf.key] = field;
    }
    return copy as SealedRecord<S>;
  }

  async function open<S extends Schema>(schema: S, sealed: SealedRecord<S>, access: AccessRequest): Promise<OpenResult<S>> {
    checkAccess(access);
    const { copy, leaves } = walkRecord(schema.shape, sealed, 'sealed');
    const recordId = copy[schema.recordId] as string;
    const wanted = access.fields === undefined ? undefined : new Set(access.fields);
    const known = protectedPaths(schema);
    for (const f of wanted ?? []) if (!known.has(f)) throw new ConfigError(`"${f}" is not a protected field of ${schema.name}`);
    const opened: string[] = [];
    const selected: { leaf: Leaf<SealedField>; enc: ReturnType<typeof parseEnc>; key: Promise<DataKey> }[] = [];
    for (const leaf of leaves) {
      if (wanted && !wanted.has(leaf.schemaPath)) {
        leaf.parent[leaf.key] = leaf.value.mask['screen'] ?? '****';
        continue;
      }
      const enc = parseEnc(leaf.value.enc);
      selected.push({ leaf, enc, key: keys.forOpen(enc.dataKeyId, enc.suite) });
    }
    const dataKeys = await Promise.all(selected.map((s) => s.key));
    if (keys.closed) throw new KeyError('closed', 'this sealer has been closed');
    // Decrypt everything before writing anything: a failure yields no partial plaintext.
    const values = selected.map(({ leaf, enc }, i) => {
      const binding = { schemaName: schema.name, schemaVersion: schema.version, recordId, fieldPath: leaf.path };
      return decryptField(getSuite(enc.suite), dataKeys[i]!.key, enc, binding, leaf.def.kind);
    });
    selected.forEach(({ leaf }, i) => {
      leaf.parent[leaf.key] = values[i];
      opened.push(leaf.path);
    });
    return { record: copy as OpenedRecord<S>, opened };
  }

  return {
    suite: suiteName,
    seal,
    async sealMany(schema, records) {
      const out = [];
      for (const r of records) out.push(await seal(schema, r));
      return out;
    },
    open,
    close: () => keys.close(),
  };
}

function masksFor(leaf: Leaf<string | VirtualNumber>, lenient: boolean): Record<string, string> {
  const ctx = leaf.country === undefined ? {} : { country: leaf.country };
  const reason = checkProtectedValue(leaf.def.kind, leaf.value, ctx);
  if (reason === undefined) return computeMasks(leaf.def.kind, leaf.value, leaf.def.mask, ctx);
  // Already-masked input is refused even when lenient: storing a mask as data silently loses it.
  if (!lenient || reason === 'already_masked') throw new ValidationError(leaf.path, reason);
  const all = maskAll(typeof leaf.value === 'string' ? leaf.value : `${leaf.value.main}转${leaf.value.ext}`);
  return { label: all, screen: all };
}

function checkAccess(access: AccessRequest): void {
  if (!access || typeof access.principal !== 'string' || access.principal.length === 0) {
    throw new ConfigError('open needs access.principal');
  }
  if (typeof access.purpose !== 'string' || access.purpose.length === 0) throw new ConfigError('open needs access.purpose');
  if (access.fields !== undefined && !Array.isArray(access.fields)) throw new ConfigError('access.fields must be an array');
}
