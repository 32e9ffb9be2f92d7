/** A record sealed with one suite opens in a sealer configured for any other: the suite travels with each ciphertext and data key. */
import { describe, expect, it } from 'vitest';
import { inspect, LocalKeyring, MemoryKeyStore, newKeyFile, waybill, type SealedField } from '../../src/index.js';
import { sampleWaybill } from '../helpers.js';
import { access, testSealer, ALL_SUITES, SUITE_PAIRS } from './helpers.js';

describe('cross-suite opening', () => {
  it.each(SUITE_PAIRS)('sealed with %s, opened by a sealer configured for %s', async (from, to) => {
    // One deployment (one key file, one store), whose default suite is the reader's.
    const file = newKeyFile(to);
    const keyring = new LocalKeyring(file);
    const keyStore = new MemoryKeyStore();
    const input = sampleWaybill();
    const sealed = await testSealer({ keyring, keyStore, suite: from }).seal(waybill, input);
    expect(new Set(inspect(sealed).map((f) => f.suite))).toEqual(new Set([from]));
    // A fresh reader: nothing cached, keys come from the store.
    const reader = testSealer({ keyring, keyStore, suite: to });
    expect((await reader.open(waybill, sealed, access)).record).toEqual(input);
  });

  it('one store holds data keys of every suite for the same scope; each sealer keeps to its own', async () => {
    const file = newKeyFile('sm4-gcm');
    const keyring = new LocalKeyring(file);
    const keyStore = new MemoryKeyStore();
    const input = sampleWaybill();
    const sealed = [];
    for (const suite of ALL_SUITES) sealed.push(await testSealer({ keyring, keyStore, suite }).seal(waybill, input));
    const contact = await keyStore.list({ keyClass: 'contact', scope: '2025-03' });
    expect(contact.map((r) => [r.generation, r.suite])).toEqual([
      [1, 'xchacha20-poly1305'],
      [2, 'aes-256-gcm'],
      [3, 'sm4-gcm'],
    ]);
    // Sealers started later keep to their own suite, each on a generation newer than every row
    // (generations only move forward: an older row is never taken again, FORMAT.md §7); a GCM suite
    // reserves a generation of its own (its message bound across processes, FORMAT.md §4).
    for (const [i, suite] of ALL_SUITES.entries()) {
      const again = await testSealer({ keyring, keyStore, suite }).seal(waybill, input);
      const id = again.sender.name.enc.split('.')[2]!;
      expect((await keyStore.get(id))?.suite).toBe(suite);
      expect(id).not.toBe(`contact/2025-03/${i + 1}`);
    }
    for (const reader of ALL_SUITES.map((suite) => testSealer({ keyring, keyStore, suite }))) {
      for (const s of sealed) expect((await reader.open(waybill, s, access)).record).toEqual(input);
    }
  });

  it('sealers of different suites racing for one new scope each get a data key of their own suite', async () => {
    for (let round = 0; round < 10; round++) {
      const keyring = new LocalKeyring(newKeyFile('sm4-gcm'));
      const keyStore = new MemoryKeyStore();
      const input = sampleWaybill();
      const sealers = ALL_SUITES.map((suite) => testSealer({ keyring, keyStore, suite }));
      const sealed = await Promise.all(sealers.map((s) => s.seal(waybill, input)));
      const contact = await keyStore.list({ keyClass: 'contact' });
      expect(contact.map((r) => r.suite).sort()).toEqual([...ALL_SUITES].sort());
      expect(new Set(contact.map((r) => r.id)).size).toBe(ALL_SUITES.length);
      for (const s of sealed) expect((await sealers[round % sealers.length]!.open(waybill, s, access)).record).toEqual(input);
    }
  });

  it('a record whose fields were sealed under different suites opens field by field', async () => {
    const keyring = new LocalKeyring(newKeyFile('xchacha20-poly1305'));
    const keyStore = new MemoryKeyStore();
    const input = sampleWaybill();
    const [x, a, s] = await Promise.all(ALL_SUITES.map((suite) => testSealer({ keyring, keyStore, suite }).seal(waybill, input)));
    // E.g. a migration that re-seals one field at a time.
    const sealer = testSealer({ keyring, keyStore, suite: 'sm4-gcm' });
    const mixed = await sealer.retag(waybill, { ...x!, sender: { ...x!.sender, name: a!.sender.name }, receiver: { ...x!.receiver, mobile: s!.receiver.mobile! } });
    expect(new Set(inspect(mixed).map((f) => f.suite))).toEqual(new Set(ALL_SUITES));
    const { record } = await sealer.open(waybill, mixed, access);
    expect(record).toEqual(input);
    expect((mixed.receiver.mobile as SealedField).enc.startsWith('ws1.sm4-gcm.')).toBe(true);
  });
});
