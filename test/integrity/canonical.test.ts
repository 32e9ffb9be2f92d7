import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeParts } from '../../src/crypto/bytes.js';
import { UnitWriter } from '../../src/integrity/canonical.js';
import { defineSchema, s } from '../../src/index.js';
import { referenceCanonicalJson } from './reference-canonical.js';

// A schema whose one signed plain field `v` takes any JSON value: its unit content is the canonical JSON of it.
const schema = defineSchema('canon', 1, { id: s.string(), v: s.string() }, { recordId: 'id', signed: ['v'] });
const utf8 = (t: string) => Array.from(new TextEncoder().encode(t));

function contentOf(value: unknown): number[] {
  const w = new UnitWriter();
  const units = w.units(schema, { id: 'r', v: value });
  const i = units.paths.indexOf('v');
  const { spans } = units;
  return Array.from(w.bytes().subarray(spans[3 * i + 1]!, spans[3 * i + 2]!));
}

describe('UnitWriter: canonical JSON straight to UTF-8', () => {
  it('writes the bytes of the reference canonical JSON for any JSON value (unicode, escapes, lone surrogates, numbers)', () => {
    const text = fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), fc.constantFrom('"\\\u0000\u001f\u007f\u2028', '\ud800', 'a\udc00b', '吴**', '😀'));
    const value = fc.letrec((tie) => ({
      json: fc.oneof(
        { depthSize: 'small' },
        text,
        fc.double(),
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('json')),
        fc.dictionary(text, tie('json')),
      ),
    })).json;
    fc.assert(
      fc.property(value, (v) => {
        expect(contentOf(v)).toEqual(utf8(referenceCanonicalJson(v)));
      }),
      { numRuns: 2000 },
    );
  });

  it('sorts members by UTF-16 code units, skips undefined members, keeps array holes and undefined items empty', () => {
    const sparse = [1, , undefined, 'x']; // eslint-disable-line no-sparse-arrays
    expect(contentOf({ b: 1, a: { d: undefined, c: [] }, B: sparse, é: 0, '\ud83d\ude00': -0 })).toEqual(
      utf8('{"B":[1,,,"x"],"a":{"c":[]},"b":1,"é":0,"😀":0}'),
    );
    expect(contentOf(new Date(0))).toEqual(utf8('"1970-01-01T00:00:00.000Z"'));
  });

  it('writes length-prefixed UTF-8 items as encodeParts does (TextEncoder: lone surrogates as U+FFFD)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), fc.constantFrom('\ud800', 'a\udc00', '\udbff\udfff'))), (parts) => {
        const w = new UnitWriter();
        for (const p of parts) w.part(p);
        expect(Array.from(w.bytes())).toEqual(Array.from(encodeParts(parts)));
      }),
      { numRuns: 2000 },
    );
  });

  it('orders units by path in UTF-16 code unit order whatever order they come in', () => {
    const shape = Object.fromEntries(['id', 'b10', 'b2', 'B', 'a', '_z'].map((k) => [k, s.string()]));
    const many = defineSchema('order', 1, shape, { recordId: 'id', signed: ['b10', 'b2', 'B', 'a', '_z'] });
    const w = new UnitWriter();
    const record = { _z: '1', b2: '2', b10: '3', a: '4', B: '5', id: 'r' };
    expect(w.units(many, record).paths).toEqual(['B', '_z', 'a', 'b10', 'b2', 'id']);
    // Sealed-looking objects outside the schema are units too, in any number and order.
    const extra = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${String(299 - i).padStart(3, '0')}`, { enc: 'ws1.', mask: {} }]));
    const paths = new UnitWriter().units(many, { ...record, x: extra }).paths;
    expect(paths.slice(6, 9)).toEqual(['x.k000', 'x.k001', 'x.k002']);
    expect(paths.length).toBe(306);
    expect([...paths].sort()).toEqual(paths);
  });

  it('grows its buffer for large values and starts over on reset', () => {
    const w = new UnitWriter();
    const big = 'é'.repeat(50_000);
    w.units(schema, { id: 'r', v: big });
    expect(w.length).toBeGreaterThan(100_000);
    w.reset();
    const units = w.units(schema, { id: 'r', v: 'x' });
    expect(units.paths).toEqual(['id', 'v']);
    expect(Array.from(w.bytes())).toEqual([0, 0, 0, 2, ...utf8('id'), 0, 0, 0, 3, ...utf8('"r"'), 0, 0, 0, 1, ...utf8('v'), 0, 0, 0, 3, ...utf8('"x"')]);
  });
});
