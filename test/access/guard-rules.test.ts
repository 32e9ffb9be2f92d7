/**
 * Access-guard rules that are easy to lose (issue 18, mutation testing), written as the insider
 * moves they stop: spending one export approval's budget through another, passing an empty
 * ticket or route as evidence, changing a policy after the guard took it, and using a guard
 * checked against one schema for records of another whose paths the policy does not fit.
 */
import { describe, expect, it } from 'vitest';
import {
  AccessDeniedError,
  ConfigError,
  MemoryAuditSink,
  createAccessGuard,
  defineSchema,
  parsePolicy,
  s,
  waybill,
  waybillPolicy,
  type AccessPolicy,
  type ExportGrant,
} from '../../src/index.js';
import { recordInScope, type OpenContext } from '../../src/access/guard.js';

const NOW = Date.parse('2025-03-10T08:00:00Z');
const mobile = [{ path: 'receiver.mobile', schemaPath: 'receiver.mobile' }];
const ctx = (o: Partial<OpenContext> = {}): OpenContext => ({
  schema: waybill,
  recordId: 'SF1',
  record: { waybillNo: 'SF1', routing: { routeId: 'R1', destOutlet: 'OUT-A', originOutlet: 'OUT-B' } },
  principal: 'ops',
  purpose: 'export',
  requested: '*',
  context: {},
  ...o,
});
const grants: Record<string, ExportGrant> = {
  'EXP-A': { id: 'EXP-A', budget: 2 },
  'EXP-B': { id: 'EXP-B', budget: 2 },
};
const guardOf = (policy: AccessPolicy = waybillPolicy) => {
  const audit = new MemoryAuditSink();
  const guard = createAccessGuard({ policy, audit, now: () => NOW, grants: (id) => grants[id] });
  return { guard, audit };
};
async function reason(p: Promise<unknown>): Promise<string> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(AccessDeniedError);
  return (e as AccessDeniedError).reason;
}

describe('export approvals', () => {
  it('each approval has its own budget: spending one does not spend (or extend) another', async () => {
    const { guard, audit } = guardOf();
    const open = async (approval: string) => (await guard.authorize(ctx({ context: { approval } }), mobile)).charge(1);
    await open('EXP-A');
    await open('EXP-A');
    expect(await reason(open('EXP-A'))).toBe('export_budget_spent');
    expect(audit.events.at(-2)).toMatchObject({ type: 'alert', quota: 'approval:EXP-A', limit: 2, used: 2 });
    await open('EXP-B');
    await open('EXP-B');
    expect(await reason(open('EXP-B'))).toBe('export_budget_spent');
  });

  it('a charge of several records is counted as that many, and a charge of none counts nothing', async () => {
    const { guard } = guardOf();
    const d = await guard.authorize(ctx({ context: { approval: 'EXP-A' } }), mobile);
    await d.charge(0);
    await d.charge(2);
    expect(await reason(d.charge(1))).toBe('export_budget_spent');
  });
});

describe('evidence', () => {
  it('an empty ticket is no ticket', async () => {
    const { guard, audit } = guardOf();
    expect(await reason(guard.authorize(ctx({ purpose: 'customer-service', context: { ticket: '' } }), mobile))).toBe('missing_ticket');
    expect(audit.events.at(-1)).toMatchObject({ outcome: 'denied', reason: 'missing_ticket' });
    await guard.authorize(ctx({ purpose: 'customer-service', context: { ticket: 'T-1' } }), mobile);
  });

  it('an empty route does not match a record with an empty route id', async () => {
    const { guard } = guardOf();
    const record = { waybillNo: 'SF1', routing: { routeId: '' } };
    expect(await reason(guard.authorize(ctx({ purpose: 'deliver', record, context: { route: '' } }), mobile))).toBe('out_of_scope');
    const ok = await guard.authorize(ctx({ purpose: 'deliver', context: { route: 'R1' } }), mobile);
    expect(ok.granted).toEqual(mobile);
  });

  it('an empty approval is no approval', async () => {
    const { guard } = guardOf();
    expect(await reason(guard.authorize(ctx({ context: { approval: '' } }), mobile))).toBe('missing_approval');
  });

  it('out of scope without the scope key: the denial says which keys were expected', async () => {
    const { guard } = guardOf();
    const e = await guard.authorize(ctx({ purpose: 'deliver' }), mobile).catch((err: AccessDeniedError) => err);
    expect((e as AccessDeniedError).message).toContain('the request names none of: route');
    const given = await guard.authorize(ctx({ purpose: 'deliver', context: { route: 'R9' } }), mobile).catch((err: AccessDeniedError) => err);
    expect((given as AccessDeniedError).message).toBe('access denied: out_of_scope');
  });
});

describe('the policy a guard holds', () => {
  it('is frozen all the way down: it cannot be widened after the guard took it', () => {
    const { guard } = guardOf();
    const policy = guard.policy as AccessPolicy;
    expect(Object.isFrozen(policy)).toBe(true);
    expect(Object.isFrozen(policy.purposes)).toBe(true);
    expect(Object.isFrozen(policy.purposes['deliver'])).toBe(true);
    expect(Object.isFrozen(policy.purposes['deliver']!.fields)).toBe(true);
    expect(() => (policy.purposes['deliver']!.fields as string[]).push('sender.idNumber')).toThrow(TypeError);
    expect(() => Object.assign(policy.purposes, { anything: { fields: ['*'] } })).toThrow(TypeError);
  });

  it('is a checked copy: changing the caller\'s policy object afterwards changes nothing', async () => {
    const mine = parsePolicy(JSON.parse(JSON.stringify(waybillPolicy))) as { purposes: Record<string, { fields: string[] }> };
    const { guard } = guardOf(mine as unknown as AccessPolicy);
    mine.purposes['customer-service']!.fields.push('sender.idNumber');
    const d = await guard.authorize(ctx({ purpose: 'customer-service', context: { ticket: 'T-1' } }), [...mobile, { path: 'sender.idNumber', schemaPath: 'sender.idNumber' }]);
    expect(d.granted).toEqual(mobile);
    expect(d.withheld).toEqual([{ path: 'sender.idNumber', reason: 'field_not_granted' }]);
  });

  it('is checked against every schema it is used with, not only the first', async () => {
    const { guard } = guardOf();
    await guard.authorize(ctx({ purpose: 'customer-service', context: { ticket: 'T-1' } }), mobile);
    const fleet = defineSchema('fleet', 1, { id: s.string(), createdAt: s.date(), name: s.name() }, { recordId: 'id' });
    await expect(guard.authorize(ctx({ schema: fleet, purpose: 'customer-service', context: { ticket: 'T-1' } }), [])).rejects.toThrow(ConfigError);
    // ...and keeps refusing that schema, while the first still works.
    await expect(guard.authorize(ctx({ schema: fleet, purpose: 'customer-service', context: { ticket: 'T-1' } }), [])).rejects.toThrow(ConfigError);
    await guard.authorize(ctx({ purpose: 'customer-service', context: { ticket: 'T-1' } }), mobile);
  });
});

/**
 * Survivors of the guard.ts mutation run (issue 18; README "Faults and mutation testing"), each written
 * as the insider move or the audit gap it would let through.
 */
describe('export approvals: who, until when, how much', () => {
  const bound: Record<string, ExportGrant> = {
    'EXP-OPS': { id: 'EXP-OPS', budget: 5, principal: 'ops' },
    'EXP-END': { id: 'EXP-END', budget: 5, expiresAt: new Date(NOW).toISOString() },
    'EXP-NEG': { id: 'EXP-NEG', budget: -1 },
    'EXP-FRAC': { id: 'EXP-FRAC', budget: 1.5 },
  };
  const guard = () => createAccessGuard({ policy: waybillPolicy, audit: 'none', now: () => NOW, grants: (id) => bound[id] });

  it('a grant bound to a principal serves that principal, and nobody else who learns its id', async () => {
    const g = guard();
    expect((await g.authorize(ctx({ context: { approval: 'EXP-OPS' } }), mobile)).granted).toEqual(mobile);
    expect(await reason(g.authorize(ctx({ principal: 'mallory', context: { approval: 'EXP-OPS' } }), mobile))).toBe('approval_unknown');
  });

  it('a grant is void from the instant it expires (not one millisecond later)', async () => {
    expect(await reason(guard().authorize(ctx({ context: { approval: 'EXP-END' } }), mobile))).toBe('approval_expired');
  });

  it('a grant with a negative or fractional budget is a configuration error, never an open budget', async () => {
    for (const approval of ['EXP-NEG', 'EXP-FRAC']) {
      await expect(guard().authorize(ctx({ context: { approval } }), mobile)).rejects.toThrow(new ConfigError(`export grant ${approval} has an invalid budget`));
    }
  });
});

describe('denials say exactly what was missing', () => {
  const twoKeys = parsePolicy({
    purposes: {
      station: { fields: ['receiver.mobile', 'receiver.name'], scope: [{ record: 'routing.routeId', context: 'route' }, { record: 'routing.destOutlet', context: 'outlet' }] },
    },
  });

  it('out of scope with none of several scope keys names them all; with one of them given (wrong), names none', async () => {
    const { guard } = guardOf(twoKeys);
    const none = await guard.authorize(ctx({ purpose: 'station' }), mobile).catch((e: AccessDeniedError) => e);
    expect((none as AccessDeniedError).message).toBe('access denied: out_of_scope (the request names none of: route, outlet)');
    const wrong = await guard.authorize(ctx({ purpose: 'station', context: { route: 'R9' } }), mobile).catch((e: AccessDeniedError) => e);
    expect((wrong as AccessDeniedError).message).toBe('access denied: out_of_scope');
    // Either key in scope is enough.
    expect((await guard.authorize(ctx({ purpose: 'station', context: { outlet: 'OUT-A' } }), mobile)).granted).toEqual(mobile);
  });

  it('no requested field granted: every field named, in the message and the error; a denial of the request carries no fields', async () => {
    const { guard, audit } = guardOf();
    const fields = [
      { path: 'sender.idNumber', schemaPath: 'sender.idNumber' },
      { path: 'sender.name', schemaPath: 'sender.name' },
    ];
    const e = (await guard.authorize(ctx({ purpose: 'customer-service', context: { ticket: 'T-1' } }), fields).catch((err: unknown) => err)) as AccessDeniedError;
    expect(e.message).toBe('access denied: field_not_granted (sender.idNumber, sender.name)');
    expect(e.fields).toEqual(['sender.idNumber', 'sender.name']);
    // The audit line lists what was withheld and why.
    expect(audit.events.at(-1)).toMatchObject({
      outcome: 'denied',
      reason: 'field_not_granted',
      withheld: [
        { path: 'sender.idNumber', reason: 'field_not_granted' },
        { path: 'sender.name', reason: 'field_not_granted' },
      ],
    });
    const missing = (await guard.authorize(ctx({ purpose: 'customer-service' }), mobile).catch((err: unknown) => err)) as AccessDeniedError;
    expect(missing.fields).toEqual([]);
  });

  it('a request for no protected field (a record without any) is allowed, not denied as field_not_granted', async () => {
    const { guard } = guardOf();
    const d = await guard.authorize(ctx({ purpose: 'customer-service', context: { ticket: 'T-1' } }), []);
    expect(d.granted).toEqual([]);
    expect(d.withheld).toEqual([]);
  });
});

describe('the audit line of a failed open', () => {
  it('fail() writes one failed event that claims no opened field unless told', async () => {
    const { guard, audit } = guardOf();
    const d = await guard.authorize(ctx({ purpose: 'customer-service', context: { ticket: 'T-1' } }), mobile);
    const before = audit.events.length;
    await d.fail('key:data_key_missing');
    expect(audit.events.slice(before)).toHaveLength(1);
    expect(audit.events.at(-1)).toMatchObject({ type: 'access', outcome: 'failed', reason: 'key:data_key_missing', opened: [] });
  });
});

describe('creating a guard', () => {
  it('without a policy (or with a policy that is not an object) is refused, naming what is missing', () => {
    for (const options of [undefined, {}, { policy: 'everything', audit: 'none' }]) {
      expect(() => createAccessGuard(options as never)).toThrow(new ConfigError('createAccessGuard needs a policy (or policy: "allow-all")'));
    }
  });
});

describe('search scope evidence', () => {
  const search = (context: Record<string, string>) => ({
    schema: waybill,
    index: 'receiver.mobile:last4',
    sources: ['receiver.mobile'],
    principal: 'station-1',
    purpose: 'pickup',
    context,
  });

  it('an empty outlet scopes nothing: the search is refused, never run with an empty (or no) scope condition', async () => {
    const { guard } = guardOf();
    expect(await reason(guard.authorizeSearch(search({ outlet: '' })))).toBe('out_of_scope');
    const ok = await guard.authorizeSearch(search({ outlet: 'OUT-A' }));
    expect(ok.scope).toEqual([{ path: 'routing.destOutlet', value: 'OUT-A' }]);
  });
});

describe('which indexes a purpose may search', () => {
  const policy = parsePolicy({
    purposes: {
      phone: { fields: ['receiver.mobile'] },
      any: { fields: ['receiver.name'], indexes: '*' },
      pickup: { fields: [], confirm: ['receiver.mobile'], scope: [{ record: 'routing.destOutlet', context: 'outlet' }, { record: 'routing.routeId', context: 'route' }], indexes: ['receiver.mobile:last4'] },
    },
    searchQuotas: 'unlimited',
  });
  const search = (purpose: string, sources: string[], context: Record<string, string> = {}) => ({ schema: waybill, index: 'x', sources, principal: 'p', purpose, context });

  it('an index over a field the purpose may not open cannot be searched, even with its other source open to it', async () => {
    const { guard } = guardOf(policy);
    await guard.authorizeSearch(search('phone', ['receiver.mobile']));
    expect(await reason(guard.authorizeSearch(search('phone', ['receiver.mobile', 'receiver.name'])))).toBe('index_not_granted');
  });

  it('indexes "*" searches any index', async () => {
    const { guard } = guardOf(policy);
    await expect(guard.authorizeSearch(search('any', ['sender.idNumber']))).resolves.toBeDefined();
  });

  it('a scoped search without any scope key names the keys it expects', async () => {
    const { guard } = guardOf(policy);
    const e = (await guard.authorizeSearch({ ...search('pickup', ['receiver.mobile']), index: 'receiver.mobile:last4' }).catch((err: unknown) => err)) as AccessDeniedError;
    expect(e.message).toBe('access denied: out_of_scope (the request names none of: outlet, route)');
  });

  it('a record is in a scope when it meets one of its conditions; a non-record never is', () => {
    const scope = [
      { path: 'routing.destOutlet', value: 'OUT-A' },
      { path: 'routing.routeId', value: 'R1' },
    ];
    expect(recordInScope(scope, { routing: { destOutlet: 'OUT-A', routeId: 'R9' } })).toBe(true);
    expect(recordInScope(scope, { routing: { destOutlet: 'OUT-Z', routeId: 'R9' } })).toBe(false);
    for (const notARecord of [null, 'OUT-A', 7]) expect(recordInScope(scope, notARecord)).toBe(false);
    expect(recordInScope([], null)).toBe(true);
  });
});

describe('an export grant with a budget of 0', () => {
  it('is a valid grant that opens nothing', async () => {
    const guard = createAccessGuard({ policy: waybillPolicy, audit: 'none', now: () => NOW, grants: (id) => ({ id, budget: 0 }) });
    const d = await guard.authorize(ctx({ context: { approval: 'EXP-0' } }), mobile);
    expect(await reason(d.charge(1))).toBe('export_budget_spent');
  });
});
