import { describe, expect, it } from 'vitest';
import { parsePhone, parseVirtualNumber } from '../../src/normalize/index.js';

const CN = {};

describe('parsePhone: mainland mobiles as they arrive', () => {
  it.each([
    ['13800138000'],
    ['１３８００１３８０００'],
    ['138 0013 8000'],
    ['138-0013-8000'],
    ['138.0013.8000'],
    ['+8613800138000'],
    ['+86 138 0013 8000'],
    ['008613800138000'],
    ['0086 138 0013 8000'],
    ['86-13800138000'],
    ['86 13800138000'],
    ['(+86)13800138000'],
    ['（＋８６）１３８００１３８０００'],
    ['  13800138000  '],
  ])('%s → +8613800138000 mobile', (input) => {
    expect(parsePhone(input, CN)).toEqual({
      e164: '+8613800138000',
      countryCallingCode: '86',
      nationalNumber: '13800138000',
      type: 'mobile',
      country: 'CN',
    });
  });

  it('defaults the region to CN when ctx has none', () => {
    expect(parsePhone('13800138000', {})?.type).toBe('mobile');
  });

  it.each([['17400123456'], ['16101234567'], ['19912345678']])('accepts the newer ranges from libphonenumber metadata: %s', (input) => {
    expect(parsePhone(input, CN)?.type).toBe('mobile');
  });

  it.each([
    ['12345678901', 'no such prefix'],
    ['14012345678', '140 privacy numbers are not mobiles'],
    ['1380013800', '10 digits'],
    ['138001380001', '12 digits'],
    ['10641234567890', '13-digit IoT number'],
    ['', 'empty'],
    ['   ', 'blank'],
    ['abc', 'letters'],
    ['138 0013 800O', 'letter O for zero'],
    ['call 13800138000', 'embedded in text'],
    ['+', 'only a plus'],
    ['1'.repeat(80), 'too long'],
  ])('rejects %s (%s)', (input) => {
    expect(parsePhone(input, CN)).toBeUndefined();
  });
});

describe('parsePhone: landlines, area codes and extensions', () => {
  it.each([
    ['010-12345678', '010', '12345678'],
    ['(010)12345678', '010', '12345678'],
    ['（010）12345678', '010', '12345678'],
    ['010 1234 5678', '010', '12345678'],
    ['+86 10 1234 5678', '010', '12345678'],
    ['+86 (0)10 1234 5678', '010', '12345678'],
    ['0086-10-12345678', '010', '12345678'],
    ['021-12345678', '021', '12345678'],
    ['0755-88888888', '0755', '88888888'],
    ['0755 8888 8888', '0755', '88888888'],
    ['０７５５－８８８８８８８８', '0755', '88888888'],
    ['0310-2345678', '0310', '2345678'],
    ['(0310)2345678', '0310', '2345678'],
  ])('%s → area %s, subscriber %s', (input, areaCode, subscriber) => {
    const phone = parsePhone(input, CN);
    expect(phone?.type).toBe('landline');
    expect(phone?.areaCode).toBe(areaCode);
    expect(phone?.subscriber).toBe(subscriber);
    expect(phone?.ext).toBeUndefined();
  });

  it.each([
    ['0755-88888888转123', '123'],
    ['0755-88888888 转 123', '123'],
    ['0755-88888888分机123', '123'],
    ['0755-88888888 分机号 123', '123'],
    ['0755-88888888 ext. 8001', '8001'],
    ['0755-88888888 EXT 8001', '8001'],
    ['0755-88888888x8001', '8001'],
    ['0755-88888888#8001', '8001'],
    ['0755-88888888＃8001', '8001'],
    ['0755-88888888,8001', '8001'],
    ['0755-88888888-8001', '8001'],
    ['021-12345678-8001', '8001'],
    ['0310-2345678-12', '12'],
  ])('%s → extension %s', (input, ext) => {
    const phone = parsePhone(input, CN);
    expect(phone?.type).toBe('landline');
    expect(phone?.ext).toBe(ext);
  });

  it('does not split a trailing -digits that is part of a valid number', () => {
    expect(parsePhone('0755-8888-8888', CN)).toMatchObject({ areaCode: '0755', subscriber: '88888888' });
    expect(parsePhone('010-1234-5678', CN)).toMatchObject({ areaCode: '010', subscriber: '12345678' });
  });

  it('splits a trailing -digits only after a valid landline', () => {
    expect(parsePhone('13800138000-1234', CN)).toBeUndefined();
    expect(parsePhone('0755-8888-123', CN)).toBeUndefined();
  });

  it.each([
    ['0755-8888888', '7 digits where Shenzhen has 8'],
    ['88888888', 'no area code'],
    ['011-12345678', 'no such area code'],
    ['0755-88888888转', 'marker without digits'],
    ['0755-88888888转1234567', 'extension too long'],
  ])('rejects %s (%s)', (input) => {
    expect(parsePhone(input, CN)).toBeUndefined();
  });
});

describe('parsePhone: service numbers', () => {
  it.each([
    ['400-812-3123', '4008123123'],
    ['4008123123', '4008123123'],
    ['400 812 3123', '4008123123'],
    ['+86 400 812 3123', '4008123123'],
    ['800-810-1234', '8008101234'],
    ['95338', '95338'],
    ['95311', '95311'],
    ['９５５４６', '95546'],
    ['+8695338', '95338'],
  ])('%s is a service number %s', (input, national) => {
    const phone = parsePhone(input, CN);
    expect(phone?.type).toBe('service');
    expect(phone?.nationalNumber).toBe(national);
    expect(phone?.countryCallingCode).toBe('86');
  });

  it('keeps an extension on a service number', () => {
    expect(parsePhone('400-812-3123转8', CN)).toMatchObject({ type: 'service', ext: '8' });
  });

  it('reads 95xxx only as a mainland number', () => {
    expect(parsePhone('95338', { country: 'HK' })).toBeUndefined();
    expect(parsePhone('953381', CN)).toBeUndefined();
  });
});

describe('parsePhone: Hong Kong, Macau, Taiwan and abroad', () => {
  it('reads an HK number without country code only when the record says HK', () => {
    expect(parsePhone('51234567', { country: 'HK' })).toEqual({
      e164: '+85251234567',
      countryCallingCode: '852',
      nationalNumber: '51234567',
      type: 'mobile',
      country: 'HK',
    });
    expect(parsePhone('5123 4567', { country: 'hk' })?.country).toBe('HK');
    expect(parsePhone('51234567', CN)).toBeUndefined();
    expect(parsePhone('51234567', {})).toBeUndefined();
  });

  it.each([
    ['+852 5123 4567', CN, '852', 'mobile'],
    ['00852 5123 4567', CN, '852', 'mobile'],
    ['(+852)51234567', CN, '852', 'mobile'],
    ['+852 2123 4567', CN, '852', 'landline'],
    ['+853 6612 3456', CN, '853', 'mobile'],
    ['6612 3456', { country: 'MO' }, '853', 'mobile'],
    ['+886 912 345 678', CN, '886', 'mobile'],
    ['0912-345-678', { country: 'TW' }, '886', 'mobile'],
    ['+886 2 2123 4567', CN, '886', 'landline'],
    ['+1 415 555 2671', CN, '1', 'mobileOrLandline'],
    ['+44 20 7946 0000', CN, '44', 'landline'],
    ['+44 56 1234 5678', CN, '44', 'other'],
    ['+44 7911 123456', CN, '44', 'mobile'],
  ])('%s', (input, ctx, code, type) => {
    const phone = parsePhone(input, ctx);
    expect(phone?.countryCallingCode).toBe(code);
    expect(phone?.type).toBe(type);
    expect(phone?.areaCode).toBeUndefined();
  });

  it('does not read a Taiwan national number as mainland', () => {
    expect(parsePhone('0912345678', CN)).toBeUndefined();
  });

  it('reads a mainland mobile without +86 as invalid when the record is in HK', () => {
    expect(parsePhone('13800138000', { country: 'HK' })).toBeUndefined();
    expect(parsePhone('+86 138 0013 8000', { country: 'HK' })?.type).toBe('mobile');
  });

  it('needs a + when the record country is not a known region', () => {
    expect(parsePhone('13800138000', { country: 'XX' })).toBeUndefined();
    expect(parsePhone('+8613800138000', { country: 'XX' })?.type).toBe('mobile');
  });
});

describe('parseVirtualNumber', () => {
  it.each([
    [{ main: '13800138000', ext: '1234' }, { main: '13800138000', ext: '1234' }],
    [{ main: '138 0013 8000', ext: '１２３４' }, { main: '13800138000', ext: '1234' }],
    [{ main: '+86 13800138000', ext: '1' }, { main: '13800138000', ext: '1' }],
    ['12345678901-1234', { main: '12345678901', ext: '1234' }],
    ['13800138000转1234', { main: '13800138000', ext: '1234' }],
    ['138-0013-8000-123456', { main: '13800138000', ext: '123456' }],
  ])('%j', (input, expected) => {
    expect(parseVirtualNumber(input)).toEqual(expected);
  });

  it.each([
    [{ main: '1380013800', ext: '1234' }],
    [{ main: '13800138000', ext: '' }],
    [{ main: '13800138000', ext: '1234567' }],
    [{ main: '13800138000', ext: 'abcd' }],
    ['13800138000'],
    [null],
    [42],
  ])('rejects %j', (input) => {
    expect(parseVirtualNumber(input)).toBeUndefined();
  });
});
