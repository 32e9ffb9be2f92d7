/**
 * R13 F3, as the attack it stops: a station's `pickup` purpose holds a field-level confirm grant on
 * the whole receiver.mobile (to confirm last-4 candidates). Code holding the sealer swapped
 * `sealer.search` for a stub and called `createFinder` with a full-number guess: an exact
 * full-mobile verdict for any of the outlet's parcels, with no search quota and no search event.
 */
import { describe, expect, it } from 'vitest';
import { AccessDeniedError, createAccessGuard, createFinder, createSealer, generateLocalKeyMaterial, LocalKeyring, MemoryAuditSink, MemoryKeyStore, waybill, waybillPolicy } from '../../src/index.js';
import { queryParts } from '../../src/search/engine.js';
import { sealerInternals } from '../../src/seal/sealer.js';
import { sampleWaybill } from '../helpers.js';

const STATION = { principal: 'HZ-XH-017:clerk-1', purpose: 'pickup', context: { outlet: 'HZ-XH-017' } };

async function station() {
  const audit = new MemoryAuditSink();
  const sealer = createSealer({ keyring: new LocalKeyring(generateLocalKeyMaterial()), keyStore: new MemoryKeyStore(), guard: createAccessGuard({ policy: waybillPolicy, audit }) });
  const w = sampleWaybill();
  w.receiver.mobile = '13912345678';
  const parcel = await sealer.seal(waybill, { ...w, routing: { destOutlet: STATION.context.outlet } });
  return { sealer, audit, parcel };
}

describe('a confirm compares no more than an index its purpose searches (R13 F3)', () => {
  it('the sealer is frozen: search cannot be swapped for a stub that skips the guard', async () => {
    const { sealer, parcel } = await station();
    const stub = async () => ({ tokens: [parcel.receiver.mobile!.tok!['receiver.mobile']!], scope: [], inScope: () => true, done: async () => undefined });
    expect(() => Object.assign(sealer, { search: stub })).toThrow(TypeError);
    // The real search refuses the full-mobile index to a station, so there is no finder to confirm with.
    await expect(createFinder(sealer, waybill, 'receiver.mobile', '13912345678', STATION)).rejects.toThrow(/index_not_granted/);
  });

  it('a full-number confirm under pickup is refused even through the internal capability; last 4 still confirms', async () => {
    const { sealer, audit, parcel } = await station();
    const internals = sealerInternals(sealer);
    const spec = waybill.indexes['receiver.mobile'];
    const guess = internals.confirm(waybill, parcel, 'receiver.mobile', queryParts(spec, '13912345678'), STATION);
    await expect(guess).rejects.toBeInstanceOf(AccessDeniedError);
    await expect(guess).rejects.toThrow(/index_not_granted/);
    // Nothing was decrypted for the refused guesses.
    expect(audit.events.filter((e) => e.type === 'access')).toEqual([]);
    const last4 = waybill.indexes['receiver.mobile:last4'];
    expect(await internals.confirm(waybill, parcel, 'receiver.mobile:last4', queryParts(last4, '5678'), STATION)).toBe('match');
  });
});
