/** Key classes are cryptographic boundaries: a keyring without a class's KEK cannot open that class. */
import { describe, expect, it } from 'vitest';
import {
  KeyError,
  LocalKeyring,
  MemoryAuditSink,
  MemoryKeyStore,
  Redacted,
  createAccessGuard,
  createSealer,
  generateLocalKeyMaterial,
  waybill,
  type LocalKeyMaterial,
} from '../../src/index.js';
import { sampleWaybill } from '../helpers.js';

/** The same KEKs, restricted to some key classes (what a courier-app process would hold). */
function only(material: LocalKeyMaterial, classes: string[]): LocalKeyMaterial {
  return {
    currentKek: material.currentKek,
    keks: material.keks.map((v) => ({ ...v, keys: Object.fromEntries(Object.entries(v.keys).filter(([c]) => classes.includes(c))) })),
    // The integrity secret opens nothing: every process that opens needs it to check record tags.
    ...(material.secrets?.integrity ? { secrets: { integrity: material.secrets.integrity } } : {}),
  };
}

async function sealedByFullKeyring() {
  const material = generateLocalKeyMaterial();
  const keyStore = new MemoryKeyStore();
  // Data keys of every class are created (and wrapped) by a keyring that holds every KEK.
  const full = createSealer({ keyring: new LocalKeyring(material), keyStore });
  const sealed = await full.seal(waybill, sampleWaybill());
  return { material, keyStore, sealed };
}

describe('key classes as cryptographic boundaries', () => {
  it('a contact-only keyring opens names and phones, never addresses, ID numbers or remarks', async () => {
    const { material, keyStore, sealed } = await sealedByFullKeyring();
    const audit = new MemoryAuditSink();
    const contact = createSealer({
      keyring: new LocalKeyring(only(material, ['contact'])),
      keyStore,
      guard: createAccessGuard({ policy: 'allow-all', audit }),
    });
    const { record, opened, withheld } = await contact.open(waybill, sealed, { principal: 'courier-app', purpose: 'deliver' });
    expect([...opened].sort()).toEqual(['receiver.mobile', 'receiver.name', 'receiver.virtualNumber', 'sender.mobile', 'sender.name']);
    expect(withheld).toEqual(
      expect.arrayContaining([
        { path: 'receiver.address.detail', reason: 'key_not_held' },
        { path: 'sender.address.detail', reason: 'key_not_held' },
        { path: 'sender.idNumber', reason: 'key_not_held' },
        { path: 'remark', reason: 'key_not_held' },
      ]),
    );
    expect((record.receiver.name as Redacted).reveal()).toBe('欧阳娜娜');
    expect(record.receiver.address.detail).toBe('****');
    expect(record.sender.idNumber).toBe('1****************X');
    expect(audit.events[0]).toMatchObject({ outcome: 'partial', withheld: expect.arrayContaining([{ path: 'sender.idNumber', reason: 'key_not_held' }]) });

    // Asked for an address field alone: a KeyError, not an empty success.
    const err = await contact
      .open(waybill, sealed, { principal: 'courier-app', purpose: 'deliver', fields: ['receiver.address.detail'] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeyError);
    expect((err as KeyError).reason).toBe('no_kek');
    expect(audit.events.at(-1)).toMatchObject({ outcome: 'failed', reason: 'key_not_held' });
  });

  it('the boundary is the KEK itself: the address data key does not unwrap without it', async () => {
    const { material, keyStore } = await sealedByFullKeyring();
    const contactRing = new LocalKeyring(only(material, ['contact']));
    const addressKey = (await keyStore.list({ keyClass: 'address' }))[0]!;
    const ctx = { dataKeyId: addressKey.id, keyClass: 'address', scope: addressKey.scope, generation: addressKey.generation, suite: addressKey.suite };
    await expect(contactRing.unwrap(addressKey, ctx)).rejects.toThrow(KeyError);
    // and it cannot create address data keys either
    expect(contactRing.currentKekId('address')).toBeUndefined();
    const contactOnly = createSealer({ keyring: contactRing, keyStore: new MemoryKeyStore(), guard: 'allow-all' });
    await expect(contactOnly.seal(waybill, sampleWaybill())).rejects.toThrow(KeyError);
  });

  it('an address+identity keyring (real-name desk) opens those and not names or phones', async () => {
    const { material, keyStore, sealed } = await sealedByFullKeyring();
    const desk = createSealer({ keyring: new LocalKeyring(only(material, ['identity', 'address'])), keyStore, guard: 'allow-all' });
    const { opened } = await desk.open(waybill, sealed, { principal: 'desk', purpose: 'realname-verify' });
    expect([...opened].sort()).toEqual(['receiver.address.detail', 'sender.address.detail', 'sender.idNumber']);
  });
});
