import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  KeyError,
  MemoryAuditSink,
  createAccessGuard,
  type AccessPolicy,
  type AuditSink,
  LocalKeyring,
  MemoryKeyStore,
  addSecretVersion,
  createFinder,
  createSealer,
  defineSchema,
  dropSecretVersion,
  generateLocalKeyMaterial,
  reindex,
  s,
  storedToken,
  tokenVersion,
  waybill,
  type LocalKeyMaterial,
  type Sealer,
  type SealedRecord,
} from '../../src/index.js';
import { sampleWaybill, SEARCH } from '../helpers.js';

type W = typeof waybill;
const TARGET = '13812345678';

function waybillFor(i: number) {
  const w = sampleWaybill();
  w.waybillNo = `SF${String(i).padStart(13, '0')}`;
  // Every third record goes to the number we look for, the rest to others.
  w.receiver.mobile = i % 3 === 0 ? (i % 2 === 0 ? '+86 138-1234-5678' : TARGET) : `139${String(10_000_000 + i).slice(-8)}`;
  return w;
}

function sealerFor(material: LocalKeyMaterial, keyStore: MemoryKeyStore, audit: AuditSink | 'none' = 'none', policy: AccessPolicy | 'allow-all' = 'allow-all'): Sealer {
  return createSealer({ keyring: new LocalKeyring(material), keyStore, guard: createAccessGuard({ policy, audit }) });
}

/** Confirmed matches of the receiver mobile among the records, by waybill number. */
async function search(sealer: Sealer, records: readonly SealedRecord<W>[], value = TARGET): Promise<string[]> {
  const finder = await createFinder(sealer, waybill, 'receiver.mobile', value, SEARCH);
  const out: string[] = [];
  for (const r of records) if (await finder.matches(r)) out.push(r.waybillNo);
  return out;
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('index key rotation without losing search', () => {
  it('seal under v1, rotate, find old and new, reindex (resumably), drop v1, find everything', async () => {
    const keyStore = new MemoryKeyStore();
    const v1 = generateLocalKeyMaterial();
    const before = sealerFor(v1, keyStore);
    const old = await Promise.all(Array.from({ length: 30 }, (_, i) => before.seal(waybill, waybillFor(i))));
    expect(old.every((r) => tokenVersion(storedToken(waybill, r, 'receiver.mobile')) === 1)).toBe(true);
    const expectedOld = old.filter((_, i) => i % 3 === 0).map((r) => r.waybillNo);
    expect(await search(before, old)).toEqual(expectedOld);

    // 1. Rotate: a second index secret beside the first; new seals write v2 tokens.
    const v2 = addSecretVersion(v1, 'index');
    expect(v2.secrets!.index!.map((x) => x.version)).toEqual([1, 2]);
    expect(v1.secrets!.index).toHaveLength(1); // pure: the input is untouched
    const during = sealerFor(v2, keyStore);
    expect(await during.indexVersions()).toEqual([1, 2]);
    const fresh = await Promise.all(Array.from({ length: 30 }, (_, i) => during.seal(waybill, waybillFor(100 + i))));
    expect(fresh.every((r) => tokenVersion(storedToken(waybill, r, 'receiver.mobile')) === 2)).toBe(true);
    expect(fresh.every((r) => Object.values(r.receiver.mobile!.tok!).every((t) => t.startsWith('2.')))).toBe(true);

    const tokens = await during.tokensFor(waybill, 'receiver.mobile', TARGET, SEARCH);
    expect(tokens.map(tokenVersion)).toEqual([2, 1]);
    expect(tokens[1]).toBe((await before.tokensFor(waybill, 'receiver.mobile', TARGET, SEARCH))[0]);
    const all = [...old, ...fresh];
    const expectedAll = all.filter((r) => r.receiver.mobile!.mask['screen'] === '138****5678').map((r) => r.waybillNo);
    expect(expectedAll).toHaveLength(20);
    expect(await search(during, all)).toEqual(expectedAll);

    // 2. Re-index, interrupted after 25 records and resumed from the checkpoint.
    const audit = new MemoryAuditSink();
    const counting = sealerFor(v2, keyStore, audit);
    const opensSince = (from: number) => audit.events.slice(from).filter((e) => e.type === 'access' && e.purpose === 'reindex').length;
    const firstRun: { record: SealedRecord<W>; changed: boolean; checkpoint: number }[] = [];
    for await (const item of reindex(counting, waybill, all)) {
      firstRun.push(item);
      if (item.checkpoint === 25) break;
    }
    const checkpoint = firstRun.at(-1)!.checkpoint;
    const secondRun = await collect(reindex(counting, waybill, all, { resumeFrom: checkpoint }));
    expect(secondRun[0]!.checkpoint).toBe(26);
    const items = [...firstRun, ...secondRun];
    expect(items.map((x) => x.checkpoint)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(items.map((x) => x.changed)).toEqual(all.map((_, i) => i < 30));
    expect(opensSince(0)).toBe(30); // only the old records were opened
    const reindexed = items.map((x) => x.record);
    for (const [i, r] of reindexed.entries()) {
      // Ciphertexts and masks are kept; every token is v2 and equals what a v2 seal would store.
      expect(r.receiver.mobile!.enc).toBe(all[i]!.receiver.mobile!.enc);
      expect(r.receiver.mobile!.mask).toEqual(all[i]!.receiver.mobile!.mask);
      expect(r.receiver.name).toEqual(all[i]!.receiver.name);
      for (const f of [r.receiver.mobile!, r.sender.mobile!, r.sender.idNumber!]) {
        expect(Object.values(f.tok!).every((t) => tokenVersion(t) === 2)).toBe(true);
      }
    }
    expect(reindexed[0]!.receiver.mobile!.tok).toEqual((await during.seal(waybill, waybillFor(0))).receiver.mobile!.tok);

    // Idempotent: a second pass changes and opens nothing.
    const mark = audit.events.length;
    const again = await collect(reindex(counting, waybill, reindexed));
    expect(again.every((x) => !x.changed && x.record === reindexed[x.checkpoint - 1])).toBe(true);
    expect(opensSince(mark)).toBe(0);

    // 3. Drop v1: search still finds every record, old and new.
    const v2only = dropSecretVersion(v2, 'index', 1);
    const after = sealerFor(v2only, keyStore);
    expect(await after.indexVersions()).toEqual([2]);
    expect((await after.tokensFor(waybill, 'receiver.mobile', TARGET, SEARCH)).map(tokenVersion)).toEqual([2]);
    expect(await search(after, reindexed)).toEqual(expectedAll);
    for (const last4 of ['5678']) {
      const finder = await createFinder(after, waybill, 'receiver.mobile:last4+district', [last4, '西湖区'], SEARCH);
      const hits = [];
      for (const r of reindexed) if (await finder.matches(r)) hits.push(r.waybillNo);
      expect(hits).toEqual(expectedAll);
    }
    // Without the re-index the old records would have been lost to search.
    expect(await search(after, old)).toEqual([]);
    // Opening is untouched by index keys.
    const opened = await after.open(waybill, reindexed[0]!, { principal: 't', purpose: 't', reveal: 'plain' });
    expect(opened.record.receiver.mobile).toBe('+86 138-1234-5678');
  });

  it('key-file helpers: versions count up, the current version cannot be dropped', () => {
    const m = generateLocalKeyMaterial();
    const m3 = addSecretVersion(addSecretVersion(m, 'index'), 'index');
    expect(m3.secrets!.index!.map((x) => x.version)).toEqual([1, 2, 3]);
    expect(m3.secrets!.audit).toEqual(m.secrets!.audit);
    expect(() => dropSecretVersion(m3, 'index', 3)).toThrow(KeyError);
    expect(() => dropSecretVersion(m3, 'index', 7)).toThrow(KeyError);
    const dropped = dropSecretVersion(dropSecretVersion(m3, 'index', 1), 'index', 2);
    expect(dropped.secrets!.index!.map((x) => x.version)).toEqual([3]);
    expect(new LocalKeyring(dropped)).toBeInstanceOf(LocalKeyring);
    const none: LocalKeyMaterial = { ...m, secrets: {} };
    expect(addSecretVersion(none, 'index').secrets!.index!.map((x) => x.version)).toEqual([1]);
  });

  it('reindex also brings records in line with a changed index definition, and drops stale tokens', async () => {
    const keyStore = new MemoryKeyStore();
    const material = generateLocalKeyMaterial();
    const shape = { id: s.string(), createdAt: s.date(), mobile: s.mobile(), note: s.text().optional() };
    const a = defineSchema('notes', 1, shape, { recordId: 'id', indexes: { mobile: { field: 'mobile', bits: 16 }, old: { field: 'mobile', transform: 'phone-last4', bits: 8 } } });
    const b = defineSchema('notes', 1, shape, { recordId: 'id', indexes: { mobile: { field: 'mobile', bits: 16 }, note: { field: 'note', bits: 24 } } });
    const sealer = sealerFor(material, keyStore);
    const sealed = await sealer.seal(a, { id: 'N1', createdAt: '2025-03-01T00:00:00Z', mobile: TARGET, note: '  fragile  ' });
    expect(Object.keys(sealed.mobile.tok!)).toEqual(['mobile', 'old']);
    expect(sealed.note?.tok).toBeUndefined();
    const [item] = await collect(reindex(sealer, b, [sealed as never]));
    expect(item!.changed).toBe(true);
    expect(Object.keys(item!.record.mobile.tok!)).toEqual(['mobile']);
    expect(item!.record.mobile.tok!['mobile']).toBe(sealed.mobile.tok!['mobile']);
    expect(item!.record.note!.tok).toEqual({ note: (await sealer.tokensFor(b, 'note', 'fragile', SEARCH))[0] });
  });

  it('records sealed leniently with values that do not normalise stay without tokens', async () => {
    const keyStore = new MemoryKeyStore();
    const material = generateLocalKeyMaterial();
    const lenient = createSealer({ keyring: new LocalKeyring(material), keyStore, guard: 'allow-all', lenient: true });
    const w = sampleWaybill();
    w.receiver.mobile = '12345';
    const sealed = await lenient.seal(waybill, w);
    expect(sealed.receiver.mobile!.tok).toBeUndefined();
    const [item] = await collect(reindex(lenient, waybill, [sealed]));
    expect(item!.record.receiver.mobile!.tok).toBeUndefined();
    expect(item!.record.sender.mobile!.tok).toEqual(sealed.sender.mobile!.tok);
  });

  it('refuses to strip tokens it cannot recompute because a source was withheld', async () => {
    const keyStore = new MemoryKeyStore();
    const material = generateLocalKeyMaterial();
    const sealer = sealerFor(material, keyStore);
    const sealed = await sealer.seal(waybill, sampleWaybill());
    const edited = structuredClone(sealed);
    (edited.receiver.mobile!.tok as Record<string, string>)['receiver.mobile'] = '9.AAAA';
    const stale = await sealer.retag(waybill, edited);
    // The policy's reindex purpose may open the sender's fields but not the receiver mobile.
    const withholding = sealerFor(material, keyStore, 'none', { purposes: { reindex: { fields: ['sender.mobile', 'sender.idNumber'] } } });
    await expect(collect(reindex(withholding, waybill, [stale]))).rejects.toThrow(ConfigError);
    // Only a sealer from createSealer re-indexes: a look-alike object holds no token capability.
    await expect(collect(reindex({ ...sealer }, waybill, [stale]))).rejects.toThrow(/createSealer/);
  });
});
