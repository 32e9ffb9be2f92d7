/**
 * Crypto-shredding: a data key is replaced by a tombstone (`shreddedAt` set, `wrapped` empty), so
 * every field sealed under it is gone for good (backups of the sealed data included), while the
 * stored masks stay readable for labels and statistics. Retention runs per key scope: by default
 * a scope is the UTC month of the record's `createdAt`, so `shredBefore(store, '2023-01')`
 * destroys everything created before January 2023.
 *
 * The key store is the only copy that matters: also destroy key-store backups older than the
 * cut-off, and call `sealer.forget()` (or wait the key cache TTL, 5 minutes by default) so no
 * process keeps an unwrapped key in memory.
 */
import { ConfigError } from '../errors.js';
import { cacheTiming } from '../keys/cache.js';
import { dataKeyId } from '../keys/data-keys.js';
import { shredClasses } from '../keys/index-keys.js';
import type { DataKeyRecord, KeyStore } from '../keys/key-store.js';
import type { AuditSink } from './audit.js';

export interface ShredOptions {
  /** Records a `shred` event. */
  readonly audit?: AuditSink;
  /** Clock (tests). */
  readonly now?: () => Date;
  /** Report what would be shredded, change nothing. */
  readonly dryRun?: boolean;
}

export interface ShredBeforeOptions extends ShredOptions {
  /** Only these key classes (e.g. `['identity']` for real-name records) and their index keys; default: all. */
  readonly keyClasses?: readonly string[];
}

/**
 * What step 3 of an index-key rotation needs to know of step 2's reindex pass: the `pass` of the last
 * item `reindex` yielded.
 */
export interface ReindexProgress {
  /** When the pass started (ISO time; its first run, when resumed with `resumeFrom: item.pass`). Unknown when resumed from a bare number. */
  readonly startedAt?: string;
  /** Input records done. */
  readonly checkpoint: number;
  /** Records it could not re-index (tampered, refused): still on their old tokens. */
  readonly failed: number;
}

export interface ShredRetiredOptions extends ShredOptions {
  /** The `pass` of the last item of the `reindex` run (step 2) that went through every record. */
  readonly reindexed: ReindexProgress;
  /**
   * The longest key cache TTL of any process that seals (default 5 minutes; through a sealer, its
   * own): a process keeps sealing under a retired key for up to that long, so the reindex pass must
   * have started at least that long after the retire.
   */
  readonly ttlMs?: number;
}

export interface ShredReport {
  /** Data key ids turned into tombstones by this call. */
  readonly shredded: readonly string[];
  /** Ids that were tombstones already. */
  readonly alreadyShredded: readonly string[];
}

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

/**
 * How long the key store keeps month-scoped keys: every record at least `months` full months (the
 * current UTC month and the `months` before it are kept; `shredBefore(store, retention)` shreds the
 * months before). A sealer with `retention` searches that window by default: `months + 1` tokens per
 * query at most (one per live month).
 */
export interface Retention {
  readonly months: number;
}

/** The first month a retention keeps (`YYYY-MM`) at `now`: `months` months before now's UTC month. */
export function retentionCutoff(retention: Retention, now: Date = new Date()): string {
  const months = retention?.months;
  if (!Number.isSafeInteger(months) || months < 0 || months > 1200) throw new ConfigError('retention.months must be a whole number of months (0 to 1200)');
  const total = now.getUTCFullYear() * 12 + now.getUTCMonth() - months;
  return `${String(Math.floor(total / 12)).padStart(4, '0')}-${String((total % 12) + 1).padStart(2, '0')}`;
}

/**
 * Shreds every generation of one key class in one scope (`keyClass` `'*'`: all classes), with the
 * class's index keys (`<class>-index`): the scope's tokens can no longer be computed either.
 */
export async function shred(keyStore: KeyStore, keyClass: string, scope: string, options: ShredOptions = {}): Promise<ShredReport> {
  if (typeof keyClass !== 'string' || keyClass === '' || typeof scope !== 'string' || scope === '') {
    throw new ConfigError('shred needs a key class (or "*") and a scope');
  }
  const records = keyClass === '*' ? await keyStore.list({ scope }) : (await Promise.all(shredClasses(keyClass).map((c) => keyStore.list({ keyClass: c, scope })))).flat();
  return tombstone(keyStore, records, { keyClass, scope }, options);
}

/**
 * Retention: shreds every key whose scope is a month (`YYYY-MM`) before `before` (a `YYYY-MM`
 * month, an ISO date, whose UTC month is the first one kept, or a `Retention`: its cut-off now).
 * Scopes that are not months are left alone.
 */
export async function shredBefore(keyStore: KeyStore, before: string | Date | Retention, options: ShredBeforeOptions = {}): Promise<ShredReport> {
  const cutoff = isRetention(before) ? retentionCutoff(before, (options.now ?? (() => new Date()))()) : cutoffMonth(before);
  const classes = options.keyClasses?.flatMap(shredClasses);
  const records = (await keyStore.list()).filter(
    (r) => MONTH.test(r.scope) && r.scope < cutoff && (classes === undefined || classes.includes(r.keyClass)),
  );
  return tombstone(keyStore, records, { before: cutoff, ...(options.keyClasses ? { keyClasses: options.keyClasses.join(',') } : {}) }, options);
}

/**
 * Index-key rotation, step 3 (after `retireIndexKeys` and a `reindex` that went through every
 * record): shreds the index keys step 1 retired (`retired`, the ids it returned), so no query computes
 * a token with them any more and a leaked one matches no stored token. A record still on a retired
 * generation (not reindexed) is no longer found by search; its fields still open.
 *
 * `retired_at` is a plain key-store column, so step 3 checks that step 1 still holds and refuses
 * (ConfigError, nothing shredded) if any id is not an index key, no longer retired (a database writer
 * cleared it: new seals and reindex may have gone back to it), or if a newer generation of its scope
 * is retired too (its flags were flipped: reindex may have moved records back to the old one).
 *
 * It also refuses unless `options.reindexed` shows a pass with no failed record that started at least
 * one key cache TTL after the keys were retired: until then another process may still seal under a
 * retired key (it re-reads its row once per TTL), and a record it writes after the pass read its part
 * of the table would stay on the leaked generation, then be shredded away from search.
 */
export async function shredRetiredIndexKeys(keyStore: KeyStore, retired: readonly string[], options: ShredRetiredOptions): Promise<ShredReport> {
  if (!Array.isArray(retired) || retired.length === 0 || retired.some((id) => typeof id !== 'string')) {
    throw new ConfigError('shredRetiredIndexKeys needs the index key ids retireIndexKeys returned');
  }
  const pass = options?.reindexed;
  if (pass === undefined || typeof pass !== 'object' || !Number.isSafeInteger(pass.failed)) {
    throw new ConfigError('shredRetiredIndexKeys needs { reindexed }: the pass of the last item reindex yielded');
  }
  if (pass.failed > 0) {
    throw new ConfigError(`shredRetiredIndexKeys: ${pass.failed} record(s) could not be reindexed (the items with failed): fix or remove them and reindex again`);
  }
  const started = typeof pass.startedAt === 'string' ? Date.parse(pass.startedAt) : NaN;
  if (Number.isNaN(started)) throw new ConfigError('shredRetiredIndexKeys: the reindex pass has no start time (resume with resumeFrom: item.pass, not a number)');
  const ttlMs = cacheTiming({ ...(options.ttlMs === undefined ? {} : { ttlMs: options.ttlMs }) }).ttlMs;
  const ids = new Set(retired);
  const records: DataKeyRecord[] = [];
  for (const id of ids) {
    const r = await keyStore.get(id);
    if (r === undefined || !r.keyClass.endsWith('-index') || r.id !== dataKeyId(r.keyClass, r.scope, r.generation)) {
      throw new ConfigError(`shredRetiredIndexKeys: ${id} is not an index key in the key store`);
    }
    if (r.retiredAt === undefined) throw new ConfigError(`shredRetiredIndexKeys: index key ${id} is no longer retired (its retired_at was cleared after step 1): retire it again and reindex`);
    const newer = (await keyStore.list({ keyClass: r.keyClass, scope: r.scope })).find(
      (o) => o.generation > r.generation && o.retiredAt !== undefined && o.shreddedAt === undefined && !ids.has(o.id),
    );
    if (newer !== undefined) throw new ConfigError(`shredRetiredIndexKeys: ${newer.id}, newer than ${id}, is retired too (not by this rotation): retire again and reindex`);
    if (!(Date.parse(r.retiredAt) + ttlMs <= started)) {
      throw new ConfigError(`shredRetiredIndexKeys: the reindex pass started less than one key cache TTL (${ttlMs} ms) after ${id} was retired; other processes may have sealed under it since: reindex again`);
    }
    records.push(r);
  }
  return tombstone(keyStore, records, { retiredIndexKeys: [...ids].sort().join(',') }, options);
}

const isRetention = (x: unknown): x is Retention => typeof x === 'object' && x !== null && !(x instanceof Date);

function cutoffMonth(before: string | Date): string {
  if (before instanceof Date) {
    if (Number.isNaN(before.getTime())) throw new ConfigError('shredBefore: invalid date');
    return before.toISOString().slice(0, 7);
  }
  if (typeof before === 'string' && MONTH.test(before)) return before;
  const t = typeof before === 'string' && /^\d{4}-\d{2}-\d{2}/.test(before) ? Date.parse(before.length === 10 ? `${before}T00:00:00Z` : before) : NaN;
  if (Number.isNaN(t)) throw new ConfigError('shredBefore: "before" must be a month (YYYY-MM) or an ISO date');
  return new Date(t).toISOString().slice(0, 7);
}

async function tombstone(
  keyStore: KeyStore,
  records: readonly DataKeyRecord[],
  request: Record<string, string>,
  options: ShredOptions,
): Promise<ShredReport> {
  if (options.dryRun) {
    return {
      shredded: records.filter((r) => r.shreddedAt === undefined).map((r) => r.id).sort(),
      alreadyShredded: records.filter((r) => r.shreddedAt !== undefined).map((r) => r.id).sort(),
    };
  }
  const shredded: string[] = [];
  const already: string[] = [];
  const at = (options.now ?? (() => new Date()))().toISOString();
  for (const first of records) {
    let current: DataKeyRecord | undefined = first;
    // Compare-and-swap: a concurrent rewrap or retire changes the row; re-read and try again.
    for (let attempt = 0; current; attempt++) {
      if (current.shreddedAt !== undefined) {
        already.push(current.id);
        break;
      }
      if (attempt >= 8) throw new ConfigError(`shred: data key ${current.id} keeps changing; try again`);
      if (await keyStore.replace(current, { ...current, wrapped: '', shreddedAt: at })) {
        shredded.push(current.id);
        break;
      }
      current = await keyStore.get(current.id);
    }
  }
  shredded.sort();
  already.sort();
  if (options.audit && shredded.length > 0) {
    await options.audit.write({ type: 'shred', time: at, dataKeyIds: shredded, request });
  }
  return { shredded, alreadyShredded: already };
}
