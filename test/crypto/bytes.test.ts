import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeParts, fromBase64Url, toBase64Url, utf8Into } from '../../src/crypto/bytes.js';

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

describe('utf8Into', () => {
  it('writes exactly the bytes of TextEncoder, lone surrogates and long strings included', () => {
    const encoder = new TextEncoder();
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ maxLength: 300 })), fc.nat(8), (s, o) => {
        const out = new Uint8Array(o + 3 * s.length);
        const written = utf8Into(s, out, o);
        expect(out.subarray(o, o + written)).toEqual(encoder.encode(s));
      }),
    );
    for (const s of ['\ud800', '\udc00x', 'a\ud83d', '\ud83d\ude00', '科技园路805号', '\u07ff\u0800\uffff']) {
      const out = new Uint8Array(3 * s.length);
      expect(out.subarray(0, utf8Into(s, out, 0))).toEqual(encoder.encode(s));
    }
  });
});
