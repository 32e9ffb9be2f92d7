import { describe, expect, it } from 'vitest';
import {
  IntegrityError,
  LocalKeyring,
  createSealer,
  createVerifier,
  generateLocalKeyMaterial,
  mask,
  waybill,
  type SealedRecord,
} from '../../src/index.js';
import { freshSealer, sampleWaybill } from '../helpers.js';

type W = typeof waybill;
const access = { principal: 't', purpose: 't', reveal: 'plain' } as const;
const edit = <T>(v: T, fn: (c: T) => void): T => {
  const c = structuredClone(v);
  fn(c);
  return c;
};

/** A verifier holding only the integrity secret: no KEK, no index secret. */
function printerVerifier(material: ReturnType<typeof generateLocalKeyMaterial>) {
  return createVerifier(new LocalKeyring({ keks: [{ version: 1, createdAt: '', keys: {} }], currentKek: 1, secrets: { integrity: material.secrets!.integrity! } }));
}

describe('record integrity tags', () => {
  it('seal writes a $tag by default; it verifies with the integrity secret alone', async () => {
    const { sealer, material, keyStore } = freshSealer();
    const sealed = await sealer.seal(waybill, sampleWaybill());
    expect((sealed as Record<string, unknown>)['$tag']).toMatch(/^t2\.hmac-sha256\.1\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]+$/);
    const printer = printerVerifier(material);
    expect(await printer.verify(waybill, sealed)).toEqual({ ok: true });
    expect((await printer.mask(waybill, sealed, 'label')).receiver.name).toBe('欧***');
    // The printer cannot open anything: it holds no KEK.
    const noKek = createSealer({ keyring: new LocalKeyring({ keks: [{ version: 1, createdAt: '', keys: {} }], currentKek: 1, secrets: { integrity: material.secrets!.integrity! } }), keyStore, guard: 'allow-all' });
    const opened = await noKek.open(waybill, sealed, access).catch((e: unknown) => e);
    expect(opened).toMatchObject({ reason: 'no_kek' });
  });

  it.each<[string, (s: SealedRecord<W>) => void, string]>([
    ['a label mask', (s) => ((s.receiver.mobile as { mask: Record<string, string> }).mask['label'] = '*******0000'), 'receiver.mobile'],
    ['a screen mask', (s) => ((s.sender.name as { mask: Record<string, string> }).mask['screen'] = '李*'), 'sender.name'],
    ['a search token', (s) => ((s.receiver.mobile as { tok: Record<string, string> }).tok['receiver.mobile'] = '1.AAAA'), 'receiver.mobile'],
    ['the destination district', (s) => (s.receiver.address.district = '余杭区'), 'receiver.address.district'],
    ['the route', (s) => (s.routing = { routeId: 'R-9' }), 'routing.routeId'],
    ['the weight', (s) => (s.weightGrams = 1), 'weightGrams'],
    ['the items', (s) => (s.items = [{ name: '手机', quantity: 9 }]), 'items.0.name'],
    ['the creation date', (s) => (s.createdAt = '2025-03-02T08:30:00+08:00'), 'createdAt'],
  ])('changing %s is detected and located', async (_, change, path) => {
    const { sealer, material } = freshSealer();
    const sealed = await sealer.seal(waybill, { ...sampleWaybill(), routing: { routeId: 'R-1' } });
    const bad = edit(sealed, change);
    const verdict = await printerVerifier(material).verify(waybill, bad);
    expect(verdict).toEqual({ ok: false, path, reason: 'altered' });
    await expect(sealer.open(waybill, bad, access)).rejects.toBeInstanceOf(IntegrityError);
    await expect(printerVerifier(material).mask(waybill, bad, 'label')).rejects.toMatchObject({ code: 'INTEGRITY', path });
    // The unverified mask() still works (it is pure), which is why printers use the verifying one.
    expect(() => mask(waybill, bad, 'label')).not.toThrow();
  });

  it('adding or removing a field, or the tag itself, is detected', async () => {
    const { sealer, material } = freshSealer();
    const v = printerVerifier(material);
    const sealed = await sealer.seal(waybill, sampleWaybill());
    const other = await sealer.seal(waybill, { ...sampleWaybill(), waybillNo: 'SF9', receiver: { ...sampleWaybill().receiver, landline: '0755-88889999' } });
    expect(await v.verify(waybill, edit(sealed, (s) => ((s.receiver as Record<string, unknown>)['landline'] = other.receiver.landline)))).toEqual({
      ok: false,
      path: 'receiver.landline',
      reason: 'added',
    });
    expect(await v.verify(waybill, edit(sealed, (s) => delete (s as { remark?: unknown }).remark))).toEqual({ ok: false, path: '', reason: 'removed' });
    expect(await v.verify(waybill, edit(sealed, (s) => delete (s as Record<string, unknown>)['$tag']))).toEqual({ ok: false, path: '$tag', reason: 'missing_tag' });
    expect(await v.verify(waybill, edit(sealed, (s) => ((s as Record<string, unknown>)['$tag'] = 't1.x')))).toEqual({ ok: false, path: '$tag', reason: 'malformed_tag' });
    await expect(sealer.open(waybill, edit(sealed, (s) => delete (s as Record<string, unknown>)['$tag']), access)).rejects.toMatchObject({ reason: 'missing_tag' });
  });

  it('a whole record replayed under another waybill number fails (the tag binds the record id)', async () => {
    const { sealer, material } = freshSealer();
    const sealed = await sealer.seal(waybill, sampleWaybill());
    const replay = { ...sealed, waybillNo: 'SF0000000000001' };
    expect((await printerVerifier(material).verify(waybill, replay)).ok).toBe(false);
  });

  it('a tag from another integrity secret does not verify; integrity: false neither writes nor checks', async () => {
    const { sealer } = freshSealer();
    const sealed = await sealer.seal(waybill, sampleWaybill());
    expect((await printerVerifier(generateLocalKeyMaterial()).verify(waybill, sealed)).ok).toBe(false);
    const { sealer: plainSealer } = freshSealer({ integrity: false });
    const untagged = await plainSealer.seal(waybill, sampleWaybill());
    expect('$tag' in untagged).toBe(false);
    await expect(plainSealer.open(waybill, untagged, access)).resolves.toBeDefined();
  });

  it('HMAC-SM3 tags in the SM preset', async () => {
    const { sealer, material } = freshSealer({ suite: 'sm4-gcm', indexHash: 'hmac-sm3' });
    const sealed = await sealer.seal(waybill, sampleWaybill());
    expect((sealed as Record<string, unknown>)['$tag']).toMatch(/^t2\.hmac-sm3\.1\./);
    expect(await printerVerifier(material).verify(waybill, sealed)).toEqual({ ok: true });
  });

  it('retag gives a moved ciphertext a valid tag, and the AEAD binding still refuses it (defence in depth)', async () => {
    const { sealer } = freshSealer();
    const a = await sealer.seal(waybill, sampleWaybill());
    const b = await sealer.seal(waybill, { ...sampleWaybill(), waybillNo: 'SF2' });
    const forged = await sealer.retag(waybill, { ...b, receiver: { ...b.receiver, mobile: a.receiver.mobile! } });
    expect((await sealer.verify(waybill, forged)).ok).toBe(true);
    await expect(sealer.open(waybill, forged, access)).rejects.toMatchObject({ code: 'AUTHENTICATION' });
  });
});
