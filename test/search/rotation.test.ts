import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
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
  generateLocalKeyMaterial,
  reindex,
  s,
  storedToken,
  tokenVersion,
  waybill,
  withIndexKeks,
  withoutIndexSecret,
  type LocalKeyMaterial,
  type Sealer,
  type SealedRecord,
} from '../../src/index.js';
import { tokenScope } from '../../src/search/tokens.js';
import { sampleWaybill, SEARCH } from '../helpers.js';
import { legacySealed } from './legacy-tokens.js';

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

describe('moving records from the index secret to per-month index keys (reindex)', () => {
  it('records with index-secret tokens are found only after reindex, which needs no secret, resumes, and never writes a secret-derived token', async () => {
    const keyStore = new MemoryKeyStore();
    const material = generateLocalKeyMaterial();
    expect(material.secrets!.index).toBeUndefined();
    const sealer = sealerFor(material, keyStore);
    const legacySecret = new Uint8Array(randomBytes(32));
    const old = await Promise.all(Array.from({ length: 30 }, (_, i) => legacySealed(sealer, waybill, waybillFor(i), legacySecret)));
    expect(old.every((r) => tokenVersion(storedToken(waybill, r, 'receiver.mobile')) === 1)).toBe(true);
    const fresh = await Promise.all(Array.from({ length: 30 }, (_, i) => sealer.seal(waybill, waybillFor(100 + i))));
    expect(fresh.every((r) => Object.values(r.receiver.mobile!.tok!).every((t) => tokenScope(t) === '2025-03'))).toBe(true);
    const all = [...old, ...fresh];
    const expectedAll = all.filter((r) => r.receiver.mobile!.mask['screen'] === '138****5678').map((r) => r.waybillNo);
    expect(expectedAll).toHaveLength(20);
    // Before the re-index, the old records are lost to search: no query computes their tokens.
    expect(await search(sealer, all)).toEqual(expectedAll.filter((n) => fresh.some((r) => r.waybillNo === n)));

    // Re-index, interrupted after 25 records and resumed from the checkpoint. The keyring holds no
    // index secret: the tokens are recomputed from the opened plaintext.
    const audit = new MemoryAuditSink();
    const counting = sealerFor(material, keyStore, audit);
    const opensSince = (from: number) => audit.events.slice(from).filter((e) => e.type === 'access' && e.purpose === 'reindex').length;
    const firstRun: { record: SealedRecord<W>; changed: boolean; checkpoint: number }[] = [];
    for await (const item of reindex(counting, waybill, all)) {
      firstRun.push(item);
      if (item.checkpoint === 25) break;
    }
    const secondRun = await collect(reindex(counting, waybill, all, { resumeFrom: firstRun.at(-1)!.checkpoint }));
    expect(secondRun[0]!.checkpoint).toBe(26);
    const items = [...firstRun, ...secondRun];
    expect(items.map((x) => x.checkpoint)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(items.map((x) => x.changed)).toEqual(all.map((_, i) => i < 30));
    expect(opensSince(0)).toBe(30); // only the old records were opened
    const reindexed = items.map((x) => x.record);
    for (const [i, r] of reindexed.entries()) {
      // Ciphertexts and masks are kept; every token is the month's and equals what a seal stores.
      expect(r.receiver.mobile!.enc).toBe(all[i]!.receiver.mobile!.enc);
      expect(r.receiver.mobile!.mask).toEqual(all[i]!.receiver.mobile!.mask);
      expect(r.receiver.name).toEqual(all[i]!.receiver.name);
      for (const f of [r.receiver.mobile!, r.sender.mobile!, r.sender.idNumber!]) {
        expect(Object.values(f.tok!).every((t) => tokenScope(t) === '2025-03' && tokenVersion(t) === undefined)).toBe(true);
      }
      expect((await counting.verify(waybill, r)).ok).toBe(true);
    }
    expect(reindexed[0]!.receiver.mobile!.tok).toEqual((await sealer.seal(waybill, waybillFor(0))).receiver.mobile!.tok);

    // Idempotent: a second pass changes and opens nothing.
    const mark = audit.events.length;
    const again = await collect(reindex(counting, waybill, reindexed));
    expect(again.every((x) => !x.changed && x.record === reindexed[x.checkpoint - 1])).toBe(true);
    expect(opensSince(mark)).toBe(0);

    // Search finds every record, old and new, also by the compound index.
    expect(await search(sealer, reindexed)).toEqual(expectedAll);
    const finder = await createFinder(sealer, waybill, 'receiver.mobile:last4+district', ['5678', '西湖区'], SEARCH);
    const hits = [];
    for (const r of reindexed) if (await finder.matches(r)) hits.push(r.waybillNo);
    expect(hits).toEqual(expectedAll);
    const opened = await sealer.open(waybill, reindexed[0]!, { principal: 't', purpose: 't', reveal: 'plain' });
    expect(opened.record.receiver.mobile).toBe('+86 138-1234-5678');
  });

  it('R13b F3: a keyring that still holds the index secret neither writes nor reindexes to secret-derived tokens', async () => {
    const keyStore = new MemoryKeyStore();
    const legacySecret = new Uint8Array(randomBytes(32));
    const material = generateLocalKeyMaterial();
    // An old key file: the index secret is still in it (and loads).
    const old = { ...material, secrets: { ...material.secrets, index: [{ version: 1, key: Buffer.from(legacySecret).toString('base64url') }] } };
    const sealer = sealerFor(old, keyStore);
    const sealed = await sealer.seal(waybill, waybillFor(0));
    const legacy = await legacySealed(sealer, waybill, waybillFor(1), legacySecret);
    const out = (await collect(reindex(sealer, waybill, [sealed, legacy]))).map((x) => x.record);
    expect(out[0]).toBe(sealed); // a month-key record is current: never downgraded
    for (const r of out) for (const t of Object.values(r.receiver.mobile!.tok!)) expect(tokenScope(t)).toBe('2025-03');
    // The secret computes none of the tokens now stored.
    const again = await legacySealed(sealer, waybill, waybillFor(1), legacySecret);
    for (const [name, t] of Object.entries(out[1]!.receiver.mobile!.tok!)) expect(t).not.toBe(again.receiver.mobile!.tok![name]);
    expect(await sealer.tokensFor(waybill, 'receiver.mobile', TARGET, SEARCH)).toEqual([storedToken(waybill, sealed, 'receiver.mobile')]);
  });

  it('key-file helpers: no index secret can be added; the old one is dropped; missing index-key KEKs are added', () => {
    const m = generateLocalKeyMaterial(['contact']);
    expect(Object.keys(m.keks[0]!.keys).sort()).toEqual(['contact', 'contact-index']);
    expect(Object.keys(m.secrets!).sort()).toEqual(['audit', 'integrity']);
    expect(() => addSecretVersion(m, 'index')).toThrow(expect.objectContaining({ reason: 'index_secret_removed' }));
    expect(addSecretVersion(m, 'integrity').secrets!.integrity!.map((x) => x.version)).toEqual([1, 2]);
    const legacy: LocalKeyMaterial = {
      ...m,
      keks: [{ ...m.keks[0]!, keys: { contact: m.keks[0]!.keys['contact']! } }],
      secrets: { ...m.secrets, index: [{ version: 1, key: m.secrets!.audit![0]!.key }] },
    };
    const dropped = withoutIndexSecret(legacy);
    expect(dropped.secrets!.index).toBeUndefined();
    expect(dropped.secrets!.audit).toEqual(m.secrets!.audit);
    expect(withoutIndexSecret(dropped)).toBe(dropped);
    const upgraded = withIndexKeks(legacy);
    expect(Object.keys(upgraded.keks[0]!.keys).sort()).toEqual(['contact', 'contact-index']);
    expect(upgraded.keks[0]!.keys['contact']).toBe(m.keks[0]!.keys['contact']);
    expect(withIndexKeks(upgraded)).toBe(upgraded);
    expect(legacy.keks[0]!.keys['contact-index']).toBeUndefined(); // pure
    expect(new LocalKeyring(upgraded).currentKekId('contact-index')).toBe('local:v1:contact-index');
    expect(() => createSealer({ keyring: new LocalKeyring(m), keyStore: new MemoryKeyStore(), indexKeys: 'secret' as never })).toThrow(ConfigError);
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
