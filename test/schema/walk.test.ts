import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/index.js';
import { s } from '../../src/schema/builder.js';
import { walkRecord } from '../../src/schema/walk.js';

const sealedField = { enc: 'ws1.xchacha20-poly1305.contact/2025-03/1.AAAA', mask: { screen: '*' } };

const reason = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    if (e instanceof ValidationError) return `${e.path}:${e.reason}`;
    throw e;
  }
  return undefined;
};

describe('walkRecord', () => {
  const shape = { id: s.string(), who: s.object({ name: s.name(), note: s.string().optional() }) };

  it('skips the integrity tag of a sealed record (top level only) and leaves it out of the copy', () => {
    const record = { id: 'r1', who: { name: sealedField }, $tag: 't1.x' };
    for (const mode of ['sealed', 'mixed'] as const) {
      const { copy, leaves } = walkRecord(shape, record, mode);
      expect(Object.keys(copy)).toEqual(['id', 'who']);
      expect(leaves.map((l) => [l.path, l.schemaPath, l.key])).toEqual([['who.name', 'who.name', 'name']]);
    }
    expect(reason(() => walkRecord(shape, { id: 'r1', who: { name: 'Li' }, $tag: 't' }, 'plain'))).toBe('$tag:unknown_field');
    expect(reason(() => walkRecord(shape, { id: 'r1', who: { name: sealedField, $tag: 't' } }, 'sealed'))).toBe('who.$tag:unknown_field');
  });

  it('reports an unknown field before a missing one, and a missing one before a bad value', () => {
    expect(reason(() => walkRecord(shape, { who: { name: 'Li' }, extra: 1 }, 'plain'))).toBe('extra:unknown_field');
    expect(reason(() => walkRecord(shape, { who: { name: 'Li' } }, 'plain'))).toBe('id:required');
    expect(reason(() => walkRecord(shape, { id: 'r1', who: { name: 'Li', note: 3 } }, 'plain'))).toBe('who.note:expected_string');
  });

  it('gives the right value and schema paths when one shape is reused (object field, array element, another schema)', () => {
    const person = s.object({ name: s.name() });
    const a = { one: person, many: s.array(person), two: s.object({ 0: person }) };
    const b = { one: s.array(person), two: s.array(person) };
    const paths = (sh: object, r: object) => walkRecord(sh as never, r, 'plain').leaves.map((l) => `${l.path}|${l.schemaPath}`);
    for (let k = 0; k < 2; k++) {
      expect(paths(a, { one: { name: 'Li' }, many: [{ name: 'Wang' }, { name: 'Zhao' }], two: { 0: { name: 'Qian' } } })).toEqual([
        'one.name|one.name',
        'many.0.name|many[].name',
        'many.1.name|many[].name',
        'two.0.name|two.0.name',
      ]);
      // `two.0` again, now an array position: the same value path under another schema path.
      expect(paths(b, { one: [{ name: 'Li' }], two: [{ name: 'Qian' }] })).toEqual(['one.0.name|one[].name', 'two.0.name|two[].name']);
    }
  });
});
