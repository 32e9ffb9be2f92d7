import fc from 'fast-check';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  KeyError,
  LocalKeyring,
  MemoryKeyStore,
  ValidationError,
  createSealer,
  defineSchema,
  generateLocalKeyMaterial,
  mask,
  s,
  storedToken,
  tokenVersion,
  waybill,
  type Keyring,
} from '../../src/index.js';
import { encodeParts, toBase64Url } from '../../src/crypto/bytes.js';
import { hmacSm3, sm3 } from '../../src/crypto/sm/index.js';
import { tokenScope, truncate } from '../../src/search/tokens.js';
import { freshSealer, indexKeyOf, sampleWaybill, SEARCH } from '../helpers.js';

const person = defineSchema(
  'person',
  1,
  {
    id: s.string(),
    createdAt: s.date(),
    name: s.name(),
    mobile: s.mobile().optional(),
    email: s.email().optional(),
    idNumber: s.idNumber().optional(),
    address: s.object({ country: s.string().optional(), district: s.string() }),
  },
  {
    recordId: 'id',
    indexes: {
      mobile: { field: 'mobile', bits: 256 },
      'mobile:copy': { field: 'mobile', bits: 256 },
      'mobile:last4': { field: 'mobile', transform: 'phone-last4', bits: 256 },
      'mobile:last4+district': { fields: [{ field: 'mobile', transform: 'phone-last4' }, 'address.district'], bits: 256 },
      name: { field: 'name', bits: 256 },
      email: { field: 'email', bits: 256 },
      idNumber: { field: 'idNumber', bits: 256 },
    },
  },
);
/** The same shape and index names under another schema name. */
const other = defineSchema('person2', 1, person.shape, { recordId: 'id', indexes: { mobile: { field: 'mobile', bits: 256 } } });

const base = { id: 'P1', createdAt: '2025-03-01T00:00:00Z', name: '张三', mobile: '13812345678', address: { district: '西湖区' } };

describe('blind index tokens', () => {
  it('equivalent phone inputs give one token, and it is what seal stores', async () => {
    const { sealer } = freshSealer();
    // A query gets one token per month whose index key is live: March's, made by the first seal.
    await sealer.seal(person, base);
    const forms = ['+86 138-1234-5678', '13812345678', '0086 13812345678', '(+86) 138 1234 5678', '86-138-1234-5678', '１３８１２３４５６７８', '138.1234.5678'];
    const tokens = await Promise.all(forms.map((f) => sealer.tokensFor(person, 'mobile', f, SEARCH)));
    expect(new Set(tokens.flat()).size).toBe(1);
    for (const form of forms) {
      const sealed = await sealer.seal(person, { ...base, mobile: form });
      expect(storedToken(person, sealed, 'mobile')).toBe(tokens[0]![0]);
    }
    const waybillTokens = await Promise.all(forms.map((f) => sealer.tokensFor(waybill, 'receiver.mobile', f, SEARCH)));
    expect(new Set(waybillTokens.flat()).size).toBe(1);
  });

  it('last 4 digits: the 4 digits or any form of the full number give the stored token', async () => {
    const { sealer } = freshSealer();
    const sealed = await sealer.seal(person, base);
    const stored = storedToken(person, sealed, 'mobile:last4');
    for (const q of ['5678', '５６７８', ' 5678 ', '13812345678', '+86 138-1234-5678']) {
      expect(await sealer.tokensFor(person, 'mobile:last4', q, SEARCH)).toEqual([stored]);
    }
    expect(await sealer.tokensFor(person, 'mobile:last4', '5679', SEARCH)).not.toEqual([stored]);
  });

  it('compound last4 + district: one value per field, both must agree', async () => {
    const { sealer } = freshSealer();
    const sealed = await sealer.seal(person, base);
    const stored = storedToken(person, sealed, 'mobile:last4+district');
    expect(await sealer.tokensFor(person, 'mobile:last4+district', ['5678', ' 西湖区 '], SEARCH)).toEqual([stored]);
    expect(await sealer.tokensFor(person, 'mobile:last4+district', ['5678', '滨江区'], SEARCH)).not.toEqual([stored]);
    expect(await sealer.tokensFor(person, 'mobile:last4+district', ['5679', '西湖区'], SEARCH)).not.toEqual([stored]);
    await expect(sealer.tokensFor(person, 'mobile:last4+district', '5678', SEARCH)).rejects.toThrow(ConfigError);
    // The waybill compound reads receiver.address.district.
    const w = await sealer.seal(waybill, sampleWaybill());
    expect(await sealer.tokensFor(waybill, 'receiver.mobile:last4+district', ['4321', '西湖区'], SEARCH)).toEqual([
      storedToken(waybill, w, 'receiver.mobile:last4+district'),
    ]);
  });

  it('ID numbers, names and emails are normalised', async () => {
    const { sealer } = freshSealer();
    const sealed = await sealer.seal(person, { ...base, name: '阿沛·阿旺晋美', email: 'Zhang.San@Example.COM', idNumber: '11010519491231002X' });
    const same = async (index: 'idNumber' | 'name' | 'email', q: string) =>
      expect(await sealer.tokensFor(person, index, q, SEARCH)).toEqual([storedToken(person, sealed, index)]);
    await same('idNumber', '11010519491231002x');
    await same('idNumber', ' 110105 19491231 002X ');
    await same('name', '阿沛•阿旺晋美');
    await same('name', ' 阿沛 · 阿旺晋美 ');
    await same('email', 'Zhang.San@example.com');
    expect(await sealer.tokensFor(person, 'email', 'zhang.san@example.com', SEARCH)).not.toEqual([storedToken(person, sealed, 'email')]);
    const w = await sealer.seal(waybill, sampleWaybill());
    expect(await sealer.tokensFor(waybill, 'sender.idNumber', '11010519491231002x', SEARCH)).toEqual([storedToken(waybill, w, 'sender.idNumber')]);
  });

  it('equal values in two indexes, or two schemas, give unrelated tokens', async () => {
    const { sealer } = freshSealer();
    await sealer.seal(person, base);
    let sameInWaybill = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 99_999_999 }), async (n) => {
        const mobile = `139${String(n).padStart(8, '0')}`;
        const [a] = await sealer.tokensFor(person, 'mobile', mobile, SEARCH);
        const [b] = await sealer.tokensFor(person, 'mobile:copy', mobile, SEARCH);
        const [c] = await sealer.tokensFor(other, 'mobile', mobile, SEARCH);
        const [r] = await sealer.tokensFor(waybill, 'receiver.mobile', mobile, SEARCH);
        const [d] = await sealer.tokensFor(waybill, 'sender.mobile', mobile, SEARCH);
        expect(new Set([a, b, c]).size).toBe(3);
        if (r === d) sameInWaybill++;
      }),
      { numRuns: 200 },
    );
    // 12-bit tokens of two indexes agree by chance with probability 2^-12 per number (~0.05 in 200).
    expect(sameInWaybill).toBeLessThanOrEqual(1);
  });

  it('one key store, two sealers: same tokens; another key store, even with the same keyring: different tokens (random index keys)', async () => {
    const material = generateLocalKeyMaterial();
    const keyStore = new MemoryKeyStore();
    const a = createSealer({ keyring: new LocalKeyring(material), keyStore, guard: 'allow-all' });
    const b = createSealer({ keyring: new LocalKeyring(material), keyStore, guard: 'allow-all' });
    const c = createSealer({ keyring: new LocalKeyring(material), keyStore: new MemoryKeyStore(), guard: 'allow-all' });
    await a.seal(person, base);
    await c.seal(person, base);
    expect(await a.tokensFor(person, 'mobile', '13812345678', SEARCH)).toHaveLength(1);
    expect(await a.tokensFor(person, 'mobile', '13812345678', SEARCH)).toEqual(await b.tokensFor(person, 'mobile', '13812345678', SEARCH));
    expect(await a.tokensFor(person, 'mobile', '13812345678', SEARCH)).not.toEqual(await c.tokensFor(person, 'mobile', '13812345678', SEARCH));
  });

  it('values that do not normalise get no token (lenient), and queries for them are refused', async () => {
    const { sealer } = freshSealer({ lenient: true });
    const sealed = await sealer.seal(person, { ...base, mobile: '99999', idNumber: '110105194912310021' });
    expect(sealed.mobile?.tok).toBeUndefined();
    expect(sealed.idNumber?.tok).toBeUndefined();
    expect(Object.keys(sealed.name.tok ?? {})).toEqual(['name']);
    await expect(sealer.tokensFor(person, 'mobile', '99999', SEARCH)).rejects.toThrow(ValidationError);
    await expect(sealer.tokensFor(person, 'mobile', 'not a phone', SEARCH)).rejects.toMatchObject({ reason: 'not_normalizable', path: 'mobile' });
    await expect(sealer.tokensFor(person, 'mobile:last4', '567', SEARCH)).rejects.toThrow(ValidationError);
    // @ts-expect-error: not an index of the schema
    await expect(sealer.tokensFor(person, 'nope', '1', SEARCH)).rejects.toThrow(ConfigError);
  });

  it('a missing optional source or compound part gives no token; fields without indexes carry no tok', async () => {
    const { sealer } = freshSealer();
    const { mobile: _, ...noMobile } = base;
    const sealed = await sealer.seal(person, noMobile);
    expect(sealed.mobile).toBeUndefined();
    const w = await sealer.seal(waybill, sampleWaybill());
    expect(Object.keys(w.receiver.name)).toEqual(['enc', 'mask']);
    expect(Object.keys(w.receiver.mobile!.tok!).sort()).toEqual(['receiver.mobile', 'receiver.mobile:last4', 'receiver.mobile:last4+district']);
    expect(Object.keys(w.sender.mobile!.tok!).sort()).toEqual(['sender.mobile', 'sender.mobile:last4']);
    expect(Object.keys(w.sender.idNumber!.tok!)).toEqual(['sender.idNumber']);
  });

  it('mask() output never includes tokens', async () => {
    const { sealer } = freshSealer();
    const sealed = await sealer.seal(waybill, sampleWaybill());
    const tokens = Object.values(sealed.receiver.mobile!.tok!).concat(Object.values(sealed.sender.mobile!.tok!));
    for (const profile of ['label', 'screen']) {
      const text = JSON.stringify(mask(waybill, sealed, profile));
      expect(text).not.toContain('"tok"');
      for (const t of tokens) expect(text).not.toContain(t);
    }
  });

  it('tokens follow the specification: HKDF-SHA-256 key per index from the month index key, HMAC, truncation, month~generation prefix', async () => {
    const { sealer, keyring, keyStore } = freshSealer();
    await sealer.seal(waybill, sampleWaybill());
    const root = await indexKeyOf(keyring, keyStore, 'contact', '2025-03');
    const spec = waybill.indexes['receiver.mobile:last4+district'];
    expect(spec.id).toBe('blind:receiver.mobile=phone-last4+receiver.address.district=text/19');
    const info = encodeParts(['waybill-seal/index', 'hmac-sha256', 'waybill', 'receiver.mobile:last4+district', spec.id]);
    const key = hkdf(sha256, root, undefined, info, 32);
    const mac = hmac(sha256, key, encodeParts(['5678', '西湖区']));
    const expected = `2025-03~1.${toBase64Url(Uint8Array.from([mac[0]!, mac[1]!, mac[2]! & 0xe0]))}`;
    expect(await sealer.tokensFor(waybill, 'receiver.mobile:last4+district', ['5678', '西湖区'], SEARCH)).toEqual([expected]);
  });

  it('hmac-sm3: HKDF-SM3 and HMAC-SM3, unrelated to the SHA-256 tokens', async () => {
    const material = generateLocalKeyMaterial();
    const keyring = new LocalKeyring(material);
    const keyStore = new MemoryKeyStore();
    const sm = createSealer({ keyring, keyStore, guard: 'allow-all', indexHash: 'hmac-sm3' });
    const sha = createSealer({ keyring, keyStore, guard: 'allow-all' });
    expect(sm.indexHash).toBe('hmac-sm3');
    expect(sha.indexHash).toBe('hmac-sha256');
    const sealed = await sm.seal(person, base);
    const root = await indexKeyOf(keyring, keyStore, 'contact', '2025-03');
    const info = encodeParts(['waybill-seal/index', 'hmac-sm3', 'person', 'mobile', person.indexes.mobile.id]);
    const key = hkdf(sm3, root, undefined, info, 32);
    const expected = `2025-03~1.${toBase64Url(hmacSm3(key, encodeParts(['+8613812345678'])))}`;
    const [smToken] = await sm.tokensFor(person, 'mobile', '138 1234 5678', SEARCH);
    expect(smToken).toBe(expected);
    expect(smToken).not.toBe((await sha.tokensFor(person, 'mobile', '138 1234 5678', SEARCH))[0]);
    expect(storedToken(person, sealed, 'mobile')).toBe(expected);
    expect(() => createSealer({ keyring, keyStore: new MemoryKeyStore(), indexHash: 'md5' as never })).toThrow(ConfigError);
  });

  it('truncation keeps the first `bits` bits, zeroes the rest, and sizes the token', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.integer({ min: 1, max: 256 }), (mac, bits) => {
        const copy = mac.slice();
        const t = truncate(copy, bits);
        expect(t.length).toBe(Math.ceil(bits / 8));
        for (let i = 0; i < bits; i++) expect((t[i >> 3]! >> (7 - (i & 7))) & 1).toBe((mac[i >> 3]! >> (7 - (i & 7))) & 1);
        for (let i = bits; i < t.length * 8; i++) expect((t[i >> 3]! >> (7 - (i & 7))) & 1).toBe(0);
      }),
    );
  });

  it('truncated tokens spread evenly over their 2^bits values', async () => {
    const few = defineSchema('few', 1, { id: s.string(), mobile: s.mobile() }, { recordId: 'id', indexes: { m: { field: 'mobile', bits: 6 } } });
    const { sealer } = freshSealer();
    await sealer.seal(few, { id: 'F', mobile: '13900000000' });
    const counts = new Map<string, number>();
    const n = 6400;
    for (let i = 0; i < n; i++) {
      const [t] = await sealer.tokensFor(few, 'm', `1390000${String(i).padStart(4, '0')}`, SEARCH);
      expect(t).toMatch(/^all~1\.[A-Za-z0-9_-]{2}$/); // no date field: scope "all"
      counts.set(t!, (counts.get(t!) ?? 0) + 1);
    }
    expect(counts.size).toBe(64);
    // Chi-square with 63 degrees of freedom: p < 1e-6 beyond about 135.
    const e = n / 64;
    const chi = [...counts.values()].reduce((acc, c) => acc + (c - e) ** 2 / e, 0);
    expect(chi).toBeLessThan(135);
  });

  it('tokens carry their month and index key generation; a legacy index-secret token only its version', async () => {
    const { sealer } = freshSealer();
    await sealer.seal(waybill, sampleWaybill());
    const [t] = await sealer.tokensFor(waybill, 'receiver.mobile', '13812345678', SEARCH);
    expect(tokenScope(t)).toBe('2025-03');
    expect(tokenVersion(t)).toBeUndefined();
    expect(t).toMatch(/^2025-03~1\.[A-Za-z0-9_-]{3}$/); // 12 bits → 2 bytes → 3 characters
    expect(tokenVersion('1.abc')).toBe(1);
    expect(tokenScope('1.abc')).toBeUndefined();
    expect(tokenVersion('x.abc')).toBeUndefined();
  });

  it('an indexed schema needs the KEK of its index key class; other schemas do not; no keyring secret makes tokens', async () => {
    const material = generateLocalKeyMaterial();
    const { 'contact-index': _dropped, ...keks } = material.keks[0]!.keys;
    const noIndexKek = { ...material, keks: [{ ...material.keks[0]!, keys: keks }] };
    const sealer = createSealer({ keyring: new LocalKeyring(noIndexKek), keyStore: new MemoryKeyStore() });
    await expect(sealer.seal(person, base)).rejects.toMatchObject({ reason: 'no_kek' });
    const plainSchema = defineSchema('plain', 1, person.shape, { recordId: 'id' });
    expect((await sealer.seal(plainSchema, base)).mobile?.tok).toBeUndefined();
    // A keyring without secret() at all (no record tags either) seals and searches.
    const local = new LocalKeyring(material);
    const bare: Keyring = { wrap: (k, c) => local.wrap(k, c), unwrap: (w, c) => local.unwrap(w, c), currentKekId: (c) => local.currentKekId(c) };
    const keyStore = new MemoryKeyStore();
    const noSecrets = createSealer({ keyring: bare, keyStore, guard: 'allow-all', integrity: false });
    const sealed = await noSecrets.seal(person, base);
    expect(await noSecrets.tokensFor(person, 'mobile', '13812345678', SEARCH)).toEqual([storedToken(person, sealed, 'mobile')]);
    // A legacy keyring still holding an index secret: never asked for it, and its value changes nothing.
    const asked: string[] = [];
    const withSecret = (key: string): Keyring => ({
      ...bare,
      secret: async (n, v) => {
        asked.push(n);
        return n === 'index' ? Uint8Array.from(Buffer.from(key.repeat(32), 'hex')) : local.secret(n, v);
      },
      secretVersions: async () => [1],
    });
    const one = createSealer({ keyring: withSecret('aa'), keyStore, guard: 'allow-all', integrity: false });
    const two = createSealer({ keyring: withSecret('bb'), keyStore, guard: 'allow-all', integrity: false });
    expect((await one.seal(person, base)).mobile?.tok).toEqual(sealed.mobile?.tok);
    expect(await two.tokensFor(person, 'mobile', '13812345678', SEARCH)).toEqual([storedToken(person, sealed, 'mobile')]);
    expect(asked).not.toContain('index');
  });

  it('a closed sealer refuses token work', async () => {
    const { sealer } = freshSealer();
    await sealer.seal(person, base);
    await sealer.tokensFor(person, 'mobile', '13812345678', SEARCH);
    sealer.close();
    await expect(sealer.tokensFor(person, 'mobile', '13812345678', SEARCH)).rejects.toThrow(KeyError);
  });
});

describe('index definitions', () => {
  const shape = {
    id: s.string(),
    mobile: s.mobile(),
    vn: s.virtualNumber().optional(),
    who: s.name(),
    district: s.string(),
    n: s.number(),
    items: s.array(s.object({ name: s.name() })),
  };
  const bad = (indexes: unknown) => () => defineSchema('bad', 1, shape, { recordId: 'id', indexes: indexes as never });

  it('refuses bad definitions with a ConfigError naming the index', () => {
    expect(bad({ m: { field: 'mobile', bits: 0 } })).toThrow(/index m: bits/);
    expect(bad({ m: { field: 'mobile', bits: 257 } })).toThrow(ConfigError);
    expect(bad({ m: { field: 'mobile', bits: 8.5 } })).toThrow(ConfigError);
    expect(bad({ m: { field: 'mobile' } })).toThrow(ConfigError);
    expect(bad({ m: { field: 'nope', bits: 8 } })).toThrow(/"nope" is not/);
    expect(bad({ m: { field: 'district', bits: 8 } })).toThrow(/must be a protected field/);
    expect(bad({ m: { field: 'n', bits: 8 } })).toThrow(ConfigError);
    expect(bad({ m: { field: 'vn', bits: 8 } })).toThrow(ConfigError);
    expect(bad({ m: { field: 'items.name', bits: 8 } })).toThrow(ConfigError);
    expect(bad({ m: { field: 'who', transform: 'phone', bits: 8 } })).toThrow(/transform "phone" does not apply/);
    expect(bad({ m: { field: 'mobile', transform: 'rot13', bits: 8 } })).toThrow(ConfigError);
    expect(bad({ m: { fields: [], bits: 8 } })).toThrow(ConfigError);
    expect(bad({ m: { fields: ['mobile', 'mobile'], bits: 8 } })).toThrow(/named twice/);
    expect(bad({ 'bad name!': { field: 'mobile', bits: 8 } })).toThrow(/index name/);
    expect(bad({ m: { type: 'ff1', field: 'mobile', transform: 'phone-last4' } })).toThrow(/10\^6/);
    expect(bad({ m: { type: 'ff1', field: 'who' } })).toThrow(ConfigError);
    expect(bad({ m: { type: 'ff1', fields: ['mobile', 'district'] } })).toThrow(/one field/);
    expect(bad({ m: { type: 'bloom', field: 'mobile', bits: 8 } })).toThrow(ConfigError);
  });

  it('accepts good ones and exposes the checked definitions', () => {
    const ok = defineSchema('ok', 1, shape, {
      recordId: 'id',
      indexes: { m: { field: 'mobile', bits: 12 }, 'm+d': { fields: ['mobile', { field: 'district', transform: 'exact' }], bits: 20 }, f: { type: 'ff1', field: 'mobile' } },
    });
    expect(ok.indexes.m).toMatchObject({ type: 'blind', bits: 12, parts: [{ path: 'mobile', transform: 'phone', protected: true, kind: 'mobile' }] });
    expect(ok.indexes['m+d'].parts[1]).toMatchObject({ path: 'district', transform: 'exact', protected: false });
    expect(ok.indexes.f).toMatchObject({ type: 'ff1', bits: 0 });
    expect(defineSchema('none', 1, shape, { recordId: 'id' }).indexes).toEqual({});
  });

  it('field paths and index names are typed', () => {
    // @ts-expect-error: not a field of the shape
    expect(() => defineSchema('t', 1, shape, { recordId: 'id', indexes: { m: { field: 'mobil', bits: 8 } } })).toThrow(ConfigError);
    const { sealer } = freshSealer();
    // @ts-expect-error: waybill has no such index
    void sealer.tokensFor(waybill, 'receiver.name', 'x', SEARCH).catch(() => undefined);
  });
});
