import { describe, expect, it } from 'vitest';
import { isValidEmail, normalizeEmail, parseEmail } from '../../src/normalize/index.js';

describe('normalizeEmail', () => {
  it.each([
    ['  Zhang.San@Example.COM ', 'Zhang.San@example.com'],
    ['ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ', 'zhang@example.com'],
    ['no-at-sign', 'no-at-sign'],
  ])('%j → %j', (input, expected) => {
    expect(normalizeEmail(input)).toBe(expected);
  });
});

describe('parseEmail', () => {
  it('splits local part and lowercased domain', () => {
    expect(parseEmail('Zhang.San@Example.COM')).toEqual({ local: 'Zhang.San', domain: 'example.com' });
    expect(parseEmail('用户@例子.中国')).toEqual({ local: '用户', domain: '例子.中国' });
  });

  it.each([
    ['zhang@example.com', true],
    ['a@b.cn', true],
    ['zhang', false],
    ['@example.com', false],
    ['zhang@', false],
    ['zhang@example', false],
    ['zhang@@example.com', false],
    ['a@b@example.com', false],
    ['zhang san@example.com', false],
    ['zhang@example..com', false],
    ['zhang@.example.com', false],
    ['', false],
  ])('%j valid: %s', (input, valid) => {
    expect(isValidEmail(input)).toBe(valid);
  });
});
