/**
 * The access guard: what `open` asks before it decrypts anything. It applies the policy (purpose,
 * evidence, scope, approval, fields), charges quotas and export budgets, and writes the audit
 * event of every outcome. Deny by default.
 */
import { AccessDeniedError, ConfigError } from '../errors.js';
import type { Schema } from '../schema/schema.js';
import type { AccessEvent, AccessOutcome, AlertEvent, AuditSink, SearchEvent, SearchOutcome, Withheld } from './audit.js';
import { checkPolicy, DEFAULT_SEARCH_QUOTAS, grantsConfirm, grantsField, parsePolicy, plainValueAt, windowMs, type AccessPolicy, type PurposeRule, type ScopeMatch } from './policy.js';
import { MemoryQuotaStore, type QuotaCounter, type QuotaStore } from './quota.js';

/** An approved bulk export: `budget` records in total, until `expiresAt`. */
export interface ExportGrant {
  /** The approval id the request names in `context.approval`. */
  readonly id: string;
  /** Most records opened under this grant, across all runs and instances (counted in the quota store). */
  readonly budget: number;
  /** ISO date-time after which the grant is void. */
  readonly expiresAt?: string;
  /** Only this principal may use it (default: any). */
  readonly principal?: string;
  /** Only these purposes may use it (default: any purpose with `approval`). */
  readonly purposes?: readonly string[];
}

export type GrantLookup = (approvalId: string) => ExportGrant | undefined | Promise<ExportGrant | undefined>;

export interface AccessGuardOptions {
  /** The policy, or `'allow-all'` to open whatever is asked (still audited). */
  readonly policy: AccessPolicy | 'allow-all';
  /** Where events go; `'none'` must be said explicitly. */
  readonly audit: AuditSink | 'none';
  /** Quota counters; default: in this process's memory (one instance only). */
  readonly quotaStore?: QuotaStore;
  /** Looks up approved export grants by id (for purposes with `approval`). */
  readonly grants?: GrantLookup;
  /** Clock in ms (tests). */
  readonly now?: () => number;
}

/** What the sealer knows about one open request. */
export interface OpenContext {
  readonly schema: Schema;
  readonly recordId: string;
  /** The walked record: plain fields in place (protected ones are not read here). */
  readonly record: Readonly<Record<string, unknown>>;
  readonly principal: string;
  readonly purpose: string;
  readonly requested: '*' | readonly string[];
  readonly context: Readonly<Record<string, string>>;
  /**
   * `'confirm'`: the fields are only compared with a search query inside the library, never
   * returned; granted by the purpose's `confirm` paths as well as its `fields`.
   */
  readonly mode?: 'confirm';
}

export interface FieldRef {
  readonly path: string;
  readonly schemaPath: string;
}

/** One authorised open in progress; the sealer reports back through it. */
export interface Authorization<F extends FieldRef> {
  readonly granted: readonly F[];
  readonly withheld: Withheld[];
  /** Charges `count` opened records to the quotas or the export grant; denies (audited) when spent. */
  charge(count: number): Promise<void>;
  /** Writes the success event (`matched`: the result of a confirm); resolves once it is durable. */
  done(opened: readonly string[], matched?: boolean): Promise<void>;
  /** Writes a failure event (`reason`: an error code). */
  fail(reason: string, opened?: readonly string[]): Promise<void>;
}

/** What the sealer knows about one search query (never the queried value). */
export interface SearchContext {
  readonly schema: Schema;
  readonly index: string;
  /** Schema paths of the index's protected sources: a purpose that may open them all may search it. */
  readonly sources: readonly string[];
  readonly principal: string;
  readonly purpose: string;
  readonly context: Readonly<Record<string, string>>;
  /** The caller takes bare tokens (`tokensFor`) and cannot be held to a scope: scoped purposes are refused. */
  readonly unscoped?: boolean;
}

/** A plain field a result must hold, e.g. `routing.destOutlet` = `HZ-XH-017` (add it to the database query). */
export interface ScopeCondition {
  readonly path: string;
  readonly value: string;
}

/** An authorised search query: charged to the search quota; its tokens may be computed. */
export interface SearchAuthorization {
  /** A record must match one of these (empty: no scope; every record the purpose may see). */
  readonly scope: readonly ScopeCondition[];
  /** Whether a (sealed) record lies in the query's scope: its plain scope fields match. */
  inScope(record: unknown): boolean;
  /** Writes the `issued` event (before any token leaves). */
  issued(tokens: number): Promise<void>;
  /** Writes the `done` event with the result counts (none: the caller took the tokens and matches itself). */
  done(result: SearchResultCounts): Promise<void>;
}

/** What a query found: token matches in scope, confirmed matches, and candidates that could not be checked. */
export interface SearchResultCounts {
  readonly candidates?: number;
  readonly matches?: number;
  readonly unverifiable?: number;
}

export class AccessGuard {
  readonly #policy: AccessPolicy | 'allow-all';
  readonly #io: GuardIo;
  readonly #grants: GrantLookup | undefined;
  readonly #checked = new WeakSet<Schema>();

  constructor(options: AccessGuardOptions) {
    if (!options || (options.policy !== 'allow-all' && typeof options.policy !== 'object')) {
      throw new ConfigError('createAccessGuard needs a policy (or policy: "allow-all")');
    }
    if (options.audit !== 'none' && typeof options.audit?.write !== 'function') {
      throw new ConfigError('createAccessGuard needs an audit sink (or audit: "none")');
    }
    // Re-parse: a policy built in code gets the same checks as one from a file.
    this.#policy = options.policy === 'allow-all' ? 'allow-all' : deepFreeze(parsePolicy(options.policy));
    this.#io = {
      audit: options.audit === 'none' ? undefined : options.audit,
      quotas: options.quotaStore ?? new MemoryQuotaStore(),
      now: options.now ?? Date.now,
    };
    this.#grants = options.grants;
  }

  get policy(): AccessPolicy | 'allow-all' {
    return this.#policy;
  }

  /**
   * The rule of the request's purpose, or why the request is refused (unknown purpose, missing
   * evidence). The policy is checked against each schema the first time it is used with it.
   */
  #ruleOf(policy: AccessPolicy, ctx: OpenContext | SearchContext): PurposeRule | Refusal {
    if (!this.#checked.has(ctx.schema)) {
      checkPolicy(policy, ctx.schema);
      this.#checked.add(ctx.schema);
    }
    const rule = Object.hasOwn(policy.purposes, ctx.purpose) ? policy.purposes[ctx.purpose] : undefined;
    if (!rule) return new Refusal('unknown_purpose', ctx.purpose);
    for (const key of rule.requires ?? []) if (!evidence(ctx, key)) return new Refusal(`missing_${key}`);
    return rule;
  }

  /**
   * Decides a request. A request denied as a whole (unknown purpose, missing evidence, out of
   * scope, bad approval, no requested field granted) is audited and throws AccessDeniedError.
   */
  async authorize<F extends FieldRef>(ctx: OpenContext, requested: readonly F[]): Promise<Authorization<F>> {
    const policy = this.#policy;
    if (policy === 'allow-all') return new Decision(this.#io, ctx, requested, [], NO_COUNTERS, undefined);
    const io = this.#io;
    const withheld: Withheld[] = [];
    const rule = this.#ruleOf(policy, ctx);
    if (rule instanceof Refusal) return deny(io, ctx, withheld, rule.reason, rule.detail);
    if (rule.scope && !rule.scope.some((m) => inScope(ctx, m.record, m.context))) {
      const keys = [...new Set(rule.scope.map((m) => m.context))];
      const given = keys.some((k) => evidence(ctx, k));
      return deny(io, ctx, withheld, 'out_of_scope', given ? undefined : `the request names none of: ${keys.join(', ')}`);
    }
    let counters: readonly QuotaCounter[];
    let budgetOf: string | undefined;
    if (rule.approval) {
      const id = evidence(ctx, 'approval');
      if (!id) return deny(io, ctx, withheld, 'missing_approval');
      const grant = this.#grants ? await this.#grants(id) : undefined;
      if (!grant || grant.id !== id || (grant.principal !== undefined && grant.principal !== ctx.principal) || (grant.purposes && !grant.purposes.includes(ctx.purpose))) {
        return deny(io, ctx, withheld, 'approval_unknown');
      }
      if (grant.expiresAt !== undefined && !(Date.parse(grant.expiresAt) > io.now())) return deny(io, ctx, withheld, 'approval_expired');
      if (!Number.isSafeInteger(grant.budget) || grant.budget < 0) throw new ConfigError(`export grant ${id} has an invalid budget`);
      counters = [{ key: JSON.stringify(['approval', id]), windowMs: Infinity, limit: grant.budget }];
      budgetOf = id;
    } else {
      counters = quotaCounters(policy, rule, ctx);
    }
    const grants = ctx.mode === 'confirm' ? confirmsOf(rule) : grantsOf(rule);
    const granted: F[] = [];
    for (const f of requested) {
      if (grants(f.schemaPath)) granted.push(f);
      else withheld.push({ path: f.path, reason: 'field_not_granted' });
    }
    if (requested.length > 0 && granted.length === 0) {
      const paths = [...new Set(requested.map((f) => f.schemaPath))];
      return deny(io, ctx, withheld, 'field_not_granted', paths.join(', '), paths);
    }
    return new Decision(io, ctx, granted, withheld, counters, budgetOf);
  }

  /**
   * Decides a search query: the purpose must exist, carry its evidence and scope keys, and may
   * search the index (its `indexes`, or by default every index whose protected sources it may
   * open); the principal's search quota (`searchQuotas`, default 60 an hour) is charged. Denials
   * and spent quotas are audited and throw AccessDeniedError. With `'allow-all'` every query is
   * allowed, unscoped and uncharged (still audited when a sink is given).
   */
  /**
   * Whether the request's purpose may search `ctx.index` at all (its rule, evidence and index grant;
   * no quota is charged, nothing is audited): a confirm is only ever of an index its purpose searches.
   */
  maySearch(ctx: SearchContext): boolean {
    if (this.#policy === 'allow-all') return true;
    const rule = this.#ruleOf(this.#policy, ctx);
    return !(rule instanceof Refusal) && !rule.approval && indexGranted(rule, ctx);
  }

  async authorizeSearch(ctx: SearchContext): Promise<SearchAuthorization> {
    const policy = this.#policy;
    const io = this.#io;
    if (policy === 'allow-all') return new SearchDecision(io, ctx, []);
    const rule = this.#ruleOf(policy, ctx);
    if (rule instanceof Refusal) return denySearch(io, ctx, rule.reason, rule.detail);
    if (rule.approval) return denySearch(io, ctx, 'index_not_granted', 'purposes with an export approval do not search');
    if (!indexGranted(rule, ctx)) return denySearch(io, ctx, 'index_not_granted', ctx.index);
    if (rule.scope && ctx.unscoped) return denySearch(io, ctx, 'scope_required', `purpose ${ctx.purpose} is scoped: search with sealer.search() or createFinder(), which carry the scope`);
    const scope = rule.scope ? scopeConditions(rule.scope, ctx) : [];
    if (rule.scope && scope.length === 0) {
      return denySearch(io, ctx, 'out_of_scope', `the request names none of: ${[...new Set(rule.scope.map((m) => m.context))].join(', ')}`);
    }
    const rules = policy.searchQuotas === 'unlimited' ? [] : (policy.searchQuotas ?? DEFAULT_SEARCH_QUOTAS);
    const counters = rules.map((q) => ({
      key: JSON.stringify(['search', ctx.principal, q.window]),
      windowMs: windowMs(q.window),
      limit: q.max,
    }));
    if (counters.length > 0) {
      const outcome = await io.quotas.take(counters, io.now(), 1);
      if (!outcome.ok) {
        const label = `search/${(JSON.parse(outcome.counter.key) as string[])[2]}`;
        await write(io, quotaAlert(io, ctx, { index: ctx.index }, 'quota_exceeded', label, outcome));
        return denySearch(io, ctx, 'quota_exceeded', `${label}: ${outcome.used} of ${outcome.counter.limit} used`, scope);
      }
    }
    return new SearchDecision(io, ctx, scope);
  }
}

/** The purpose's `indexes`, or by default every index whose protected sources it may open or confirm. */
function indexGranted(rule: PurposeRule, ctx: SearchContext): boolean {
  return rule.indexes === undefined ? ctx.sources.every(confirmsOf(rule)) : rule.indexes === '*' || rule.indexes.includes(ctx.index);
}

/** The scope matches the request carries evidence for (a record must meet one of them). */
function scopeConditions(scope: readonly ScopeMatch[], ctx: SearchContext): ScopeCondition[] {
  const out: ScopeCondition[] = [];
  for (const m of scope) {
    const value = evidence(ctx, m.context);
    if (value !== undefined) out.push({ path: m.record, value });
  }
  return out;
}

const scopeLabels = (scope: readonly ScopeCondition[]): string[] => scope.map((c) => `${c.path}=${c.value}`);

function searchEvent(io: GuardIo, ctx: SearchContext, outcome: SearchOutcome, scope: readonly ScopeCondition[], extra: Partial<SearchEvent>): SearchEvent {
  return {
    type: 'search',
    time: new Date(io.now()).toISOString(),
    principal: ctx.principal,
    purpose: ctx.purpose,
    schema: ctx.schema.name,
    index: ctx.index,
    outcome,
    scope: scopeLabels(scope),
    ...extra,
    evidence: ctx.context,
  };
}

/** Why a request is refused before its purpose's rule applies. */
class Refusal {
  constructor(
    readonly reason: string,
    readonly detail?: string,
  ) {}
}

async function denySearch(io: GuardIo, ctx: SearchContext, reason: string, detail?: string, scope: readonly ScopeCondition[] = []): Promise<never> {
  await write(io, searchEvent(io, ctx, 'denied', scope, { reason }));
  throw new AccessDeniedError(reason, detail, []);
}

/** Whether a record's plain fields meet one of the scope conditions (always, without conditions). */
export function recordInScope(scope: readonly ScopeCondition[], record: unknown): boolean {
  if (scope.length === 0) return true;
  if (typeof record !== 'object' || record === null) return false;
  return scope.some((c) => plainValueAt(record as Record<string, unknown>, c.path) === c.value);
}

class SearchDecision implements SearchAuthorization {
  readonly #io: GuardIo;
  readonly #ctx: SearchContext;

  constructor(
    io: GuardIo,
    ctx: SearchContext,
    readonly scope: readonly ScopeCondition[],
  ) {
    this.#io = io;
    this.#ctx = ctx;
  }

  inScope(record: unknown): boolean {
    return recordInScope(this.scope, record);
  }

  async issued(tokens: number): Promise<void> {
    await write(this.#io, searchEvent(this.#io, this.#ctx, 'issued', this.scope, { tokens }));
  }

  async done(result: SearchResultCounts): Promise<void> {
    const { candidates, matches, unverifiable } = result;
    const counts = { ...(candidates !== undefined ? { candidates } : {}), ...(matches !== undefined ? { matches } : {}), ...(unverifiable ? { unverifiable } : {}) };
    await write(this.#io, searchEvent(this.#io, this.#ctx, 'done', this.scope, counts));
  }
}

/** What a decision needs of its guard after `authorize` returns. */
interface GuardIo {
  readonly audit: AuditSink | undefined;
  readonly quotas: QuotaStore;
  readonly now: () => number;
}

const NO_COUNTERS: readonly QuotaCounter[] = [];

/**
 * One authorised open in progress. A class rather than closures: `authorize` runs once per opened
 * record, and each closure would be allocated (and, under keepNames builds, renamed) every call.
 */
class Decision<F extends FieldRef> implements Authorization<F> {
  readonly #io: GuardIo;
  readonly #ctx: OpenContext;
  readonly #counters: readonly QuotaCounter[];
  readonly #budgetOf: string | undefined;

  constructor(
    io: GuardIo,
    ctx: OpenContext,
    readonly granted: readonly F[],
    readonly withheld: Withheld[],
    counters: readonly QuotaCounter[],
    budgetOf: string | undefined,
  ) {
    this.#io = io;
    this.#ctx = ctx;
    this.#counters = counters;
    this.#budgetOf = budgetOf;
  }

  async charge(count: number): Promise<void> {
    const io = this.#io;
    const ctx = this.#ctx;
    if (count < 1 || this.#counters.length === 0) return;
    const outcome = await io.quotas.take(this.#counters, io.now(), count);
    if (outcome.ok) return;
    const budgetOf = this.#budgetOf;
    const reason = budgetOf !== undefined ? 'export_budget_spent' : 'quota_exceeded';
    const label = budgetOf !== undefined ? `approval:${budgetOf}` : labelOf(outcome.counter.key);
    await write(io, quotaAlert(io, ctx, { recordId: ctx.recordId }, reason, label, outcome));
    this.withheld.length = 0;
    return deny(io, ctx, this.withheld, reason, `${label}: ${outcome.used} of ${outcome.counter.limit} used`);
  }

  /** Writes the success event; resolves once it is durable. */
  async done(opened: readonly string[], matched?: boolean): Promise<void> {
    if (this.#io.audit) await write(this.#io, accessEvent(this.#io, this.#ctx, this.withheld, this.withheld.length > 0 ? 'partial' : 'opened', opened, undefined, matched));
  }

  async fail(reason: string, opened: readonly string[] = []): Promise<void> {
    if (this.#io.audit) await write(this.#io, accessEvent(this.#io, this.#ctx, this.withheld, 'failed', opened, reason));
  }
}

/** The `alert` event of a spent quota or export budget (an open's record, or a search's index). */
function quotaAlert(
  io: GuardIo,
  ctx: { readonly principal: string; readonly purpose: string; readonly schema: Schema; readonly context: Readonly<Record<string, string>> },
  target: { readonly recordId: string } | { readonly index: string },
  reason: AlertEvent['reason'],
  quota: string,
  outcome: { readonly counter: QuotaCounter; readonly used: number },
): AlertEvent {
  return {
    type: 'alert',
    time: new Date(io.now()).toISOString(),
    principal: ctx.principal,
    purpose: ctx.purpose,
    schema: ctx.schema.name,
    ...target,
    reason,
    quota,
    limit: outcome.counter.limit,
    used: outcome.used,
    evidence: ctx.context,
  };
}

function accessEvent(
  io: GuardIo,
  ctx: OpenContext,
  withheld: readonly Withheld[],
  outcome: AccessOutcome,
  opened: readonly string[],
  reason?: string,
  matched?: boolean,
): AccessEvent {
  return {
    type: 'access',
    time: new Date(io.now()).toISOString(),
    principal: ctx.principal,
    purpose: ctx.purpose,
    schema: ctx.schema.name,
    schemaVersion: ctx.schema.version,
    recordId: ctx.recordId,
    requested: ctx.requested,
    opened,
    withheld: [...withheld],
    outcome,
    ...(reason !== undefined ? { reason } : {}),
    ...(ctx.mode === 'confirm' ? { mode: 'confirm' as const } : {}),
    ...(matched !== undefined ? { matched } : {}),
    evidence: ctx.context,
  };
}

/** Audits the denial, then throws AccessDeniedError. */
async function deny(io: GuardIo, ctx: OpenContext, withheld: readonly Withheld[], reason: string, detail?: string, fields: readonly string[] = []): Promise<never> {
  await write(io, accessEvent(io, ctx, withheld, 'denied', [], reason));
  throw new AccessDeniedError(reason, detail, fields);
}

async function write(io: GuardIo, e: Parameters<AuditSink['write']>[0]): Promise<void> {
  if (io.audit) await io.audit.write(e);
}

function quotaCounters(policy: AccessPolicy, rule: PurposeRule, ctx: OpenContext): QuotaCounter[] {
  return [
    ...(policy.quotas ?? []).map((q) => ({ key: JSON.stringify(['principal', ctx.principal, q.window]), windowMs: windowMs(q.window), limit: q.max })),
    ...(rule.quotas ?? []).map((q) => ({
      key: JSON.stringify(['purpose', ctx.principal, ctx.purpose, q.window]),
      windowMs: windowMs(q.window),
      limit: q.max,
    })),
  ];
}

/** `grantsField` (and `grantsConfirm`) of a rule, memoised by schema path (a schema has few protected paths). */
const grantCache = new WeakMap<PurposeRule, (schemaPath: string) => boolean>();
const confirmCache = new WeakMap<PurposeRule, (schemaPath: string) => boolean>();

const grantsOf = (rule: PurposeRule): ((schemaPath: string) => boolean) => memoised(grantCache, rule, grantsField);
const confirmsOf = (rule: PurposeRule): ((schemaPath: string) => boolean) => memoised(confirmCache, rule, grantsConfirm);

function memoised(
  cache: WeakMap<PurposeRule, (schemaPath: string) => boolean>,
  rule: PurposeRule,
  check: (rule: PurposeRule, schemaPath: string) => boolean,
): (schemaPath: string) => boolean {
  let grants = cache.get(rule);
  if (grants === undefined) {
    const seen = new Map<string, boolean>();
    grants = (schemaPath) => {
      let ok = seen.get(schemaPath);
      if (ok === undefined) {
        ok = check(rule, schemaPath);
        if (seen.size < 1024) seen.set(schemaPath, ok);
      }
      return ok;
    };
    cache.set(rule, grants);
  }
  return grants;
}

/** A guard for `createSealer({ guard })`. */
export function createAccessGuard(options: AccessGuardOptions): AccessGuard {
  return new AccessGuard(options);
}

/** A non-empty evidence string of the request (own properties only: `constructor` is not evidence). */
function evidence(ctx: { readonly context: Readonly<Record<string, string>> }, key: string): string | undefined {
  const v = Object.hasOwn(ctx.context, key) ? ctx.context[key] : undefined;
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function inScope(ctx: OpenContext, recordPath: string, contextKey: string): boolean {
  // `evidence` is never empty: an empty route never matches a record with an empty route id.
  const want = evidence(ctx, contextKey);
  return want !== undefined && plainValueAt(ctx.record, recordPath) === want;
}

function labelOf(key: string): string {
  const k = JSON.parse(key) as string[];
  return k[0] === 'purpose' ? `purpose:${k[2]}/${k[3]}` : `principal/${k[2]}`;
}

/** The guard's policy cannot change under it (its field grants are memoised): frozen all the way down. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
