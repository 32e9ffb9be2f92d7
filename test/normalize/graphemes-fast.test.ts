/**
 * `graphemes` skips Intl.Segmenter for strings of code points that are graphemes on their own
 * (ASCII, middle dot, CJK ideographs and punctuation): it must split every string exactly as the
 * segmenter does, including mixtures with combining marks, emoji sequences and other scripts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { graphemes } from '../../src/normalize/name.js';

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const reference = (s: string) => Array.from(segmenter.segment(s), (p) => p.segment);

const simple = fc.constantFrom(...'张三欧阳娜娜𠮷科技园路1号3栋2单元501室 ·、。「」ＡＢ（）-—abcXYZ'.split(/(?:)/u));
const hard = fc.constantFrom('\u0301', '\u302a', '\u302e', '\u200d', '\ufe0f', '👩‍👩‍👧', '🇨🇳', '\r\n', '\r', 'é', 'ก่', '각', '\u1100\u1161', '🏽', '\u3099', 'ﾞ');

describe('graphemes fast path', () => {
  it('splits like Intl.Segmenter on simple strings and on mixtures', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof({ weight: 5, arbitrary: simple }, { weight: 1, arbitrary: hard }), { maxLength: 30 }), (parts) => {
        const s = parts.join('');
        expect(graphemes(s)).toEqual(reference(s));
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 20 }), (s) => {
        expect(graphemes(s)).toEqual(reference(s));
      }),
    );
  });
});
