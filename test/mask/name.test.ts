import { describe, expect, it } from 'vitest';
import { computeMasks, type MaskOptions } from '../../src/mask/index.js';

const masks = (name: string, options: MaskOptions = {}) => computeMasks('name', name, options, {});

describe('Chinese names: keepFirst (default), same on label and screen', () => {
  it.each([
    ['张三', '张*'],
    ['张小三', '张**'],
    ['欧阳娜娜', '欧***'],
    ['司马相如', '司***'],
    ['诸葛孔明亮', '诸***'],
    ['阿沛·阿旺晋美', '阿***'],
    ['阿沛•阿旺晋美', '阿***'],
    ['买买提・艾力', '买***'],
    ['王', '*'],
    ['𠮷野家', '𠮷**'],
    ['𠮷', '*'],
    ['𠮷𠮷', '𠮷*'],
    ['  张 三 ', '张*'],
    ['ＡＢＣ张', 'A***'],
  ])('%s → %s', (name, expected) => {
    expect(masks(name)).toEqual({ label: expected, screen: expected });
  });
});

describe('Chinese names: keepFirstLast', () => {
  it.each([
    ['王小四', '王*四'],
    ['李四', '*四'],
    ['李', '*'],
    ['欧阳娜娜', '欧**娜'],
    ['阿沛·阿旺晋美', '阿***美'],
    ['𠮷野家', '𠮷*家'],
    ['𠮷野', '*野'],
  ])('%s → %s', (name, expected) => {
    expect(masks(name, { nameStyle: 'keepFirstLast' })).toEqual({ label: expected, screen: expected });
  });
});

describe('Latin names', () => {
  it.each([
    ['John Smith', 'J***', 'J*** S****'],
    ['  john   smith ', 'j***', 'j*** s****'],
    ['Ｊｏｈｎ Ｓｍｉｔｈ', 'J***', 'J*** S****'],
    ['José Álvarez', 'J***', 'J*** Á******'],
    ["Conan O'Brien", 'C***', "C**** O'*****"],
    ['Mary-Jane Watson', 'M***', 'M***-**** W*****'],
    ['Madonna', 'M***', 'M******'],
    ['J. Smith', 'J***', 'J. S****'],
    ['A B', 'A***', 'A***'],
    ['J', '*', '*'],
  ])('%s → label %s, screen %s', (name, label, screen) => {
    expect(masks(name)).toEqual({ label, screen });
  });

  it('nameStyle does not change Latin names', () => {
    expect(masks('John Smith', { nameStyle: 'keepFirstLast' })).toEqual({ label: 'J***', screen: 'J*** S****' });
  });
});

describe('names that are not names', () => {
  it.each([[''], ['   ']])('%j → ****', (name) => {
    expect(masks(name)).toEqual({ label: '****', screen: '****' });
  });
});
