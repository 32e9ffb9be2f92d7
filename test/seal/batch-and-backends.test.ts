/**
 * Issue 6 paths through the sealer: `openMany` is `open` per record (same results, one audit event
 * per record, stops at the first failure), sealers on different backends read each other's records
 * and write the same tokens, and opening one field decrypts one field.
 */
import { describe, expect, it } from 'vitest';
import { SEARCH } from '../helpers.js';
import { syntheticWaybills } from 'waybill-seal/testing';
import * as aead from '../../src/crypto/aead.js';
import { AuthenticationError, createAccessGuard, createSealer, LocalKeyring, MemoryAuditSink, MemoryKeyStore, newKeyFile, waybill, type SealedRecord } from '../../src/index.js';

const access = { principal: 'p', purpose: 'x', reveal: 'plain' } as const;

function pair() {
  const keyring = new LocalKeyring(newKeyFile('xchacha20-poly1305'));
  const keyStore = new MemoryKeyStore();
  const auto = createSealer({ keyring, keyStore, guard: 'allow-all' });
  const js = createSealer({ keyring, keyStore, guard: 'allow-all', backend: 'js' });
  return { keyring, keyStore, auto, js };
}

describe('openMany', () => {
  it('gives what open gives for each record, audits each record, and stops at the first failure', async () => {
    const audit = new MemoryAuditSink();
    const keyring = new LocalKeyring(newKeyFile());
    const sealer = createSealer({ keyring, keyStore: new MemoryKeyStore(), guard: createAccessGuard({ policy: 'allow-all', audit }) });
    const records = syntheticWaybills({ count: 20, seed: 7 });
    const sealed = await sealer.sealMany(waybill, records);
    const many = await sealer.openMany(waybill, sealed, access);
    expect(many.map((r) => r.record)).toEqual(records);
    for (const [i, r] of many.entries()) expect(r).toEqual(await sealer.open(waybill, sealed[i]!, access));
    expect(audit.events.filter((e) => e.type === 'access' && e.outcome === 'opened')).toHaveLength(40);

    const bad = structuredClone(sealed) as SealedRecord<typeof waybill>[];
    (bad[3] as { sender: { name: unknown } }).sender.name = sealed[4]!.sender.name;
    await expect(sealer.openMany(waybill, bad, access)).rejects.toThrow();
    await expect(sealer.openMany(waybill, sealed, { principal: '', purpose: 'x' })).rejects.toThrow(/principal/);
  });
});

describe('backends', () => {
  it('portable, OpenSSL and libsodium sealers read each other\'s records and write the same tokens', async () => {
    for (const suite of aead.SUITES) {
      const keyring = new LocalKeyring(newKeyFile(suite));
      const keyStore = new MemoryKeyStore();
      const auto = createSealer({ keyring, keyStore, guard: 'allow-all', suite });
      const js = createSealer({ keyring, keyStore, guard: 'allow-all', suite, backend: 'js' });
      const openssl = createSealer({ keyring, keyStore, guard: 'allow-all', suite, backend: 'openssl' });
      const records = syntheticWaybills({ count: 12, seed: 3 }).map((r, i) => ({ ...r, remark: i % 2 ? 'x'.repeat(700 + i) : '请放门口' }));
      const a = await auto.sealMany(waybill, records);
      const b = await js.sealMany(waybill, records);
      const c = await openssl.sealMany(waybill, records);
      expect((await js.openMany(waybill, a, access)).map((r) => r.record)).toEqual(records);
      expect((await auto.openMany(waybill, b, access)).map((r) => r.record)).toEqual(records);
      expect((await openssl.openMany(waybill, a, access)).map((r) => r.record)).toEqual(records);
      expect((await auto.openMany(waybill, c, access)).map((r) => r.record)).toEqual(records);
      for (let i = 0; i < records.length; i++) {
        expect(a[i]!.receiver.mobile?.tok).toEqual(b[i]!.receiver.mobile?.tok);
        expect(a[i]!.receiver.mobile?.mask).toEqual(b[i]!.receiver.mobile?.mask);
      }
      expect(await auto.tokensFor(waybill, 'receiver.mobile', '13812345678', SEARCH)).toEqual(await js.tokensFor(waybill, 'receiver.mobile', '+86 138-1234-5678', SEARCH));
    }
  });

  it('rejects an unknown backend', () => {
    const { keyring, keyStore } = pair();
    expect(() => createSealer({ keyring, keyStore, backend: 'wasm' as never })).toThrow(/backend/);
  });

  it('opening one field decrypts one field: one AEAD call', async () => {
    const { auto, js } = pair();
    for (const [sealer, backend] of [[auto, 'auto'], [js, 'js']] as const) {
      const [sealed] = await sealer.sealMany(waybill, syntheticWaybills({ count: 1, seed: 5 }));
      // The suite object the sealer uses (getSuite returns the same object per suite and backend).
      const suite = aead.getSuite('xchacha20-poly1305', backend) as { decrypt: aead.AeadSuite['decrypt'] };
      const real = suite.decrypt;
      let calls = 0;
      suite.decrypt = (...args) => {
        calls++;
        return real(...args);
      };
      try {
        const { opened, record } = await sealer.open(waybill, sealed!, { ...access, fields: ['receiver.mobile'] });
        expect(opened).toEqual(['receiver.mobile']);
        expect(record.receiver.name).toBe(sealed!.receiver.name.mask['screen']);
      } finally {
        suite.decrypt = real;
      }
      expect(calls).toBe(1);
    }
  });

  it('a record sealed on either backend fails to open after any bit of a ciphertext changes', async () => {
    const { auto, js } = pair();
    const [a] = await auto.sealMany(waybill, syntheticWaybills({ count: 1, seed: 9 }));
    const enc = a!.sender.name.enc;
    const tampered = { ...a!, sender: { ...a!.sender, name: { ...a!.sender.name, enc: enc.slice(0, -2) + (enc.at(-2) === 'A' ? 'B' : 'A') + enc.at(-1) } } };
    for (const sealer of [auto, js]) await expect(sealer.open(waybill, tampered as never, { ...access, fields: ['sender.name'] })).rejects.toThrow(AuthenticationError);
  });
});
