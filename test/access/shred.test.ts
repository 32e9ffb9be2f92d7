import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  MemoryAuditSink,
  Redacted,
  ShreddedError,
  mask,
  shred,
  shredBefore,
  waybill,
  type DataKeyRecord,
  type KeyStore,
  type SealedRecord,
} from '../../src/index.js';
import { syntheticWaybills } from 'waybill-seal/testing';
import { freshSealer, sampleWaybill } from '../helpers.js';

type W = typeof waybill;
const monthOf = (s: SealedRecord<W>) => s.createdAt.slice(0, 7);
const plain = { principal: 'archivist', purpose: 'test', reveal: 'plain' } as const;

async function sixMonths() {
  const ctx = freshSealer();
  // syntheticWaybills spreads createdAt over 180 days from 2025-01-01: six month scopes.
  const input = syntheticWaybills({ count: 120, seed: 7 });
  const sealed = await ctx.sealer.sealMany(waybill, input);
  return { ...ctx, input, sealed };
}

describe('crypto-shredding', () => {
  it('shredding a month makes exactly that month unopenable; every other month opens; masks stay', async () => {
    const { sealer, keyStore, input, sealed } = await sixMonths();
    const months = [...new Set(sealed.map(monthOf))].sort();
    expect(months).toEqual(['2025-01', '2025-02', '2025-03', '2025-04', '2025-05', '2025-06']);
    const report = await shred(keyStore, '*', '2025-03');
    // The month's index keys go with its data keys: nobody can compute its tokens any more.
    expect(report.shredded).toEqual(['address/2025-03/1', 'contact-index/2025-03/1', 'contact/2025-03/1', 'identity-index/2025-03/1', 'identity/2025-03/1', 'note/2025-03/1']);
    sealer.forget();
    for (const [i, s] of sealed.entries()) {
      if (monthOf(s) === '2025-03') {
        const err = await sealer.open(waybill, s, plain).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ShreddedError);
        expect((err as ShreddedError).dataKeyId).toMatch(/\/2025-03\/1$/);
        // labels and statistics survive
        expect(mask(waybill, s, 'label').receiver.name).toBe(s.receiver.name.mask['label']);
        expect(mask(waybill, s, 'screen').receiver.mobile).toBe(s.receiver.mobile!.mask['screen']);
        expect(mask(waybill, s, 'screen').receiver.mobile).toMatch(/\*{4}/);
      } else {
        expect((await sealer.open(waybill, s, plain)).record).toEqual(input[i]);
      }
    }
    const tomb = (await keyStore.get('contact/2025-03/1'))!;
    expect(tomb.wrapped).toBe('');
    expect(typeof tomb.shreddedAt).toBe('string');
    // idempotent
    expect(await shred(keyStore, '*', '2025-03')).toEqual({ shredded: [], alreadyShredded: report.shredded });
  });

  it('shredding one key class withholds only its fields (a marker in a partial open)', async () => {
    const { sealer, keyStore, sealed } = await sixMonths();
    const march = sealed.find((s) => monthOf(s) === '2025-03')!;
    await shred(keyStore, 'identity', '2025-03');
    sealer.forget();
    const { record, opened, withheld } = await sealer.open(waybill, march, { principal: 'a', purpose: 'b' });
    expect(withheld).toEqual([{ path: 'sender.idNumber', reason: 'shredded' }]);
    expect(opened).toContain('receiver.mobile');
    expect(record.sender.idNumber).toBe(march.sender.idNumber!.mask['screen']);
    expect(record.receiver.name).toBeInstanceOf(Redacted);
    await expect(sealer.open(waybill, march, { principal: 'a', purpose: 'b', fields: ['sender.idNumber'] })).rejects.toThrow(ShreddedError);
  });

  it('a sealer keeps cached keys until forget(): shredding must be followed by forget (or the cache TTL)', async () => {
    const { sealer, keyStore, sealed } = await sixMonths();
    const jan = sealed.find((s) => monthOf(s) === '2025-01')!;
    await sealer.open(waybill, jan, plain);
    await shred(keyStore, '*', '2025-01');
    await expect(sealer.open(waybill, jan, plain)).resolves.toBeDefined(); // still cached in this process
    sealer.forget();
    await expect(sealer.open(waybill, jan, plain)).rejects.toThrow(ShreddedError);
  });

  it('shredBefore applies retention by month, optionally per key class; dry runs change nothing', async () => {
    const { sealer, keyStore, sealed } = await sixMonths();
    const dry = await shredBefore(keyStore, '2025-03', { dryRun: true });
    expect(dry.shredded).toHaveLength(12); // 4 field classes + 2 index classes, 2 months
    expect((await keyStore.list()).every((r) => r.shreddedAt === undefined)).toBe(true);

    const audit = new MemoryAuditSink();
    const ids = await shredBefore(keyStore, '2025-05', { keyClasses: ['identity'], audit });
    expect(ids.shredded).toEqual([
      ...['2025-01', '2025-02', '2025-03', '2025-04'].map((m) => `identity-index/${m}/1`),
      ...['2025-01', '2025-02', '2025-03', '2025-04'].map((m) => `identity/${m}/1`),
    ]);
    expect(audit.events).toEqual([
      { type: 'shred', time: expect.any(String), dataKeyIds: ids.shredded, request: { before: '2025-05', keyClasses: 'identity' } },
    ]);
    const all = await shredBefore(keyStore, new Date('2025-03-15T00:00:00Z'));
    expect(all.shredded).toHaveLength(8); // contact, contact-index, address, note of Jan and Feb
    expect(all.alreadyShredded).toEqual(['identity-index/2025-01/1', 'identity-index/2025-02/1', 'identity/2025-01/1', 'identity/2025-02/1']);
    sealer.forget();
    for (const s of sealed) {
      const m = monthOf(s);
      const r = await sealer.open(waybill, s, { principal: 'a', purpose: 'b' }).catch((e: unknown) => e);
      if (m < '2025-03') expect(r).toBeInstanceOf(ShreddedError);
      else if (m < '2025-05') expect((r as { withheld: unknown[] }).withheld).toEqual([{ path: 'sender.idNumber', reason: 'shredded' }]);
      else expect((r as { withheld: unknown[] }).withheld).toEqual([]);
    }
    await expect(shredBefore(keyStore, 'last year')).rejects.toThrow(ConfigError);
    await expect(shred(keyStore, '', '2025-01')).rejects.toThrow(ConfigError);
  });

  it('sealing into a shredded month takes a new generation; old records stay shredded', async () => {
    const { sealer, keyStore } = freshSealer();
    const old = await sealer.seal(waybill, sampleWaybill());
    await shred(keyStore, '*', '2025-03');
    sealer.forget();
    const late = await sealer.seal(waybill, { ...sampleWaybill(), waybillNo: 'LATE1' });
    expect(late.receiver.name.enc).toContain('contact/2025-03/2');
    expect((await sealer.open(waybill, late, plain)).record.waybillNo).toBe('LATE1');
    await expect(sealer.open(waybill, old, plain)).rejects.toThrow(ShreddedError);
  });

  it('uses compare-and-swap: a row changed concurrently (e.g. rewrapped) is re-read and still shredded', async () => {
    const { sealer, keyStore } = freshSealer();
    await sealer.seal(waybill, sampleWaybill());
    let raced = false;
    const racing: KeyStore = {
      get: (id) => keyStore.get(id),
      list: (f) => keyStore.list(f),
      putIfAbsent: (r) => keyStore.putIfAbsent(r),
      delete: (id) => keyStore.delete(id),
      async replace(expected: DataKeyRecord, next: DataKeyRecord) {
        if (!raced && expected.id === 'contact/2025-03/1') {
          // Someone rewraps this key between our read and our write: our expected version is stale.
          raced = true;
          expect(await keyStore.replace(expected, { ...expected, kekId: 'local:v2:contact', wrapped: 'rewrapped-elsewhere' })).toBe(true);
        }
        return keyStore.replace(expected, next);
      },
    };
    const report = await shred(racing, 'contact', '2025-03');
    expect(raced).toBe(true);
    expect(report.shredded).toEqual(['contact-index/2025-03/1', 'contact/2025-03/1']);
    const tomb = (await keyStore.get('contact/2025-03/1'))!;
    expect(tomb).toMatchObject({ kekId: 'local:v2:contact', wrapped: '', shreddedAt: expect.any(String) });
  });
});
