/**
 * Access policies: a declarative map from purpose to the fields it may open, the evidence it
 * needs, the records it may touch (scope) and its quotas. Everything not granted is denied.
 * Pure data and pure checks, so a policy can live in a JSON file and be reviewed like code.
 */
import { ConfigError } from '../errors.js';
import type { Schema } from '../schema/schema.js';
import { signedPaths } from '../schema/signed.js';
import { protectedPaths, type ProtectedPath } from '../schema/paths.js';
import { isPlainObject } from '../schema/walk.js';

/** The record's plain field `record` must equal the request's `context[context]`. */
export interface ScopeMatch {
  /** A plain string field of the record, e.g. `routing.routeId`. */
  readonly record: string;
  /** A key of the request's context, e.g. `route`. */
  readonly context: string;
}

/** At most `max` opened records per sliding `window` (`30m`, `1h`, `1d`, `45s`). */
export interface QuotaRule {
  readonly window: string;
  readonly max: number;
}

/**
 * What a policy built for a schema may name in `fields` and `confirm`: its protected paths and the
 * `prefix.*` wildcards over them (`receiver.*`, `receiver.address.*`, `items[].*`).
 */
export type PolicyPath<S extends Schema> = ProtectedPath<S> | WildcardsOf<ProtectedPath<S>>;
type WildcardsOf<P extends string> = P extends `${infer Head}.${infer Tail}` ? `${Head}.*` | `${Head}.${WildcardsOf<Tail>}` : never;

/** `P`: the paths `fields` and `confirm` may name (`definePolicy` passes the schema's `PolicyPath`). */
export interface PurposeRule<P extends string = string> {
  /**
   * Schema paths this purpose may open (`receiver.mobile`, `items[].name`, `receiver.*`), or `'*'` for
   * all. Empty only for a purpose that confirms search candidates (`confirm`) and opens nothing.
   */
  readonly fields: '*' | readonly P[];
  /**
   * Schema paths whose value this purpose may *compare* with a search query (confirming a candidate
   * inside the library: decrypted, compared in constant time, never returned), on top of `fields`.
   * Audited and charged to the open quota like an open. A pickup station confirms a parcel's
   * receiver mobile against the digits the customer says without ever reading it.
   */
  readonly confirm?: readonly P[];
  /** Context keys the request must carry, non-empty (e.g. `['ticket']`); missing → `missing_<key>`. */
  readonly requires?: readonly string[];
  /** The record must match at least one of these (deny `out_of_scope` otherwise). */
  readonly scope?: readonly ScopeMatch[];
  /**
   * Bulk export: the request must name an approved export grant in `context.approval`; the grant's
   * record budget and expiry replace the principal's quotas.
   */
  readonly approval?: boolean;
  /** Quotas per principal for this purpose, on top of the policy-wide ones. */
  readonly quotas?: readonly QuotaRule[];
  /**
   * Indexes this purpose may search (`'*'`: every index). Default: the indexes whose protected
   * fields this purpose may open or confirm, so no purpose gets a token it could not confirm.
   */
  readonly indexes?: '*' | readonly string[];
  readonly description?: string;
}

export interface AccessPolicy<P extends string = string> {
  readonly purposes: Readonly<Record<string, PurposeRule<P>>>;
  /** Quotas per principal across all purposes (purposes with `approval` use their grant instead). */
  readonly quotas?: readonly QuotaRule[];
  /**
   * Search queries per principal, across purposes (default {@link DEFAULT_SEARCH_QUOTAS}: 60 an
   * hour). No limit at all must be said: `'unlimited'` (an empty array is refused, as a likely slip).
   */
  readonly searchQuotas?: readonly QuotaRule[] | 'unlimited';
  readonly description?: string;
}

/** Search queries a principal may make when a policy says nothing: 60 an hour. */
export const DEFAULT_SEARCH_QUOTAS: readonly QuotaRule[] = Object.freeze([Object.freeze({ window: '1h', max: 60 })]);

export const POLICY_FORMAT = 'waybill-seal/policy';

const KEY = /^[a-z][a-z0-9_-]{0,31}$/;
const PURPOSE = /^[a-z][a-z0-9_-]{0,63}$/;
const WINDOW = /^([1-9][0-9]{0,5})(s|m|h|d)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `'1h'` → 3,600,000. Throws ConfigError on anything else. */
export function windowMs(window: string): number {
  const m = WINDOW.exec(window);
  if (!m) throw new ConfigError(`quota window "${window}" must look like 30m, 1h or 1d`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/**
 * Checks the structure of a policy (from a JSON file or code) and returns it typed. Errors name
 * the offending path, e.g. `policy.purposes.deliver.scope[0].record: must be a string`.
 */
export function parsePolicy(json: unknown, where = 'policy'): AccessPolicy {
  const fail = (path: string, msg: string): never => {
    throw new ConfigError(`${path}: ${msg}`);
  };
  if (!isPlainObject(json)) fail(where, 'must be an object');
  const p = json as Record<string, unknown>;
  onlyKeys(p, ['format', 'version', 'purposes', 'quotas', 'searchQuotas', 'description'], where, fail);
  if (p['format'] !== undefined && p['format'] !== POLICY_FORMAT) fail(`${where}.format`, `must be "${POLICY_FORMAT}"`);
  if (p['version'] !== undefined && p['version'] !== 1) fail(`${where}.version`, 'must be 1');
  if (p['description'] !== undefined && typeof p['description'] !== 'string') fail(`${where}.description`, 'must be a string');
  if (!isPlainObject(p['purposes'])) fail(`${where}.purposes`, 'must be an object of purpose rules');
  const purposes: Record<string, PurposeRule> = {};
  for (const [name, raw] of Object.entries(p['purposes'] as Record<string, unknown>)) {
    const at = `${where}.purposes.${name}`;
    if (!PURPOSE.test(name)) fail(at, 'purpose names are lower-case letters, digits, "-" and "_"');
    purposes[name] = parsePurpose(raw, at, fail);
  }
  const quotas = p['quotas'] === undefined ? undefined : parseQuotas(p['quotas'], `${where}.quotas`, fail);
  const searchQuotas = p['searchQuotas'] === undefined || p['searchQuotas'] === 'unlimited' ? p['searchQuotas'] : parseQuotas(p['searchQuotas'], `${where}.searchQuotas`, fail);
  if (Array.isArray(searchQuotas) && searchQuotas.length === 0) fail(`${where}.searchQuotas`, 'must not be empty: say "unlimited" to allow any number of searches');
  return {
    purposes,
    ...(quotas ? { quotas } : {}),
    ...(searchQuotas ? { searchQuotas } : {}),
    ...(typeof p['description'] === 'string' ? { description: p['description'] } : {}),
  };
}

type Fail = (path: string, msg: string) => never;

function parsePurpose(raw: unknown, at: string, fail: Fail): PurposeRule {
  if (!isPlainObject(raw)) return fail(at, 'must be an object');
  onlyKeys(raw, ['fields', 'confirm', 'requires', 'scope', 'approval', 'quotas', 'indexes', 'description'], at, fail);
  const confirm = raw['confirm'];
  if (confirm !== undefined) pathList(confirm, `${at}.confirm`, fail);
  const fields = raw['fields'];
  if (fields !== '*' && !(Array.isArray(fields) && (fields.length > 0 || confirm !== undefined))) {
    fail(`${at}.fields`, 'must be "*" or a non-empty array of field paths (empty only with confirm)');
  }
  if (Array.isArray(fields)) pathList(fields, `${at}.fields`, fail);
  const requires = raw['requires'];
  if (requires !== undefined) {
    if (!Array.isArray(requires)) fail(`${at}.requires`, 'must be an array of context keys');
    (requires as unknown[]).forEach((k, i) => (typeof k === 'string' && KEY.test(k) ? undefined : fail(`${at}.requires[${i}]`, `must match ${KEY}`)));
  }
  const scope = raw['scope'];
  if (scope !== undefined) {
    if (!Array.isArray(scope) || scope.length === 0) fail(`${at}.scope`, 'must be a non-empty array of { record, context }');
    (scope as unknown[]).forEach((m, i) => {
      const sp = `${at}.scope[${i}]`;
      if (!isPlainObject(m)) return fail(sp, 'must be { record, context }');
      onlyKeys(m, ['record', 'context'], sp, fail);
      if (typeof m['record'] !== 'string' || m['record'] === '') fail(`${sp}.record`, 'must be a plain field path');
      if (typeof m['context'] !== 'string' || !KEY.test(m['context'])) fail(`${sp}.context`, `must match ${KEY}`);
      return undefined;
    });
  }
  if (raw['approval'] !== undefined && typeof raw['approval'] !== 'boolean') fail(`${at}.approval`, 'must be true or false');
  const indexes = raw['indexes'];
  if (indexes !== undefined && indexes !== '*' && !(Array.isArray(indexes) && indexes.every((i) => typeof i === 'string' && i !== ''))) {
    fail(`${at}.indexes`, 'must be "*" or an array of index names');
  }
  if (raw['description'] !== undefined && typeof raw['description'] !== 'string') fail(`${at}.description`, 'must be a string');
  const quotas = raw['quotas'] === undefined ? undefined : parseQuotas(raw['quotas'], `${at}.quotas`, fail);
  return {
    fields: fields === '*' ? '*' : [...(fields as string[])],
    ...(confirm !== undefined ? { confirm: [...(confirm as string[])] } : {}),
    ...(requires ? { requires: [...(requires as string[])] } : {}),
    ...(scope ? { scope: (scope as ScopeMatch[]).map((m) => ({ record: m.record, context: m.context })) } : {}),
    ...(raw['approval'] === true ? { approval: true } : {}),
    ...(quotas ? { quotas } : {}),
    ...(indexes !== undefined ? { indexes: indexes === '*' ? '*' : [...(indexes as string[])] } : {}),
    ...(typeof raw['description'] === 'string' ? { description: raw['description'] } : {}),
  };
}

function pathList(raw: unknown, at: string, fail: Fail): void {
  if (!Array.isArray(raw)) return fail(at, 'must be an array of field paths');
  raw.forEach((f, i) => (typeof f === 'string' && f !== '' ? undefined : fail(`${at}[${i}]`, 'must be a field path')));
  return undefined;
}

function parseQuotas(raw: unknown, at: string, fail: Fail): QuotaRule[] {
  if (!Array.isArray(raw)) return fail(at, 'must be an array of { window, max }');
  return raw.map((q, i) => {
    const qp = `${at}[${i}]`;
    if (!isPlainObject(q)) return fail(qp, 'must be { window, max }');
    onlyKeys(q, ['window', 'max'], qp, fail);
    if (typeof q['window'] !== 'string' || !WINDOW.test(q['window'])) fail(`${qp}.window`, 'must look like 30m, 1h or 1d');
    if (!Number.isSafeInteger(q['max']) || (q['max'] as number) < 0) fail(`${qp}.max`, 'must be a non-negative integer');
    return { window: q['window'] as string, max: q['max'] as number };
  });
}

function onlyKeys(o: Record<string, unknown>, allowed: readonly string[], at: string, fail: Fail): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) fail(at, `unknown key "${k}" (allowed: ${allowed.join(', ')})`);
}

/**
 * A policy written in TypeScript for one schema: `fields` and `confirm` paths are typed from it
 * (`'receiver.phone'` does not compile on the waybill), and the policy is checked against it at
 * once (`checkPolicy`: scope fields, index names), so a JavaScript caller gets the ConfigError here.
 */
export function definePolicy<S extends Schema>(schema: S, policy: AccessPolicy<PolicyPath<S>>): AccessPolicy {
  checkPolicy(policy, schema);
  return policy;
}

/**
 * Checks a policy against a schema: every granted field is a protected field (or a `prefix.*`
 * that matches one) and every scope field a plain string field that the record tag covers (the
 * record id, `scopeFrom` or a path under the schema's `signed`). Throws one ConfigError listing
 * every problem.
 */
export function checkPolicy(policy: AccessPolicy, schema: Schema): void {
  const problems: string[] = [];
  const known = protectedPaths(schema);
  for (const [name, rule] of Object.entries(policy.purposes)) {
    for (const [key, list] of [['fields', rule.fields], ['confirm', rule.confirm ?? []]] as const) {
      if (list === '*') continue;
      for (const f of list) {
        const ok = f.endsWith('.*') ? [...known].some((k) => k.startsWith(f.slice(0, -1))) : known.has(f);
        if (!ok) problems.push(`purposes.${name}.${key}: "${f}" is not a protected field of ${schema.name}`);
      }
    }
    for (const m of rule.scope ?? []) {
      if (!isPlainStringPath(schema, m.record)) problems.push(`purposes.${name}.scope: "${m.record}" is not a plain string field of ${schema.name}`);
      // Whoever can write the table can change an unsigned field: only the record tag vouches for one.
      else if (!isSigned(schema, m.record)) problems.push(`purposes.${name}.scope: "${m.record}" is not signed by ${schema.name} (add it to the schema's signed paths)`);
    }
    if (Array.isArray(rule.indexes)) {
      const indexes = schema.indexes ?? {};
      for (const i of rule.indexes) if (!Object.hasOwn(indexes, i)) problems.push(`purposes.${name}.indexes: "${i}" is not an index of ${schema.name}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(`policy does not fit schema ${schema.name}: ${problems.join('; ')}`);
}

function isSigned(schema: Schema, path: string): boolean {
  const keys = path.split('.');
  return signedPaths(schema).some((p) => p.length <= keys.length && p.every((k, i) => k === keys[i]));
}

function isPlainStringPath(schema: Schema, path: string): boolean {
  let shape = schema.shape;
  const parts = path.split('.');
  for (const [i, part] of parts.entries()) {
    const def = Object.hasOwn(shape, part) ? shape[part]?.def : undefined;
    if (!def) return false;
    if (i === parts.length - 1) return def.type === 'plain' && def.kind === 'string';
    if (def.type !== 'object') return false;
    shape = def.shape;
  }
  return false;
}

/** Whether a purpose rule grants opening a schema path. */
export function grantsField(rule: PurposeRule, schemaPath: string): boolean {
  return rule.fields === '*' || listed(rule.fields, schemaPath);
}

/** Whether a purpose rule may compare a schema path with a search query (`confirm`, or `fields`: opening is more). */
export function grantsConfirm(rule: PurposeRule, schemaPath: string): boolean {
  return grantsField(rule, schemaPath) || (rule.confirm !== undefined && listed(rule.confirm, schemaPath));
}

const listed = (paths: readonly string[], schemaPath: string): boolean =>
  paths.some((f) => (f.endsWith('.*') ? schemaPath.startsWith(f.slice(0, -1)) : f === schemaPath));

/** A plain value of a (walked) record by dotted path, or undefined. */
export function plainValueAt(record: Readonly<Record<string, unknown>>, path: string): unknown {
  let v: unknown = record;
  for (const part of path.split('.')) {
    if (!isPlainObject(v) || !Object.hasOwn(v, part)) return undefined;
    v = v[part];
  }
  return v;
}
