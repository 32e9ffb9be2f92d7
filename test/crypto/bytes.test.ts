import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeParts, fromBase64Url, toBase64Url } from '../../src/crypto/bytes.js';

describe('base64url', () => {
  it('matches Node and round-trips', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        const s = toBase64Url(b);
        expect(s).toBe(Buffer.from(b).toString('base64url'));
        expect(fromBase64Url(s)).toEqual(b);
      }),
    );
  });
  it('rejects non-canonical and foreign characters', () => {
    expect(fromBase64Url('AB')).toBeUndefined(); // leftover bits set
    expect(fromBase64Url('AA=')).toBeUndefined();
    expect(fromBase64Url('A+B/')).toBeUndefined();
    expect(fromBase64Url('A')).toBeUndefined();
    expect(fromBase64Url('')).toEqual(new Uint8Array(0));
  });
});

describe('encodeParts', () => {
  it('is injective: different lists give different bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.string()), fc.array(fc.string()), (a, b) => {
        fc.pre(JSON.stringify(a) !== JSON.stringify(b));
        expect(Buffer.from(encodeParts(a)).equals(Buffer.from(encodeParts(b)))).toBe(false);
      }),
    );
  });
});
