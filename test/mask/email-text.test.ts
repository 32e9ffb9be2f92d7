import { describe, expect, it } from 'vitest';
import { computeMasks } from '../../src/mask/index.js';

describe('email', () => {
  it.each([
    ['zhang@example.com', '***@example.com', 'z***@example.com'],
    ['Zhang.San@Example.COM', '***@example.com', 'Z***@example.com'],
    [' ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ ', '***@example.com', 'z***@example.com'],
    ['用户名@例子.中国', '***@例子.中国', '用***@例子.中国'],
    ['a@b.cn', '***@b.cn', '***@b.cn'],
  ])('%s → %s / %s', (value, label, screen) => {
    expect(computeMasks('email', value, {}, {})).toEqual({ label, screen });
  });

  it.each([
    ['zhang', '*****'],
    ['zhang@example', '*****@*******'],
    ['a@b@c.com', '*@*@*.***'],
  ])('invalid %s → %s', (value, expected) => {
    expect(computeMasks('email', value, {}, {})).toEqual({ label: expected, screen: expected });
  });
});

describe('text', () => {
  it.each([['请放门口'], ['call me 13800138000'], ['']])('%j → ****', (value) => {
    expect(computeMasks('text', value, {}, {})).toEqual({ label: '****', screen: '****' });
  });
});
