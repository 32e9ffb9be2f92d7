/**
 * The backend example's staff directory (examples/backend/staff.ts), written as the insider attacks of
 * R19T F1: a customer-service agent asking for the `audit` purpose with a ticket it made up, a pickup
 * station claiming another outlet, an account the directory does not know. Each is refused (403)
 * before the guard: nothing opened, nothing searched.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLocalKeyMaterial, LocalKeyring, type PlainRecord, type WaybillSchema } from 'waybill-seal';
import { findPlaintext } from 'waybill-seal/testing';
import { createBackend, type Backend, type BackendOptions } from '../../examples/backend/app.js';
import { fromPglite, type Database } from '../../examples/backend/db.js';
import { listen, type Listening } from '../../examples/backend/server.js';
import { DEMO_STAFF } from '../../examples/backend/staff.js';
import { numberedWaybill } from './fixtures.js';

type Waybill = PlainRecord<WaybillSchema>;

/** A backend on in-memory PGlite holding `record`, served over HTTP for one describe block; `extra` options on top. */
function servedBackend(record: Waybill, extra: () => Partial<BackendOptions>): { url: () => string; db: () => Database } {
  let db: Database;
  let backend: Backend;
  let http: Listening;
  beforeAll(async () => {
    db = fromPglite(await PGlite.create());
    backend = await createBackend({ db, keyring: new LocalKeyring(generateLocalKeyMaterial()), ...extra() });
    expect((await backend.store(record)).stored).toBe(true);
    http = await listen(backend);
  }, 120_000);
  afterAll(async () => {
    await http?.close();
    backend?.close();
    await db?.close();
  });
  return { url: () => http.url, db: () => db };
}

describe('backend example: principal → purposes, outlets, routes (staff directory)', () => {
  const record = numberedWaybill(1, 'ST');
  const http = servedBackend(record, () => ({ staff: DEMO_STAFF }));

  const call = async (path: string, headers: Record<string, string>, method = 'GET') => {
    const res = await fetch(`${http.url()}${path}`, { method, headers: { ...headers, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) }, ...(method === 'POST' ? { body: '{}' } : {}) });
    return { status: res.status, text: await res.text() };
  };
  const open = (headers: Record<string, string>) => call(`/waybills/${record.waybillNo}/open`, headers, 'POST');

  it('a customer-service agent asking for the audit purpose (or realname-verify) with a made-up ticket is refused', async () => {
    for (const purpose of ['audit', 'realname-verify']) {
      const r = await open({ 'x-principal': 'cs-agent-1', 'x-purpose': purpose, 'x-ticket': 'made-up' });
      expect(r.status).toBe(403);
      expect(JSON.parse(r.text)).toMatchObject({ field: 'x-purpose', reason: 'purpose_not_granted' });
      expect(findPlaintext([r.text], [record])).toEqual([]);
    }
    // Its own purpose still works (one field, with a ticket).
    expect((await open({ 'x-principal': 'cs-agent-1', 'x-purpose': 'customer-service', 'x-ticket': 'CS-1' })).status).toBe(200);
  });

  it("a station claiming another outlet is refused, for a search and for an open; its own outlet is served", async () => {
    const search = (outlet: string) => call(`/waybills?last4=${record.receiver.mobile!.slice(-4)}&district=${encodeURIComponent(record.receiver.address.district)}`, { 'x-principal': 'station-HZ-012', 'x-purpose': 'pickup', 'x-outlet': outlet });
    const other = await search('SZ-NS-001');
    expect(other.status).toBe(403);
    expect(JSON.parse(other.text)).toMatchObject({ field: 'x-outlet', reason: 'outlet_not_granted' });
    expect((await open({ 'x-principal': 'intake-SZ-NS-001', 'x-purpose': 'waybill-issue', 'x-outlet': 'HZ-012' })).status).toBe(403);
    expect((await open({ 'x-principal': 'courier-0417', 'x-purpose': 'deliver', 'x-route': 'SZ-001-R1' })).status).toBe(403);
    expect((await search('HZ-012')).status).toBe(200);
    expect((await open({ 'x-principal': 'courier-0417', 'x-purpose': 'deliver', 'x-route': 'HZ-012-R3' })).status).toBe(200);
  });

  it("the console's audit view shows a principal its own events only; an auditor sees everyone's", async () => {
    const events = async (principal: string) => JSON.parse((await call('/console/audit?limit=200', { 'x-principal': principal })).text).events as { principal?: string }[];
    const mine = await events('cs-agent-1');
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((e) => e.principal === 'cs-agent-1')).toBe(true);
    expect(new Set((await events('auditor-9')).map((e) => e.principal))).toEqual(new Set(['cs-agent-1', 'station-HZ-012', 'courier-0417']));
  });

  it('an account the directory does not know is refused (403), also on the console routes', async () => {
    const r = await open({ 'x-principal': 'made-up-9', 'x-purpose': 'customer-service', 'x-ticket': 'T-1' });
    expect(r.status).toBe(403);
    expect(JSON.parse(r.text)).toMatchObject({ field: 'x-principal', reason: 'unknown_principal' });
    expect((await call('/console/audit', { 'x-principal': 'made-up-9' })).status).toBe(403);
  });
});

describe('backend example: audit checkpoints in a file outside the database (R19T F2)', () => {
  const record = numberedWaybill(2, 'CP');
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ws-checkpoints-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const http = servedBackend(record, () => ({ checkpointFile: join(dir, 'audit-checkpoints.jsonl') }));

  it('a database writer who deletes the newest audit rows (the insider\'s own opens) no longer gets "verified"', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`${http.url()}/waybills/${record.waybillNo}/open`, { method: 'POST', headers: { 'x-principal': 'agent-7', 'x-purpose': 'customer-service', 'x-ticket': `T-${i}`, 'content-type': 'application/json' }, body: '{}' });
      expect(r.status).toBe(200);
    }
    const before = (await (await fetch(`${http.url()}/audit/verify`)).json()) as { lines: number };
    expect(before).toMatchObject({ ok: true, checkpoint: { seq: before.lines } });
    await http.db().query(`DELETE FROM waybill_audit WHERE seq > (SELECT max(seq) - 2 FROM waybill_audit)`);
    const after = (await (await fetch(`${http.url()}/audit/verify`)).json()) as { ok: boolean };
    expect(after.ok).toBe(false);
  });
});
