/**
 * The sealing security properties, once per suite and backend (native crypto where the runtime has
 * it, and the portable code): round trip, associated data binding (field, record, scope/key id,
 * schema version, suite), bit flips, message cap, no plaintext in output.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getSuite, GCM_DEFAULT_MESSAGE_CAP } from '../../src/crypto/aead.js';
import { BACKEND_CHOICES } from '../../src/crypto/backend.js';
import { AuthenticationError, inspect, waybill, type SealedRecord } from '../../src/index.js';
import { sampleWaybill } from '../helpers.js';
import { access, testSealer, ALL_SUITES, suiteSealer } from './helpers.js';

type W = typeof waybill;
const clone = <T>(v: T): T => structuredClone(v);
type Field = { enc: string; mask: Record<string, string> };
const setField = (rec: unknown, path: string, value: Field) => {
  const keys = path.split('.');
  let o = rec as Record<string, unknown>;
  for (const k of keys.slice(0, -1)) o = o[k] as Record<string, unknown>;
  o[keys.at(-1)!] = value;
};

describe('suite registry', () => {
  it('registers three suites with their sizes and caps', () => {
    expect(ALL_SUITES).toEqual(['xchacha20-poly1305', 'aes-256-gcm', 'sm4-gcm']);
    const sm = getSuite('sm4-gcm');
    expect({ key: sm.keyLength, nonce: sm.nonceLength, tag: sm.tagLength, cap: sm.messageCap }).toEqual({
      key: 16,
      nonce: 12,
      tag: 16,
      cap: GCM_DEFAULT_MESSAGE_CAP,
    });
    expect(getSuite('aes-256-gcm').messageCap).toBe(sm.messageCap);
  });

  it('sm4-gcm refuses other key and nonce sizes: ConfigError on encrypt, AuthenticationError on decrypt', () => {
    const sm = getSuite('sm4-gcm');
    const sealed = sm.encrypt(new Uint8Array(16).fill(1), new Uint8Array(12), new Uint8Array(3), new Uint8Array());
    for (const [k, n] of [
      [32, 12],
      [16, 16],
      [16, 24],
      [15, 12],
    ] as const) {
      expect(() => sm.encrypt(new Uint8Array(k).fill(1), new Uint8Array(n), new Uint8Array(3), new Uint8Array())).toThrow(/wrong key or nonce size/);
      expect(() => sm.decrypt(new Uint8Array(k).fill(1), new Uint8Array(n), sealed, new Uint8Array())).toThrow(AuthenticationError);
    }
  });
});

// Every property holds on every backend: native crypto with libsodium (auto), without it (openssl),
// and the portable code (what browsers run).
const BACKENDS = BACKEND_CHOICES;

describe.each(ALL_SUITES.flatMap((suite) => BACKENDS.map((backend) => [suite, backend] as const)))('suite %s, backend %s', (suite, backend) => {
  it('round-trips the sample waybill; every field names the suite; data keys have the suite size', async () => {
    const { sealer, keyStore, keyring } = suiteSealer(suite, { backend });
    expect(sealer.suite).toBe(suite);
    const input = sampleWaybill();
    const sealed = await sealer.seal(waybill, input);
    expect((await sealer.open(waybill, sealed, access)).record).toEqual(input);
    const fields = inspect(sealed);
    expect(fields.length).toBeGreaterThan(5);
    expect(fields.every((f) => f.suite === suite && f.version === 'ws1')).toBe(true);
    const payload = Buffer.from(sealed.sender.name.enc.split('.')[3]!, 'base64url');
    expect(payload.length).toBe(getSuite(suite).nonceLength + Buffer.byteLength('张三') + 16);
    for (const r of await keyStore.list()) {
      const key = await keyring.unwrap(r, { dataKeyId: r.id, keyClass: r.keyClass, scope: r.scope, generation: r.generation, suite: r.suite });
      // Index keys encrypt nothing: 256-bit token roots whatever the suite.
      if (r.keyClass.endsWith('-index')) expect(key.length).toBe(32);
      else {
        expect(r.suite).toBe(suite);
        expect(key.length).toBe(getSuite(suite).keyLength);
      }
    }
  });

  it('round-trips generated values (empty, long, emoji, CJK Extension B)', async () => {
    const { sealer } = suiteSealer(suite, { backend });
    const text = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 60 }), fc.constantFrom('', '𠮷𠮷𠮷', '👩‍👩‍👧‍👦🚚', 'x'.repeat(5000)));
    await fc.assert(
      fc.asyncProperty(text, async (remark) => {
        fc.pre(!remark.normalize('NFKC').includes('*'));
        const input = { ...sampleWaybill(), remark };
        expect((await sealer.open(waybill, await sealer.seal(waybill, input), access)).record).toEqual(input);
      }),
      { numRuns: 60 },
    );
  });

  it('two seals of one value differ (fresh random nonce)', async () => {
    const { sealer } = suiteSealer(suite, { backend });
    const [a, b] = await sealer.sealMany(waybill, [sampleWaybill(), sampleWaybill()]);
    expect(a!.sender.name.enc).not.toBe(b!.sender.name.enc);
  });

  it('a ciphertext moved to another field or record fails to open', async () => {
    const { sealer } = suiteSealer(suite, { backend });
    const a = await sealer.seal(waybill, sampleWaybill());
    const movedField = clone(a) as SealedRecord<W>;
    setField(movedField, 'receiver.mobile', a.sender.mobile!);
    await expect(sealer.open(waybill, movedField, access)).rejects.toThrow(AuthenticationError);
    const b = clone(await sealer.seal(waybill, { ...sampleWaybill(), waybillNo: 'SF0000000000001' }));
    setField(b, 'receiver.name', a.receiver.name);
    await expect(sealer.open(waybill, b, access)).rejects.toThrow(AuthenticationError);
    await expect(sealer.open(waybill, { ...a, waybillNo: 'SF0000000000001' }, access)).rejects.toThrow(AuthenticationError);
  });

  it('a ciphertext pointed at another data key or schema version fails to open', async () => {
    const { sealer } = suiteSealer(suite, { backend });
    const march = await sealer.seal(waybill, sampleWaybill());
    const april = await sealer.seal(waybill, { ...sampleWaybill(), createdAt: '2025-04-02T00:00:00Z' });
    expect(april.sender.name.enc).toContain(`ws1.${suite}.contact/2025-04/1.`);
    const moved = clone(march);
    setField(moved, 'sender.name', { ...march.sender.name, enc: march.sender.name.enc.replace('2025-03', '2025-04') });
    await expect(sealer.open(waybill, moved, access)).rejects.toThrow(AuthenticationError);
    await expect(sealer.open({ ...waybill, version: 2 }, march, access)).rejects.toThrow(AuthenticationError);
  });

  it.each(ALL_SUITES.filter((s) => s !== suite))('its suite id cannot be swapped for %s', async (other) => {
    const { sealer, keyring, keyStore } = suiteSealer(suite, { backend });
    const sealed = await sealer.seal(waybill, sampleWaybill());
    const swapped = clone(sealed);
    setField(swapped, 'sender.name', { ...sealed.sender.name, enc: sealed.sender.name.enc.replace(`ws1.${suite}.`, `ws1.${other}.`) });
    // Once with the data key cached (same sealer), once from the key store (fresh sealer, same keys).
    await expect(sealer.open(waybill, swapped, { ...access, fields: ['sender.name'] })).rejects.toThrow(AuthenticationError);
    const fresh = testSealer({ keyring, keyStore, suite: other, backend });
    await expect(fresh.open(waybill, swapped, { ...access, fields: ['sender.name'] })).rejects.toThrow(AuthenticationError);
    await expect(fresh.open(waybill, sealed, { ...access, fields: ['sender.name'] })).resolves.toBeDefined();
  });

  it('every single-bit flip of a payload fails to open', async () => {
    const { sealer } = suiteSealer(suite, { backend });
    const sealed = await sealer.seal(waybill, sampleWaybill());
    const enc = sealed.sender.name.enc;
    const prefix = enc.slice(0, enc.lastIndexOf('.') + 1);
    const payload = Buffer.from(enc.slice(prefix.length), 'base64url');
    for (let bit = 0; bit < payload.length * 8; bit++) {
      const flipped = Buffer.from(payload);
      flipped[bit >> 3]! ^= 1 << (bit & 7);
      const bad = clone(sealed);
      setField(bad, 'sender.name', { ...sealed.sender.name, enc: prefix + flipped.toString('base64url') });
      await expect(sealer.open(waybill, bad, { ...access, fields: ['sender.name'] })).rejects.toThrow(AuthenticationError);
    }
    // Truncated payloads too, down to one byte short of nonce + tag.
    for (const cut of [1, 16, payload.length - getSuite(suite).nonceLength - 15]) {
      const bad = clone(sealed);
      setField(bad, 'sender.name', { ...sealed.sender.name, enc: prefix + payload.subarray(0, payload.length - cut).toString('base64url') });
      await expect(sealer.open(waybill, bad, { ...access, fields: ['sender.name'] })).rejects.toThrow(AuthenticationError);
    }
  });

  it('honours a lowered message cap by moving to new data key generations', async () => {
    const { sealer, keyStore } = suiteSealer(suite, { messageCap: 10, backend });
    const records = Array.from({ length: 6 }, (_, i) => ({ ...sampleWaybill(), waybillNo: `W${i}` }));
    const sealed = await sealer.sealMany(waybill, records);
    // 5 contact fields per record, cap 10: two records per generation.
    expect((await keyStore.list({ keyClass: 'contact' })).map((k) => k.generation).sort()).toEqual([1, 2, 3]);
    for (const [i, s] of sealed.entries()) expect((await sealer.open(waybill, s, access)).record).toEqual(records[i]);
  });

  it('writes no protected value into the sealed JSON', async () => {
    const { sealer } = suiteSealer(suite, { backend });
    const json = JSON.stringify(await sealer.seal(waybill, sampleWaybill()));
    for (const secret of ['张三', '欧阳娜娜', '13812345678', '11010519491231002X', '科技园路1号3栋2单元501室', '请放门口']) {
      expect(json).not.toContain(secret);
    }
  });
});
