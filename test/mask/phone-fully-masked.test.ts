/**
 * Values the phone masker cannot read are masked whole (issue 18, mutation testing): a mask that
 * kept "the last 4" of something unparseable could print most of a real number. Every digit and
 * letter is starred, in both fields and both profiles, and nothing is guessed.
 */
import { describe, expect, it } from 'vitest';
import { computeMasks } from '../../src/mask/index.js';

const both = (s: string) => ({ label: s, screen: s });
const digitsOf = (s: string) => s.replace(/[^0-9]/g, '');

describe('fully masked', () => {
  it.each([
    ['abc', '***'],
    ['1381234567x', '***********'],
    ['12345', '*****'],
    ['8888888', '*******'],
    ['88888888', '********'],
    ['0108888888', '**********'],
  ])('unparseable or a mainland landline without its area code: %j → %s in the mobile and landline fields', (value, masked) => {
    expect(computeMasks('mobile', value, {}, {})).toEqual(both(masked));
    expect(computeMasks('landline', value, {}, {})).toEqual(both(masked));
  });

  it.each([
    [{ main: '13800138000', ext: '' }, '************'],
    [{ main: '13800138000', ext: 'abc' }, '***************'],
    [{ main: '', ext: '1234' }, '*****'],
    [{ main: '13800138000' }, '****'],
    ['nonsense', '********'],
    [42, '****'],
    [null, '****'],
  ])('a bad virtual number %j → %s (no digit of it shown)', (value, masked) => {
    const m = computeMasks('virtualNumber', value as never, {}, {});
    expect(m).toEqual(both(masked));
    expect(digitsOf(m['label']!)).toBe('');
  });
});

describe('readable numbers keep only what the profile allows', () => {
  it.each([
    ['020-8888-8888', '020-******88', '020-****8888'],
    ['+86 10 8888 8888 转 12', '010-******88转12', '010-****8888转12'],
    ['+1 212 555 0123', '+1 ********23', '+1 ******0123'],
    ['+852 5123 4567', '+852 ******67', '+852 ****4567'],
  ])('%j → label %s, screen %s', (value, label, screen) => {
    expect(computeMasks('landline', value, {}, {})).toEqual({ label, screen });
  });
});
