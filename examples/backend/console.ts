/**
 * The staff console's routes: the static page (console/), the caller's quota use, and recent audit
 * events. The page itself calls the backend's search, label and open routes, so it goes through the
 * same guard, quotas and audit log as any other client.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DEFAULT_SEARCH_QUOTAS, type AccessPolicy } from 'waybill-seal';
import type { PgAuditSink } from 'waybill-seal/pg';
import { QUOTA_TABLE, type Sql } from './db.js';
import { badRequest, HttpError, sendJson, sendText } from './http.js';

const ASSETS: Readonly<Record<string, { file: string; type: string }>> = {
  '': { file: 'index.html', type: 'text/html; charset=utf-8' },
  'console.js': { file: 'console.js', type: 'text/javascript; charset=utf-8' },
  'console.css': { file: 'console.css', type: 'text/css; charset=utf-8' },
};

/** Own scripts and styles only, no inline code, no framing: an injected value can neither run nor be framed. */
const PAGE_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
  'referrer-policy': 'no-referrer',
};

export interface QuotaUse {
  readonly window: string;
  readonly limit: number;
  readonly used: number;
}

/**
 * How much of the policy's search and open quotas `principal` has used. Reads the counters of the
 * library's `PgQuotaStore` (one row per counter key: window and hit times); the keys are the guard's
 * (`["search", principal, window]` for searches, `["principal", principal, window]` for opens).
 */
export async function quotaUse(db: Sql, policy: AccessPolicy, principal: string, now: number): Promise<{ search: QuotaUse[]; open: QuotaUse[] }> {
  // No searchQuotas: the guard's default (60 an hour); 'unlimited': nothing to show.
  const searchRules = policy.searchQuotas === 'unlimited' ? [] : (policy.searchQuotas ?? DEFAULT_SEARCH_QUOTAS);
  const search = searchRules.map((q) => ({ key: JSON.stringify(['search', principal, q.window]), window: q.window, limit: q.max }));
  const open = (policy.quotas ?? []).map((q) => ({ key: JSON.stringify(['principal', principal, q.window]), window: q.window, limit: q.max }));
  const { rows } = await db.query<{ key: string; window_ms: string | null; hits: string[] }>(
    `SELECT key, window_ms, hits FROM ${QUOTA_TABLE} WHERE key = ANY($1::text[])`,
    [[...search, ...open].map((c) => c.key)],
  );
  const byKey = new Map(rows.map((r) => [r.key, r]));
  const used = (key: string): number => {
    const row = byKey.get(key);
    if (!row) return 0;
    const cut = row.window_ms === null ? -Infinity : now - Number(row.window_ms);
    return row.hits.filter((t) => Number(t) > cut).length;
  };
  const view = (c: { key: string; window: string; limit: number }): QuotaUse => ({ window: c.window, limit: c.limit, used: used(c.key) });
  return { search: search.map(view), open: open.map(view) };
}

/** How many of the newest events are searched for the caller's own (a non-auditor's view). */
const OWN_EVENTS_SCAN = 1000;

export interface ConsoleOptions {
  readonly db: Sql;
  readonly policy: AccessPolicy;
  readonly auditLog: PgAuditSink;
  readonly now: () => number;
  /** Checks the `x-principal` header (401/400/403 as the other routes); `auditor`: it may read everyone's audit events. */
  readonly callerOf: (req: IncomingMessage) => { principal: string; auditor: boolean };
}

/** Serves `/console/…`; `parts` is the path split on '/', starting with 'console'. */
export async function consoleRoute(parts: readonly string[], url: URL, req: IncomingMessage, res: ServerResponse, options: ConsoleOptions): Promise<void> {
  if (req.method !== 'GET') throw new HttpError(405, { error: 'method_not_allowed' }, { allow: 'GET' });
  const name = parts.slice(1).join('/');
  if (name === 'quota') {
    const { principal } = options.callerOf(req);
    return sendJson(res, 200, await quotaUse(options.db, options.policy, principal, options.now()));
  }
  if (name === 'audit') {
    const { principal, auditor } = options.callerOf(req);
    const limitParam = url.searchParams.get('limit') ?? '20';
    if (!/^[0-9]{1,3}$/.test(limitParam) || Number(limitParam) < 1 || Number(limitParam) > 200) throw badRequest('invalid_query', 'limit', 'out_of_range');
    const limit = Number(limitParam);
    // Newest first. Audit events hold codes, ids, field paths and evidence, never a value of a protected
    // field; still, who looks at which waybill is itself sensitive: only an auditor sees everyone's.
    if (auditor) return sendJson(res, 200, { events: await options.auditLog.recent(limit) });
    const own = (await options.auditLog.recent(OWN_EVENTS_SCAN)).filter((e) => (e as { principal?: string }).principal === principal);
    return sendJson(res, 200, { events: own.slice(0, limit) });
  }
  const asset = ASSETS[name];
  if (!asset) throw new HttpError(404, { error: 'not_found' });
  const text = await readFile(new URL(`./console/${asset.file}`, import.meta.url), 'utf8');
  sendText(res, 200, asset.type, text, PAGE_HEADERS);
}
