/**
 * The backend example with per-month index keys (issue 13, part 1): a search sends one token per live
 * month in its window to `WHERE tok = ANY($1)`; a shredded month is gone from search.
 */
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLocalKeyMaterial, KEY_CLASSES, LocalKeyring, MemoryAuditSink, shred, type PlainRecord, type WaybillSchema } from 'waybill-seal';
import { syntheticWaybills } from 'waybill-seal/testing';
import { createBackend, type Backend } from '../../examples/backend/app.js';
import { fromPglite } from '../../examples/backend/db.js';
import { listen, type Listening } from '../../examples/backend/server.js';
import { PgKeyStore } from 'waybill-seal/pg';

const MOBILE = '13912340000';
const MONTHS = ['2025-01', '2025-02', '2025-03'];
const searcher = { 'x-principal': 'cs-4', 'x-purpose': 'customer-service', 'x-ticket': 'T-1' };

describe('backend example with per-month index keys', () => {
  let lite: PGlite;
  let backend: Backend;
  let http: Listening;
  const audit = new MemoryAuditSink();

  beforeAll(async () => {
    lite = await PGlite.create();
    const keyring = new LocalKeyring(generateLocalKeyMaterial([...KEY_CLASSES, ...KEY_CLASSES.map((c) => `${c}-index`)]));
    backend = await createBackend({ db: fromPglite(lite), keyring, audit });
    http = await listen(backend);
    const plain = syntheticWaybills({ count: MONTHS.length, seed: 13 }) as PlainRecord<WaybillSchema>[];
    for (const [i, month] of MONTHS.entries()) {
      const w = plain[i]!;
      expect((await backend.store({ ...w, waybillNo: `IK${i}`, createdAt: `${month}-10T08:00:00Z`, receiver: { ...w.receiver, mobile: MOBILE } })).stored).toBe(true);
    }
  }, 120_000);
  afterAll(async () => {
    await http?.close();
    backend?.close();
    await lite?.close();
  });

  const search = async (query: string) => {
    const res = await fetch(`${http.url}/waybills?mobile=${MOBILE}${query}`, { headers: searcher });
    return { status: res.status, body: (await res.json()) as { count: number; results: { waybillNo: string }[] } };
  };
  const lastIssued = () => audit.events.filter((e) => e.type === 'search' && e.outcome === 'issued').at(-1) as { tokens: number };

  it('one token per live month in the window; ?from/?to narrow it', async () => {
    expect((await search('')).body.results.map((r) => r.waybillNo).sort()).toEqual(['IK0', 'IK1', 'IK2']);
    expect(lastIssued().tokens).toBe(3);
    expect((await search('&from=2025-02')).body.results.map((r) => r.waybillNo).sort()).toEqual(['IK1', 'IK2']);
    expect(lastIssued().tokens).toBe(2);
    expect((await search('&from=2025-01&to=2025-01')).body.results.map((r) => r.waybillNo)).toEqual(['IK0']);
    expect(lastIssued().tokens).toBe(1);
    expect((await search('&from=2025-1')).status).toBe(400);
    expect((await search('&from=2025-03&to=2025-01')).status).toBe(400);
  });

  it('a shredded month is gone from search: no token of it is computed any more', async () => {
    await shred(await PgKeyStore.create(fromPglite(lite).client), 'contact', '2025-01');
    backend.sealer.forget();
    expect((await search('')).body.results.map((r) => r.waybillNo).sort()).toEqual(['IK1', 'IK2']);
    expect(lastIssued().tokens).toBe(2);
  });
});
