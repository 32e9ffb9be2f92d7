import { describe, expect, it } from 'vitest';
import { computeMasks, type MaskContext, type MaskOptions } from '../../src/mask/index.js';

const CN: MaskContext = {};
const mobile = (value: string, options: MaskOptions = {}, ctx: MaskContext = CN) => computeMasks('mobile', value, options, ctx);
const landline = (value: string, ctx: MaskContext = CN) => computeMasks('landline', value, {}, ctx);

describe('mainland mobiles', () => {
  it.each([
    ['13800138000'],
    ['１３８００１３８０００'],
    ['138 0013 8000'],
    ['138-0013-8000'],
    ['+8613800138000'],
    ['+86 138 0013 8000'],
    ['0086 13800138000'],
    ['86-13800138000'],
    ['(+86)13800138000'],
    ['（+86）138-0013-8000'],
  ])('%s → *******8000 / 138****8000', (value) => {
    expect(mobile(value)).toEqual({ label: '*******8000', screen: '138****8000' });
  });

  it('first3last2 on the label', () => {
    expect(mobile('13812345678', { mobileLabel: 'first3last2' })).toEqual({ label: '138******78', screen: '138****5678' });
  });

  it('keeps an extension written after a mobile', () => {
    expect(mobile('13800138000转1234')).toEqual({ label: '*******8000转1234', screen: '138****8000转1234' });
  });

  it('a mainland mobile in an HK record needs +86', () => {
    expect(mobile('13800138000', {}, { country: 'HK' })).toEqual({ label: '***********', screen: '***********' });
    expect(mobile('+86 13800138000', {}, { country: 'HK' })).toEqual({ label: '*******8000', screen: '138****8000' });
  });
});

describe('landlines', () => {
  it.each([
    ['0755-88886666', '0755-******66', '0755-****6666'],
    ['0755 8888 6666', '0755-******66', '0755-****6666'],
    ['０７５５－８８８８６６６６', '0755-******66', '0755-****6666'],
    ['+86 755 8888 6666', '0755-******66', '0755-****6666'],
    ['(010)12345678', '010-******78', '010-****5678'],
    ['010-12345678', '010-******78', '010-****5678'],
    ['021 1234 5678', '021-******78', '021-****5678'],
    // 7-digit subscriber: keeping 2 would hide only 5, so all 7 are starred.
    ['0310-2345678', '0310-*******', '0310-***5678'],
    ['(0310)2345678', '0310-*******', '0310-***5678'],
  ])('%s → %s / %s', (value, label, screen) => {
    expect(landline(value)).toEqual({ label, screen });
  });

  it.each([
    ['0755-88886666转123', '0755-******66转123', '0755-****6666转123'],
    ['0755-88886666 分机 123', '0755-******66转123', '0755-****6666转123'],
    ['0755-88886666 ext. 123', '0755-******66转123', '0755-****6666转123'],
    ['0755-88886666#123', '0755-******66转123', '0755-****6666转123'],
    ['0755-88886666x123', '0755-******66转123', '0755-****6666转123'],
    ['0755-88886666-123', '0755-******66转123', '0755-****6666转123'],
    ['021-12345678-8001', '021-******78转8001', '021-****5678转8001'],
    ['0310-2345678转9', '0310-*******转9', '0310-***5678转9'],
  ])('%s keeps the extension: %s / %s', (value, label, screen) => {
    expect(landline(value)).toEqual({ label, screen });
  });

  it('masks a landline given in the mobile field as a landline', () => {
    expect(mobile('0755-88886666')).toEqual({ label: '0755-******66', screen: '0755-****6666' });
  });
});

describe('HK, Macau, Taiwan and foreign numbers', () => {
  it.each([
    ['+852 5123 4567', CN, '+852 ******67', '+852 ****4567'],
    ['00852-51234567', CN, '+852 ******67', '+852 ****4567'],
    ['(+852)51234567', CN, '+852 ******67', '+852 ****4567'],
    ['51234567', { country: 'HK' }, '+852 ******67', '+852 ****4567'],
    ['+852 2123 4567', CN, '+852 ******67', '+852 ****4567'],
    ['6612 3456', { country: 'MO' }, '+853 ******56', '+853 ****3456'],
    ['+886 912 345 678', CN, '+886 *******78', '+886 *****5678'],
    ['0912-345-678', { country: 'TW' }, '+886 *******78', '+886 *****5678'],
    ['+1 415 555 2671', CN, '+1 ********71', '+1 ******2671'],
    ['+44 7911 123456', CN, '+44 ********56', '+44 ******3456'],
  ])('%s (%j) → %s / %s', (value, ctx, label, screen) => {
    expect(mobile(value, {}, ctx)).toEqual({ label, screen });
  });

  it('an HK number without country code in a mainland record is invalid: every digit starred', () => {
    expect(mobile('51234567')).toEqual({ label: '********', screen: '********' });
    expect(mobile('5123 4567')).toEqual({ label: '**** ****', screen: '**** ****' });
  });

  it('a Taiwan national number in a mainland record is invalid', () => {
    expect(mobile('0912-345-678')).toEqual({ label: '****-***-***', screen: '****-***-***' });
  });
});

describe('service numbers are shown in full in the landline field', () => {
  it.each([
    ['400-812-3123', '4008123123'],
    ['4008123123', '4008123123'],
    ['+86 400 812 3123', '4008123123'],
    ['800-810-1234', '8008101234'],
    ['95338', '95338'],
    ['９５３１１', '95311'],
    ['400-812-3123转8', '4008123123转8'],
  ])('%s → %s', (value, shown) => {
    expect(landline(value)).toEqual({ label: shown, screen: shown });
  });

  it('a service number in the mobile field is invalid data and fully masked', () => {
    expect(mobile('95338')).toEqual({ label: '*****', screen: '*****' });
    expect(mobile('400-812-3123')).toEqual({ label: '***-***-****', screen: '***-***-****' });
  });
});

describe('invalid phones: every digit and letter starred, nothing guessed', () => {
  it.each([
    ['12345678901', '***********'],
    ['138-0013-800', '***-****-***'],
    ['0755-8888888', '****-*******'],
    ['tel: 13800138000', '***: ***********'],
    ['13800138000-1234', '***********-****'],
    ['', '****'],
    ['---', '****'],
  ])('%j → %s', (value, expected) => {
    expect(mobile(value)).toEqual({ label: expected, screen: expected });
    expect(landline(value)).toEqual({ label: expected, screen: expected });
  });
});

describe('virtual numbers: shown in full', () => {
  it.each([
    [{ main: '13800138000', ext: '1234' }, '13800138000转1234'],
    [{ main: '138 0013 8000', ext: '１２３４' }, '13800138000转1234'],
    [{ main: '+8617012345678', ext: '5', expiresAt: '2025-01-01T00:00:00Z' }, '17012345678转5'],
  ])('%j → %s', (value, shown) => {
    expect(computeMasks('virtualNumber', value, {}, CN)).toEqual({ label: shown, screen: shown });
  });

  it('reads the printed string forms too', () => {
    expect(computeMasks('virtualNumber', '12345678901-1234', {}, CN)['label']).toBe('12345678901转1234');
    expect(computeMasks('virtualNumber', '13800138000转1234', {}, CN)['label']).toBe('13800138000转1234');
  });

  it('an invalid virtual number is fully masked (the 转 joining main and ext is a letter too)', () => {
    expect(computeMasks('virtualNumber', { main: '1380013800', ext: '1234' }, {}, CN)).toEqual({
      label: '***************',
      screen: '***************',
    });
    expect(computeMasks('virtualNumber', { main: '138-0013-800', ext: '1234567' }, {}, CN)['label']).toBe('***-****-***********');
  });
});
