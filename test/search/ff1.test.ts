import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { ConfigError, LocalKeyring, MemoryKeyStore, ValidationError, createSealer, defineSchema, generateLocalKeyMaterial, s, storedToken } from '../../src/index.js';
import { encodeParts } from '../../src/crypto/bytes.js';
import { ff1EncryptDigits, ff1Radix10 } from '../../src/search/ff1.js';
import { ff1Tweak } from '../../src/search/engine.js';
import { freshSealer, hex, indexKeyOf, loadVectors, SEARCH } from '../helpers.js';

interface FpeTest {
  tcId: number;
  key: string;
  tweak: string;
  msg: number[];
  ct: number[];
  result: 'valid' | 'invalid' | 'acceptable';
  flags: string[];
}
interface FpeSuite {
  numberOfTests: number;
  testGroups: { radix: number; tests: FpeTest[] }[];
}

describe('FF1 primitive: Wycheproof aes_ff1_radix10_test.json', () => {
  const suite = loadVectors<FpeSuite>('aes_ff1_radix10_test.json');

  it('every case: valid → exact both ways, invalid → rejected', () => {
    let ran = 0;
    let valid = 0;
    const failures: number[] = [];
    for (const group of suite.testGroups) {
      expect(group.radix).toBe(10);
      for (const t of group.tests) {
        ran++;
        let ok = false;
        try {
          const cipher = ff1Radix10(hex(t.key), hex(t.tweak));
          const ct = cipher.encrypt(t.msg);
          const pt = cipher.decrypt(ct);
          ok = t.result === 'valid' ? JSON.stringify(ct) === JSON.stringify(t.ct) && JSON.stringify(pt) === JSON.stringify(t.msg) : false;
          if (t.result === 'valid') valid++;
        } catch {
          ok = t.result === 'invalid';
        }
        if (!ok) failures.push(t.tcId);
      }
    }
    expect(failures).toEqual([]);
    expect(ran).toBe(suite.numberOfTests);
    expect(ran).toBe(3845);
    expect(valid).toBe(3312);
  });

  it('the token policy refuses what SP 800-38G Rev. 1 refuses: fewer than 6 digits (the legacy SmallMessageSize cases)', () => {
    const small = suite.testGroups.flatMap((g) => g.tests).filter((t) => t.flags.includes('SmallMessageSize'));
    expect(small).toHaveLength(12);
    for (const t of small) {
      const cipher = ff1Radix10(hex(t.key), hex(t.tweak));
      expect(() => ff1EncryptDigits(cipher, t.msg.join(''), 'f')).toThrow(ValidationError);
    }
    const normal = suite.testGroups.flatMap((g) => g.tests).find((t) => t.result === 'valid' && t.msg.length === 6)!;
    expect(ff1EncryptDigits(ff1Radix10(hex(normal.key), hex(normal.tweak)), normal.msg.join(''), 'f')).toBe(normal.ct.join(''));
  });
});

const parcel = defineSchema(
  'parcel',
  1,
  {
    id: s.string(),
    createdAt: s.date(),
    sender: s.mobile(),
    receiver: s.mobile().optional(),
    code: s.text().optional(),
    address: s.object({ country: s.string().optional(), district: s.string() }).optional(),
  },
  {
    recordId: 'id',
    indexes: {
      'sender:ff1': { type: 'ff1', field: 'sender' },
      'receiver:ff1': { type: 'ff1', field: 'receiver' },
      'code:ff1': { type: 'ff1', field: 'code', transform: 'digits' },
    },
  },
);
const rec = { id: 'P1', createdAt: '2025-03-01T00:00:00Z', sender: '+86 138-1234-5678', receiver: '13812345678' };

describe('FF1 format-preserving tokens', () => {
  it('stores "<month>~<generation>.<digits>": same length as the national number, digits only', async () => {
    const { sealer } = freshSealer();
    const sealed = await sealer.seal(parcel, rec);
    const token = storedToken(parcel, sealed, 'sender:ff1')!;
    expect(token).toMatch(/^2025-03~1\.\d{11}$/);
    expect(token.slice(10)).not.toBe('13812345678');
    expect(sealed.sender.mask['label']).toBe('*******5678');
  });

  it('is deterministic: equal numbers give equal tokens in one field, and tokensFor finds them', async () => {
    const { sealer } = freshSealer();
    const a = await sealer.seal(parcel, rec);
    const b = await sealer.seal(parcel, { ...rec, id: 'P2', sender: '0086 13812345678' });
    expect(storedToken(parcel, a, 'sender:ff1')).toBe(storedToken(parcel, b, 'sender:ff1'));
    expect(await sealer.tokensFor(parcel, 'sender:ff1', '138 1234 5678', SEARCH)).toEqual([storedToken(parcel, a, 'sender:ff1')]);
    // The tweak binds the field path: the same number in another field gets another token.
    expect(storedToken(parcel, a, 'receiver:ff1')).not.toBe(storedToken(parcel, a, 'sender:ff1'));
  });

  it('follows the specification: AES-256 key by HKDF from the month index key, tweak = schema, path, calling code', async () => {
    const keyring = new LocalKeyring(generateLocalKeyMaterial());
    const keyStore = new MemoryKeyStore();
    const sealer = createSealer({ keyring, keyStore });
    const sealed = await sealer.seal(parcel, rec);
    const root = await indexKeyOf(keyring, keyStore, 'contact', '2025-03');
    const key = hkdf(sha256, root, undefined, encodeParts(['waybill-seal/ff1', 'hmac-sha256', 'parcel', 'sender:ff1', parcel.indexes['sender:ff1'].id]), 32);
    const tweak = encodeParts(['waybill-seal/ff1', 'parcel', 'sender', '86']);
    expect(ff1Tweak('parcel', 'sender', '86')).toEqual(tweak);
    const digits = storedToken(parcel, sealed, 'sender:ff1')!.slice(10);
    // Whoever holds the month's index key can invert it: FF1 is a keyed permutation.
    expect(ff1Radix10(key, tweak).decrypt(Array.from(digits, Number)).join('')).toBe('13812345678');
  });

  it('a digits field refuses values under 10^6 at seal (ValidationError), or skips them when lenient', async () => {
    const { sealer } = freshSealer();
    const ok = await sealer.seal(parcel, { ...rec, code: '12-34-56' });
    expect(storedToken(parcel, ok, 'code:ff1')).toMatch(/^2025-03~1\.\d{6}$/);
    await expect(sealer.seal(parcel, { ...rec, code: '12345' })).rejects.toMatchObject({ path: 'code', reason: 'ff1_domain_too_small' });
    await expect(sealer.tokensFor(parcel, 'code:ff1', '12345', SEARCH)).rejects.toThrow(ValidationError);
    const lenient = freshSealer({ lenient: true }).sealer;
    const skipped = await lenient.seal(parcel, { ...rec, code: '12345' });
    expect(skipped.code?.tok).toBeUndefined();
    // Not digits: no token.
    expect((await sealer.seal(parcel, { ...rec, code: 'call first' })).code?.tok).toBeUndefined();
  });

  it('refuses last-4 FF1 at schema definition', () => {
    expect(() =>
      defineSchema('x', 1, { id: s.string(), m: s.mobile() }, { recordId: 'id', indexes: { f: { type: 'ff1', field: 'm', transform: 'phone-last4' as never } } }),
    ).toThrow(ConfigError);
  });

  it('numbers of other countries are tokenised with their calling code in the tweak', async () => {
    const { sealer } = freshSealer();
    const hk = await sealer.seal(parcel, { ...rec, receiver: '+852 5123 4567' });
    expect(storedToken(parcel, hk, 'receiver:ff1')).toMatch(/^2025-03~1\.\d{8}$/);
    expect(await sealer.tokensFor(parcel, 'receiver:ff1', '51234567', { ...SEARCH, country: 'HK' })).toEqual([storedToken(parcel, hk, 'receiver:ff1')]);
  });
});
