/**
 * Migration from plaintext: `open` with `acceptPlaintext` reads tables where some protected fields
 * are not sealed yet; `seal` with `passSealed` is idempotent on sealed records, so a backfill can
 * be re-run safely.
 */
import { describe, expect, it } from 'vitest';
import {
  createAccessGuard,
  createSealer,
  generateLocalKeyMaterial,
  LocalKeyring,
  MemoryAuditSink,
  MemoryKeyStore,
  ValidationError,
  waybill,
} from '../../src/index.js';
import { waybills } from './fixtures.js';

const keyring = new LocalKeyring(generateLocalKeyMaterial());
const access = { principal: 'migrator', purpose: 'verify', reveal: 'plain' } as const;

function setup(extra: { acceptPlaintext?: boolean; passSealed?: boolean } = {}) {
  const keyStore = new MemoryKeyStore();
  return createSealer({ keyring, keyStore, guard: 'allow-all', ...extra });
}

describe('open with acceptPlaintext', () => {
  it('opens a record that is still entirely plaintext, and one that is half sealed', async () => {
    const sealer = setup({ acceptPlaintext: true, passSealed: true });
    const [plain] = waybills(1);
    const r1 = await sealer.open(waybill, plain as never, access);
    expect(r1.record).toEqual(plain);
    expect(r1.plaintext).toContain('receiver.mobile');
    expect(r1.opened).toContain('receiver.mobile');

    const sealed = (await sealer.seal(waybill, plain as never)) as unknown as Record<string, Record<string, unknown>>;
    const half = { ...sealed, receiver: { ...sealed['receiver'], mobile: plain!.receiver.mobile } };
    const r2 = await sealer.open(waybill, half as never, access);
    expect(r2.record).toEqual(plain);
    expect(r2.plaintext).toEqual(['receiver.mobile']);

    // Not asked for: a legacy field shows a mask computed now, like a sealed field's stored one.
    const some = await sealer.open(waybill, half as never, { ...access, fields: ['sender.name'] });
    expect((some.record as { receiver: { mobile: string } }).receiver.mobile).toBe('139****0000');
    expect(some.opened).toEqual(['sender.name']);
  });

  it('is off by default: an unsealed protected field is refused', async () => {
    const [plain] = waybills(1);
    await expect(setup().open(waybill, plain as never, access)).rejects.toMatchObject({ reason: 'expected_sealed_field' });
  });

  it('puts legacy fields under the same policy and audit as sealed ones', async () => {
    const audit = new MemoryAuditSink();
    const guard = createAccessGuard({ policy: { purposes: { deliver: { fields: ['receiver.mobile'] } } }, audit });
    const sealer = createSealer({ keyring, keyStore: new MemoryKeyStore(), guard, acceptPlaintext: true });
    const [plain] = waybills(1);
    const r = await sealer.open(waybill, plain as never, { principal: 'courier', purpose: 'deliver', reveal: 'plain' });
    expect(r.opened).toEqual(['receiver.mobile']);
    const rec = r.record as { receiver: { mobile: string; name: string }; sender: { idNumber: string } };
    expect(rec.receiver.mobile).toBe(plain!.receiver.mobile);
    expect(rec.receiver.name).not.toBe(plain!.receiver.name); // masked, not granted
    expect(rec.sender.idNumber).not.toBe(plain!.sender.idNumber);
    expect(JSON.stringify(audit.events)).toContain('receiver.mobile');
  });
});

describe('seal with passSealed', () => {
  it('passes a sealed record through unchanged and seals only the plain fields of a mixed one', async () => {
    const sealer = setup({ passSealed: true, acceptPlaintext: true });
    const [plain] = waybills(1);
    const sealed = await sealer.seal(waybill, plain as never);
    expect(await sealer.seal(waybill, sealed as never)).toEqual(sealed);

    const s = sealed as unknown as Record<string, Record<string, unknown>>;
    const mixed = { ...s, sender: { ...s['sender'], name: plain!.sender.name, mobile: plain!.sender.mobile } };
    const out = (await sealer.seal(waybill, mixed as never)) as unknown as Record<string, Record<string, { enc: string }>>;
    expect(out['receiver']).toEqual(s['receiver']);
    expect(out['sender']!['idNumber']).toEqual(s['sender']!['idNumber']);
    expect(out['sender']!['name']!.enc).toMatch(/^ws1\./);
    expect(out['sender']!['name']).not.toEqual(s['sender']!['name']); // newly sealed
    expect((await sealer.open(waybill, out as never, access)).record).toEqual(plain);
  });

  it('makes a backfill re-runnable: a second pass changes nothing', async () => {
    const sealer = setup({ passSealed: true, acceptPlaintext: true });
    const table = waybills(20) as unknown[];
    // A backfill that stopped halfway: the first 10 rows are sealed.
    for (let i = 0; i < 10; i++) table[i] = await sealer.seal(waybill, table[i] as never);
    const first = [];
    for (const row of table) first.push(await sealer.seal(waybill, row as never));
    const second = [];
    for (const row of first) second.push(await sealer.seal(waybill, row as never));
    expect(second).toEqual(first);
    expect(first.slice(0, 10)).toEqual(table.slice(0, 10));
    for (let i = 0; i < 20; i++) expect((await sealer.open(waybill, first[i] as never, access)).record).toEqual(waybills(20)[i]);
  });

  it('is off by default: a sealed field given to seal is refused', async () => {
    const sealer = setup();
    const sealed = await sealer.seal(waybill, waybills(1)[0] as never);
    await expect(sealer.seal(waybill, sealed as never)).rejects.toBeInstanceOf(ValidationError);
  });
});
