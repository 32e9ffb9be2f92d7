import { describe, expect, it } from 'vitest';
import type { ProtectedKind, VirtualNumber } from '../../src/schema/kinds.js';
import { checkProtectedValue, computeMasks, maskAll, maskValue, type MaskOptions } from '../../src/mask/index.js';

describe('computeMasks and maskValue', () => {
  it('returns label and screen plus every custom profile', () => {
    const options: MaskOptions = {
      custom: {
        last4: (value) => value.slice(-4),
        ctxCountry: (_value, ctx) => ctx.country ?? 'none',
      },
    };
    expect(computeMasks('mobile', '13800138000', options, { country: 'CN' })).toEqual({
      label: '*******8000',
      screen: '138****8000',
      last4: '8000',
      ctxCountry: 'CN',
    });
  });

  it('gives custom functions a virtual number as main转ext', () => {
    const options: MaskOptions = { custom: { raw: (value) => value } };
    expect(maskValue('virtualNumber', { main: '13800138000', ext: '12' }, 'raw', options, {})).toBe('13800138000转12');
  });

  it('falls back to the full mask when a custom function throws or returns a non-string', () => {
    const options = {
      custom: {
        boom: () => {
          throw new Error('13800138000');
        },
        wrong: () => 42,
      },
    } as unknown as MaskOptions;
    expect(computeMasks('mobile', '138 0013 8000', options, {})).toMatchObject({ boom: '*** **** ****', wrong: '*** **** ****' });
  });

  it('does not let a custom profile replace label or screen', () => {
    const options: MaskOptions = { custom: { label: (value) => value, screen: (value) => value } };
    expect(computeMasks('name', '张三', options, {})).toEqual({ label: '张*', screen: '张*' });
  });

  it('an unknown profile, or an inherited property name, gives the full mask', () => {
    expect(maskValue('name', '张三', 'nope', {}, {})).toBe('**');
    expect(maskValue('name', '张三', 'toString', { custom: {} }, {})).toBe('**');
    expect(maskValue('name', '张三', '__proto__', { custom: {} }, {})).toBe('**');
  });

  it('applies the options', () => {
    expect(maskValue('name', '王小四', 'label', { nameStyle: 'keepFirstLast' }, {})).toBe('王*四');
    expect(maskValue('mobile', '13812345678', 'label', { mobileLabel: 'first3last2' }, {})).toBe('138******78');
    expect(maskValue('mobile', '13812345678', 'label', { mobileLabel: 'last4' }, {})).toBe('*******5678');
  });

  it('is total for values of the wrong type', () => {
    const virtual: VirtualNumber = { main: '13800138000', ext: '1234' };
    expect(computeMasks('name', virtual, {}, {})).toEqual({ label: '****************', screen: '****************' });
    const garbage = [null, undefined, 42, {}, [], { main: 1, ext: 2 }] as unknown as string[];
    for (const kind of ['name', 'mobile', 'landline', 'virtualNumber', 'idNumber', 'addressDetail', 'email', 'text'] as const) {
      for (const value of garbage) {
        expect(computeMasks(kind, value, {}, {})).toEqual({ label: '****', screen: '****' });
      }
    }
  });

  it('is total for missing options and context and unknown kinds', () => {
    const loose = maskValue as unknown as (k: string, v: unknown, p: string, o?: unknown, c?: unknown) => string;
    expect(loose('mobile', '13800138000', 'label')).toBe('*******8000');
    expect(loose('passport', 'E12345678', 'label', {}, {})).toBe('*********');
  });
});

describe('maskAll', () => {
  it.each([
    ['13800138000', '***********'],
    ['138-0013-8000', '***-****-****'],
    ['张三 John', '** ****'],
    ['𠮷野家', '***'],
    ['José', '****'],
    ['Jose\u0301', '****'],
    ['１３８', '***'],
    ['', '****'],
    ['---', '****'],
  ])('%j → %s', (value, expected) => {
    expect(maskAll(value)).toBe(expected);
  });
});

describe('checkProtectedValue', () => {
  const cases: [ProtectedKind, string | VirtualNumber, string | undefined, { country?: string }?][] = [
    ['mobile', '13800138000', undefined],
    ['mobile', '+86 138-0013-8000', undefined],
    ['mobile', '１３８００１３８０００', undefined],
    ['mobile', '51234567', undefined, { country: 'HK' }],
    // What the numbering plan calls mobile, in every country: a fixed line is refused abroad as at home.
    ['mobile', '+852 2123 4567', 'invalid_mobile'],
    ['mobile', '+44 20 7946 0000', 'invalid_mobile'],
    ['mobile', '020 7946 0000', 'invalid_mobile', { country: 'GB' }],
    ['mobile', '+49 30 12345678', 'invalid_mobile'],
    ['mobile', '+44 56 1234 5678', 'invalid_mobile'],
    ['mobile', '+44 7911 123456', undefined],
    ['mobile', '+44 800 123 4567', 'invalid_mobile'],
    ['mobile', '07911 123456', undefined, { country: 'GB' }],
    // The US plan cannot tell mobiles from fixed lines (FIXED_LINE_OR_MOBILE): accepted.
    ['mobile', '+1 415 555 2671', undefined],
    ['mobile', '51234567', 'invalid_mobile'],
    ['mobile', '0755-88886666', 'invalid_mobile'],
    ['mobile', '4008123123', 'invalid_mobile'],
    ['mobile', '12345678901', 'invalid_mobile'],
    ['mobile', '138****5678', 'already_masked'],
    ['mobile', '138＊＊＊＊5678', 'already_masked'],
    ['mobile', '*******5678', 'already_masked'],
    ['mobile', '', 'empty'],
    ['mobile', '   ', 'empty'],
    ['landline', '0755-88886666转123', undefined],
    ['landline', '(010)12345678', undefined],
    ['landline', '0310-2345678', undefined],
    ['landline', '400-812-3123', undefined],
    ['landline', '95338', undefined],
    ['landline', '+852 2123 4567', undefined],
    ['landline', '13800138000', 'invalid_landline'],
    ['landline', '0755-8888888', 'invalid_landline'],
    ['landline', '0755-******66', 'already_masked'],
    ['landline', '020 7946 0000', undefined, { country: 'GB' }],
    ['landline', '+44 7911 123456', 'invalid_landline'],
    ['landline', '+44 800 123 4567', undefined],
    ['landline', '+1 415 555 2671', undefined],
    ['phone', '021-12345678', undefined],
    ['phone', '+86 21 1234 5678', undefined],
    ['phone', '0755-88886666转123', undefined],
    ['phone', '021-12345678-8001', undefined],
    ['phone', '020 7946 0000', undefined, { country: 'GB' }],
    ['phone', '+44 20 7946 0000', undefined],
    ['phone', '13800138000', undefined],
    ['phone', '+44 7911 123456', undefined],
    ['phone', '+1 415 555 2671', undefined],
    ['phone', '400-812-3123', undefined],
    ['phone', '95338', undefined],
    ['phone', '+44 56 1234 5678', undefined],
    ['phone', '0755-8888888', 'invalid_phone'],
    ['phone', '12345678901', 'invalid_phone'],
    ['phone', '51234567', 'invalid_phone'],
    ['phone', '021-****5678', 'already_masked'],
    ['phone', ' ', 'empty'],
    ['virtualNumber', { main: '13800138000', ext: '1234' }, undefined],
    ['virtualNumber', { main: '13800138000', ext: '1' }, undefined],
    ['virtualNumber', { main: '13800138000', ext: '123456' }, undefined],
    ['virtualNumber', { main: '1380013800', ext: '1234' }, 'invalid_virtual_main'],
    ['virtualNumber', { main: '13800138000', ext: '1234567' }, 'invalid_virtual_ext'],
    ['virtualNumber', { main: '13800138000', ext: '12a' }, 'invalid_virtual_ext'],
    ['virtualNumber', { main: '138****8000', ext: '1234' }, 'already_masked'],
    ['virtualNumber', { main: '13800138000', ext: '' }, 'empty'],
    ['virtualNumber', '13800138000-1234', 'invalid_type'],
    ['idNumber', '11010519491231002x', undefined],
    ['idNumber', '440524800101001', undefined],
    ['idNumber', '810000199408230021', undefined],
    ['idNumber', '110105194912310021', 'invalid_id_number'],
    ['idNumber', '1****************X', 'already_masked'],
    ['name', '张三', undefined],
    ['name', '阿沛•阿旺晋美', undefined],
    ['name', 'John Smith', undefined],
    ['name', '王**', 'already_masked'],
    ['name', '张*', 'already_masked'],
    ['name', '　', 'empty'],
    ['email', 'zhang@example.com', undefined],
    ['email', 'zhang', 'invalid_email'],
    ['email', '***@example.com', 'already_masked'],
    ['addressDetail', '科技园路1号', undefined],
    ['addressDetail', '覃塘区 ****', 'already_masked'],
    ['addressDetail', '', 'empty'],
    ['text', '请放门口', undefined],
    ['text', '****', 'already_masked'],
    ['text', ' ＊＊ ** ', 'already_masked'],
    ['text', '易碎*轻放', undefined],
    ['text', '门牌 3*5 号, 到了打 138****5678', undefined],
    ['text', ' ', undefined],
    ['name', { main: '13800138000', ext: '1' }, 'invalid_type'],
  ];
  it.each(cases)('%s %j → %s', (kind, value, reason, ctx = {}) => {
    expect(checkProtectedValue(kind, value, ctx)).toBe(reason);
  });

  it('never puts the value in the reason', () => {
    for (const [kind, value] of cases) {
      const reason = checkProtectedValue(kind, value, {}) ?? '';
      expect(reason).toMatch(/^[a-z_]*$/);
    }
  });
});
