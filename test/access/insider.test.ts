/**
 * The insider scenario (issue 4): 10,000 sealed waybills across 20 outlets. A courier of outlet A
 * opens its own deliveries within quota; then, like the rented accounts of the 2020 leak, tries
 * 5,000 waybills of other outlets (all denied, all audited); then keeps opening its own beyond the
 * quota (denied, with alerts). The audit log verifies, and deleting, editing or reordering any
 * one of its lines is found.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AccessDeniedError,
  LocalKeyring,
  MemoryKeyStore,
  Redacted,
  auditKey,
  createAccessGuard,
  createSealer,
  generateLocalKeyMaterial,
  mask,
  parsePolicy,
  verifyAuditLog,
  waybill,
  type AccessEvent,
  type AlertEvent,
  type AuditEvent,
  type SealedRecord,
} from '../../src/index.js';
import { JsonlAuditSink, verifyAuditFile } from '../../src/node.js';
import { syntheticWaybills, type SyntheticWaybill as Waybill } from 'waybill-seal/testing';
import { seededRandom } from '../../src/testing/synthetic.js';
import 'waybill-seal/testing/vitest';

const OUTLETS = Array.from({ length: 20 }, (_, i) => `OUT-${String(i + 1).padStart(2, '0')}`);
const A = OUTLETS[0]!;
const HOURLY = 200;

const policy = parsePolicy({
  purposes: {
    deliver: {
      fields: ['receiver.name', 'receiver.mobile', 'receiver.address.detail'],
      scope: [
        { record: 'routing.destOutlet', context: 'outlet' },
        { record: 'routing.routeId', context: 'route' },
      ],
    },
  },
  quotas: [
    { window: '1h', max: HOURLY },
    { window: '1d', max: 1000 },
  ],
});

type W = typeof waybill;
let plain: Waybill[];
let sealed: SealedRecord<W>[];
let keyring: LocalKeyring;
let keyStore: MemoryKeyStore;

beforeAll(async () => {
  const rnd = seededRandom(4);
  plain = syntheticWaybills({ count: 10_000, seed: 20_200_731 }).map((w) => {
    const dest = Math.floor(rnd() * OUTLETS.length);
    return { ...w, routing: { originOutlet: OUTLETS[(dest + 7) % 20]!, destOutlet: OUTLETS[dest]!, routeId: `${OUTLETS[dest]}-R${Math.floor(rnd() * 4)}` } };
  });
  keyring = new LocalKeyring(generateLocalKeyMaterial());
  keyStore = new MemoryKeyStore();
  sealed = await createSealer({ keyring, keyStore }).sealMany(waybill, plain);
}, 180_000);

describe('insider extraction is scoped, counted and recorded', () => {
  it('runs the scenario and the audit log tells the story', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ws-insider-'));
    const logPath = join(dir, 'audit.jsonl');
    const audit = await JsonlAuditSink.open(logPath, keyring); // fsync'ed, chained
    const clock = { t: Date.parse('2025-07-01T08:00:00Z') };
    const sealer = createSealer({ keyring, keyStore, guard: createAccessGuard({ policy, audit, now: () => clock.t }) });
    const courier = { principal: 'courier-A-07', purpose: 'deliver', context: { outlet: A } };

    const mine = sealed.map((s, i) => i).filter((i) => plain[i]!.routing!.destOutlet === A);
    const others = sealed.map((s, i) => i).filter((i) => plain[i]!.routing!.destOutlet !== A);
    expect(mine.length).toBeGreaterThan(HOURLY + 100);
    expect(others.length).toBeGreaterThan(5000);

    // 1. Own deliveries within quota: opened, Redacted, audited.
    const t0 = performance.now();
    for (const i of mine.slice(0, 150)) {
      clock.t += 1000;
      const { record, opened } = await sealer.open(waybill, sealed[i]!, courier);
      expect(opened).toEqual(['receiver.name', 'receiver.mobile', 'receiver.address.detail']);
      expect(record.receiver.mobile).toBeInstanceOf(Redacted);
      expect((record.receiver.name as Redacted).reveal()).toBe(plain[i]!.receiver.name);
      expect(record.sender.mobile).toBe(mask(waybill, sealed[i]!).sender.mobile);
    }
    const openMs = performance.now() - t0;

    // 2. 5,000 waybills of the other 19 outlets: every one denied, nothing decrypted, quota untouched.
    const t1 = performance.now();
    let outOfScope = 0;
    for (const i of others.slice(0, 5000)) {
      clock.t += 100;
      try {
        await sealer.open(waybill, sealed[i]!, courier);
      } catch (e) {
        expect(e).toBeInstanceOf(AccessDeniedError);
        if ((e as AccessDeniedError).reason === 'out_of_scope') outOfScope++;
      }
    }
    const denyMs = performance.now() - t1;
    expect(outOfScope).toBe(5000);

    // 3. Own deliveries beyond the hourly quota: 50 more open, then denials with alerts.
    let opened = 0;
    const refused: string[] = [];
    for (const i of mine.slice(150, 280)) {
      clock.t += 1000;
      try {
        await sealer.open(waybill, sealed[i]!, courier);
        opened++;
      } catch (e) {
        refused.push((e as AccessDeniedError).reason);
      }
    }
    expect(opened).toBe(HOURLY - 150);
    expect(refused).toHaveLength(80);
    expect(new Set(refused)).toEqual(new Set(['quota_exceeded']));
    await audit.close();

    // The log verifies and says exactly what happened.
    const text = await readFile(logPath, 'utf8');
    const lines = text.trimEnd().split('\n');
    const key = await auditKey(keyring);
    expect(verifyAuditLog(lines, key)).toMatchObject({ ok: true, lines: 150 + 5000 + 50 + 80 * 2 });
    expect(await verifyAuditFile(logPath, keyring)).toMatchObject({ ok: true, lines: lines.length });
    const events = lines.map((l) => JSON.parse(l).event as AuditEvent);
    const access = events.filter((e): e is AccessEvent => e.type === 'access');
    const alerts = events.filter((e): e is AlertEvent => e.type === 'alert');
    // 'partial': a default request asks for every field; the sender's are withheld (field_not_granted).
    expect(access.filter((e) => e.outcome === 'partial' && e.opened.length === 3)).toHaveLength(HOURLY);
    expect(access.filter((e) => e.outcome === 'opened')).toHaveLength(0);
    expect(access.filter((e) => e.reason === 'out_of_scope')).toHaveLength(5000);
    expect(access.filter((e) => e.reason === 'quota_exceeded')).toHaveLength(80);
    expect(alerts).toHaveLength(80);
    expect(alerts[0]).toMatchObject({ principal: 'courier-A-07', reason: 'quota_exceeded', quota: 'principal/1h', limit: HOURLY, used: HOURLY });
    // Every event names the principal, purpose, record and evidence; none carries a value or a mask.
    expect(access.every((e) => e.principal === 'courier-A-07' && e.purpose === 'deliver' && e.evidence['outlet'] === A && e.recordId)).toBe(true);
    expect(text).toContainNoPlaintext(mine.slice(0, 200).map((i) => plain[i]!));
    for (const i of mine.slice(0, 200)) {
      for (const m of Object.values(sealed[i]!.receiver.mobile!.mask)) expect(text).not.toContain(m);
    }

    // Deleting, editing or reordering any one line is detected at that line.
    const del = lines.filter((_, i) => i !== 2999);
    expect(verifyAuditLog(del, key)).toMatchObject({ ok: false, line: 3000, reason: 'out_of_sequence' });
    const edit = [...lines];
    edit[160] = edit[160]!.replace('"reason":"out_of_scope"', '"reason":"quota_exceeded"');
    expect(edit[160]).not.toBe(lines[160]);
    expect(verifyAuditLog(edit, key)).toMatchObject({ ok: false, line: 161, reason: 'altered' });
    const erase = [...lines];
    erase[20] = erase[20]!.replace('"principal":"courier-A-07"', '"principal":"courier-B-01"');
    expect(verifyAuditLog(erase, key)).toMatchObject({ ok: false, line: 21, reason: 'altered' });
    const swap = [...lines];
    [swap[4000], swap[4001]] = [swap[4001]!, swap[4000]!];
    expect(verifyAuditLog(swap, key)).toMatchObject({ ok: false, line: 4001, reason: 'out_of_sequence' });

    // Figures for the report (fsync'ed audit line per decision).
    console.info(
      `insider scenario: ${(150 / (openMs / 1000)).toFixed(0)} audited opens/s, ${(5000 / (denyMs / 1000)).toFixed(0)} audited denials/s (fsync per event)`,
    );
  }, 180_000);

  it('the quota window slides: the next hour opens again, the daily quota still counts', async () => {
    const clock = { t: Date.parse('2025-07-02T08:00:00Z') };
    const sealer = createSealer({ keyring, keyStore, guard: createAccessGuard({ policy, audit: 'none', now: () => clock.t }) });
    const courier = { principal: 'courier-A-08', purpose: 'deliver', context: { outlet: A } };
    const mine = sealed.filter((_, i) => plain[i]!.routing!.destOutlet === A);
    let opened = 0;
    for (let hour = 0; hour < 7; hour++) {
      for (const s of mine.slice(0, HOURLY + 10)) {
        clock.t += 1000;
        opened += await sealer.open(waybill, s, courier).then(
          () => 1,
          () => 0,
        );
      }
      clock.t += 3_600_000;
    }
    expect(opened).toBe(1000); // 5 hours of 200, then the 1,000-a-day quota
  }, 120_000);
});
