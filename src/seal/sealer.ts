/**
 * The data path: seal (plain → sealed) and open (sealed → plain, for a principal and a purpose).
 * Masks are computed here, at seal time, so that `mask()` later needs no key at all.
 */
import { forgetPreparedKeys, getSuite, type AeadSuite, type SuiteName } from '../crypto/aead.js';
import { BACKEND_CHOICES, type BackendChoice } from '../crypto/backend.js';
import { loadNativeCrypto } from '../crypto/backend-load.js';
import { constantTimeEqual, encodePart, encodeParts } from '../crypto/bytes.js';
import { randomNonce } from '../crypto/random.js';
import { AccessDeniedError, AuthenticationError, ConfigError, FormatError, IntegrityError, KekNotAllowedError, KeyError, ShreddedError, ValidationError, WaybillSealError } from '../errors.js';
import { createTagger, verifyRecord, type IntegrityOptions, type VerifyResult } from '../integrity/tag.js';
import { decryptField, encryptField, recordAad, type RecordAad } from '../format/field-crypto.js';
import { isSealedField, parseEnc, type ParsedEnc, type SealedField } from '../format/sealed-field.js';
import { cacheTiming, type KeyCacheOptions } from '../keys/cache.js';
import { DataKeyManager, type DataKey } from '../keys/data-keys.js';
import type { KeyStore } from '../keys/key-store.js';
import type { Keyring } from '../keys/keyring.js';
import { checkProtectedValue, computeMasks, maskAll } from '../mask/index.js';
import { memoPhoneParser, type PhoneParser } from '../normalize/phone-core.js';
import { parsePhone } from '../normalize/phone.js';
import type { VirtualNumber } from '../schema/kinds.js';
import type { OpenedRecord, PlainOpenedRecord, PlainRecord, Schema, SealedRecord } from '../schema/schema.js';
import { protectedFields, type ProtectedPath } from '../schema/paths.js';
import { isPlainObject, TAG_FIELD, walkRecord, type Leaf } from '../schema/walk.js';
import type { AuditSink, Withheld } from '../access/audit.js';
import { AccessGuard, type Authorization, type OpenContext, type ScopeCondition, type SearchResultCounts } from '../access/guard.js';
import { Redacted } from '../access/redacted.js';
import { monthScope, scopeOf, type ScopeFunction } from './scope.js';
import type { IndexHash, IndexName } from '../schema/indexes.js';
import { forgetMacKeys, tokenScope } from '../search/tokens.js';
import { IndexKeys, retireIndexKeys, windowProblem, type IndexKeyFilter, type SearchWindow } from '../keys/index-keys.js';
import { classOf, indexesOf, indexSpec, queryParts, SearchEngine, type RecordTokenOptions, type RecordTokens } from '../search/engine.js';
import { retentionCutoff, shred, shredBefore, shredRetiredIndexKeys, type Retention, type ShredBeforeOptions, type ShredOptions, type ShredReport, type ShredRetiredOptions } from '../access/shred.js';
import { partsFromRecord } from '../search/transforms.js';

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
  /** Keyed hash of blind indexes (default `hmac-sha256`; `hmac-sm3` for national-algorithm deployments). */
  indexHash?: IndexHash;
  /**
   * Where search tokens' keys come from: always `'key-store'` (the default; the only value, accepted
   * for code written when it was an option). A random index key per field key class and month, of
   * key class `<class>-index` (the keyring needs a KEK for it), wrapped and stored like data keys and
   * shredded with the month's data keys; tokens read `<month>~<generation>.…` and a query returns one
   * token per live month in its `window`. The keyring's `index` secret is never used: `reindex`
   * moves records with tokens made from it to these tokens (docs/FORMAT.md §10).
   */
  indexKeys?: 'key-store';
  /**
   * How long the key store keeps month-scoped keys (`{ months: 24 }`: every record at least 24 full
   * months; the retention job runs `sealer.shredBefore(retention)`). Key-store index keys: the default
   * search window is the months it keeps, `months + 1` tokens per query at most. Without it a query
   * searches every month whose index key is live.
   */
  retention?: Retention;
  /**
   * Who may open what (policy, quotas, audit): `createAccessGuard({ policy, audit })`. Required for
   * `open`; `'allow-all'` opens whatever is asked, unaudited, and must be said explicitly.
   */
  guard?: AccessGuard | 'allow-all';
  /**
   * Migration from plaintext: `open` accepts protected fields that still hold their legacy plain
   * value (not sealed yet). They pass the same policy and audit as sealed fields, are returned as
   * they are, show a mask computed at open time when not granted, and are listed in
   * `OpenResult.plaintext`. Default false: an unsealed protected field is a ValidationError.
   */
  acceptPlaintext?: boolean;
  /**
   * Migration re-runs: `seal` passes protected fields that already hold a sealed field through
   * unchanged (their format is checked, not their keys) and seals the others, so a backfill can be
   * run again safely. A record holding sealed fields or a `$tag` must have a tag that verifies
   * (over everything but its plaintext fields) before the new tag covers it.
   */
  passSealed?: boolean;
  /**
   * Record integrity tags (default true: HMAC): `seal` writes a `$tag` over signed plain fields,
   * ciphertexts, masks and tokens; `open` and `verify` refuse a record whose tag is missing, does not
   * verify, or was made with a key not configured here (IntegrityError). `{ alg: 'ed25519' }` or
   * `{ alg: 'sm2' }` signs instead (the keyring's private key of that name), so printers and
   * stations check tags with a public key (`keys export-verify`) and cannot forge them; `version`
   * pins the key written and `accept` lists other keys still accepted. `false` neither writes nor
   * checks tags (and refuses a policy that scopes on record fields, which only a tag vouches for).
   */
  integrity?: boolean | IntegrityOptions;
  /**
   * Crypto implementation: `'auto'` (default) uses native crypto where the runtime has it (Node:
   * libsodium's XChaCha20-Poly1305 where the optional `sodium-native` loads, OpenSSL for AES-256-GCM,
   * HMAC-SHA-256 and XChaCha20-Poly1305 otherwise), `'openssl'` native crypto without libsodium,
   * `'js'` only the portable code. All write the same bytes. The environment variable
   * `WAYBILL_SEAL_BACKEND=js` (or `openssl`) forces that choice on Node; `describeBackend()` says what runs.
   */
  backend?: BackendChoice;
}

/**
 * Who opens, and why. Policies (scopes, quotas) are checked against this. `P`: the schema paths
 * `fields` may name (`open` passes the schema's `ProtectedPath`, so a typo does not compile).
 */
export interface AccessRequest<P extends string = string> {
  readonly principal: string;
  readonly purpose: string;
  /** Schema paths to open (`receiver.mobile`, `items[].name`); default: every protected field. Checked at run time too. */
  readonly fields?: readonly P[];
  /** Evidence for scoped purposes (ticket id, route, outlet, approval id …); recorded in the audit log. */
  readonly context?: Readonly<Record<string, string>>;
  /** `'redacted'` (default): opened values are `Redacted` (print as `[redacted]`); `'plain'`: plain values. */
  readonly reveal?: 'redacted' | 'plain';
}

/**
 * Who searches, and why: a search is an access like `open`. The purpose (default `search`) must
 * be in the policy and allowed to search the index; its scope, evidence and search quota apply,
 * and the query is audited (never its value).
 */
export interface SearchRequest {
  readonly principal: string;
  /** A policy purpose (default `search`). */
  readonly purpose?: string;
  /** Evidence (ticket, outlet, route …): scoped purposes only find records of their scope. */
  readonly context?: Readonly<Record<string, string>>;
  /** Region for phone numbers written without a country code (default CN). */
  readonly country?: string;
  /**
   * The months to search, `{ from?: 'YYYY-MM', to?: 'YYYY-MM' }` (default: the months the sealer's `retention` keeps; without one, every month whose
   * index key is live). One token per live month and generation.
   */
  readonly window?: SearchWindow;
}

/** One authorised query: its tokens, its scope, and where its result counts go. */
export interface SearchGrant {
  /** Every token that may match the value (one per index version held, newest first). */
  readonly tokens: readonly string[];
  /** Plain fields a result must hold (one of them); empty: no scope. Add them to the database query. */
  readonly scope: readonly ScopeCondition[];
  /** Whether a sealed record lies in the query's scope. */
  inScope(sealed: unknown): boolean;
  /** Audits the query's result counts (one `search` event, outcome `done`). */
  done(result: SearchResultCounts): Promise<void>;
}

export interface OpenResult<S extends Schema, R = OpenedRecord<S>> {
  /** The record; opened fields are `Redacted` (or plain with `reveal: 'plain'`), others hold their screen masks. */
  readonly record: R;
  /** Value paths that were decrypted. */
  readonly opened: readonly string[];
  /** Fields asked for but not opened, with a reason (`field_not_granted`, `shredded`, `key_not_held`); they hold masks. */
  readonly withheld: readonly Withheld[];
  /** With `acceptPlaintext`: protected fields that held legacy plaintext (not sealed yet). */
  readonly plaintext?: readonly string[];
}

export interface Sealer {
  readonly suite: SuiteName;
  seal<S extends Schema>(schema: S, record: PlainRecord<S>): Promise<SealedRecord<S>>;
  /** `seal` of each record, in order; per-call work (keys, index keys, backend) is done once per batch. */
  sealMany<S extends Schema>(schema: S, records: readonly PlainRecord<S>[]): Promise<SealedRecord<S>[]>;
  open<S extends Schema>(schema: S, sealed: SealedRecord<S>, access: AccessRequest<ProtectedPath<S>> & { readonly reveal: 'plain' }): Promise<OpenResult<S, PlainOpenedRecord<S>>>;
  open<S extends Schema>(schema: S, sealed: SealedRecord<S>, access: AccessRequest<ProtectedPath<S>> & { readonly reveal?: 'redacted' }): Promise<OpenResult<S>>;
  open<S extends Schema>(schema: S, sealed: SealedRecord<S>, access: AccessRequest<ProtectedPath<S>>): Promise<OpenResult<S, OpenedRecord<S> | PlainOpenedRecord<S>>>;
  /**
   * `open` of each record with one access request, in order: each record is authorised, charged and
   * audited on its own, exactly as by `open`; the request is checked once. Throws the first error
   * (records before it are opened and audited).
   */
  openMany<S extends Schema>(schema: S, sealed: readonly SealedRecord<S>[], access: AccessRequest<ProtectedPath<S>> & { readonly reveal: 'plain' }): Promise<OpenResult<S, PlainOpenedRecord<S>>[]>;
  openMany<S extends Schema>(schema: S, sealed: readonly SealedRecord<S>[], access: AccessRequest<ProtectedPath<S>> & { readonly reveal?: 'redacted' }): Promise<OpenResult<S>[]>;
  openMany<S extends Schema>(schema: S, sealed: readonly SealedRecord<S>[], access: AccessRequest<ProtectedPath<S>>): Promise<OpenResult<S, OpenedRecord<S> | PlainOpenedRecord<S>>[]>;
  /** Drop cached unwrapped data keys (after shredding), so the key store is asked again. */
  forget(): void;
  /**
   * Crypto-shredding through this sealer: `shred` on its key store (the class's index keys with it),
   * and this process drops and zeroes the shredded keys and every key derived from them at once
   * (other processes within the key cache TTL, or at their `forget()`).
   */
  shred(keyClass: string, scope: string, options?: ShredOptions): Promise<ShredReport>;
  /**
   * Retention through this sealer: `shredBefore` on its key store (`before` a month, a date or a
   * `Retention` such as the sealer's own), with `shred`'s immediate effect here.
   */
  shredBefore(before: string | Date | Retention, options?: ShredBeforeOptions): Promise<ShredReport>;
  /**
   * Index-key rotation, step 1 (`retireIndexKeys` on its key store): new seals of this process take a
   * new index key generation at once (others within the key cache TTL). Returns the retired ids.
   */
  retireIndexKeys(filter?: IndexKeyFilter, options?: { readonly audit?: AuditSink }): Promise<string[]>;
  /**
   * Index-key rotation, step 3, after `reindex` went through every record: `shredRetiredIndexKeys`
   * on its key store with the ids step 1 returned and the last reindex item's `pass` (refused if the
   * keys are no longer retired, the pass left records behind or started less than one key cache TTL,
   * by default this sealer's, after the retire); queries here stop using them at once, elsewhere
   * within the key cache TTL.
   */
  shredRetiredIndexKeys(retired: readonly string[], options: ShredRetiredOptions): Promise<ShredReport>;
  /** Keyed hash of this sealer's blind indexes. */
  readonly indexHash: IndexHash;
  /**
   * Every token that may match `value` in a schema index: one per live index key (month and
   * generation) in the request's window, newest first (24 months = 24 tokens). `value` is a
   * string, or one string per field for a compound index. A search is an access: the guard decides
   * it (purpose, evidence, search quota) and audits it (`issued`, then `done` without counts) before
   * any token is returned. Bare tokens carry no scope, so a scoped purpose (a station's `pickup`) is
   * refused (`scope_required`): use `search` or `createFinder`, which return the scope with the tokens.
   * Throws ValidationError if the value does not normalise, AccessDeniedError if refused.
   */
  tokensFor<S extends Schema>(schema: S, index: IndexName<S>, value: string | readonly string[], request: SearchRequest): Promise<string[]>;
  /** `tokensFor` with the query's scope (for the database query) and its result audit (`createFinder` uses it). */
  search<S extends Schema>(schema: S, index: IndexName<S>, value: string | readonly string[], request: SearchRequest): Promise<SearchGrant>;
  /** Checks a sealed record's integrity tag (needs only the keyring's integrity secret). */
  verify<S extends Schema>(schema: S, sealed: SealedRecord<S>): Promise<VerifyResult>;
  /** The record with a fresh integrity tag: for code that rewrites stored tokens (re-indexing). */
  retag<S extends Schema>(schema: S, sealed: SealedRecord<S>): Promise<SealedRecord<S>>;
  /** Zero cached keys; the sealer refuses work afterwards. */
  close(): void;
  /** `using sealer = createSealer(…)`: `close()` when the scope ends. */
  [Symbol.dispose](): void;
}

export function createSealer(options: SealerOptions): Sealer {
  if (!options?.keyring || !options.keyStore) throw new ConfigError('createSealer needs a keyring and a keyStore');
  const suiteName = options.suite ?? 'xchacha20-poly1305';
  const backend: BackendChoice = options.backend ?? 'auto';
  if (!BACKEND_CHOICES.includes(backend)) throw new ConfigError(`backend must be ${BACKEND_CHOICES.map((b) => `"${b}"`).join(', ')}`);
  getSuite(suiteName);
  // Native crypto loads in the background; the first seal or open waits for it (once).
  let nativeLoading: Promise<unknown> | undefined = backend === 'js' ? undefined : loadNativeCrypto();
  const awaitNative = async (): Promise<void> => {
    if (nativeLoading !== undefined) {
      await nativeLoading;
      nativeLoading = undefined;
    }
  };
  const scopeFn = options.scope ?? monthScope;
  // Retire times and reindex pass starts follow the key cache clock: step 3 compares them with its TTL.
  const timing = cacheTiming(options.cache);
  const clock = () => new Date(timing.now());
  const keys = new DataKeyManager(options.keyring, options.keyStore, {
    ...(options.cache ? { cache: options.cache } : {}),
    ...(options.messageCap !== undefined ? { messageCap: options.messageCap } : {}),
  });
  if ((options.indexKeys as string) === 'secret') {
    throw new ConfigError('indexKeys "secret" was removed: search tokens come from per-month index keys (run reindex to move existing records, then drop the index secret)');
  }
  if (options.indexKeys !== undefined && options.indexKeys !== 'key-store') throw new ConfigError('indexKeys must be "key-store"');
  if (options.retention !== undefined) retentionCutoff(options.retention);
  const indexKeys = new IndexKeys(options.keyring, options.keyStore, options.cache);
  const search = new SearchEngine(indexKeys, options.indexHash ?? 'hmac-sha256', backend);
  // Derived keys of index keys shredded elsewhere are dropped when the listing next shows them gone.
  indexKeys.onListing((indexKeyClass, live) => search.retainIndexKeys(indexKeyClass, live));
  /** Keys this process shredded or retired: dropped (zeroed) here at once, with what was derived from them. */
  const evicted = <T extends ShredReport | string[]>(result: T, dryRun?: boolean): T => {
    if (dryRun === true) return result;
    const ids = Array.isArray(result) ? result : [...result.shredded, ...result.alreadyShredded];
    keys.evict(ids);
    indexKeys.evict(ids);
    if (!Array.isArray(result)) {
      search.dropIndexKeys(ids);
      forgetPreparedKeys();
    }
    return result;
  };
  const integrity = options.integrity === false || options.integrity === true || options.integrity === undefined ? {} : options.integrity;
  const tagger = options.integrity === false ? undefined : createTagger(options.keyring, search.hash, { ...integrity, backend });
  const withTag = async <T extends Record<string, unknown>>(schema: Schema, copy: T, version?: number): Promise<T> => {
    if (tagger) (copy as Record<string, unknown>)[TAG_FIELD] = await tagger.tag(schema, copy, undefined, version);
    return copy;
  };
  const guard = options.guard === 'allow-all' ? new AccessGuard({ policy: 'allow-all', audit: 'none' }) : options.guard;
  if (guard !== undefined && !(guard instanceof AccessGuard)) throw new ConfigError('guard must come from createAccessGuard() or be "allow-all"');
  // A scope decides on plain record fields: without a tag, anyone who can write the table chooses them.
  if (!tagger && guard?.policy !== 'allow-all' && Object.values(guard?.policy.purposes ?? {}).some((rule) => rule.scope !== undefined)) {
    throw new ConfigError('integrity: false cannot be used with a policy that scopes on record fields (the tag is what vouches for them)');
  }

  /** The integrity secret version a batch writes, resolved once by `sealMany` (undefined: ask the keyring). */
  interface Batch {
    readonly tagVersion?: number | undefined;
  }

  async function seal<S extends Schema>(schema: S, record: PlainRecord<S>, batch: Batch = {}): Promise<SealedRecord<S>> {
    if (nativeLoading !== undefined) await awaitNative();
    const suite = getSuite(suiteName, backend);
    // One parse per phone value for validation, both masks and every token of this record.
    const phone = memoPhoneParser(parsePhone);
    // Migration re-runs (passSealed): fields already sealed pass through; the others are sealed. A
    // 'plain' walk has already refused any leaf that is not a plain value.
    const passSealed = options.passSealed === true;
    const walked = walkRecord(schema.shape, record, passSealed ? 'mixed' : 'plain');
    const { copy } = walked;
    const passed = passSealed ? walked.leaves.filter(isSealedLeaf) : [];
    const leaves = passed.length === 0 ? (walked.leaves as Leaf<string | VirtualNumber>[]) : walked.leaves.filter(isPlainLeaf);
    const recordId = copy[schema.recordId] as string;
    if (recordId.length === 0) throw new ValidationError(schema.recordId, 'empty');
    const scope = scopeOf(scopeFn, copy, schema);
    for (const leaf of passed) parseEnc(leaf.value.enc);
    // A record that already holds sealed fields, or a tag, carries a tag over them: check it before
    // the new tag vouches for the record (a re-run must not bless what a table writer changed
    // meanwhile, even with every protected field rewritten as plaintext).
    if (tagger && (passed.length > 0 || (passSealed && Object.hasOwn(record, TAG_FIELD)))) {
      const verdict = await tagger.verify(schema, record);
      if (!verdict.ok) throw new IntegrityError(verdict.path, verdict.reason);
    }
    if (leaves.length === 0 && passed.length > 0) {
      for (const leaf of passed) leaf.parent[leaf.key] = leaf.value;
      return (await withTag(schema, copy, batch.tagVersion)) as SealedRecord<S>;
    }
    const masks = leaves.map((leaf) => masksFor(leaf, options.lenient === true, phone));
    let tokens: RecordTokens | undefined;
    if (Object.keys(indexesOf(schema)).length > 0) {
      // Search tokens (before any data key is taken, so a refused value costs nothing) read the
      // plaintext through the copy; the loop below replaces it with sealed fields.
      for (const leaf of leaves) leaf.parent[leaf.key] = leaf.value;
      tokens = await search.recordTokens(schema, copy, { lenient: options.lenient === true, phone, scope });
    }

    // Key classes of this record (a schema has few) with their field counts, in first-use order.
    const classes: string[] = [];
    const counts: number[] = [];
    for (const leaf of leaves) {
      const c = classes.indexOf(leaf.def.keyClass);
      if (c < 0) {
        classes.push(leaf.def.keyClass);
        counts.push(1);
      } else counts[c]!++;
    }
    const dataKeys: DataKey[] = [];
    // Keys are taken again if any held key was zeroed meanwhile (forget(), a key refused after a shred).
    for (let attempt = 0, epoch = -1; epoch !== keys.epoch; attempt++) {
      if (attempt === 3) throw new KeyError('keys_forgotten', 'data keys kept being zeroed while this record was sealed; try again');
      epoch = keys.epoch;
      dataKeys.length = 0;
      for (let c = 0; c < classes.length; c++) {
        dataKeys.push(keys.trySeal(classes[c]!, scope, suite.name, counts[c]) ?? (await keys.forSeal(classes[c]!, scope, suite.name, counts[c])));
      }
    }

    // No await below: a concurrent close() cannot zero a key between this check and its use.
    if (keys.closed) throw new KeyError('closed', 'this sealer has been closed');
    // One binding for the record, its field path set per field (no object per field).
    const binding = { schemaName: schema.name, schemaVersion: schema.version, recordId, fieldPath: '' };
    const aad = recordAad(suite.name, binding);
    for (let i = 0; i < leaves.length; i++) {
      const leaf = leaves[i]!;
      binding.fieldPath = leaf.path;
      const dataKey = dataKeys[classes.indexOf(leaf.def.keyClass)]!;
      const enc = encryptField(suite, dataKey, randomNonce(suite.nonceLength), binding, leaf.value, aad);
      const tok = tokens?.[leaf.path];
      const field: SealedField = tok ? { enc, mask: masks[i]!, tok } : { enc, mask: masks[i]! };
      leaf.parent[leaf.key] = field;
    }
    for (const leaf of passed) leaf.parent[leaf.key] = leaf.value;
    return (await withTag(schema, copy, batch.tagVersion)) as SealedRecord<S>;
  }

  function close(): void {
    tagger?.close();
    search.close();
    indexKeys.close();
    keys.close();
    forgetPreparedKeys();
    forgetMacKeys();
  }

  async function retag<S extends Schema>(schema: S, sealed: SealedRecord<S>): Promise<SealedRecord<S>> {
    const { [TAG_FIELD]: _old, ...rest } = sealed as Record<string, unknown>;
    return (await withTag(schema, rest)) as SealedRecord<S>;
  }

  /**
   * What `open` and `confirm` share: the policy decision, the keys, the quota charge and the
   * decryption of every granted field whose key is held, the record tag checked. Nothing is audited
   * as done and nothing is written into the record here.
   */
  async function decryptGranted(schema: Schema, sealed: SealedRecord<Schema>, access: AccessRequest, mode?: 'confirm'): Promise<Decrypted> {
    // The data keys taken (pinned: not zeroed if they leave the key cache meanwhile) until decrypted.
    const taken: DataKey[] = [];
    try {
      return await decryptTaking(schema, sealed, access, taken, mode);
    } finally {
      keys.release(taken);
    }
  }

  async function decryptTaking(schema: Schema, sealed: SealedRecord<Schema>, access: AccessRequest, taken: DataKey[], mode?: 'confirm'): Promise<Decrypted> {
    checkAccess(access);
    if (nativeLoading !== undefined) await awaitNative();
    if (!guard) {
      throw new ConfigError('open needs an access policy: createSealer({ guard: createAccessGuard({ policy, audit }) }), or guard: "allow-all"');
    }
    // Migration (acceptPlaintext): protected fields not sealed yet hold legacy plaintext. A 'sealed'
    // walk has already refused any leaf that is not a sealed field.
    const mixed = options.acceptPlaintext === true;
    const walked = walkRecord(schema.shape, sealed, mixed ? 'mixed' : 'sealed');
    const { copy } = walked;
    const leaves = mixed ? walked.leaves.filter(isSealedLeaf) : (walked.leaves as Leaf<SealedField>[]);
    const legacy = leaves.length === walked.leaves.length ? [] : walked.leaves.filter(isPlainLeaf);
    const recordId = copy[schema.recordId] as string;
    const wanted = access.fields === undefined ? undefined : new Set(access.fields);
    if (wanted) {
      const known = protectedFields(schema);
      for (const f of wanted) if (!known.has(f)) throw new ConfigError(`"${f}" is not a protected field of ${schema.name}`);
    }
    const ctx: OpenContext = {
      schema,
      recordId,
      record: copy,
      principal: access.principal,
      purpose: access.purpose,
      requested: access.fields ? [...access.fields] : '*',
      context: { ...access.context },
      ...(mode ? { mode } : {}),
    };
    // Policy first (audited; throws AccessDeniedError): no key is touched for a denied request.
    const all = legacy.length === 0 ? leaves : [...leaves, ...legacy];
    const auth = await guard.authorize(ctx, wanted ? all.filter((l) => wanted.has(l.schemaPath)) : all);
    const legacyGranted = legacy.length === 0 ? [] : auth.granted.filter(isPlainLeaf);
    const granted = legacy.length === 0 ? (auth.granted as Leaf<SealedField>[]) : auth.granted.filter(isSealedLeaf);
    const encs: ParsedEnc[] = [];
    const epoch = keys.epoch;
    // Per granted field: its data key, or why it cannot be opened (then it is withheld).
    const fieldKeys: (DataKey | Unopenable)[] = [];
    try {
      // Cached keys without waiting (fields of one key share one lookup); the others are read and
      // unwrapped concurrently (the key manager shares one load per key).
      const held: DataKey[] = [];
      let loads: Promise<void>[] | undefined;
      for (let i = 0; i < granted.length; i++) {
        const enc = parseEnc(granted[i]!.value.enc);
        encs.push(enc);
        let key = heldKey(held, enc);
        if (key === undefined) {
          key = keys.tryOpen(enc.dataKeyId, enc.suite);
          if (key !== undefined) {
            held.push(key);
            taken.push(key);
          }
        }
        if (key !== undefined) {
          fieldKeys.push(key);
          continue;
        }
        fieldKeys.push(PENDING);
        (loads ??= []).push(
          keys.forOpen(enc.dataKeyId, enc.suite).then(
            (k) => {
              fieldKeys[i] = k;
              taken.push(k);
            },
            (error: unknown) => {
              fieldKeys[i] = unopenable(error);
            },
          ),
        );
      }
      if (loads !== undefined) await Promise.all(loads);
    } catch (e) {
      await auth.fail(errorCode(e));
      throw e;
    }
    // The fields whose keys are held are opened, in order; the others are withheld.
    const ready: { leaf: Leaf<SealedField>; enc: ParsedEnc; key: DataKey }[] = [];
    let refused: Unopenable | undefined;
    for (let i = 0; i < fieldKeys.length; i++) {
      const key = fieldKeys[i]!;
      if (key instanceof Unopenable) {
        auth.withheld.push({ path: granted[i]!.path, reason: key.reason });
        refused ??= key;
      } else ready.push({ leaf: granted[i]!, enc: encs[i]!, key });
    }
    // Nothing could be opened: the typed error (ShreddedError, KeyError) rather than an empty result.
    if (ready.length === 0 && legacyGranted.length === 0 && refused) {
      await auth.fail(refused.reason);
      throw refused.error;
    }
    // A confirm reports a tampered record as unverifiable: its tag is checked before anything is charged.
    if (mode === 'confirm') await checkTag(schema, sealed, auth, legacy.length, leaves.length);
    await auth.charge(ready.length + legacyGranted.length > 0 ? 1 : 0);
    if (keys.closed) throw new KeyError('closed', 'this sealer has been closed');
    // The keys taken above were zeroed meanwhile (forget() after a shred): nothing is decrypted with them.
    if (keys.epoch !== epoch) {
      await auth.fail('key:keys_forgotten');
      throw new KeyError('keys_forgotten', 'data keys were forgotten while this record was opened; try again');
    }
    // Decrypt everything before writing anything: a failure yields no partial plaintext.
    const values: (string | VirtualNumber)[] = [];
    try {
      // The AAD head and the suite depend on the field's suite (usually one for the whole record).
      let aad: RecordAad | undefined;
      let suite: AeadSuite | undefined;
      const binding = { schemaName: schema.name, schemaVersion: schema.version, recordId, fieldPath: '' };
      for (const { leaf, enc, key } of ready) {
        binding.fieldPath = leaf.path;
        if (suite === undefined || suite.name !== enc.suite) {
          aad = recordAad(enc.suite, binding);
          suite = getSuite(enc.suite, backend);
        }
        values.push(decryptField(suite, key.key, enc, binding, leaf.def.kind, aad));
      }
    } catch (e) {
      await auth.fail(errorCode(e));
      throw e;
    }
    // The record tag is checked after decryption, so a moved or altered ciphertext is still the one
    // AuthenticationError, and before any plaintext leaves: a tampered mask, signed plain field or token
    // is refused and audited. A record holding legacy plaintext (acceptPlaintext migration) is checked
    // too: its tag covers everything but the plaintext fields, so a sealed field turned into plaintext
    // is a removed unit. Only a record with no sealed field at all and no tag (never sealed) has none.
    if (mode !== 'confirm') await checkTag(schema, sealed, auth, legacy.length, leaves.length);
    const opened: string[] = [];
    for (const { leaf } of ready) opened.push(leaf.path);
    for (const leaf of legacyGranted) opened.push(leaf.path);
    return { copy, leaves, legacy, legacyGranted, ready, values, opened, auth };
  }

  async function checkTag(schema: Schema, sealed: unknown, auth: Authorization<Leaf<unknown>>, legacy: number, sealedLeaves: number): Promise<void> {
    if (tagger && (legacy === 0 || sealedLeaves > 0 || (sealed as Record<string, unknown>)[TAG_FIELD] !== undefined)) {
      const verdict = await tagger.verify(schema, sealed);
      if (!verdict.ok) {
        await auth.fail(`integrity:${verdict.reason}`);
        throw new IntegrityError(verdict.path, verdict.reason);
      }
    }
  }

  async function open<S extends Schema>(
    schema: S,
    sealed: SealedRecord<S>,
    access: AccessRequest,
  ): Promise<OpenResult<S, OpenedRecord<S> | PlainOpenedRecord<S>>> {
    const { copy, leaves, legacy, legacyGranted, ready, values, opened, auth } = await decryptGranted(schema, sealed, access);
    // No plaintext leaves before its audit event is durable.
    await auth.done(opened);
    for (const leaf of leaves) leaf.parent[leaf.key] = leaf.value.mask['screen'] ?? '****';
    for (const leaf of legacy) leaf.parent[leaf.key] = legacyScreenMask(leaf);
    const plain = access.reveal === 'plain';
    for (let r = 0; r < ready.length; r++) {
      const { leaf } = ready[r]!;
      leaf.parent[leaf.key] = plain ? values[r] : new Redacted(values[r]);
    }
    for (const leaf of legacyGranted) leaf.parent[leaf.key] = plain ? leaf.value : new Redacted(leaf.value);
    const migration = legacy.length > 0 ? { plaintext: legacy.map((leaf) => leaf.path) } : {};
    return { record: copy as OpenedRecord<S>, opened, withheld: auth.withheld, ...migration };
  }

  /**
   * Confirms a search candidate: decrypts the index's protected sources under the request's purpose
   * (its `confirm` or `fields` grant, scope, evidence; audited, charged to the open quota), compares
   * their normalised form with the query's in constant time and returns only the verdict. A record
   * whose tag fails, whose ciphertext does not authenticate or whose sources are shredded or
   * withheld is `unverifiable` (audited, the search goes on).
   */
  async function confirm(schema: Schema, sealed: SealedRecord<Schema>, index: string, wanted: readonly string[], request: SearchRequest): Promise<ConfirmResult> {
    const spec = indexSpec(schema, index);
    const sources = spec.parts.filter((p) => p.protected).map((p) => p.path);
    // A field-level confirm grant compares no more than an index the purpose may search: `pickup`
    // holds the whole receiver.mobile for confirming last 4 digits, never a full-number guess.
    const purpose = request.purpose ?? 'search';
    if (guard && !guard.maySearch({ schema, index, sources, principal: request.principal, purpose, context: { ...request.context } })) {
      throw new AccessDeniedError('index_not_granted', `purpose ${purpose} does not search ${index}: nothing to confirm`);
    }
    let d: Decrypted;
    try {
      d = await decryptGranted(
        schema,
        sealed,
        { principal: request.principal, purpose: request.purpose ?? 'search', fields: sources, ...(request.context ? { context: request.context } : {}) },
        'confirm',
      );
    } catch (e) {
      if (isRecordFault(e)) return 'unverifiable';
      throw e;
    }
    const { copy, ready, values, opened, auth } = d;
    const verifiable = sources.every((p) => opened.includes(p));
    // Stored values are read as at seal time (record's country), the query as typed. The copy with
    // plaintext in it never leaves this function.
    for (let r = 0; r < ready.length; r++) ready[r]!.leaf.parent[ready[r]!.leaf.key] = values[r];
    const got = verifiable ? partsFromRecord(spec.parts, copy) : undefined;
    const matched = got !== undefined && got.length === wanted.length && constantTimeEqual(encodeParts(got), encodeParts(wanted));
    await auth.done(opened, verifiable ? matched : undefined);
    if (!verifiable) return 'unverifiable';
    return matched ? 'match' : 'mismatch';
  }

  async function authorizedSearch(schema: Schema, index: string, value: string | readonly string[], request: SearchRequest, unscoped = false): Promise<SearchGrant> {
    checkSearchRequest(request);
    if (!guard) {
      throw new ConfigError('search needs an access policy: createSealer({ guard: createAccessGuard({ policy, audit }) }), or guard: "allow-all"');
    }
    const spec = indexSpec(schema, index);
    const country = request.country === undefined ? {} : { country: request.country };
    // The value is checked before the guard charges anything: a typo costs no quota.
    queryParts(spec, value, request.country);
    const auth = await guard.authorizeSearch({
      schema,
      index,
      sources: spec.parts.filter((p) => p.protected).map((p) => p.path),
      principal: request.principal,
      purpose: request.purpose ?? 'search',
      context: { ...request.context },
      ...(unscoped ? { unscoped } : {}),
    });
    // The retention default cuts month scopes only: records of other scopes (a schema without
    // `scopeFrom`, per-customer scopes) are not shredded by month and stay searchable.
    const window = request.window ?? (options.retention === undefined ? undefined : { from: retentionCutoff(options.retention) });
    const otherScopes = request.window === undefined && window !== undefined;
    const tokens = await search.queryTokens(schema, index, value, { ...country, ...(window ? { window, otherScopes } : {}) });
    // No token leaves before its query is durably audited.
    await auth.issued(tokens.length);
    return { tokens, scope: auth.scope, inScope: (r) => auth.inScope(r), done: (result) => auth.done(result) };
  }

  const sealer: Sealer = {
    suite: suiteName,
    seal: (schema, record) => seal(schema, record),
    async sealMany(schema, records) {
      const out = [];
      // Asked once per batch instead of once per record: which integrity secret version to write (a
      // keyring that rotates during the batch is followed from the next call on).
      const batch: Batch = { tagVersion: records.length > 1 && tagger ? await tagger.currentVersion() : undefined };
      for (const r of records) out.push(await seal(schema, r, batch));
      return out;
    },
    open: open as Sealer['open'],
    openMany: (async (schema: Schema, sealed: readonly SealedRecord<Schema>[], access: AccessRequest) => {
      checkAccess(access);
      const out = [];
      for (const r of sealed) out.push(await open(schema, r, access));
      return out;
    }) as Sealer['openMany'],
    forget() {
      keys.forget();
      indexKeys.forget();
      search.forgetScoped();
      forgetPreparedKeys();
    },
    shred: async (keyClass, scope, o) => evicted(await shred(options.keyStore, keyClass, scope, o), o?.dryRun),
    shredBefore: async (before, o) => evicted(await shredBefore(options.keyStore, before, o), o?.dryRun),
    retireIndexKeys: async (filter, o) => evicted(await retireIndexKeys(options.keyStore, filter, { ...(o?.audit ? { audit: o.audit } : {}), now: clock })),
    shredRetiredIndexKeys: async (retired, o) => evicted(await shredRetiredIndexKeys(options.keyStore, retired, { ttlMs: timing.ttlMs, now: clock, ...o }), o?.dryRun),
    indexHash: search.hash,
    async tokensFor(schema, index, value, request) {
      const grant = await authorizedSearch(schema, index, value, request, true);
      // The caller matches on its own: the query ends here for the audit log (no counts).
      await grant.done({});
      return [...grant.tokens];
    },
    search: authorizedSearch,
    async verify(schema, sealed) {
      // As createVerifier: the record is checked against the schema, then its tag. Legacy plaintext
      // passes the walk only where this sealer accepts it (migration), and has its own unit in the tag.
      const mode = options.acceptPlaintext === true || options.passSealed === true ? 'mixed' : 'sealed';
      return verifyRecord(tagger ?? createTagger(options.keyring, search.hash, integrity), schema, sealed, mode);
    },
    retag,
    close,
    [Symbol.dispose]: close,
  };
  // Frozen: code holding the sealer cannot swap `search` (or any method) for one that skips the guard.
  Object.freeze(sealer);
  INTERNALS.set(sealer, {
    confirm: (schema, sealed, index, wanted, request) => confirm(schema, sealed as SealedRecord<Schema>, index, wanted, request),
    recordTokens: (schema, record, o) => search.recordTokens(schema, record, { ...o, scope: scopeOf(scopeFn, record as Record<string, unknown>, schema) }),
    async reindexPass() {
      const startedAt = clock().toISOString();
      // A retire elsewhere is seen by this pass's seals at once; the generation new seals take, read
      // once per (class, month) per pass, is the only current one: records leave retired generations.
      indexKeys.recheck();
      const generations = new Map<string, number>();
      return {
        startedAt,
        async current(schema, record, index, token) {
          const scope = scopeOf(scopeFn, record as Record<string, unknown>, schema);
          if (tokenScope(token) !== scope) return false;
          const keyClass = classOf(schema, indexSpec(schema, index));
          let generation = generations.get(`${keyClass}/${scope}`);
          if (generation === undefined) {
            generation = await indexKeys.sealingGeneration(keyClass, scope);
            if (generation === undefined) return false;
            generations.set(`${keyClass}/${scope}`, generation);
          }
          return token.startsWith(`${scope}~${generation}.`);
        },
      };
    },
  });
  return sealer;
}

/**
 * What one bad stored record throws (a database writer's doing: a failed tag or ciphertext, a record
 * the schema refuses, a malformed or foreign `enc`, a data key that does not exist or is wrapped under
 * a KEK not configured) or a shredded one: a search counts it unverifiable and goes on. Quotas, store
 * and configuration errors, a closed sealer still end the search.
 */
export function isRecordFault(e: unknown): boolean {
  if (e instanceof ShreddedError || e instanceof IntegrityError || e instanceof AuthenticationError || e instanceof ValidationError || e instanceof FormatError) return true;
  return e instanceof KekNotAllowedError || (e instanceof KeyError && e.reason === 'data_key_missing');
}

/** What `decryptGranted` hands to `open` and `confirm`. */
interface Decrypted {
  readonly copy: Record<string, unknown>;
  readonly leaves: readonly Leaf<SealedField>[];
  readonly legacy: readonly Leaf<string | VirtualNumber>[];
  readonly legacyGranted: readonly Leaf<string | VirtualNumber>[];
  readonly ready: readonly { readonly leaf: Leaf<SealedField>; readonly enc: ParsedEnc; readonly key: DataKey }[];
  readonly values: readonly (string | VirtualNumber)[];
  readonly opened: readonly string[];
  readonly auth: Authorization<Leaf<unknown>>;
}

/** A confirmed candidate, a false positive, or a record that cannot be checked (tampered, shredded, withheld). */
export type ConfirmResult = 'match' | 'mismatch' | 'unverifiable';

/**
 * Capabilities the library's own finder, CLI and re-indexer use; not exported from the package, so
 * application code has no token oracle and no confirm outside `createFinder` (which is a search).
 */
export interface SealerInternals {
  confirm(schema: Schema, sealed: unknown, index: string, wanted: readonly string[], request: SearchRequest): Promise<ConfirmResult>;
  /** The tokens `seal` stores for a plain record (re-indexing only). */
  recordTokens(schema: Schema, record: unknown, options?: RecordTokenOptions): Promise<RecordTokens>;
  /** One re-indexing pass: what it writes and which stored tokens it keeps. */
  reindexPass(): Promise<ReindexPass>;
}

export interface ReindexPass {
  /** When the pass started (ISO time, the sealer's key cache clock). */
  readonly startedAt: string;
  /**
   * Whether `token`, stored for `index` of `record`, is what a seal writes now: of the index key
   * generation new seals of the record's month take (never a retired one, never a legacy token of
   * the index secret).
   */
  current(schema: Schema, record: unknown, index: string, token: string): Promise<boolean>;
}

const INTERNALS = new WeakMap<object, SealerInternals>();

/** The internal capabilities of a sealer made by `createSealer` (ConfigError for anything else). */
export function sealerInternals(sealer: object): SealerInternals {
  const internals = INTERNALS.get(sealer);
  if (internals === undefined) throw new ConfigError('this needs a sealer made by createSealer()');
  return internals;
}

const isPlainLeaf = (l: Leaf<unknown>): l is Leaf<string | VirtualNumber> => !isSealedField(l.value);
const isSealedLeaf = (l: Leaf<unknown>): l is Leaf<SealedField> => isSealedField(l.value);

/** A granted field whose key cannot be had: withheld with `reason`; `error` is thrown if no field opens. */
class Unopenable {
  constructor(
    readonly error: unknown,
    readonly reason: string,
  ) {}
}

/** Placeholder of a field whose key is being loaded. */
const PENDING = new Unopenable(undefined, '');

/** A shredded key, or a key class whose KEK this keyring does not hold: the field is withheld; other errors are thrown. */
function unopenable(error: unknown): Unopenable {
  const reason = error instanceof ShreddedError ? 'shredded' : error instanceof KeyError && error.reason === 'no_kek' ? 'key_not_held' : undefined;
  if (reason === undefined) throw error;
  return new Unopenable(error, reason);
}

/** The key of `enc` among the few already taken for this record. */
function heldKey(held: readonly DataKey[], enc: ParsedEnc): DataKey | undefined {
  for (const k of held) if (k.id === enc.dataKeyId && k.suite === enc.suite) return k;
  return undefined;
}

/** The screen mask of a legacy plaintext field (migration), computed at open time. */
function legacyScreenMask(leaf: Leaf<string | VirtualNumber>): string {
  try {
    return masksFor(leaf, true, parsePhone)['screen'] ?? '****';
  } catch {
    return '****';
  }
}

function masksFor(leaf: Leaf<string | VirtualNumber>, lenient: boolean, phone: PhoneParser): Record<string, string> {
  const ctx = leaf.country === undefined ? {} : { country: leaf.country };
  const reason = checkProtectedValue(leaf.def.kind, leaf.value, ctx, phone);
  if (reason === undefined) return computeMasks(leaf.def.kind, leaf.value, leaf.def.mask, ctx, phone);
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
  checkContext(access.context);
  if (access.reveal !== undefined && access.reveal !== 'redacted' && access.reveal !== 'plain') {
    throw new ConfigError('access.reveal must be "redacted" or "plain"');
  }
}

function checkSearchRequest(request: SearchRequest): void {
  if (!request || typeof request.principal !== 'string' || request.principal.length === 0) {
    throw new ConfigError('search needs a request with a principal: { principal, purpose?, context? }');
  }
  const bad = windowProblem(request.window);
  if (bad !== undefined) throw new ConfigError(`search request ${bad}`);
  if (request.purpose !== undefined && (typeof request.purpose !== 'string' || request.purpose.length === 0)) throw new ConfigError('search request purpose must be a non-empty string');
  checkContext(request.context);
}

/** Evidence: at most 32 short strings (ids, not personal data). */
function checkContext(ctx: Readonly<Record<string, string>> | undefined): void {
  if (ctx !== undefined) {
    const entries = isPlainObject(ctx) ? Object.entries(ctx) : undefined;
    if (!entries || entries.length > 32 || !entries.every(([k, v]) => k.length <= 64 && typeof v === 'string' && v.length <= 256)) {
      throw new ConfigError('access.context must be an object of at most 32 strings (evidence ids, not personal data)');
    }
  }
}

/** A content-free reason code for an audit event of a failed open. */
function errorCode(e: unknown): string {
  if (!(e instanceof WaybillSealError)) return 'internal';
  const reason = (e as { reason?: unknown }).reason;
  return typeof reason === 'string' ? `${e.code.toLowerCase()}:${reason}` : e.code.toLowerCase();
}
