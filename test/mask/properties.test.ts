import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PROTECTED_KINDS, type ProtectedKind } from '../../src/schema/kinds.js';
import { computeMasks, maskValue, type MaskOptions } from '../../src/mask/index.js';
import { graphemes, normalizeName, parsePhone } from '../../src/normalize/index.js';

/** Test data only: a few prefixes libphonenumber's CN metadata accepts; each sample is re-checked below. */
const MOBILE_PREFIXES = ['130', '135', '138', '139', '150', '158', '166', '173', '177', '180', '186', '189', '191', '199'];
const digits = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: n, maxLength: n });

const mobile = fc.tuple(fc.constantFrom(...MOBILE_PREFIXES), digits(8)).map(([p, rest]) => p + rest);
/** The same mobile written the ways it arrives: +86, 0086, spaces, dashes, full-width digits. */
const writtenMobile = fc
  .tuple(mobile, fc.constantFrom('', '+86', '+86 ', '0086', '86-', '(+86)'), fc.constantFrom('', ' ', '-'), fc.boolean())
  .map(([national, prefix, sep, fullWidth]) => {
    const body = `${national.slice(0, 3)}${sep}${national.slice(3, 7)}${sep}${national.slice(7)}`;
    const text = prefix + body;
    return { national, text: fullWidth ? text.replace(/\d/g, (d) => String.fromCharCode(0xff10 + Number(d))) : text };
  });

const nameStyle = fc.constantFrom<MaskOptions['nameStyle']>('keepFirst', 'keepFirstLast', undefined);
const anyString = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }));
const anyKind = fc.constantFrom<ProtectedKind>(...PROTECTED_KINDS);

describe('properties', () => {
  it('label of any valid mainland mobile hides at least 6 digits and keeps the last 4', () => {
    fc.assert(
      fc.property(writtenMobile, ({ national, text }) => {
        expect(parsePhone(text, {})?.type).toBe('mobile');
        const label = maskValue('mobile', text, 'label', {}, {});
        expect(label.split('*').length - 1).toBeGreaterThanOrEqual(6);
        expect(label.endsWith(national.slice(-4))).toBe(true);
        expect(label.replace(/\*/g, '')).toBe(national.slice(-4));
      }),
    );
  });

  it('label of any valid mainland mobile hides at least 6 digits with first3last2 too', () => {
    fc.assert(
      fc.property(writtenMobile, ({ national, text }) => {
        const label = maskValue('mobile', text, 'label', { mobileLabel: 'first3last2' }, {});
        expect(label).toBe(`${national.slice(0, 3)}******${national.slice(-2)}`);
      }),
    );
  });

  it('label of any CN landline hides at least 6 digits', () => {
    const areaSubscriber = fc.oneof(
      fc.tuple(fc.constantFrom('010', '021', '020', '0755', '0571'), digits(7)).map(([a, s]) => `${a}-${'8' + s}`),
      fc.tuple(fc.constantFrom('0310', '0312', '0391'), digits(6)).map(([a, s]) => `${a}-${'2' + s}`),
    );
    fc.assert(
      fc.property(areaSubscriber, (text) => {
        const phone = parsePhone(text, {});
        fc.pre(phone?.type === 'landline');
        const label = maskValue('landline', text, 'label', {}, {});
        expect(label.split('*').length - 1).toBeGreaterThanOrEqual(6);
        expect(label.startsWith(`${phone?.areaCode}-`)).toBe(true);
      }),
    );
  });

  it('label of any name hides at least one grapheme', () => {
    const name = anyString.filter((s) => normalizeName(s) !== '' && !s.normalize('NFKC').includes('*'));
    fc.assert(
      fc.property(name, nameStyle, (value, style) => {
        const options: MaskOptions = style === undefined ? {} : { nameStyle: style };
        const label = maskValue('name', value, 'label', options, {});
        const shown = graphemes(label).filter((g) => g !== '*');
        const total = graphemes(normalizeName(value)).filter((g) => g.trim() !== '');
        expect(label).toContain('*');
        expect(shown.length).toBeLessThan(total.length);
      }),
    );
  });

  it('never throws and always returns a string, for any kind, profile and string', () => {
    fc.assert(
      fc.property(anyKind, anyString, fc.constantFrom('label', 'screen', 'custom', 'missing'), (kind, value, profile) => {
        const options: MaskOptions = { custom: { custom: (v) => v.slice(0, 1) } };
        expect(typeof maskValue(kind, value, profile, options, {})).toBe('string');
        expect(typeof maskValue(kind, value, profile, options, { country: value })).toBe('string');
      }),
      { numRuns: 500 },
    );
  });

  it('never throws for arbitrary non-string values', () => {
    fc.assert(
      fc.property(anyKind, fc.anything(), (kind, value) => {
        const masks = computeMasks(kind, value as string, {}, {});
        expect(typeof masks['label']).toBe('string');
        expect(typeof masks['screen']).toBe('string');
      }),
    );
  });

  it('never returns a protected name, mobile or ID number unchanged', () => {
    const value = fc.oneof(
      anyString,
      writtenMobile.map((m) => m.text),
      fc.constantFrom('11010519491231002X', '440524800101001', '张三', 'John Smith', '0755-88886666'),
    );
    fc.assert(
      fc.property(
        fc.constantFrom<ProtectedKind>('name', 'mobile', 'idNumber'),
        value.filter((s) => !s.normalize('NFKC').includes('*')),
        fc.constantFrom('label', 'screen'),
        nameStyle,
        (kind, text, profile, style) => {
          const options: MaskOptions = style === undefined ? {} : { nameStyle: style };
          expect(maskValue(kind, text, profile, options, {})).not.toBe(text);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('is deterministic', () => {
    fc.assert(
      fc.property(anyKind, fc.oneof(anyString, writtenMobile.map((m) => m.text)), fc.constantFrom('CN', 'HK', 'TW'), (kind, value, country) => {
        expect(computeMasks(kind, value, {}, { country })).toEqual(computeMasks(kind, value, {}, { country }));
      }),
    );
  });
});
