import { describe, expect, it } from 'vitest';
import { graphemes, isLatinName, normalizeName } from '../../src/normalize/index.js';

describe('normalizeName', () => {
  it.each([
    ['  张三  ', '张三'],
    ['张　三', '张 三'],
    ['John   Smith', 'John Smith'],
    ['Ｊｏｈｎ　Ｓｍｉｔｈ', 'John Smith'],
    ['阿沛·阿旺晋美', '阿沛·阿旺晋美'],
    ['阿沛•阿旺晋美', '阿沛·阿旺晋美'],
    ['阿沛・阿旺晋美', '阿沛·阿旺晋美'],
    ['阿沛･阿旺晋美', '阿沛·阿旺晋美'],
    ['阿沛．阿旺晋美', '阿沛·阿旺晋美'],
    ['阿沛‧阿旺晋美', '阿沛·阿旺晋美'],
    ['阿沛∙阿旺晋美', '阿沛·阿旺晋美'],
    ['阿沛.阿旺晋美', '阿沛·阿旺晋美'],
    ['买买提 · 艾力', '买买提·艾力'],
    ['J. Smith', 'J. Smith'],
    ['', ''],
    ['   ', ''],
  ])('%j → %j', (input, expected) => {
    expect(normalizeName(input)).toBe(expected);
  });

  it('outputs only U+00B7 as the middle dot', () => {
    expect(normalizeName('阿沛\u2022阿旺\u30FB晋美')).toBe('阿沛\u00B7阿旺\u00B7晋美');
  });
});

describe('graphemes', () => {
  it('counts a CJK Extension B character as one', () => {
    expect('𠮷'.length).toBe(2);
    expect(graphemes('𠮷野家')).toEqual(['𠮷', '野', '家']);
  });

  it('keeps combining sequences and emoji together', () => {
    expect(graphemes('e\u0301a')).toEqual(['e\u0301', 'a']);
    expect(graphemes('👨‍👩‍👧x')).toHaveLength(2);
  });
});

describe('isLatinName', () => {
  it.each([['John Smith'], ['José Álvarez'], ["O'Brien"], ['Mary-Jane Watson'], ['J. Smith']])('%s is Latin', (name) => {
    expect(isLatinName(name)).toBe(true);
  });

  it.each([['张三'], ['阿沛·阿旺晋美'], ['John 张'], ["'-."], [''], ['Иван']])('%j is not Latin', (name) => {
    expect(isLatinName(name)).toBe(false);
  });
});
