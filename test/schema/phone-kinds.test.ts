/**
 * Phone kinds (issue 15): `mobile()` takes what the country's numbering plan calls mobile, `phone()`
 * any valid number; a Chinese and a UK landline are treated alike by both.
 */
import { describe, expect, it } from 'vitest';
import { ValidationError, createVerifier, defineSchema, mask, s, storedToken, type SealedRecord } from '../../src/index.js';
import { readFileSync } from 'node:fs';
import { schemaFromJson } from '../../src/schema/from-json.js';
import { validate } from '../cli/json-schema-lite.js';
import { freshSealer, SEARCH } from '../helpers.js';

const contact = defineSchema(
  'contact',
  1,
  {
    id: s.string(),
    createdAt: s.date(),
    country: s.string().optional(),
    mobile: s.mobile().optional(),
    phone: s.phone().optional(),
  },
  {
    recordId: 'id',
    indexes: {
      phone: { field: 'phone', bits: 256 },
      'phone:last4': { field: 'phone', transform: 'phone-last4', bits: 256 },
    },
  },
);
const base = { id: 'C1', createdAt: '2025-03-01T00:00:00Z' };
const access = { principal: 'test', purpose: 'test', reveal: 'plain' } as const;

/** The same two landlines, one in Shanghai and one in London, each as a local and an international form. */
const LANDLINES = [
  { value: '021-12345678', country: undefined },
  { value: '+86 21 1234 5678', country: undefined },
  { value: '020 7946 0000', country: 'GB' },
  { value: '+44 20 7946 0000', country: undefined },
] as const;

async function sealError(record: Record<string, unknown>): Promise<ValidationError | undefined> {
  const { sealer } = freshSealer();
  try {
    await sealer.seal(contact, { ...base, ...record });
    return undefined;
  } catch (e) {
    if (e instanceof ValidationError) return e;
    throw e;
  }
}

describe('mobile() and phone(): one rule for every country', () => {
  it.each(LANDLINES)('a landline ($value) is refused by mobile() and accepted by phone()', async ({ value, country }) => {
    const where = country === undefined ? {} : { country };
    const refused = await sealError({ ...where, mobile: value });
    expect(refused?.path).toBe('mobile');
    expect(refused?.reason).toBe('invalid_mobile');
    expect(refused?.message).not.toContain(value);
    expect(await sealError({ ...where, phone: value })).toBeUndefined();
  });

  it('mobiles go in either kind, at home and abroad', async () => {
    for (const [value, country] of [['13812345678', undefined], ['07911 123456', 'GB'], ['+44 7911 123456', undefined], ['+1 415 555 2671', undefined]] as const) {
      const where = country === undefined ? {} : { country };
      expect(await sealError({ ...where, mobile: value, phone: value })).toBeUndefined();
    }
  });

  it('phone() refuses what no numbering plan has, without the value in the error', async () => {
    for (const value of ['0755-8888888', '12345678901', '51234567']) {
      const e = await sealError({ phone: value });
      expect(e?.reason).toBe('invalid_phone');
      expect(e?.message).not.toContain(value);
    }
  });
});

describe('phone() masks (GB/T 41833: a label hides at least 6 digits)', () => {
  const masksOf = async (phone: string, country?: string) => {
    const { sealer } = freshSealer();
    const sealed = await sealer.seal(contact, { ...base, ...(country === undefined ? {} : { country }), phone });
    return { label: mask(contact, sealed, 'label').phone, screen: mask(contact, sealed, 'screen').phone };
  };
  const hiddenDigits = (m: string | undefined) => [...(m ?? '')].filter((c) => c === '*').length;

  it.each([
    ['021-12345678', undefined, '021-******78', '021-****5678'],
    ['+86 21 1234 5678', undefined, '021-******78', '021-****5678'],
    ['0755-88886666转123', undefined, '0755-******66转123', '0755-****6666转123'],
    ['020 7946 0000', 'GB', '+44 ********00', '+44 ******0000'],
    ['+44 20 7946 0000', undefined, '+44 ********00', '+44 ******0000'],
    ['13812345678', undefined, '*******5678', '138****5678'],
    ['+44 7911 123456', undefined, '+44 ********56', '+44 ******3456'],
  ])('%s (%s) → %s / %s', async (value, country, label, screen) => {
    const masks = await masksOf(value, country);
    expect(masks).toEqual({ label, screen });
    expect(hiddenDigits(masks.label)).toBeGreaterThanOrEqual(6);
  });

  it('a company number stays dialable, as in landline()', async () => {
    expect(await masksOf('400-812-3123')).toEqual({ label: '4008123123', screen: '4008123123' });
    expect(await masksOf('0800 123 4567', 'GB')).toEqual({ label: '+44 8001234567', screen: '+44 8001234567' });
  });

  it('mobileLabel applies to the mobiles in a phone() field', async () => {
    const { sealer } = freshSealer();
    const schema = defineSchema('contact-first3', 1, { id: s.string(), createdAt: s.date(), phone: s.phone({ mask: { mobileLabel: 'first3last2' } }) }, { recordId: 'id' });
    const sealed = await sealer.seal(schema, { ...base, phone: '13812345678' });
    expect(mask(schema, sealed, 'label').phone).toBe('138******78');
  });
});

describe('phone() search: every written form of a number is its E.164 token', () => {
  it.each([
    [['021-12345678', '(021)1234-5678', '+86 21 1234 5678', '0086 21 12345678', '０２１－１２３４５６７８'], undefined],
    [['020 7946 0000', '(020) 7946 0000', '+44 20 7946 0000'], 'GB'],
  ] as const)('%j', async (forms, country) => {
    const { sealer } = freshSealer();
    const query = country === undefined ? SEARCH : { ...SEARCH, country };
    // Tokens come from the month's index key, which the first seal creates: seal, then query.
    const sealed = [];
    for (const phone of forms) sealed.push(await sealer.seal(contact, { ...base, ...(country === undefined ? {} : { country }), phone }));
    const tokens = new Set((await Promise.all(forms.map((f) => sealer.tokensFor(contact, 'phone', f, query)))).flat());
    expect(tokens.size).toBe(1);
    const [token] = tokens;
    for (const record of sealed) expect(storedToken(contact, record, 'phone')).toBe(token);
    const last4 = await sealer.tokensFor(contact, 'phone:last4', forms[0].slice(-4), query);
    expect(last4).toHaveLength(1);
    expect(storedToken(contact, sealed[0]!, 'phone:last4')).toBe(last4[0]);
  });

  it('the Shanghai and the London number do not share a token', async () => {
    const { sealer } = freshSealer();
    await sealer.seal(contact, { ...base, phone: '021-12345678' });
    const cn = await sealer.tokensFor(contact, 'phone', '021-12345678', SEARCH);
    const gb = await sealer.tokensFor(contact, 'phone', '020 7946 0000', { ...SEARCH, country: 'GB' });
    expect(cn).toHaveLength(1);
    expect(gb).toHaveLength(1);
    expect(cn[0]).not.toBe(gb[0]);
  });
});

describe('phone() seal and open', () => {
  it('opens byte-exact what was sealed, not its E.164 form', async () => {
    const { sealer } = freshSealer();
    for (const phone of ['021-1234 5678 转 8001', '（021）１２３４５６７８', '+44 (0)20 7946 0000', '400-812-3123']) {
      const sealed = await sealer.seal(contact, { ...base, phone });
      expect(JSON.stringify(sealed)).not.toContain(phone);
      const { record } = await sealer.open(contact, sealed, access);
      expect(Buffer.from(record.phone!, 'utf8').equals(Buffer.from(phone, 'utf8'))).toBe(true);
    }
  });

  it('migration: a mobile() field turned into phone() (same schema name, version and path) opens, verifies and matches as before', async () => {
    const shape = { id: s.string(), createdAt: s.date(), country: s.string().optional() };
    const options = { recordId: 'id', indexes: { tel: { field: 'tel', bits: 256 } } } as const;
    const before = defineSchema('moved', 1, { ...shape, tel: s.mobile() }, options);
    const after = defineSchema('moved', 1, { ...shape, tel: s.phone() }, options);
    const { sealer, keyring } = freshSealer();
    const plain = { ...base, country: 'GB', tel: '07911 123456' };
    const sealed = (await sealer.seal(before, plain)) as unknown as SealedRecord<typeof after>;
    expect((await sealer.open(after, sealed, access)).record).toEqual(plain);
    expect(await createVerifier(keyring).verify(after, sealed)).toEqual({ ok: true });
    const [token] = await sealer.tokensFor(after, 'tel', '+44 7911 123456', SEARCH);
    expect(storedToken(after, sealed, 'tel')).toBe(token);
  });

  it('a schema file declares it with "phone" and mobileLabel; the editor schema agrees', () => {
    const file = {
      name: 'contact-file',
      version: 1,
      recordId: 'id',
      fields: { id: 'string', createdAt: 'date', tel: 'phone?', tel2: { kind: 'phone', mask: { mobileLabel: 'first3last2' } } },
      indexes: { tel: { field: 'tel', bits: 19 } },
    };
    const editorSchema = JSON.parse(readFileSync(new URL('../../schemas/waybill-seal-schema.json', import.meta.url), 'utf8'));
    expect(validate(editorSchema, file)).toEqual([]);
    const onLandline = { ...file, fields: { ...file.fields, tel2: { kind: 'landline', mask: { mobileLabel: 'first3last2' } } } };
    expect(validate(editorSchema, onLandline)).not.toEqual([]);
    expect(() => schemaFromJson(onLandline)).toThrow(/applies to kind mobile, phone/);
    const schema = schemaFromJson(file);
    expect(schema.shape['tel']!.def).toMatchObject({ type: 'protected', kind: 'phone', keyClass: 'contact', optional: true });
    expect(schema.shape['tel2']!.def).toMatchObject({ kind: 'phone', mask: { mobileLabel: 'first3last2' } });
  });
});
