/**
 * The backend example (examples/backend): the same HTTP tests against embedded PGlite and against
 * a real PostgreSQL server (WAYBILL_SEAL_PG_URL from .ci/run or test/global-setup.ts; each run
 * creates its own database), with two backend instances sharing one database (quotas and the audit
 * chain are shared). The server is started on 127.0.0.1 port 0 and driven with fetch. Then the
 * command itself (`tsx examples/backend/server.ts`) on PGlite, and on PostgreSQL with a key file
 * across a restart.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSealer,
  generateLocalKeyMaterial,
  LocalKeyring,
  mask,
  MemoryKeyStore,
  protectedPaths,
  storedToken,
  waybill,
  waybillPolicy,
  type PlainRecord,
  type SealedRecord,
  type WaybillSchema,
} from 'waybill-seal';
import { createKeyFile } from 'waybill-seal/node';
import { findPlaintext, syntheticWaybills } from 'waybill-seal/testing';
import 'waybill-seal/testing/vitest';
import { createBackend, routeName, trailingDigitsAgree, type Backend } from '../../examples/backend/app.js';
import { fromPglite, fromPool, TOKEN_COLUMNS, TOKEN_INDEXES, type Database } from '../../examples/backend/db.js';
import { listen, type Listening } from '../../examples/backend/server.js';
import { renderLabelSvg } from '../../examples/label/render.js';
import { needPg } from '../keyrings/native.js';
import { numberedWaybill } from './fixtures.js';

type Waybill = PlainRecord<WaybillSchema>;
type Sealed = SealedRecord<WaybillSchema>;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const server = needPg();

const sample = (n: number, overrides: Partial<Waybill> = {}): Waybill => numberedWaybill(n, 'WB', overrides);

type Req = Omit<RequestInit, 'body'> & { body?: unknown };

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

function client(base: () => string) {
  return async (path: string, init: Req = {}): Promise<Reply> => {
    const body = init.body === undefined || typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
    const headers = new Headers(init.headers);
    if (body !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/json');
    const res = await fetch(`${base()}${path}`, { ...(init as RequestInit), headers, body: (body as string | undefined) ?? null });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  };
}

/** Headers of a search: a customer-service agent on a ticket (may search receiver.mobile indexes). */
const searcher = { headers: { 'x-principal': 'cs-4', 'x-purpose': 'customer-service', 'x-ticket': 'T-1' } };
/** A searcher of the demo staff directory (the spawned `npm run example:backend` enforces it). */
const demoSearcher = { headers: { ...searcher.headers, 'x-principal': 'cs-agent-1' } };

const opener = (principal: string, purpose: string, extra: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { 'x-principal': principal, 'x-purpose': purpose, ...extra },
});

interface Harness {
  db: Database;
  cleanup: () => Promise<void>;
}

function backendSuite(label: string, open: () => Promise<Harness>, first: number): void {
  describe(`backend example on ${label}`, () => {
    let h: Harness;
    let a: Backend;
    let b: Backend;
    let httpA: Listening;
    let httpB: Listening;
    const logs: string[] = [];
    const keyring = new LocalKeyring(generateLocalKeyMaterial());
    const api = client(() => httpA.url);
    const apiB = client(() => httpB.url);
    let n = first;
    const next = () => sample(++n);

    beforeAll(async () => {
      h = await open();
      a = await createBackend({ db: h.db, keyring, log: (l) => logs.push(l) });
      // A second instance on the same database: shared data keys, quotas and audit chain.
      b = await createBackend({ db: h.db, keyring, log: (l) => logs.push(l) });
      httpA = await listen(a);
      httpB = await listen(b);
    }, 120_000);
    afterAll(async () => {
      await httpA?.close();
      await httpB?.close();
      a?.close();
      b?.close();
      await h?.cleanup();
    });

    const row = async (no: string) =>
      (await h.db.query<Record<string, unknown> & { sealed: Sealed }>('SELECT * FROM waybills WHERE waybill_no = $1', [no])).rows[0];

    it('POST /waybills seals and stores a waybill and answers its screen mask view', async () => {
      const w = next();
      const r = await api('/waybills', { method: 'POST', body: w });
      expect(r.status).toBe(201);
      expect(r.headers.get('location')).toBe(`/waybills/${w.waybillNo}`);
      expect(r.headers.get('cache-control')).toBe('no-store');
      expect(r.json.receiver).toMatchObject({ name: '欧***', mobile: `139****${w.receiver.mobile!.slice(-4)}` });
      expect(r.json.sender.mobile).toBe(`138****${w.sender.mobile!.slice(-4)}`);
      expect(r.json.routing).toEqual(w.routing);
      expect(r.text).toContainNoPlaintext(w);

      // The row: sealed jsonb (it opens), tokens in their columns, no plaintext anywhere.
      const stored = await row(w.waybillNo);
      expect(stored).toBeDefined();
      expect(r.json).toMatchMasks(waybill, stored!.sealed, 'screen');
      for (const index of TOKEN_INDEXES) {
        expect(stored![TOKEN_COLUMNS[index]], index).toBe(storedToken(waybill, stored!.sealed, index));
        expect(stored![TOKEN_COLUMNS[index]], index).toMatch(/^\d{4}-\d{2}~1\./);
      }
      expect(stored).toContainNoPlaintext(w);
      expect(stored!.sealed).toBeSealed(waybill);
      const opened = await a.sealer.open(waybill, stored!.sealed, { principal: 'test', purpose: 'audit', context: { ticket: 'T-1' }, reveal: 'plain' });
      expect(opened.record.receiver.mobile).toBe(w.receiver.mobile);
    });

    it('refuses a second waybill with the same number (409) and keeps the first', async () => {
      const w = next();
      expect((await api('/waybills', { method: 'POST', body: w })).status).toBe(201);
      const before = await row(w.waybillNo);
      const again = await apiB('/waybills', { method: 'POST', body: { ...w, weightGrams: 5 } });
      expect(again.status).toBe(409);
      expect(again.json).toEqual({ error: 'conflict', reason: 'waybill_exists' });
      expect(await row(w.waybillNo)).toEqual(before);
    });

    it('answers 400/413/415 with a field path and a reason, never a request value', async () => {
      const w = next();
      const cases: { name: string; init: Req; status: number; json: Record<string, unknown>; secret?: string }[] = [
        { name: 'missing name', init: { body: { ...w, receiver: { ...w.receiver, name: undefined } } }, status: 400, json: { error: 'invalid_waybill', path: 'receiver.name', reason: 'required' } },
        { name: 'bad mobile', init: { body: { ...w, receiver: { ...w.receiver, mobile: '98765' } } }, status: 400, json: { error: 'invalid_waybill', path: 'receiver.mobile', reason: 'invalid_mobile' }, secret: '98765' },
        { name: 'already masked', init: { body: { ...w, receiver: { ...w.receiver, mobile: '139****4321' } } }, status: 400, json: { error: 'invalid_waybill', path: 'receiver.mobile', reason: 'already_masked' }, secret: '139****4321' },
        { name: 'unknown key', init: { body: { ...w, sender: { ...w.sender, '13700001111': 'x' } } }, status: 400, json: { error: 'invalid_waybill', path: 'sender', reason: 'unknown_field' }, secret: '13700001111' },
        { name: 'wrong type', init: { body: { ...w, weightGrams: 'heavy-13911112222' as unknown as number } }, status: 400, json: { error: 'invalid_waybill', path: 'weightGrams', reason: 'expected_number' }, secret: '13911112222' },
        { name: 'not an object', init: { body: ['13911112222'] }, status: 400, json: { error: 'invalid_waybill', path: '(record)', reason: 'not_an_object' }, secret: '13911112222' },
        { name: 'bad number', init: { body: { ...w, waybillNo: '../13911112222' } }, status: 400, json: { error: 'invalid_waybill', path: 'waybillNo', reason: 'invalid_format' }, secret: '13911112222' },
        { name: 'NUL', init: { body: { ...w, items: [{ name: 'a\u0000b', quantity: 1 }] } }, status: 400, json: { error: 'invalid_waybill', path: 'items.0.name', reason: 'nul_character' } },
        { name: 'bad JSON', init: { body: '{"receiver": {"mobile": "13911112222"' }, status: 400, json: { error: 'invalid_json' }, secret: '13911112222' },
        { name: 'text/plain', init: { body: JSON.stringify(w), headers: { 'content-type': 'text/plain' } }, status: 415, json: { error: 'unsupported_media_type' } },
        { name: 'too large', init: { body: { ...w, remark: '长'.repeat(40_000) } }, status: 413, json: { error: 'payload_too_large' } },
      ];
      for (const c of cases) {
        const r = await api('/waybills', { method: 'POST', ...c.init });
        expect(r.status, c.name).toBe(c.status);
        expect(r.json, c.name).toMatchObject(c.json);
        expect(typeof r.json.reason === 'string' || r.status !== 400 || c.json['error'] === 'invalid_json', c.name).toBe(true);
        if (c.secret) expect(r.text, c.name).not.toContain(c.secret);
        expect(r.text, c.name).toContainNoPlaintext(w);
      }
      expect(await row(w.waybillNo)).toBeUndefined();
    });

    it('GET /waybills?mobile= finds a waybill by receiver mobile in any format, through tokens', async () => {
      const w = next();
      await api('/waybills', { method: 'POST', body: w });
      const m = w.receiver.mobile!;
      for (const q of [m, `+86 ${m.slice(0, 3)}-${m.slice(3, 7)}-${m.slice(7)}`, `0086${m}`]) {
        const r = await apiB(`/waybills?mobile=${encodeURIComponent(q)}`, searcher);
        expect(r.status, q).toBe(200);
        expect(r.json.results.map((x: { waybillNo: string }) => x.waybillNo), q).toEqual([w.waybillNo]);
        expect(r.json.results[0], q).toEqual(mask(waybill, (await row(w.waybillNo))!.sealed, 'screen'));
        expect(r.text).toContainNoPlaintext(w);
      }
      expect((await api(`/waybills?mobile=${m.slice(0, -1)}9`, searcher)).json.count).toBe(m.endsWith('9') ? 1 : 0);
    });

    it('GET /waybills?last4=&district= finds by the last four digits and the district', async () => {
      const w = next();
      const other = { ...next(), receiver: { ...sample(n).receiver, address: { province: '广东省', city: '广州市', district: '天河区', detail: '天河路1号2栋3单元401室' } } };
      other.receiver.mobile = `1361111${w.receiver.mobile!.slice(-4)}`; // same last four, other district
      await api('/waybills', { method: 'POST', body: w });
      await api('/waybills', { method: 'POST', body: other });
      const last4 = w.receiver.mobile!.slice(-4);
      const hz = await api(`/waybills?last4=${last4}&district=${encodeURIComponent('西湖区')}`, searcher);
      expect(hz.status).toBe(200);
      expect(hz.json.results.map((x: { waybillNo: string }) => x.waybillNo)).toEqual([w.waybillNo]);
      const gz = await apiB(`/waybills?last4=${last4}&district=${encodeURIComponent('天河区')}`, searcher);
      expect(gz.json.results.map((x: { waybillNo: string }) => x.waybillNo)).toEqual([other.waybillNo]);
      expect((await api(`/waybills?last4=${last4}&district=${encodeURIComponent('朝阳区')}`, searcher)).json).toEqual({ count: 0, results: [] });
    });

    it('drops token collisions whose mask shows other last digits (truncated tokens match a few other values)', async () => {
      const w = next();
      const decoy = next();
      await api('/waybills', { method: 'POST', body: w });
      await api('/waybills', { method: 'POST', body: decoy });
      // Make the decoy's token equal the query's, as a 19-bit collision would.
      const token = (await row(w.waybillNo))!['receiver_mobile_tok'];
      await h.db.query('UPDATE waybills SET receiver_mobile_tok = $1 WHERE waybill_no = $2', [token, decoy.waybillNo]);
      const r = await api(`/waybills?mobile=${w.receiver.mobile}`, searcher);
      expect(r.json.results.map((x: { waybillNo: string }) => x.waybillNo)).toEqual([w.waybillNo]);

      expect(trailingDigitsAgree('139****4321', '13987654321')).toBe(true);
      expect(trailingDigitsAgree('139****4321', '8613987654321')).toBe(true);
      expect(trailingDigitsAgree('139****4321', '4321')).toBe(true);
      expect(trailingDigitsAgree('139****4321', '13987651234')).toBe(false);
      expect(trailingDigitsAgree('*******4321', '321')).toBe(true);
      expect(trailingDigitsAgree('+852 ****5678', '85212345678')).toBe(true);
      expect(trailingDigitsAgree('***********', '13987654321')).toBe(true);
      expect(trailingDigitsAgree(undefined, '4321')).toBe(false);
    });

    it('a search is an access: no principal 401, a purpose that may not search 403, the 61st query an hour 429, each audited without the value', async () => {
      const w = next();
      await api('/waybills', { method: 'POST', body: w });
      const q = `/waybills?mobile=${w.receiver.mobile}`;
      expect((await api(q)).status).toBe(401);
      // realname-verify may open only sender.idNumber: no receiver-mobile search.
      const denied = await api(q, { headers: { 'x-principal': 'cs-9', 'x-purpose': 'realname-verify', 'x-ticket': 'T-2' } });
      expect(denied.status).toBe(403);
      expect(denied.json).toEqual({ error: 'access_denied', reason: 'index_not_granted' });
      const agent = { headers: { 'x-principal': 'cs-quota', 'x-purpose': 'customer-service', 'x-ticket': 'T-3' } };
      for (let i = 0; i < 60; i++) expect((await (i % 2 ? api : apiB)(q, agent)).status, `query ${i + 1}`).toBe(200);
      const spent = await api(q, agent);
      expect(spent.status).toBe(429);
      expect(spent.json).toEqual({ error: 'quota_exceeded', reason: 'quota_exceeded' });
      const log = (await h.db.query<{ line: string }>('SELECT line FROM waybill_audit')).rows.map((r) => r.line).join('\n');
      expect(log).toContain('"type":"search"');
      expect(log).toContain('"quota":"search/1h"');
      expect(log).not.toContain(w.receiver.mobile!);
    });

    it('refuses bad searches with 400 and the parameter, never its value', async () => {
      const cases: [string, Record<string, string>][] = [
        ['/waybills', { field: 'query', reason: 'mobile_or_last4_required' }],
        ['/waybills?mobile=hello-13911112222x', { field: 'mobile', reason: 'not_normalizable' }],
        ['/waybills?mobile=12', { field: 'mobile', reason: 'not_normalizable' }],
        ['/waybills?last4=12a4&district=x', { field: 'last4', reason: 'expected_4_digits' }],
        ['/waybills?last4=1234', { field: 'district', reason: 'required' }],
        ['/waybills?district=x', { field: 'query', reason: 'last4_required' }],
        ['/waybills?mobile=13911112222&last4=1234', { field: 'query', reason: 'one_search_at_a_time' }],
        ['/waybills?name=13911112222', { field: 'query', reason: 'unknown_parameter' }],
        ['/waybills?13911112222=1', { field: 'query', reason: 'unknown_parameter' }],
        ['/waybills?mobile=13911112222&mobile=13911112223', { field: 'mobile', reason: 'repeated' }],
        ['/waybills?mobile=13911112222&limit=1000', { field: 'limit', reason: 'out_of_range' }],
      ];
      for (const [path, json] of cases) {
        const r = await api(path, searcher);
        expect(r.status, path).toBe(400);
        expect(r.json, path).toEqual({ error: 'invalid_query', ...json });
        expect(r.text, path).not.toContain('1391111222');
      }
    });

    it('GET /waybills/:no/label is the label SVG of the stored label masks', async () => {
      const w = next();
      await api('/waybills', { method: 'POST', body: w });
      const r = await apiB(`/waybills/${w.waybillNo}/label`);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('image/svg+xml; charset=utf-8');
      expect(r.text).toBe(renderLabelSvg(mask(waybill, (await row(w.waybillNo))!.sealed, 'label')));
      expect(r.text).toContain('width="100mm" height="150mm"');
      expect(r.text).toContain(`*******${w.receiver.mobile!.slice(-4)}`);
      expect(r.text).toContainNoPlaintext(w);
      expect((await api(`/waybills/${w.waybillNo}`)).json).toEqual(mask(waybill, (await row(w.waybillNo))!.sealed, 'screen'));
    });

    it('refuses a row whose label mask or district was changed in the database (409, integrity tag)', async () => {
      const w = next();
      await api('/waybills', { method: 'POST', body: w });
      const stored = (await row(w.waybillNo))!.sealed as unknown as { receiver: { mobile: { mask: Record<string, string> }; address: { district: string } } };
      stored.receiver.mobile.mask['label'] = '*******0000';
      await h.db.query('UPDATE waybills SET sealed = $2::jsonb WHERE waybill_no = $1', [w.waybillNo, JSON.stringify(stored)]);
      const label = await api(`/waybills/${w.waybillNo}/label`);
      expect(label.status).toBe(409);
      expect(label.json).toEqual({ error: 'integrity_failed', path: 'receiver.mobile', reason: 'altered' });
      expect((await api(`/waybills/${w.waybillNo}`)).status).toBe(409);
      expect((await api(`/waybills?mobile=${encodeURIComponent(w.receiver.mobile!)}`, searcher)).json).toMatchObject({ count: 0, integrityFailed: 1 });
    });

    it('routes: 404 for unknown waybills and paths, 405 for wrong methods, 400 for bad numbers', async () => {
      expect((await api('/waybills/WB9999999999')).status).toBe(404);
      expect((await api('/waybills/WB9999999999/label')).json).toEqual({ error: 'not_found' });
      expect((await api('/waybills/WB9999999999/open', opener('c-1', 'audit', { 'x-ticket': 'T-1' }))).status).toBe(404);
      expect((await api('/nope')).status).toBe(404);
      expect((await api('/waybills/WB1/other')).status).toBe(404);
      const put = await api('/waybills', { method: 'PUT' });
      expect(put.status).toBe(405);
      expect(put.headers.get('allow')).toBe('GET, POST');
      expect((await api('/waybills/WB1/open')).status).toBe(405);
      expect((await api('/waybills/%E5%BC%A0%E4%B8%89')).json).toEqual({ error: 'invalid_request', field: 'waybillNo', reason: 'invalid_format' });
      expect((await api('/healthz')).json).toEqual({ ok: true, database: h.db.kind });
      expect(routeName('/waybills/WB1/open?x=1')).toBe('/waybills/:no/open');
      expect(routeName('/waybills?mobile=13911112222')).toBe('/waybills?…');
      // Request logs name routes, never numbers, phones or query strings.
      expect(logs.length).toBeGreaterThan(10);
      for (const l of logs) expect(l).toMatch(/^(GET|POST|PUT) (\/waybills(\?…|\/:no(\/label|\/open)?)?|\/healthz|\/audit\/verify|\(unknown\)) \d{3} [\d.]+ms$/);
    });

    it('POST /waybills/:no/open opens what the purpose grants, for the record in scope', async () => {
      const w = next();
      await api('/waybills', { method: 'POST', body: w });
      const path = `/waybills/${w.waybillNo}/open`;

      const deliver = await api(path, opener('courier-0417', 'deliver', { 'x-route': 'HZ-012-R3' }));
      expect(deliver.status).toBe(200);
      expect(deliver.headers.get('cache-control')).toBe('no-store');
      expect(deliver.json.opened).toEqual(['receiver.name', 'receiver.mobile', 'receiver.address.detail']);
      expect(deliver.json.record.receiver).toMatchObject({ name: w.receiver.name, mobile: w.receiver.mobile, address: { detail: w.receiver.address.detail } });
      expect(deliver.json.record.sender.mobile).toBe(`138****${w.sender.mobile!.slice(-4)}`);
      expect(deliver.text).not.toContain(w.sender.idNumber!);

      const cs = await apiB(path, { ...opener('agent-7', 'customer-service', { 'x-ticket': 'CS-2025-0001' }), body: { fields: ['receiver.mobile'] } });
      expect(cs.status).toBe(200);
      expect(cs.json.opened).toEqual(['receiver.mobile']);
      expect(cs.json.record.receiver.name).toBe('欧***');

      const denied: [Req, number, Record<string, unknown>][] = [
        [opener('courier-0417', 'deliver', { 'x-route': 'SZ-001-R1' }), 403, { error: 'access_denied', reason: 'out_of_scope' }],
        [opener('courier-0417', 'deliver'), 403, { error: 'access_denied', reason: 'out_of_scope' }],
        [opener('agent-7', 'customer-service'), 403, { error: 'access_denied', reason: 'missing_ticket' }],
        [opener('agent-7', 'curiosity'), 403, { error: 'access_denied', reason: 'unknown_purpose' }],
        [opener('agent-7', 'export', { 'x-approval': 'EXP-1' }), 403, { error: 'access_denied', reason: 'approval_unknown' }],
        [{ ...opener('courier-0417', 'deliver', { 'x-route': 'HZ-012-R3' }), body: { fields: ['sender.idNumber'] } }, 403, { error: 'access_denied', reason: 'field_not_granted', fields: ['sender.idNumber'] }],
        [{ method: 'POST', headers: { 'x-purpose': 'deliver' } }, 401, { error: 'unauthenticated', field: 'x-principal', reason: 'missing' }],
        [{ method: 'POST', headers: { 'x-principal': 'agent-7' } }, 400, { error: 'invalid_request', field: 'x-purpose', reason: 'missing' }],
        [opener('zhangsan 13911112222', 'deliver'), 400, { error: 'invalid_request', field: 'x-principal', reason: 'invalid_format' }],
        [opener('agent-7', 'Deliver!'), 400, { error: 'invalid_request', field: 'x-purpose', reason: 'invalid_format' }],
        [opener('agent-7', 'customer-service', { 'x-ticket': 'a b' }), 400, { error: 'invalid_request', field: 'x-ticket', reason: 'invalid_format' }],
        [{ ...opener('agent-7', 'audit', { 'x-ticket': 'T-1' }), body: { fields: ['receiver.13911112222'] } }, 400, { error: 'invalid_request', field: 'fields[0]', reason: 'not_a_protected_field' }],
        [{ ...opener('agent-7', 'audit', { 'x-ticket': 'T-1' }), body: { fields: [] } }, 400, { error: 'invalid_request', field: 'fields', reason: 'expected_1_to_32_paths' }],
        [{ ...opener('agent-7', 'audit', { 'x-ticket': 'T-1' }), body: { why: '13911112222' } }, 400, { error: 'invalid_request', field: 'body', reason: 'unknown_field' }],
      ];
      for (const [init, status, json] of denied) {
        const r = await api(path, init);
        expect(r.status, JSON.stringify(init.headers)).toBe(status);
        expect(r.json).toEqual(json);
        expect(r.text).toContainNoPlaintext(w);
        expect(r.text).not.toContain('13911112222');
      }
    });

    it('writes every open and denial to the chained audit log in the database, without values', async () => {
      const w = next();
      await api('/waybills', { method: 'POST', body: w });
      const before = Number((await h.db.query<{ n: string }>('SELECT count(*) AS n FROM waybill_audit')).rows[0]!.n);
      await api(`/waybills/${w.waybillNo}/open`, opener('courier-0417', 'deliver', { 'x-route': 'HZ-012-R3' }));
      await apiB(`/waybills/${w.waybillNo}/open`, opener('courier-0417', 'deliver', { 'x-route': 'XX' }));
      const { rows } = await h.db.query<{ seq: string; line: string }>('SELECT seq, line FROM waybill_audit WHERE seq > $1 ORDER BY seq', [before]);
      expect(rows.map((r) => JSON.parse(r.line).event)).toMatchObject([
        { type: 'access', principal: 'courier-0417', purpose: 'deliver', recordId: w.waybillNo, outcome: 'partial', evidence: { route: 'HZ-012-R3' } },
        { type: 'access', principal: 'courier-0417', purpose: 'deliver', recordId: w.waybillNo, outcome: 'denied', reason: 'out_of_scope', evidence: { route: 'XX' } },
      ]);
      expect(rows).toContainNoPlaintext(w);
      const v = await api('/audit/verify');
      expect(v.json).toMatchObject({ ok: true, lines: before + 2 });
    });

    it('shares quotas across instances: the 51st audit open of a day is 429, for that principal only', async () => {
      const w = next();
      await api('/waybills', { method: 'POST', body: w });
      const path = `/waybills/${w.waybillNo}/open`;
      const init = opener('auditor-9', 'audit', { 'x-ticket': 'CASE-77' });
      for (let i = 0; i < 50; i++) {
        const r = await (i % 2 ? apiB : api)(path, init);
        expect(r.status, `open ${i + 1}`).toBe(200);
      }
      const over = await apiB(path, init);
      expect(over.status).toBe(429);
      expect(over.json).toEqual({ error: 'quota_exceeded', reason: 'quota_exceeded' });
      expect(over.text).not.toContain(w.receiver.mobile!);
      expect((await api(path, opener('auditor-10', 'audit', { 'x-ticket': 'CASE-77' }))).status).toBe(200);
      const alerts = (await h.db.query<{ line: string }>('SELECT line FROM waybill_audit ORDER BY seq DESC LIMIT 5')).rows
        .map((r) => JSON.parse(r.line).event)
        .filter((e: { type: string }) => e.type === 'alert');
      expect(alerts).toMatchObject([{ principal: 'auditor-9', reason: 'quota_exceeded', quota: 'purpose:audit/1d', limit: 50, used: 50 }]);
    });

    it('keeps one valid chain under concurrent opens on both instances', async () => {
      const ws = [next(), next(), next(), next()];
      for (const w of ws) await api('/waybills', { method: 'POST', body: w });
      const before = (await api('/audit/verify')).json.lines as number;
      const results = await Promise.all(
        Array.from({ length: 24 }, (_, i) => (i % 2 ? apiB : api)(`/waybills/${ws[i % 4]!.waybillNo}/open`, opener(`courier-${i % 3}`, 'deliver', { 'x-route': 'HZ-012-R3' }))),
      );
      expect(results.map((r) => r.status)).toEqual(Array(24).fill(200));
      expect((await api('/audit/verify')).json).toMatchObject({ ok: true, lines: before + 24 });
    });

    it('detects an edited audit line, and opens nothing while the last line does not verify', async () => {
      const w = next();
      await api('/waybills', { method: 'POST', body: w });
      const path = `/waybills/${w.waybillNo}/open`;
      await api(path, opener('courier-1', 'deliver', { 'x-route': 'HZ-012-R3' }));
      await api(path, opener('courier-2', 'deliver', { 'x-route': 'HZ-012-R3' }));
      const last = (await h.db.query<{ seq: string; line: string }>('SELECT seq, line FROM waybill_audit ORDER BY seq DESC LIMIT 2')).rows;
      const [newest, previous] = [last[0]!, last[1]!];
      // An insider rewrites who opened the record.
      await h.db.query('UPDATE waybill_audit SET line = $1 WHERE seq = $2', [previous.line.replace('courier-1', 'courier-X'), previous.seq]);
      expect((await api('/audit/verify')).json).toMatchObject({ ok: false, line: Number(previous.seq), reason: 'altered' });
      await h.db.query('UPDATE waybill_audit SET line = $1 WHERE seq = $2', [previous.line, previous.seq]);
      expect((await api('/audit/verify')).json.ok).toBe(true);

      await h.db.query('UPDATE waybill_audit SET line = $1 WHERE seq = $2', [newest.line.replace('courier-2', 'courier-Y'), newest.seq]);
      const blocked = await apiB(path, opener('courier-3', 'deliver', { 'x-route': 'HZ-012-R3' }));
      expect(blocked.status).toBe(503);
      expect(blocked.json).toEqual({ error: 'audit_unavailable' });
      expect(blocked.text).not.toContain(w.receiver.mobile!);
      await h.db.query('UPDATE waybill_audit SET line = $1 WHERE seq = $2', [newest.line, newest.seq]);
      expect((await apiB(path, opener('courier-3', 'deliver', { 'x-route': 'HZ-012-R3' }))).status).toBe(200);
      expect((await api('/audit/verify')).json.ok).toBe(true);
    });

    it('no response and no log line of any route holds plaintext (waybill-seal/testing, synthetic waybills of every locale)', async () => {
      const records = syntheticWaybills({ seed: 2020 + first, count: 12, locale: 'mixed' }).map((w, i) => ({
        ...w,
        waybillNo: `SYN${first}X${i}`,
        routing: { destOutlet: 'HZ-012', routeId: 'HZ-012-R3' },
      }));
      const seen: unknown[] = [];
      const call = async (path: string, init: Req = {}, via = api) => {
        const r = await via(path, init);
        // The response only: the request itself holds the query's phone number.
        seen.push({ status: r.status, headers: Object.fromEntries(r.headers), body: r.text });
        return r;
      };
      const logStart = logs.length;
      for (const w of records) {
        expect((await call('/waybills', { method: 'POST', body: w })).status).toBe(201);
        const stored = (await row(w.waybillNo))!;
        expect(stored.sealed).toBeSealed(waybill);
        expect((await call(`/waybills/${w.waybillNo}`, {}, apiB)).json).toMatchMasks(waybill, stored.sealed, 'screen');
        await call(`/waybills/${w.waybillNo}/label`);
        if (w.receiver.mobile) {
          await call(`/waybills?mobile=${encodeURIComponent(w.receiver.mobile)}`, {}, apiB);
          const digits = w.receiver.mobile.replace(/\D/g, '');
          await call(`/waybills?last4=${digits.slice(-4)}&district=${encodeURIComponent(w.receiver.address.district)}`);
        }
        // Refused opens (no evidence, wrong route), a duplicate and a malformed intake.
        await call(`/waybills/${w.waybillNo}/open`, opener('courier-9', 'deliver'));
        await call(`/waybills/${w.waybillNo}/open`, opener('courier-9', 'deliver', { 'x-route': 'XX-1' }), apiB);
        await call('/waybills', { method: 'POST', body: w });
        await call('/waybills', { method: 'POST', body: { ...w, receiver: { ...w.receiver, name: undefined } } });
      }
      expect(seen.length).toBeGreaterThan(records.length * 6);
      // Searches did find the records (the responses hold their masks), yet nothing in them is plaintext.
      expect(seen).toContainNoPlaintext(records);
      expect(logs.slice(logStart)).toContainNoPlaintext(records);
      expect(logs.length - logStart).toBeGreaterThanOrEqual(seen.length);
      // The kit finds what a careless route would have sent: the test can fail.
      expect(findPlaintext([...seen, { body: JSON.stringify(records[3]) }], records).map((f) => f.record)).toContain(3);
    });

    it('stores no plaintext in any table, and the data keys are wrapped', async () => {
      const w = next();
      await api('/waybills', { method: 'POST', body: w });
      await api(`/waybills/${w.waybillNo}/open`, opener('courier-0417', 'deliver', { 'x-route': 'HZ-012-R3' }));
      const dump: unknown[] = [];
      for (const table of ['waybills', 'waybill_audit', 'waybill_quota', 'waybill_seal_data_keys']) {
        dump.push((await h.db.query(`SELECT * FROM ${table}`)).rows);
      }
      const text = JSON.stringify(dump);
      expect(text).toContainNoPlaintext(w);
      const keys = (await h.db.query<{ kek_id: string; wrapped: string }>('SELECT kek_id, wrapped FROM waybill_seal_data_keys')).rows;
      expect(keys.length).toBeGreaterThan(0);
      for (const k of keys) expect(k.kek_id).toMatch(/^local:v1:/);
    });
  });
}

describe('backend helpers', () => {
  it('lists the protected fields of the waybill schema', () => {
    expect([...protectedPaths(waybill)].sort()).toEqual(
      [
        'sender.name',
        'sender.mobile',
        'sender.landline',
        'sender.idNumber',
        'sender.address.detail',
        'receiver.name',
        'receiver.mobile',
        'receiver.landline',
        'receiver.virtualNumber',
        'receiver.address.detail',
        'remark',
      ].sort(),
    );
    // Every field the built-in policy names is one of them.
    const named = Object.values(waybillPolicy.purposes).flatMap((p) => (p.fields === '*' ? [] : p.fields));
    for (const f of named) expect([...protectedPaths(waybill)]).toContain(f);
  });

  it('the example seals exactly like a plain sealer: same masks and same token columns', async () => {
    const keyring = new LocalKeyring(generateLocalKeyMaterial());
    const plain = createSealer({ keyring, keyStore: new MemoryKeyStore() });
    const sealed = await plain.seal(waybill, sample(1));
    for (const index of TOKEN_INDEXES) expect(storedToken(waybill, sealed, index), index).toBeDefined();
    plain.close();
  });
});

backendSuite(
  'PGlite (embedded)',
  async () => {
    const lite = await PGlite.create();
    return { db: fromPglite(lite), cleanup: () => lite.close() };
  },
  0,
);

/** A database of its own on the server, so runs do not collide. */
async function scratchDatabase(adminUrl: string, tag: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `ws_backend_${tag}_${process.pid}_${Date.now() % 1_000_000}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      // Without FORCE: connections of an ended pool may still be closing, and killing them would surface
      // as an unhandled client error. Wait for them instead (55006: database in use).
      for (let attempt = 0; ; attempt++) {
        try {
          await c.query(`DROP DATABASE IF EXISTS ${name}`);
          break;
        } catch (e) {
          if ((e as { code?: string }).code !== '55006' || attempt >= 100) throw e;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      await c.end();
    },
  };
}

describe.skipIf(server.skip !== undefined)('on a PostgreSQL server', () => {
  backendSuite(
    'PostgreSQL (server)',
    async () => {
      const scratch = await scratchDatabase(server.url!, 'app');
      const pool = new pg.Pool({ connectionString: scratch.url, max: 8 });
      return {
        db: fromPool(pool),
        cleanup: async () => {
          await pool.end();
          await scratch.drop();
        },
      };
    },
    5000,
  );
});

// ---------------------------------------------------------------------------------------------
// The command: npm run example:backend (tsx examples/backend/server.ts)

interface Running {
  child: ChildProcess;
  url: string;
  out: () => string;
  err: () => string;
  exit: Promise<number | null>;
}

/** Starts the server command and waits for its "listening on" line. */
function start(args: string[], env: Record<string, string | undefined>): Promise<Running> {
  const clean = { ...process.env };
  for (const k of ['DATABASE_URL', 'PGLITE_DIR', 'WAYBILL_SEAL_KEYS', 'WAYBILL_SEAL_KEY_FILE', 'PORT', 'HOST']) delete clean[k];
  const child = spawn(TSX, ['examples/backend/server.ts', ...args], { cwd: ROOT, env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const exit = new Promise<number | null>((ok) => child.on('exit', (code) => ok(code)));
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`server did not start: ${out} ${err}`)), 90_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        ok({ child, url: m[1]!, out: () => out, err: () => err, exit });
      }
    });
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    void exit.then((code) => {
      clearTimeout(timer);
      fail(new Error(`server exited with ${code}: ${out} ${err}`));
    });
  });
}

async function stop(r: Running): Promise<number | null> {
  r.child.kill('SIGTERM');
  return r.exit;
}

describe('npm run example:backend', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ws-backend-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('starts on embedded PGlite with no set-up, seeds, serves, and stops on SIGTERM', async () => {
    const r = await start(['--port', '0', '--seed', '12'], {});
    try {
      expect(r.out()).toContain('seeded 12 synthetic waybills');
      expect(r.out()).toContain('database: PGlite in memory; keys: generated for this run');
      expect(r.err()).toContain('warning: keys are generated for this run only');
      const api = client(() => r.url);
      expect((await api('/healthz')).json).toEqual({ ok: true, database: 'pglite' });
      const w = sample(9001);
      expect((await api('/waybills', { method: 'POST', body: w })).status).toBe(201);
      expect((await api(`/waybills?mobile=${w.receiver.mobile}`, demoSearcher)).json.count).toBe(1);
      expect((await api(`/waybills/${w.waybillNo}/open`, opener('courier-0417', 'deliver', { 'x-route': 'HZ-012-R3' }))).json.record.receiver.mobile).toBe(
        w.receiver.mobile,
      );
    } finally {
      expect(await stop(r)).toBe(0);
    }
    expect(r.out()).toContain('shutting down');
    expect(r.out()).toMatch(/POST \/waybills 201 /);
    // Logs carry routes, never values.
    expect(r.out()).not.toContain('13987659001');
    expect(r.err()).not.toContain('13987659001');
  }, 120_000);

  it('refuses generated keys for a persistent database', async () => {
    const child = spawn(TSX, ['examples/backend/server.ts', '--port', '0'], {
      cwd: ROOT,
      env: { ...process.env, PGLITE_DIR: join(dir, 'pgdata'), WAYBILL_SEAL_KEYS: '', WAYBILL_SEAL_KEY_FILE: '', DATABASE_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((ok) => child.on('exit', ok));
    expect(code).toBe(1);
    expect(err).toContain('a persistent database needs keys that persist too');
  }, 120_000);

  it.skipIf(server.skip !== undefined)('runs on PostgreSQL with DATABASE_URL and a key file, and its records open after a restart', async () => {
    const scratch = await scratchDatabase(server.url!, 'cmd');
    const keyFile = join(dir, 'keys.json');
    await createKeyFile(keyFile);
    const env = { DATABASE_URL: scratch.url, WAYBILL_SEAL_KEY_FILE: keyFile };
    const w = sample(9002);
    try {
      const first = await start(['--port', '0'], env);
      try {
        expect(first.out()).toContain('database: PostgreSQL (DATABASE_URL); keys: key file');
        expect(first.err()).toBe('');
        expect((await client(() => first.url)('/waybills', { method: 'POST', body: w })).status).toBe(201);
      } finally {
        expect(await stop(first)).toBe(0);
      }
      const second = await start(['--port', '0'], env);
      try {
        const api = client(() => second.url);
        expect((await api('/healthz')).json).toEqual({ ok: true, database: 'postgres' });
        const opened = await api(`/waybills/${w.waybillNo}/open`, opener('courier-0417', 'deliver', { 'x-route': 'HZ-012-R3' }));
        expect(opened.json.record.receiver.mobile).toBe(w.receiver.mobile);
        expect((await api('/audit/verify')).json).toMatchObject({ ok: true, lines: 1 });
      } finally {
        expect(await stop(second)).toBe(0);
      }
    } finally {
      await scratch.drop();
    }
  }, 120_000);
});
