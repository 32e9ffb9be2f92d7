/**
 * Attack review of the landed search (issue 13, part A). Each test is the attack it stops:
 * - confirming a candidate used to be an ordinary `open`, so the `pickup` and `search` purposes could
 *   open full mobiles (and ID numbers) with plain `open`, without searching at all;
 * - `recordTokens` computed the token of any value with no guard (a token oracle);
 * - `tokensFor` dropped a scoped purpose's scope and never ended its query in the audit log;
 * - one tampered row aborted a whole search after charging the open quota.
 */
import { describe, expect, it } from 'vitest';
import {
  AccessDeniedError,
  createAccessGuard,
  createFinder,
  createSealer,
  findRecords,
  generateLocalKeyMaterial,
  LocalKeyring,
  MemoryAuditSink,
  MemoryKeyStore,
  parsePolicy,
  waybill,
  waybillPolicy,
  type AccessPolicy,
  type AuditEvent,
  type SealedRecord,
  type WaybillSchema,
} from '../../src/index.js';
import { sampleWaybill } from '../helpers.js';

type Sealed = SealedRecord<WaybillSchema>;
const material = generateLocalKeyMaterial();
const keyStore = new MemoryKeyStore();
const STATION = { principal: 'HZ-XH-017:clerk-1', purpose: 'pickup', context: { outlet: 'HZ-XH-017' } };
const AGENT = { principal: 'cs-1', purpose: 'search', context: { ticket: 'T-1' } };

function service(policy: AccessPolicy = waybillPolicy) {
  const audit = new MemoryAuditSink();
  const sealer = createSealer({ keyring: new LocalKeyring(material), keyStore, guard: createAccessGuard({ policy, audit }) });
  return { sealer, audit };
}

async function parcel(no: string, mobile: string, outlet = STATION.context.outlet): Promise<Sealed> {
  const { sealer } = service();
  const w = sampleWaybill();
  w.waybillNo = no;
  w.receiver.mobile = mobile;
  w.sender.mobile = '13700007777';
  return sealer.seal(waybill, { ...w, routing: { destOutlet: outlet } });
}

async function find(sealer: ReturnType<typeof service>['sealer'], index: 'receiver.mobile' | 'receiver.mobile:last4' | 'sender.idNumber', value: string, records: readonly Sealed[], request: typeof STATION | typeof AGENT) {
  const out: string[] = [];
  for await (const r of findRecords(sealer, waybill, index, value, records, request)) out.push(r.waybillNo);
  return out;
}

const isConfirm = (e: AuditEvent) => e.type === 'access' && e.mode === 'confirm';

describe('confirming a candidate is not an open', () => {
  it('a station (pickup) cannot open its own outlet’s receiver mobiles, yet finds its parcel by the last four digits or the full number', async () => {
    const mine = await parcel('P1', '13912345678');
    const { sealer, audit } = service();
    const opened = await sealer.open(waybill, mine, { ...STATION, fields: ['receiver.mobile'], reveal: 'plain' }).catch((e: unknown) => e);
    expect(opened).toBeInstanceOf(AccessDeniedError);
    expect((opened as AccessDeniedError).reason).toBe('field_not_granted');
    // Asking for every field opens nothing either.
    await expect(sealer.open(waybill, mine, { ...STATION, reveal: 'plain' })).rejects.toThrow(/field_not_granted/);
    expect(await find(sealer, 'receiver.mobile:last4', '5678', [mine], STATION)).toEqual(['P1']);
    expect(await find(sealer, 'receiver.mobile:last4', '139 1234 5678', [mine], STATION)).toEqual(['P1']);
    // A false positive of the 9-bit token (other digits, same token) is a candidate the confirm rejects.
    const { sealer: tokens } = service({ purposes: { search: { fields: '*' } }, searchQuotas: [{ window: '1h', max: 10_000 }] });
    let collision = '';
    for (let i = 0; collision === '' && i < 10_000; i++) {
      const d = String(i).padStart(4, '0');
      if (d !== '5678' && (await tokens.tokensFor(waybill, 'receiver.mobile:last4', d, { principal: 't' }))[0] === mine.receiver.mobile!.tok!['receiver.mobile:last4']) collision = d;
    }
    expect(await find(sealer, 'receiver.mobile:last4', collision, [mine], STATION)).toEqual([]);
    const confirms = audit.events.filter(isConfirm);
    expect(confirms.map((e) => e.type === 'access' && [e.recordId, e.opened, e.matched])).toEqual([
      ['P1', ['receiver.mobile'], true],
      ['P1', ['receiver.mobile'], true],
      ['P1', ['receiver.mobile'], false],
    ]);
    // The verdict is the only thing that left: nothing the station got holds the number.
    expect(JSON.stringify(audit.events)).not.toContain('12345678');
  });

  it('the search purpose (with a ticket) opens no mobile or ID number, yet confirms full-number and ID-number candidates', async () => {
    const p = await parcel('P2', '13912340000');
    const { sealer } = service();
    for (const field of ['receiver.mobile', 'sender.mobile', 'sender.idNumber'] as const) {
      await expect(sealer.open(waybill, p, { ...AGENT, fields: [field], reveal: 'plain' })).rejects.toThrow(/field_not_granted/);
    }
    expect(await find(sealer, 'receiver.mobile', '+86 139-1234-0000', [p], AGENT)).toEqual(['P2']);
    expect(await find(sealer, 'sender.idNumber', sampleWaybill().sender.idNumber!, [p], AGENT)).toEqual(['P2']);
  });

  it('a confirm is charged to the open quota and needs its own grant: a purpose with neither fields nor confirm for the source cannot confirm', async () => {
    const p = await parcel('P3', '13912341111');
    const tight = { ...waybillPolicy, quotas: [{ window: '1h', max: 1 }] };
    const { sealer } = service(tight);
    const finder = await createFinder(sealer, waybill, 'receiver.mobile:last4', '1111', STATION);
    expect(await finder.matches(p)).toBe(true);
    await expect(finder.matches(p)).rejects.toThrow(/quota_exceeded/);
    // A policy that lets a purpose search an index without confirming its source gets no verdict.
    const blind: AccessPolicy = { purposes: { lookup: { fields: ['receiver.name'], indexes: ['receiver.mobile'] } } };
    const other = service(blind);
    const f = await createFinder(other.sealer, waybill, 'receiver.mobile', '13912341111', { principal: 'x', purpose: 'lookup' });
    await expect(f.matches(p)).rejects.toThrow(/field_not_granted/);
  });

  it('a tampered row is counted as unverifiable and audited, uncharged; the search goes on', async () => {
    const mine = await parcel('P4', '13912342222');
    const other = await parcel('P5', '13900009999');
    // A table writer copies P4's last-4 token onto P5 to make it a candidate.
    const forged = structuredClone(other);
    (forged.receiver.mobile!.tok as Record<string, string>)['receiver.mobile:last4'] = mine.receiver.mobile!.tok!['receiver.mobile:last4']!;
    const tight = { ...waybillPolicy, quotas: [{ window: '1h', max: 1 }] };
    const { sealer, audit } = service(tight);
    const finder = await createFinder(sealer, waybill, 'receiver.mobile:last4', '2222', STATION);
    expect(await finder.matches(forged)).toBe(false);
    // The forged row cost no quota: the genuine one is still confirmed within max 1.
    expect(await finder.matches(mine)).toBe(true);
    await finder.done();
    expect(finder.stats).toMatchObject({ candidates: 2, matches: 1, unverifiable: 1 });
    const failed = audit.events.find((e) => e.type === 'access' && e.outcome === 'failed');
    expect(failed).toMatchObject({ recordId: 'P5', mode: 'confirm', reason: expect.stringMatching(/^integrity:/) });
    expect(audit.events.at(-1)).toMatchObject({ type: 'search', outcome: 'done', candidates: 2, matches: 1, unverifiable: 1 });
  });
});

describe('no token oracle outside the guard', () => {
  it('the sealer offers no recordTokens: tokens come only from a search (guarded, audited) or a seal', () => {
    const { sealer } = service();
    expect('recordTokens' in sealer).toBe(false);
    expect(Object.values(sealer).filter((v) => typeof v === 'function').map((f: { name: string }) => f.name)).not.toContain('recordTokens');
  });

  it('tokensFor refuses a scoped purpose (bare tokens would drop the outlet), audited and uncharged; an unscoped query ends with a done event', async () => {
    const tight = { ...waybillPolicy, searchQuotas: [{ window: '1h', max: 1 }] };
    const { sealer, audit } = service(tight);
    const refused = await sealer.tokensFor(waybill, 'receiver.mobile:last4', '1111', STATION).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AccessDeniedError);
    expect((refused as AccessDeniedError).reason).toBe('scope_required');
    expect(audit.events).toEqual([expect.objectContaining({ type: 'search', outcome: 'denied', reason: 'scope_required' })]);
    // The station still searches through the finder, which carries the scope (and the quota is untouched).
    const finder = await createFinder(sealer, waybill, 'receiver.mobile:last4', '1111', STATION);
    expect(finder.scope).toEqual([{ path: 'routing.destOutlet', value: 'HZ-XH-017' }]);
    const agent = service(tight);
    expect(await agent.sealer.tokensFor(waybill, 'receiver.mobile', '13912345678', AGENT)).toHaveLength(1);
    expect(agent.audit.events.map((e) => e.type === 'search' && e.outcome)).toEqual(['issued', 'done']);
    expect(agent.audit.events[1]).not.toHaveProperty('candidates');
  });
});

describe('the search quota cannot be switched off by accident', () => {
  it('searchQuotas: [] is refused (a slip that would allow unlimited token fishing); "unlimited" must be said', async () => {
    expect(() => parsePolicy({ purposes: { search: { fields: '*' } }, searchQuotas: [] })).toThrow(/searchQuotas: must not be empty/);
    expect(() => createAccessGuard({ policy: { purposes: { search: { fields: '*' } }, searchQuotas: [] }, audit: 'none' })).toThrow(/unlimited/);
    const { sealer } = service({ purposes: { search: { fields: '*' } }, searchQuotas: 'unlimited' });
    for (let i = 0; i < 61; i++) await sealer.tokensFor(waybill, 'receiver.mobile:last4', String(i).padStart(4, '0'), { principal: 'batch' });
  });
});

describe('attack (review R13 F1): a database writer who breaks a candidate row in ways other than its tag cannot stop a station finding its parcel', () => {
  const tamperings: Record<string, (r: Record<string, any>) => void> = {
    'a protected field replaced by plain text': (r) => (r['receiver'].name = 'x'),
    'an unknown top-level field': (r) => (r['extra'] = 1),
    'the record id removed': (r) => delete r['waybillNo'],
    'the ciphertext pointed at a data key that does not exist': (r) => (r['receiver'].mobile.enc = r['receiver'].mobile.enc.replace(/contact\/\d{4}-\d{2}\//, 'contact/2031-01/')),
    'the ciphertext made malformed': (r) => (r['receiver'].mobile.enc = `${r['receiver'].mobile.enc.split('.').slice(0, 3).join('.')}.!!`),
  };
  for (const [name, tamper] of Object.entries(tamperings)) {
    it(name, async () => {
      const { sealer: seal } = service();
      const at = async (no: string, mobile: string) => {
        const w = sampleWaybill();
        w.waybillNo = no;
        w.receiver.mobile = mobile;
        return seal.seal(waybill, { ...w, routing: { destOutlet: STATION.context.outlet } });
      };
      const good = await at('GOOD', '13912342222');
      const bad = structuredClone(await at('BAD', '13900002222')) as Record<string, any>;
      tamper(bad);
      const { sealer, audit } = service();
      const found: string[] = [];
      for await (const r of findRecords(sealer, waybill, 'receiver.mobile:last4', '2222', [bad as Sealed, good], STATION)) found.push(r.waybillNo);
      expect(found).toEqual(['GOOD']);
      const done = audit.events.filter((e) => e.type === 'search').at(-1) as unknown as Record<string, unknown>;
      expect(done).toMatchObject({ outcome: 'done', matches: 1 });
      // The broken row is counted (unverifiable), unless it was no longer a candidate at all.
      expect(Number(done['candidates']) - Number(done['matches'])).toBe(Number(done['unverifiable'] ?? 0));
    });
  }
});
