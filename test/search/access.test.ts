/**
 * Issue 13: searching is an access. Every path that turns a query value into tokens or confirms a
 * candidate goes through the access guard: the purpose must be allowed to search the index, scoped
 * purposes only find records of their scope, each principal has a search quota (60 queries an hour
 * by default, persisted like the open quota), confirming a candidate is an open (audited, charged),
 * and every query is audited without its value. Written as the attacks they stop.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AccessDeniedError,
  ConfigError,
  createAccessGuard,
  createFinder,
  createSealer,
  findRecords,
  generateLocalKeyMaterial,
  LocalKeyring,
  MemoryAuditSink,
  MemoryKeyStore,
  ValidationError,
  waybill,
  waybillPolicy,
  type AccessPolicy,
  type AuditEvent,
  type QuotaStore,
  type SealedRecord,
  type WaybillSchema,
} from '../../src/index.js';
import { JsonFileQuotaStore } from '../../src/node.js';
import { sampleWaybill } from '../helpers.js';

type Sealed = SealedRecord<WaybillSchema>;
const HOUR = 3_600_000;
const T0 = Date.parse('2026-03-01T08:00:00Z');
const material = generateLocalKeyMaterial();
const keyStore = new MemoryKeyStore();

function service(options: { policy?: AccessPolicy; quotaStore?: QuotaStore; now?: () => number } = {}) {
  const audit = new MemoryAuditSink();
  const guard = createAccessGuard({
    policy: options.policy ?? waybillPolicy,
    audit,
    ...(options.quotaStore ? { quotaStore: options.quotaStore } : {}),
    now: options.now ?? (() => T0),
  });
  return { sealer: createSealer({ keyring: new LocalKeyring(material), keyStore, guard }), audit };
}

/** Parcels: receivers 139000000NN; even ones at outlet A, odd ones at outlet B; same last four for 0/1 and 2/3. */
const MOBILES = ['13900001111', '13700001111', '13900002222', '13600002222', '13512345678', '13812345678'];
let parcels: Sealed[];

beforeAll(async () => {
  const { sealer } = service();
  parcels = [];
  for (const [i, mobile] of MOBILES.entries()) {
    const w = sampleWaybill();
    w.waybillNo = `AC${i}`;
    w.receiver.mobile = mobile;
    parcels.push(await sealer.seal(waybill, { ...w, routing: { destOutlet: i % 2 === 0 ? 'OUT-A' : 'OUT-B' } }));
  }
  sealer.close();
});

const found = async (sealer: ReturnType<typeof service>['sealer'], index: Parameters<typeof createFinder<WaybillSchema>>[2], value: string, request: Parameters<typeof createFinder>[4]) => {
  const out: string[] = [];
  for await (const r of findRecords(sealer, waybill, index, value, parcels, request)) out.push(r.waybillNo);
  return out;
};
const searchEvents = (events: readonly AuditEvent[]) => events.filter((e) => e.type === 'search');

describe('a search is an access', () => {
  it('no guard, no search; a request must name a principal', async () => {
    const bare = createSealer({ keyring: new LocalKeyring(material), keyStore });
    await expect(bare.tokensFor(waybill, 'receiver.mobile', '13900001111', { principal: 'x' })).rejects.toThrow(ConfigError);
    const { sealer } = service();
    await expect(sealer.tokensFor(waybill, 'receiver.mobile', '13900001111', undefined as never)).rejects.toThrow(ConfigError);
    await expect(sealer.tokensFor(waybill, 'receiver.mobile', '13900001111', { principal: '' })).rejects.toThrow(ConfigError);
  });

  it('a purpose searches only the indexes whose fields it may open (or those it names): no token for realname-verify on receiver.mobile', async () => {
    const { sealer, audit } = service();
    const request = { principal: 'kyc-1', purpose: 'realname-verify', context: { ticket: 'T-1' } };
    const denied = await sealer.tokensFor(waybill, 'receiver.mobile', '13900001111', request).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(AccessDeniedError);
    expect((denied as AccessDeniedError).reason).toBe('index_not_granted');
    expect(await sealer.tokensFor(waybill, 'sender.idNumber', '11010519491231002X', request)).toHaveLength(1);
    // The built-in search purpose names its indexes: full numbers only, never last-4 fishing.
    await expect(sealer.tokensFor(waybill, 'receiver.mobile:last4', '1111', { principal: 'cs-1', context: { ticket: 'T-2' } })).rejects.toThrow(/index_not_granted/);
    // Unknown purposes and missing evidence are refused before any token is computed.
    await expect(sealer.tokensFor(waybill, 'receiver.mobile', '13900001111', { principal: 'cs-1', purpose: 'gossip' })).rejects.toThrow(/unknown_purpose/);
    await expect(sealer.tokensFor(waybill, 'receiver.mobile', '13900001111', { principal: 'cs-1' })).rejects.toThrow(/missing_ticket/);
    // An export approval opens in bulk, it does not search.
    await expect(sealer.tokensFor(waybill, 'receiver.mobile', '13900001111', { principal: 'ops', purpose: 'export', context: { approval: 'E-1' } })).rejects.toThrow(
      /index_not_granted/,
    );
    const events = searchEvents(audit.events);
    expect(events.map((e) => e.outcome)).toEqual(['denied', 'issued', 'done', 'denied', 'denied', 'denied', 'denied']);
    expect(events[1]).toMatchObject({ type: 'search', principal: 'kyc-1', purpose: 'realname-verify', index: 'sender.idNumber', tokens: 1, scope: [] });
  });

  it('a station finds only its own outlet’s parcels: another outlet’s token matches are never opened; no outlet, no search', async () => {
    const { sealer, audit } = service();
    const stationA = { principal: 'station-a', purpose: 'pickup', context: { outlet: 'OUT-A' } };
    // 13900001111 (A) and 13700001111 (B) share the last four digits.
    expect(await found(sealer, 'receiver.mobile:last4', '1111', stationA)).toEqual(['AC0']);
    expect(await found(sealer, 'receiver.mobile:last4', '1111', { ...stationA, principal: 'station-b', context: { outlet: 'OUT-B' } })).toEqual(['AC1']);
    const opened = audit.events.filter((e) => e.type === 'access');
    expect(opened.map((e) => (e as { recordId: string }).recordId)).toEqual(['AC0', 'AC1']);
    const done = searchEvents(audit.events).filter((e) => e.outcome === 'done');
    expect(done[0]).toMatchObject({ principal: 'station-a', index: 'receiver.mobile:last4', scope: ['routing.destOutlet=OUT-A'], candidates: 1, matches: 1 });
    // The finder tells the database what to filter on.
    const finder = await createFinder(sealer, waybill, 'receiver.mobile:last4', '2222', stationA);
    expect(finder.scope).toEqual([{ path: 'routing.destOutlet', value: 'OUT-A' }]);
    expect(parcels.filter((p) => finder.isCandidate(p)).map((p) => p.waybillNo)).toEqual(['AC2']);
    // No outlet named: refused (audited), nothing computed.
    await expect(createFinder(sealer, waybill, 'receiver.mobile:last4', '1111', { principal: 'station-a', purpose: 'pickup' })).rejects.toThrow(/out_of_scope/);
    // pickup may not search full numbers (it names its indexes).
    await expect(sealer.tokensFor(waybill, 'receiver.mobile', '13900001111', stationA)).rejects.toThrow(/index_not_granted/);
  });

  it('the 61st search of a principal in an hour is refused and audited; the next hour it works again', async () => {
    let now = T0;
    const { sealer, audit } = service({ now: () => now });
    const request = { principal: 'cs-flood', purpose: 'customer-service', context: { ticket: 'T-9' } };
    for (let i = 0; i < 60; i++) await sealer.tokensFor(waybill, 'receiver.mobile:last4', String(i).padStart(4, '0'), request);
    const refused = await sealer.tokensFor(waybill, 'receiver.mobile:last4', '0060', request).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AccessDeniedError);
    expect((refused as AccessDeniedError).reason).toBe('quota_exceeded');
    expect(audit.events.at(-2)).toMatchObject({ type: 'alert', reason: 'quota_exceeded', quota: 'search/1h', limit: 60, used: 60, principal: 'cs-flood', index: 'receiver.mobile:last4' });
    expect(audit.events.at(-1)).toMatchObject({ type: 'search', outcome: 'denied', reason: 'quota_exceeded' });
    // Another principal has its own quota.
    expect(await sealer.tokensFor(waybill, 'receiver.mobile:last4', '0060', { ...request, principal: 'cs-other' })).toHaveLength(1);
    now += HOUR;
    expect(await sealer.tokensFor(waybill, 'receiver.mobile:last4', '0060', request)).toHaveLength(1);
  });

  it('the search quota is persisted like the open quota: a restarted service (or a second instance) cannot reset it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ws-search-quota-'));
    try {
      const policy = { ...waybillPolicy, searchQuotas: [{ window: '1h', max: 3 }] };
      const request = { principal: 'cs-2', purpose: 'customer-service', context: { ticket: 'T-3' } };
      const first = service({ policy, quotaStore: new JsonFileQuotaStore(join(dir, 'quota.json')) });
      for (let i = 0; i < 3; i++) await first.sealer.tokensFor(waybill, 'receiver.mobile', '13900001111', request);
      first.sealer.close();
      const restarted = service({ policy, quotaStore: new JsonFileQuotaStore(join(dir, 'quota.json')) });
      await expect(restarted.sealer.tokensFor(waybill, 'receiver.mobile', '13900001111', request)).rejects.toThrow(/quota_exceeded/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('confirming a candidate is an open: charged to the open quota, refused when it is spent', async () => {
    const policy = { ...waybillPolicy, quotas: [{ window: '1h', max: 1 }] };
    const { sealer } = service({ policy });
    const request = { principal: 'cs-3', purpose: 'customer-service', context: { ticket: 'T-4' } };
    const finder = await createFinder(sealer, waybill, 'receiver.mobile', '13900001111', request);
    expect(await finder.matches(parcels[0]!)).toBe(true);
    const again = await createFinder(sealer, waybill, 'receiver.mobile', '13900001111', request);
    await expect(again.matches(parcels[0]!)).rejects.toThrow(/quota_exceeded/);
  });

  it('no audit line and no error holds a query value or a token', async () => {
    const { sealer, audit } = service();
    const errors: string[] = [];
    const values = ['13912345678', '+86 139-1234-5678', '11010519491231002X', '99x99-secret-value'];
    const requests = [
      { principal: 'cs-4', context: { ticket: 'T-5' } },
      { principal: 'kyc-4', purpose: 'realname-verify', context: { ticket: 'T-6' } },
      { principal: 'cs-4', purpose: 'nope' },
    ];
    const tokens: string[] = [];
    for (const value of values) {
      for (const request of requests) {
        for (const index of ['receiver.mobile', 'sender.idNumber'] as const) {
          try {
            tokens.push(...(await sealer.tokensFor(waybill, index, value, request)));
          } catch (e) {
            expect(e instanceof AccessDeniedError || e instanceof ValidationError).toBe(true);
            errors.push(`${String(e)} ${JSON.stringify(e)}`);
          }
        }
      }
    }
    expect(tokens.length).toBeGreaterThan(0);
    expect(errors.length).toBeGreaterThan(0);
    const everything = `${JSON.stringify(audit.events)}\n${errors.join('\n')}`;
    for (const secret of ['1234', '13912345678', '11010519491231002', '99x99', ...tokens.map((t) => t.slice(2))]) expect(everything).not.toContain(secret);
  });

  it('a value that does not normalise costs no quota and is not audited as a query', async () => {
    const policy = { ...waybillPolicy, searchQuotas: [{ window: '1h', max: 1 }] };
    const { sealer, audit } = service({ policy });
    const request = { principal: 'cs-5', purpose: 'customer-service', context: { ticket: 'T-7' } };
    await expect(sealer.tokensFor(waybill, 'receiver.mobile', 'not a phone', request)).rejects.toThrow(ValidationError);
    expect(audit.events).toEqual([]);
    expect(await sealer.tokensFor(waybill, 'receiver.mobile', '13900001111', request)).toHaveLength(1);
  });
});

