import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AccessDeniedError,
  ConfigError,
  MemoryAuditSink,
  MemoryQuotaStore,
  Redacted,
  checkPolicy,
  definePolicy,
  createAccessGuard,
  createSealer,
  defineSchema,
  parsePolicy,
  s,
  waybill,
  waybillPolicy,
  type AccessEvent,
  type AccessRequest,
  type AccessPolicy,
  type AlertEvent,
  type ExportGrant,
  type ProtectedPath,
  type QuotaStore,
} from '../../src/index.js';
import { JsonFileQuotaStore } from '../../src/node.js';
import { freshSealer, sampleWaybill } from '../helpers.js';

const HOUR = 3_600_000;
const record = (n: number, routing: Record<string, string> = { routeId: 'R1', destOutlet: 'OUT-A', originOutlet: 'OUT-B' }) => ({
  ...sampleWaybill(),
  waybillNo: `SF${String(n).padStart(10, '0')}`,
  routing,
});

function setup(policy: AccessPolicy = waybillPolicy, extra: { grants?: (id: string) => ExportGrant | undefined; quotaStore?: QuotaStore } = {}) {
  const clock = { t: Date.parse('2025-03-10T08:00:00Z') };
  const audit = new MemoryAuditSink();
  const { sealer: sealing, keyring, keyStore } = freshSealer();
  const guard = createAccessGuard({ policy, audit, now: () => clock.t, ...extra });
  const sealer = createSealer({ keyring, keyStore, guard });
  const access = (e: AccessEvent | AlertEvent | undefined) => e as AccessEvent;
  return { sealer, sealing, audit, clock, last: () => access(audit.events.at(-1) as AccessEvent) };
}

async function denial(p: Promise<unknown>): Promise<AccessDeniedError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(AccessDeniedError);
  return e as AccessDeniedError;
}

describe('policy files', () => {
  it('the built-in waybill policy parses and fits the waybill schema', () => {
    expect(parsePolicy(JSON.parse(JSON.stringify(waybillPolicy)))).toEqual(waybillPolicy);
    expect(() => checkPolicy(waybillPolicy, waybill)).not.toThrow();
    expect(Object.keys(waybillPolicy.purposes)).toEqual(
      expect.arrayContaining(['deliver', 'customer-service', 'realname-verify', 'waybill-issue', 'audit', 'export']),
    );
  });

  it('refuses malformed policies with the path of the problem', () => {
    const bad = (p: unknown) => () => parsePolicy(p, 'p.json');
    expect(bad([])).toThrow('p.json: must be an object');
    expect(bad({ purposes: { deliver: { feilds: ['receiver.mobile'] } } })).toThrow('p.json.purposes.deliver: unknown key "feilds"');
    expect(bad({ purposes: { deliver: { fields: [] } } })).toThrow('p.json.purposes.deliver.fields');
    expect(bad({ purposes: { deliver: { fields: '*', scope: [{ record: 'routing.routeId' }] } } })).toThrow('p.json.purposes.deliver.scope[0].context');
    expect(bad({ purposes: { deliver: { fields: '*', requires: ['Ticket!'] } } })).toThrow('p.json.purposes.deliver.requires[0]');
    expect(bad({ purposes: {}, quotas: [{ window: '1 hour', max: 5 }] })).toThrow('p.json.quotas[0].window');
    expect(bad({ purposes: {}, quotas: [{ window: '1h', max: -1 }] })).toThrow('p.json.quotas[0].max');
    expect(bad({ format: 'other', purposes: {} })).toThrow('p.json.format');
    expect(bad({ purposes: { 'Bad Name': { fields: '*' } } })).toThrow('purpose names');
  });

  it('definePolicy checks the policy against its schema at once (for JavaScript callers; TypeScript refuses the path)', () => {
    const ok = { purposes: { deliver: { fields: ['receiver.*'], scope: [{ record: 'routing.routeId', context: 'route' }] } } } as const;
    expect(definePolicy(waybill, ok)).toBe(ok);
    const typo = { purposes: { deliver: { fields: ['receiver.phone'] } } };
    expect(() => definePolicy(waybill, typo as never)).toThrow(/"receiver.phone" is not a protected field of waybill/);
    expect(() => definePolicy(waybill, { purposes: { deliver: { fields: '*', scope: [{ record: 'routing.route', context: 'route' }] } } })).toThrow(/"routing.route" is not a plain string field/);
  });

  it('checks field and scope paths against the schema, listing every problem', () => {
    const p = parsePolicy({
      purposes: {
        a: { fields: ['receiver.phone', 'receiver.*'], scope: [{ record: 'routing.route', context: 'route' }] },
        b: { fields: ['weightGrams'], scope: [{ record: 'receiver.name', context: 'x' }] },
      },
    });
    const err = (() => {
      try {
        checkPolicy(p, waybill);
      } catch (e) {
        return e as ConfigError;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.message).toContain('"receiver.phone" is not a protected field');
    expect(err!.message).toContain('"routing.route" is not a plain string field');
    expect(err!.message).toContain('"weightGrams" is not a protected field');
    expect(err!.message).toContain('"receiver.name" is not a plain string field');
    expect(err!.message).not.toContain('receiver.*');
  });

  it('a guard needs a policy and an audit sink, or explicit opt-outs', () => {
    expect(() => createAccessGuard({} as never)).toThrow(ConfigError);
    expect(() => createAccessGuard({ policy: waybillPolicy } as never)).toThrow(/audit sink/);
    expect(() => createAccessGuard({ policy: waybillPolicy, audit: 'none' })).not.toThrow();
    expect(() => createAccessGuard({ policy: { purposes: { x: { fields: 'all' } } } as never, audit: 'none' })).toThrow(ConfigError);
  });

  it('open refuses to run without a guard: "allow-all" must be said', async () => {
    const { sealer, keyring, keyStore } = freshSealer();
    const sealed = await sealer.seal(waybill, sampleWaybill());
    const bare = createSealer({ keyring, keyStore });
    await expect(bare.open(waybill, sealed, { principal: 'p', purpose: 'x' })).rejects.toThrow(/access policy/);
    await expect(bare.seal(waybill, sampleWaybill())).resolves.toBeDefined(); // sealing needs no policy
    expect(() => createSealer({ keyring, keyStore, guard: {} as never })).toThrow(ConfigError);
  });
});

describe('purpose-bound opens (deny by default)', () => {
  it('deliver opens the receiver of waybills on the principal route; the rest stay masked', async () => {
    const { sealer, sealing, audit } = setup();
    const sealed = await sealing.seal(waybill, record(1));
    const { record: r, opened, withheld } = await sealer.open(waybill, sealed, { principal: 'c-17', purpose: 'deliver', context: { route: 'R1' } });
    expect(opened).toEqual(['receiver.name', 'receiver.mobile', 'receiver.address.detail']);
    expect((r.receiver.mobile as Redacted).reveal()).toBe(sampleWaybill().receiver.mobile);
    expect(r.sender.mobile).toBe('138****5678');
    expect(r.sender.idNumber).toBe('1****************X');
    expect(withheld).toContainEqual({ path: 'sender.idNumber', reason: 'field_not_granted' });
    expect(withheld).toContainEqual({ path: 'receiver.virtualNumber', reason: 'field_not_granted' });
    const e = audit.events[0] as AccessEvent;
    expect(e).toMatchObject({ type: 'access', principal: 'c-17', purpose: 'deliver', recordId: 'SF0000000001', outcome: 'partial', evidence: { route: 'R1' } });
    expect(e.opened).toEqual(opened);
  });

  it('denies with stable reason codes, audits every denial, and decrypts nothing', async () => {
    const { sealer, sealing, audit } = setup();
    const sealed = await sealing.seal(waybill, record(2));
    const cases: [AccessRequest<ProtectedPath<typeof waybill>>, string][] = [
      [{ principal: 'p', purpose: 'sell-data' }, 'unknown_purpose'],
      [{ principal: 'p', purpose: 'deliver', context: { route: 'R9' } }, 'out_of_scope'],
      [{ principal: 'p', purpose: 'deliver' }, 'out_of_scope'],
      [{ principal: 'p', purpose: 'customer-service' }, 'missing_ticket'],
      [{ principal: 'p', purpose: 'customer-service', context: { ticket: 'T1' }, fields: ['receiver.name'] }, 'field_not_granted'],
      [{ principal: 'p', purpose: 'realname-verify', context: { ticket: 'T1' }, fields: ['receiver.address.detail'] }, 'field_not_granted'],
      [{ principal: 'p', purpose: 'export' }, 'missing_approval'],
      [{ principal: 'p', purpose: 'export', context: { approval: 'EXP-1' } }, 'approval_unknown'],
      [{ principal: 'p', purpose: 'waybill-issue', context: { outlet: 'OUT-A' } }, 'out_of_scope'],
    ];
    for (const [req, reason] of cases) {
      const e = await denial(sealer.open(waybill, sealed, req));
      expect(e.reason).toBe(reason);
      expect(e.code).toBe('ACCESS_DENIED');
      expect(audit.events.at(-1)).toMatchObject({ type: 'access', outcome: 'denied', reason, opened: [] });
    }
    expect(audit.events).toHaveLength(cases.length);
    const missing = await denial(sealer.open(waybill, sealed, { principal: 'p', purpose: 'deliver' }));
    expect(missing.message).toContain('names none of: route');
    const notGranted = await denial(sealer.open(waybill, sealed, { principal: 'p', purpose: 'customer-service', context: { ticket: 'T' }, fields: ['receiver.name'] }));
    expect(notGranted.fields).toEqual(['receiver.name']);
  });

  it('a partially granted request opens what is granted and lists the rest', async () => {
    const { sealer, sealing } = setup();
    const sealed = await sealing.seal(waybill, record(3));
    const { opened, withheld, record: r } = await sealer.open(waybill, sealed, {
      principal: 'cs-1',
      purpose: 'customer-service',
      context: { ticket: 'T-100' },
      fields: ['receiver.mobile', 'receiver.name'],
    });
    expect(opened).toEqual(['receiver.mobile']);
    expect(withheld).toEqual([{ path: 'receiver.name', reason: 'field_not_granted' }]);
    expect(r.receiver.name).toBe('欧***');
  });

  it('scopes match outlets and routes; records without routing are out of every scope', async () => {
    const policy = parsePolicy({
      purposes: {
        deliver: {
          fields: ['receiver.*'],
          scope: [
            { record: 'routing.destOutlet', context: 'outlet' },
            { record: 'routing.routeId', context: 'route' },
          ],
        },
      },
    });
    const { sealer, sealing } = setup(policy);
    const mine = await sealing.seal(waybill, record(4, { destOutlet: 'OUT-A' }));
    const other = await sealing.seal(waybill, record(5, { destOutlet: 'OUT-B', routeId: 'R7' }));
    const { routing: _r, ...old } = record(6);
    const legacy = await sealing.seal(waybill, old);
    const req = { principal: 'a', purpose: 'deliver', context: { outlet: 'OUT-A' } };
    expect((await sealer.open(waybill, mine, req)).opened).toContain('receiver.mobile');
    expect((await denial(sealer.open(waybill, other, req))).reason).toBe('out_of_scope');
    expect((await sealer.open(waybill, other, { ...req, context: { outlet: 'OUT-A', route: 'R7' } })).opened).toContain('receiver.name');
    expect((await denial(sealer.open(waybill, legacy, req))).reason).toBe('out_of_scope');
    // receiver.* grants every receiver field, and nothing of the sender
    const { opened } = await sealer.open(waybill, mine, req);
    expect(opened.every((p) => p.startsWith('receiver.'))).toBe(true);
    expect(opened).toContain('receiver.virtualNumber');
  });

  it('evidence is the request\'s own context keys: inherited names such as constructor are not evidence', async () => {
    const policy = parsePolicy({
      purposes: {
        a: { fields: '*', requires: ['constructor'] },
        b: { fields: '*', scope: [{ record: 'routing.routeId', context: 'tostring' }] },
      },
    });
    const { sealer, sealing } = setup(policy);
    const sealed = await sealing.seal(waybill, record(8));
    expect((await denial(sealer.open(waybill, sealed, { principal: 'p', purpose: 'a' }))).reason).toBe('missing_constructor');
    expect((await denial(sealer.open(waybill, sealed, { principal: 'p', purpose: 'a', context: { constructor: '' } }))).reason).toBe(
      'missing_constructor',
    );
    expect((await sealer.open(waybill, sealed, { principal: 'p', purpose: 'a', context: { constructor: 'T-1' } })).opened.length).toBeGreaterThan(0);
    expect((await denial(sealer.open(waybill, sealed, { principal: 'p', purpose: 'b' }))).reason).toBe('out_of_scope');
    expect((await denial(sealer.open(waybill, sealed, { principal: 'p', purpose: 'toString' }))).reason).toBe('unknown_purpose');
  });

  it('allow-all opens everything, still audited when a sink is given', async () => {
    const audit = new MemoryAuditSink();
    const { sealer: s0, keyring, keyStore } = freshSealer();
    const sealer = createSealer({ keyring, keyStore, guard: createAccessGuard({ policy: 'allow-all', audit }) });
    const sealed = await s0.seal(waybill, sampleWaybill());
    const { record: r } = await sealer.open(waybill, sealed, { principal: 'batch', purpose: 'migration', reveal: 'plain' });
    expect(r).toEqual(sampleWaybill());
    expect(audit.events).toHaveLength(1);
    expect(audit.events[0]).toMatchObject({ outcome: 'opened', principal: 'batch', purpose: 'migration' });
  });

  it('audit events never carry values or the masks of opened fields', async () => {
    const { sealer, sealing, audit } = setup();
    const input = record(7);
    const sealed = await sealing.seal(waybill, input);
    await sealer.open(waybill, sealed, { principal: 'c', purpose: 'deliver', context: { route: 'R1' } });
    await sealer.open(waybill, sealed, { principal: 'c', purpose: 'deliver', context: { route: 'R2' } }).catch(() => undefined);
    const text = JSON.stringify(audit.events);
    for (const v of [input.receiver.name, input.receiver.mobile, '13987654321', input.receiver.address.detail, input.sender.idNumber, input.sender.name]) {
      expect(text).not.toContain(v);
    }
    for (const m of Object.values(sealed.receiver.mobile!.mask)) expect(text).not.toContain(m);
    for (const m of Object.values(sealed.receiver.name.mask)) expect(text).not.toContain(m);
  });
});

describe('quotas', () => {
  const hourly: AccessPolicy = parsePolicy({
    purposes: {
      deliver: { fields: ['receiver.mobile'], scope: [{ record: 'routing.routeId', context: 'route' }], quotas: [{ window: '1d', max: 12 }] },
      lookup: { fields: ['receiver.name'] },
    },
    quotas: [{ window: '1h', max: 5 }],
  });

  it('a sliding hourly window per principal: denied past the limit with an alert, open again as the window slides', async () => {
    const { sealer, sealing, audit, clock } = setup(hourly);
    const sealed = await sealing.sealMany(waybill, Array.from({ length: 8 }, (_, i) => record(100 + i)));
    const req = { principal: 'courier-A', purpose: 'deliver', context: { route: 'R1' } };
    for (let i = 0; i < 5; i++) {
      clock.t += 60_000;
      await sealer.open(waybill, sealed[i]!, req);
    }
    const e = await denial(sealer.open(waybill, sealed[5]!, req));
    expect(e.reason).toBe('quota_exceeded');
    expect(e.message).toContain('principal/1h: 5 of 5 used');
    const alert = audit.events.at(-2) as AlertEvent;
    expect(alert).toMatchObject({ type: 'alert', reason: 'quota_exceeded', principal: 'courier-A', quota: 'principal/1h', limit: 5, used: 5, recordId: sealed[5]!.waybillNo });
    expect(audit.events.at(-1)).toMatchObject({ type: 'access', outcome: 'denied', reason: 'quota_exceeded' });
    // another principal has its own counter
    await expect(sealer.open(waybill, sealed[5]!, { ...req, principal: 'courier-B' })).resolves.toBeDefined();
    // out-of-scope attempts do not use the quota, denied ones do not either
    clock.t += HOUR - 4 * 60_000; // the first open (t0 + 1 min) has left the window
    await expect(sealer.open(waybill, sealed[6]!, req)).resolves.toBeDefined();
    await expect(denial(sealer.open(waybill, sealed[7]!, req))).resolves.toMatchObject({ reason: 'quota_exceeded' });
  });

  it('per-purpose daily quotas apply on top, all-or-nothing', async () => {
    const { sealer, sealing, clock } = setup(hourly);
    const sealed = await sealing.seal(waybill, record(200));
    const req = { principal: 'p', purpose: 'deliver', context: { route: 'R1' } };
    let opened = 0;
    for (let i = 0; i < 40; i++) {
      clock.t += 13 * 60_000; // ~4.6 per hour: never the hourly limit
      try {
        await sealer.open(waybill, sealed, req);
        opened++;
      } catch (e) {
        expect((e as AccessDeniedError).message).toContain('purpose:deliver/1d');
      }
    }
    expect(opened).toBe(12);
    // the hourly counter was not charged for refused opens: another purpose still opens
    await expect(sealer.open(waybill, sealed, { principal: 'p', purpose: 'lookup' })).resolves.toBeDefined();
  });

  it('MemoryQuotaStore.take is atomic across counters', async () => {
    const store = new MemoryQuotaStore();
    const a = { key: 'a', windowMs: HOUR, limit: 2 };
    const b = { key: 'b', windowMs: HOUR, limit: 1 };
    expect(await store.take([a, b], 1)).toEqual({ ok: true });
    expect(await store.take([a, b], 2)).toEqual({ ok: false, counter: b, used: 1 });
    expect(store.snapshot()['a']!.t).toEqual([1]); // a was not charged by the refused take
    expect(await store.take([a], 3)).toEqual({ ok: true });
    expect(await store.take([a], 4)).toMatchObject({ ok: false, used: 2 });
    expect(await store.take([a], 1 + HOUR)).toEqual({ ok: true }); // t=1 left the window
  });

  it('concurrent opens cannot overshoot a quota', async () => {
    const { sealer, sealing } = setup(hourly);
    const sealed = await sealing.seal(waybill, record(300));
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => sealer.open(waybill, sealed, { principal: 'burst', purpose: 'lookup' })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
  });

  it('the JSON-file quota store persists counters across instances and refuses a corrupt file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ws-quota-'));
    const path = join(dir, 'q.json');
    const c = { key: JSON.stringify(['principal', 'p', '1h']), windowMs: HOUR, limit: 3 };
    const s1 = new JsonFileQuotaStore(path);
    expect(await Promise.all([s1.take([c], 10), s1.take([c], 11)])).toEqual([{ ok: true }, { ok: true }]);
    const s2 = new JsonFileQuotaStore(path);
    expect(await s2.take([c], 12)).toEqual({ ok: true });
    expect(await s2.take([c], 13)).toMatchObject({ ok: false, used: 3 });
    const budget = { key: 'grant', windowMs: Infinity, limit: 1 };
    expect(await s2.take([budget], 14)).toEqual({ ok: true });
    expect(await new JsonFileQuotaStore(path).take([budget], 14 + 400 * 86_400_000)).toMatchObject({ ok: false });
    expect(JSON.parse(await readFile(path, 'utf8')).counters['grant']).toEqual({ w: null, t: [14] });
    await writeFile(path, '{"format":"waybill-seal/quota-state","counters":{"x":{"w":1,"t":["a"]}}}');
    await expect(s2.take([c], 20)).rejects.toThrow(/corrupt/);
  });
});

describe('bulk export grants', () => {
  const grant = (g: Partial<ExportGrant> = {}): ExportGrant => ({ id: 'EXP-7', budget: 3, expiresAt: '2025-03-11T00:00:00Z', ...g });

  it('opens every field up to the budget, then denies with an alert; the approval id is audited', async () => {
    const { sealer, sealing, audit } = setup(waybillPolicy, { grants: (id) => (id === 'EXP-7' ? grant() : undefined) });
    const sealed = await sealing.sealMany(waybill, Array.from({ length: 5 }, (_, i) => record(400 + i)));
    const req = { principal: 'ops', purpose: 'export', context: { approval: 'EXP-7' }, reveal: 'plain' } as const;
    for (let i = 0; i < 3; i++) expect((await sealer.open(waybill, sealed[i]!, req)).record).toEqual(record(400 + i));
    const e = await denial(sealer.open(waybill, sealed[3]!, req));
    expect(e.reason).toBe('export_budget_spent');
    expect(audit.events.at(-2)).toMatchObject({ type: 'alert', reason: 'export_budget_spent', quota: 'approval:EXP-7', limit: 3, used: 3 });
    expect(audit.events[0]).toMatchObject({ outcome: 'opened', evidence: { approval: 'EXP-7' } });
  });

  it('an export grant is not limited by the hourly quota, and without one nobody opens more than the quota', async () => {
    const policy = parsePolicy({ ...JSON.parse(JSON.stringify(waybillPolicy)), quotas: [{ window: '1h', max: 2 }] });
    const { sealer, sealing } = setup(policy, { grants: () => grant({ budget: 10 }) });
    const sealed = await sealing.seal(waybill, record(500));
    for (let i = 0; i < 6; i++) await sealer.open(waybill, sealed, { principal: 'ops', purpose: 'export', context: { approval: 'EXP-7' } });
    const audit = { principal: 'ops', purpose: 'audit', context: { ticket: 'CASE-1' } };
    await sealer.open(waybill, sealed, audit);
    await sealer.open(waybill, sealed, audit);
    expect((await denial(sealer.open(waybill, sealed, audit))).reason).toBe('quota_exceeded');
  });

  it('expired, foreign-principal and foreign-purpose grants are refused', async () => {
    const cases: [ExportGrant, string][] = [
      [grant({ expiresAt: '2025-03-10T07:59:59Z' }), 'approval_expired'],
      [grant({ principal: 'someone-else' }), 'approval_unknown'],
      [grant({ purposes: ['other'] }), 'approval_unknown'],
      [grant({ id: 'EXP-8' }), 'approval_unknown'],
    ];
    for (const [g, reason] of cases) {
      const { sealer, sealing } = setup(waybillPolicy, { grants: () => g });
      const sealed = await sealing.seal(waybill, record(600));
      expect((await denial(sealer.open(waybill, sealed, { principal: 'ops', purpose: 'export', context: { approval: 'EXP-7' } }))).reason).toBe(reason);
    }
  });
});

describe('policies scope only on fields the record tag signs', () => {
  const parcel = (signed: string[]) =>
    defineSchema('parcel', 1, { id: s.string(), createdAt: s.date(), outlet: s.string(), name: s.name(), mobile: s.mobile() }, { recordId: 'id', signed });
  const byOutlet = { purposes: { pickup: { fields: ['mobile'], scope: [{ record: 'outlet', context: 'outlet' }] } } };
  const plain = { id: 'P1', createdAt: '2025-03-01T08:00:00Z', outlet: 'OUT-A', name: '张三', mobile: '13812345678' };
  const pickup = { principal: 'station-9', purpose: 'pickup', context: { outlet: 'OUT-EVIL' }, reveal: 'plain' } as const;

  it('a scope on an unsigned field is refused when the policy meets the schema, naming the field', async () => {
    expect(() => checkPolicy(byOutlet, parcel([]))).toThrow(/"outlet" is not signed by parcel/);
    expect(() => checkPolicy(byOutlet, parcel(['outlet']))).not.toThrow();
    // Through a sealer: the first open is refused before anything is read, whatever the record.
    const { sealer } = freshSealer({ guard: createAccessGuard({ policy: byOutlet, audit: 'none' }) });
    const sealed = await sealer.seal(parcel([]), plain);
    await expect(sealer.open(parcel([]), { ...sealed, outlet: 'OUT-EVIL' }, pickup)).rejects.toThrow(/"outlet" is not signed/);
  });

  it('editing a signed outlet field to the attacker\'s own is refused', async () => {
    const schema = parcel(['outlet']);
    const { sealer } = freshSealer({ guard: createAccessGuard({ policy: byOutlet, audit: 'none' }) });
    const sealed = await sealer.seal(schema, plain);
    await expect(sealer.open(schema, sealed, pickup)).rejects.toBeInstanceOf(AccessDeniedError);
    await expect(sealer.open(schema, { ...sealed, outlet: 'OUT-EVIL' }, pickup)).rejects.toMatchObject({ code: 'INTEGRITY', path: 'outlet' });
  });

  it('integrity: false is refused with a policy that scopes on record fields', () => {
    expect(() => freshSealer({ integrity: false, guard: createAccessGuard({ policy: waybillPolicy, audit: 'none' }) })).toThrow(/integrity: false/);
    expect(() => freshSealer({ integrity: false, guard: createAccessGuard({ policy: { purposes: { cs: { fields: '*' } } }, audit: 'none' }) })).not.toThrow();
  });
});
