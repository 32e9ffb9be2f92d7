/**
 * The waybill backend: intake, search, labels and audited opens over HTTP (node:http, no framework).
 *
 *   POST /waybills                 validate + seal a waybill, store it, answer its screen mask view
 *   GET  /waybills?mobile=…        search by receiver mobile (blind-index tokens only); a search is an
 *                                  access: X-Principal, X-Purpose (default search) and evidence, decided
 *                                  by the policy, charged to the search quota (60/h), audited
 *   GET  /waybills?last4=…&district=…   search by last four digits + district (pickup, delivery)
 *   GET  /waybills/:no             the screen mask view
 *   GET  /waybills/:no/label       the 100 × 150 mm label SVG, from the label masks (no key used)
 *   POST /waybills/:no/open        open fields for X-Principal / X-Purpose (+ X-Ticket, X-Route,
 *                                  X-Outlet, X-Approval) through policy, quotas and the audit log
 *   GET  /audit/verify             check the stored audit chain
 *   GET  /console/                 the staff console (console/index.html): search, masked results,
 *                                  label preview, open for a ticket, quota, audit view
 *   GET  /console/quota            X-Principal's quota use (searches and opens in their windows)
 *   GET  /console/audit?limit=N    the most recent audit events (codes, ids, evidence: no values)
 *   GET  /healthz
 *
 * The principal, purpose and evidence headers come from the gateway that authenticates staff and
 * sets them (mTLS, OIDC …), never from an open network; with `staff` (staff.ts) each principal is
 * held to its granted purposes, outlets and routes before the guard.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  AccessDeniedError,
  createAccessGuard,
  createSealer,
  mask,
  presetFor,
  isProtectedPath,
  ShreddedError,
  StoreError,
  storedToken,
  ValidationError,
  waybill,
  waybillPolicy,
  type SearchGrant,
  type AccessPolicy,
  type AuditSink,
  type Keyring,
  type MaskedRecord,
  type PlainRecord,
  type ProtectedPath,
  type Sealer,
  type SealedRecord,
  type SuiteName,
  type WaybillSchema,
} from 'waybill-seal';
import { FileCheckpointSink, readCheckpointFile } from 'waybill-seal/node';
import { PgAuditSink, PgKeyStore, PgQuotaStore } from 'waybill-seal/pg';
import { renderLabelSvg } from '../label/render.js';
import { consoleRoute } from './console.js';
import type { StaffDirectory, StaffGrant } from './staff.js';
import { AUDIT_TABLE, migrate, QUOTA_TABLE, TOKEN_COLUMNS, TOKEN_INDEXES, type Database } from './db.js';
import { badRequest, header, HttpError, readJson, sendJson, sendText } from './http.js';

export type Waybill = PlainRecord<WaybillSchema>;
export type SealedWaybill = SealedRecord<WaybillSchema>;
export type ScreenView = MaskedRecord<WaybillSchema>;

export interface BackendOptions {
  readonly db: Database;
  /** KEKs and the index/audit secrets (see keys.ts). */
  readonly keyring: Keyring;
  /** The deployment's suite (from the key file); picks the preset: suite and index hash. Default xchacha20-poly1305. */
  readonly suite?: SuiteName;
  /** Default: the library's `waybillPolicy`. */
  readonly policy?: AccessPolicy;
  /** Default: the chained audit log in the database (`waybill_audit`). */
  readonly audit?: AuditSink;
  /** Clock in ms (quotas, audit times). */
  readonly now?: () => number;
  /** One line per request: method, route template, status, time. Never a query string or a value. */
  readonly log?: (line: string) => void;
  /** Largest request body (default 64 KiB). */
  readonly maxBodyBytes?: number;
  /**
   * Who may ask for what (staff.ts), enforced before the guard: an unknown principal, a purpose not
   * granted to it, or an outlet/route it may not claim is 403. Without it the principal and purpose
   * headers are trusted as given (tests, or a gateway that enforces the same itself).
   */
  readonly staff?: StaffDirectory;
  /**
   * A file outside the database (JSON Lines) for signed checkpoints of the audit chain's head, one
   * after every write: `/audit/verify` then checks the chain against the newest, so rows cut off the
   * end of the chain by a database writer no longer verify.
   */
  readonly checkpointFile?: string;
}

export interface Backend {
  /** The node:http request listener. */
  readonly handle: (req: IncomingMessage, res: ServerResponse) => void;
  readonly sealer: Sealer;
  /** The database audit log (also when `audit` replaced it as the sink: then it is empty). */
  readonly auditLog: PgAuditSink;
  /** Seals and stores one waybill (what POST /waybills does); false if the number exists. */
  store(record: Waybill): Promise<{ stored: boolean; sealed: SealedWaybill }>;
  close(): void;
}

/** Waybill numbers appear in URLs and file names: letters, digits, '-' and '_'. */
export const WAYBILL_NO = /^[A-Za-z0-9_-]{1,64}$/;
const PRINCIPAL = /^[A-Za-z0-9][A-Za-z0-9:._@-]{0,127}$/;
const PURPOSE = /^[a-z][a-z0-9_-]{0,63}$/;
const EVIDENCE = /^[\x21-\x7e]{1,128}$/;
/** Request headers that become `context` evidence of an open (recorded in the audit log). */
export const EVIDENCE_HEADERS = { ticket: 'x-ticket', route: 'x-route', outlet: 'x-outlet', approval: 'x-approval', reason: 'x-reason' } as const;
/**
 * The reasons an agent may give for an open: codes from a fixed list, never free text (a free-text
 * reason is where an agent would type the phone number, and it would land in the audit log).
 */
export const OPEN_REASONS = new Set(['delivery-failed', 'customer-callback', 'complaint', 'address-correction']);
const SEARCH_PARAMS = new Set(['mobile', 'last4', 'district', 'limit', 'from', 'to']);
const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

/**
 * Keyless post-filter of token matches. Truncated blind-index tokens match some other values by
 * design (a few per query); every phone mask keeps its last digits visible, so a candidate whose
 * mask ends in other digits than the query is certainly not a match. Compares the trailing run of
 * visible digits of `masked` with the end of `queryDigits`.
 */
export function trailingDigitsAgree(masked: string | undefined, queryDigits: string): boolean {
  if (masked === undefined) return false;
  const run = /(\d*)[^\d*]*$/.exec(masked)?.[1] ?? '';
  const k = Math.min(run.length, queryDigits.length);
  return run.slice(run.length - k) === queryDigits.slice(queryDigits.length - k);
}

const forbidden = (field: string, reason: string): HttpError => new HttpError(403, { error: 'forbidden', field, reason });

/** Who asks: `x-principal` (401 when absent) and, with a staff directory, its grant (403 when it has none). */
function callerOf(req: IncomingMessage, staff: StaffDirectory | undefined): { principal: string; grant: StaffGrant | undefined } {
  const principal = header(req, 'x-principal');
  if (principal === undefined || principal === '') throw new HttpError(401, { error: 'unauthenticated', field: 'x-principal', reason: 'missing' });
  if (!PRINCIPAL.test(principal)) throw badRequest('invalid_request', 'x-principal', 'invalid_format');
  const grant = staff && Object.hasOwn(staff, principal) ? staff[principal] : undefined;
  if (staff && !grant) throw forbidden('x-principal', 'unknown_principal');
  return { principal, grant };
}

/** Who asks and why: the caller, `x-purpose` (or `defaultPurpose`) and evidence headers, all within the caller's staff grant. */
function accessOf(req: IncomingMessage, staff: StaffDirectory | undefined, defaultPurpose?: string): { principal: string; purpose: string; context: Record<string, string> } {
  const { principal, grant } = callerOf(req, staff);
  const purpose = header(req, 'x-purpose') ?? defaultPurpose;
  if (purpose === undefined || purpose === '') throw badRequest('invalid_request', 'x-purpose', 'missing');
  if (!PURPOSE.test(purpose)) throw badRequest('invalid_request', 'x-purpose', 'invalid_format');
  const context: Record<string, string> = {};
  for (const [key, name] of Object.entries(EVIDENCE_HEADERS)) {
    const v = header(req, name);
    if (v === undefined) continue;
    if (!EVIDENCE.test(v) || (key === 'reason' && !OPEN_REASONS.has(v))) throw badRequest('invalid_request', name, 'invalid_format');
    context[key] = v;
  }
  if (grant) {
    if (!grant.purposes.includes(purpose)) throw forbidden('x-purpose', 'purpose_not_granted');
    if (context['outlet'] !== undefined && !(grant.outlets ?? []).includes(context['outlet'])) throw forbidden('x-outlet', 'outlet_not_granted');
    if (context['route'] !== undefined && !(grant.routes ?? []).includes(context['route'])) throw forbidden('x-route', 'route_not_granted');
  }
  return { principal, purpose, context };
}

/** A refused access as HTTP: 429 for a spent quota, 403 otherwise, 503 when the audit log is broken. */
function deniedToHttp(e: unknown): unknown {
  if (e instanceof AccessDeniedError) {
    if (e.reason === 'quota_exceeded' || e.reason === 'export_budget_spent') return new HttpError(429, { error: 'quota_exceeded', reason: e.reason });
    return new HttpError(403, { error: 'access_denied', reason: e.reason, ...(e.fields.length ? { fields: e.fields } : {}) });
  }
  if (e instanceof StoreError) return new HttpError(503, { error: e.reason === 'audit_chain_broken' ? 'audit_unavailable' : 'store_unavailable' });
  return e;
}

export async function createBackend(options: BackendOptions): Promise<Backend> {
  const { db } = options;
  const limit = options.maxBodyBytes ?? 64 * 1024;
  const log = options.log ?? (() => {});
  await migrate(db);
  const keyStore = await PgKeyStore.create(db.client);
  // The library's shared stores: one audit chain and one set of quota counters for every instance.
  const checkpointFile = options.checkpointFile;
  const auditLog = await PgAuditSink.create(db.client, options.keyring, {
    table: AUDIT_TABLE,
    ...(checkpointFile ? { checkpoints: { sink: new FileCheckpointSink(checkpointFile), everyEvents: 1 } } : {}),
  });
  const policy = options.policy ?? waybillPolicy;
  const now = options.now ?? Date.now;
  const guard = createAccessGuard({
    policy,
    audit: options.audit ?? auditLog,
    quotaStore: await PgQuotaStore.create(db.client, { table: QUOTA_TABLE }),
    ...(options.now ? { now: options.now } : {}),
  });
  const sealer = createSealer({ ...presetFor(options.suite ?? 'xchacha20-poly1305'), keyring: options.keyring, keyStore, guard });

  async function store(record: Waybill): Promise<{ stored: boolean; sealed: SealedWaybill }> {
    const sealed = await sealer.seal(waybill, record);
    return { stored: await insert(sealed), sealed };
  }

  async function insert(sealed: SealedWaybill): Promise<boolean> {
    const tokens = TOKEN_INDEXES.map((index) => storedToken(waybill, sealed, index) ?? null);
    const { rows } = await db.query(
      `INSERT INTO waybills (waybill_no, created_at, sealed, ${TOKEN_INDEXES.map((i) => TOKEN_COLUMNS[i]).join(', ')})
       VALUES ($1, $2, $3::jsonb, ${TOKEN_INDEXES.map((_, i) => `$${i + 4}`).join(', ')})
       ON CONFLICT (waybill_no) DO NOTHING RETURNING waybill_no`,
      [sealed.waybillNo, sealed.createdAt, JSON.stringify(sealed), ...tokens],
    );
    return rows.length === 1;
  }

  async function load(no: string): Promise<SealedWaybill> {
    const { rows } = await db.query<{ sealed: SealedWaybill }>('SELECT sealed FROM waybills WHERE waybill_no = $1', [no]);
    if (!rows[0]) throw new HttpError(404, { error: 'not_found' });
    return verified(rows[0].sealed);
  }

  /** Masks, labels and opens only from rows whose integrity tag verifies: a changed row is refused, never shown. */
  async function verified(sealed: SealedWaybill): Promise<SealedWaybill> {
    const verdict = await sealer.verify(waybill, sealed);
    if (!verdict.ok) throw new HttpError(409, { error: 'integrity_failed', path: verdict.path, reason: verdict.reason });
    return sealed;
  }

  // POST /waybills
  async function intake(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJson(req, limit);
    if (isObject(body) && typeof body['waybillNo'] === 'string' && !WAYBILL_NO.test(body['waybillNo'])) {
      throw new HttpError(400, { error: 'invalid_waybill', path: 'waybillNo', reason: 'invalid_format' });
    }
    let sealed: SealedWaybill;
    try {
      sealed = await sealer.seal(waybill, body as Waybill);
    } catch (e) {
      if (e instanceof ValidationError) throw new HttpError(400, { error: 'invalid_waybill', ...safePath(e) });
      throw e;
    }
    // Checked after the schema: every key is a schema field by now, so the path is safe to name.
    const nul = nulPath(body, '');
    if (nul !== undefined) throw new HttpError(400, { error: 'invalid_waybill', path: nul || '(record)', reason: 'nul_character' });
    if (!(await insert(sealed))) throw new HttpError(409, { error: 'conflict', reason: 'waybill_exists' });
    sendJson(res, 201, mask(waybill, sealed, 'screen'), { location: `/waybills/${sealed.waybillNo}` });
  }

  // GET /waybills?mobile=… | ?last4=…&district=… (a search is an access: x-principal, x-purpose (default search), evidence)
  async function search(url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const access = accessOf(req, options.staff, 'search');
    const q = url.searchParams;
    for (const key of new Set(q.keys())) {
      // The parameter name is request input too: never echoed.
      if (!SEARCH_PARAMS.has(key)) throw badRequest('invalid_query', 'query', 'unknown_parameter');
      if (q.getAll(key).length > 1) throw badRequest('invalid_query', key, 'repeated');
    }
    const limitParam = q.get('limit');
    const max = limitParam === null ? 20 : /^[0-9]{1,3}$/.test(limitParam) ? Number(limitParam) : 0;
    if (max < 1 || max > 100) throw badRequest('invalid_query', 'limit', 'out_of_range');
    // The months to search (per-month index keys): one token per live month in the window.
    const window: { from?: string; to?: string } = {};
    for (const end of ['from', 'to'] as const) {
      const month = q.get(end);
      if (month === null) continue;
      if (!MONTH.test(month)) throw badRequest('invalid_query', end, 'expected_month');
      window[end] = month;
    }
    if (window.from !== undefined && window.to !== undefined && window.from > window.to) throw badRequest('invalid_query', 'from', 'after_to');
    const mobile = q.get('mobile');
    const last4 = q.get('last4');
    const district = q.get('district');
    let index: 'receiver.mobile' | 'receiver.mobile:last4+district';
    let value: string | [string, string];
    let digits: string;
    if (mobile !== null) {
      if (last4 !== null || district !== null) throw badRequest('invalid_query', 'query', 'one_search_at_a_time');
      if (mobile.length === 0 || mobile.length > 32) throw badRequest('invalid_query', 'mobile', 'not_normalizable');
      index = 'receiver.mobile';
      value = mobile;
      digits = mobile.replace(/\D/g, '');
    } else if (last4 !== null) {
      if (!/^[0-9]{4}$/.test(last4)) throw badRequest('invalid_query', 'last4', 'expected_4_digits');
      if (district === null || district.trim() === '') throw badRequest('invalid_query', 'district', 'required');
      if (district.length > 64) throw badRequest('invalid_query', 'district', 'too_long');
      index = 'receiver.mobile:last4+district';
      value = [last4, district];
      digits = last4;
    } else {
      throw badRequest('invalid_query', 'query', district === null ? 'mobile_or_last4_required' : 'last4_required');
    }
    let grant: SearchGrant;
    try {
      // The guard decides the query (purpose, evidence, scope, search quota) and audits it.
      grant = await sealer.search(waybill, index, value, { ...access, window });
    } catch (e) {
      if (e instanceof ValidationError) throw badRequest('invalid_query', mobile !== null ? 'mobile' : 'last4', 'not_normalizable');
      throw deniedToHttp(e);
    }
    // Tokens only: the query value never reaches the database. One token per index version, or with
    // per-month index keys one per live month in the window (24 months = 24 tokens): `= ANY($1)` on
    // an indexed column, one index probe per token.
    const { rows } = await db.query<{ sealed: SealedWaybill }>(
      `SELECT sealed FROM waybills WHERE ${TOKEN_COLUMNS[index]} = ANY($1::text[]) ORDER BY created_at DESC, waybill_no LIMIT $2`,
      [grant.tokens, max + 50],
    );
    // Out-of-scope rows (another outlet's parcels for a scoped purpose) are dropped unseen.
    const candidates = rows.map((r) => r.sealed).filter((s) => grant.inScope(s) && trailingDigitsAgree(s.receiver.mobile?.mask['screen'], digits));
    // A row that fails its integrity check is left out of the results and counted, never shown.
    const intact = [];
    for (const s of candidates) if ((await sealer.verify(waybill, s)).ok) intact.push(s);
    const results = intact.slice(0, max).map((s) => mask(waybill, s, 'screen'));
    const failed = candidates.length - intact.length;
    await grant.done({ candidates: rows.length, matches: results.length });
    sendJson(res, 200, { count: results.length, results, ...(failed > 0 ? { integrityFailed: failed } : {}) });
  }

  // POST /waybills/:no/open
  async function openFields(no: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { principal, purpose, context } = accessOf(req, options.staff);
    const body = await readJson(req, limit, { optional: true });
    let fields: ProtectedPath<WaybillSchema>[] | undefined;
    if (body !== undefined) {
      if (!isObject(body)) throw badRequest('invalid_request', 'body', 'expected_object');
      if (Object.keys(body).some((k) => k !== 'fields')) throw badRequest('invalid_request', 'body', 'unknown_field');
      const f = body['fields'];
      if (f !== undefined) {
        if (!Array.isArray(f) || f.length === 0 || f.length > 32) throw badRequest('invalid_request', 'fields', 'expected_1_to_32_paths');
        fields = f.map((p: unknown, i) => {
          if (typeof p !== 'string' || !isProtectedPath(waybill, p)) throw badRequest('invalid_request', `fields[${i}]`, 'not_a_protected_field');
          return p;
        });
      }
    }
    const sealed = await load(no);
    try {
      const result = await sealer.open(waybill, sealed, { principal, purpose, context, reveal: 'plain', ...(fields ? { fields } : {}) });
      sendJson(res, 200, { waybillNo: no, opened: result.opened, withheld: result.withheld, record: result.record });
    } catch (e) {
      if (e instanceof ShreddedError) throw new HttpError(410, { error: 'shredded' });
      throw deniedToHttp(e);
    }
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://backend.invalid');
    const parts = url.pathname.split('/').filter((p) => p !== '');
    const method = req.method ?? 'GET';
    const only = (allowed: string): void => {
      if (method !== allowed) throw new HttpError(405, { error: 'method_not_allowed' }, { allow: allowed });
    };
    if (parts.length === 1 && parts[0] === 'healthz') {
      only('GET');
      return sendJson(res, 200, { ok: true, database: db.kind });
    }
    if (parts.length === 2 && parts[0] === 'audit' && parts[1] === 'verify') {
      only('GET');
      // Against the newest checkpoint of the file, when there is one: a chain cut short fails.
      const selected = checkpointFile ? await auditLog.selectCheckpoint(await readCheckpointFile(checkpointFile)) : undefined;
      if (selected && !selected.ok) return sendJson(res, 200, { ok: false, reason: 'checkpoint_invalid', checkpointLine: selected.index });
      const checkpoint = selected?.newest;
      const v = await auditLog.verify(checkpoint ? { checkpoint } : {});
      const upTo = checkpoint ? { checkpoint: { seq: checkpoint.seq, time: checkpoint.time } } : {};
      return sendJson(res, 200, v.ok ? { ok: true, lines: v.lines, head: v.head, ...upTo } : { ok: false, line: v.line, reason: v.reason, head: v.head, ...upTo });
    }
    if (parts.length === 0) {
      only('GET');
      return sendText(res, 302, 'text/plain; charset=utf-8', 'see /console/', { location: '/console/' });
    }
    if (parts[0] === 'console') {
      return consoleRoute(parts, url, req, res, { db, policy, auditLog, now, callerOf: (r) => {
        const { principal, grant } = callerOf(r, options.staff);
        return { principal, auditor: grant?.auditor === true };
      } });
    }
    if (parts[0] !== 'waybills' || parts.length > 3) throw new HttpError(404, { error: 'not_found' });
    if (parts.length === 1) {
      if (method === 'POST') return intake(req, res);
      if (method === 'GET') return search(url, req, res);
      throw new HttpError(405, { error: 'method_not_allowed' }, { allow: 'GET, POST' });
    }
    const no = parts[1]!;
    if (!WAYBILL_NO.test(no)) throw badRequest('invalid_request', 'waybillNo', 'invalid_format');
    if (parts.length === 2) {
      only('GET');
      return sendJson(res, 200, mask(waybill, await load(no), 'screen'));
    }
    if (parts[2] === 'label') {
      only('GET');
      // What a label service does: label masks only, no key (GB/T 41833 label rules).
      return sendText(res, 200, 'image/svg+xml; charset=utf-8', renderLabelSvg(mask(waybill, await load(no), 'label')));
    }
    if (parts[2] === 'open') {
      only('POST');
      return openFields(no, req, res);
    }
    throw new HttpError(404, { error: 'not_found' });
  }

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const t0 = performance.now();
    const line = (status: number) => log(`${req.method ?? '?'} ${routeName(req.url)} ${status} ${(performance.now() - t0).toFixed(1)}ms`);
    route(req, res).then(
      () => line(res.statusCode),
      (e: unknown) => {
        if (e instanceof HttpError) {
          if (!res.headersSent) sendJson(res, e.status, e.body, e.headers);
          line(e.status);
          return;
        }
        // Never the message: driver errors can quote values. The name and code are enough to start.
        const code = (e as { code?: unknown })?.code;
        log(`error ${(e as Error)?.name ?? 'unknown'}${typeof code === 'string' ? ` ${code}` : ''} on ${req.method ?? '?'} request`);
        if (!res.headersSent) sendJson(res, 500, { error: 'internal' });
        else res.destroy();
      },
    );
  };

  return { handle, sealer, auditLog, store, close: () => sealer.close() };
}

/** The route template of a request URL for logs: no waybill numbers, no query strings. */
export function routeName(url = '/'): string {
  const parts = url.split('?')[0]!.split('/').filter((p) => p !== '');
  const path = parts.join('/');
  if (path === 'healthz' || path === 'audit/verify' || path === '') return `/${path}`;
  if (parts[0] === 'console') return parts.length === 2 && (parts[1] === 'quota' || parts[1] === 'audit') ? `/console/${parts[1]}` : '/console/…';
  if (parts[0] !== 'waybills') return '(unknown)';
  if (parts.length === 1) return url.includes('?') ? '/waybills?…' : '/waybills';
  if (parts.length === 2) return '/waybills/:no';
  return parts.length === 3 && (parts[2] === 'label' || parts[2] === 'open') ? `/waybills/:no/${parts[2]}` : '(unknown)';
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The path of the first string (value or key) holding U+0000, which PostgreSQL jsonb cannot store. */
function nulPath(v: unknown, path: string): string | undefined {
  if (typeof v === 'string') return v.includes('\u0000') ? path : undefined;
  if (Array.isArray(v)) {
    for (const [i, x] of v.entries()) {
      const p = nulPath(x, `${path}${path ? '.' : ''}${i}`);
      if (p !== undefined) return p;
    }
    return undefined;
  }
  if (isObject(v)) {
    for (const [k, x] of Object.entries(v)) {
      if (k.includes('\u0000')) return path;
      const p = nulPath(x, `${path}${path ? '.' : ''}${k}`);
      if (p !== undefined) return p;
    }
  }
  return undefined;
}

/**
 * A validation error as a response body. For `unknown_field` the library's path ends in the
 * unknown key, which the client chose (it could be anything): report the enclosing object instead.
 */
function safePath(e: ValidationError): { path: string; reason: string } {
  if (e.reason !== 'unknown_field') return { path: e.path || '(record)', reason: e.reason };
  const at = e.path.lastIndexOf('.');
  return { path: at < 0 ? '(record)' : e.path.slice(0, at), reason: e.reason };
}
