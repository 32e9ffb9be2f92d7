import { describe, expectTypeOf, it } from 'vitest';
import {
  defineSchema,
  s,
  waybill,
  type MaskedRecord,
  type OpenedRecord,
  type PlainRecord,
  type SealedField,
  type SealedRecord,
  type VirtualNumber,
} from '../src/index.js';

type W = typeof waybill;

describe('derived record types', () => {
  it('plain records carry plaintext values', () => {
    expectTypeOf<PlainRecord<W>['receiver']['name']>().toEqualTypeOf<string>();
    expectTypeOf<PlainRecord<W>['receiver']['virtualNumber']>().toEqualTypeOf<VirtualNumber | undefined>();
    expectTypeOf<PlainRecord<W>['weightGrams']>().toEqualTypeOf<number>();
  });

  it('sealed records hold sealed fields where plaintext was, nothing to read', () => {
    expectTypeOf<SealedRecord<W>['receiver']['name']>().toEqualTypeOf<SealedField>();
    expectTypeOf<SealedRecord<W>['sender']['idNumber']>().toEqualTypeOf<SealedField | undefined>();
    expectTypeOf<SealedRecord<W>['receiver']['name']>().not.toEqualTypeOf<string>();
    expectTypeOf<SealedField>().not.toHaveProperty('value');
    expectTypeOf<SealedField>().not.toHaveProperty('plaintext');
    // plain routing fields stay readable
    expectTypeOf<SealedRecord<W>['receiver']['address']['district']>().toEqualTypeOf<string>();
  });

  it('masked records hold mask strings, never a virtual-number object or sealed field', () => {
    expectTypeOf<MaskedRecord<W>['receiver']['mobile']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<MaskedRecord<W>['receiver']['virtualNumber']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<MaskedRecord<W>['sender']['address']['detail']>().toEqualTypeOf<string>();
  });

  it('opened records say a field may be its mask', () => {
    expectTypeOf<OpenedRecord<W>['receiver']['virtualNumber']>().toEqualTypeOf<VirtualNumber | string | undefined>();
  });

  it('optional fields and arrays follow the builder', () => {
    const schema = defineSchema('t', 1, { id: s.string(), tags: s.array(s.object({ who: s.name() })), n: s.number().optional() }, { recordId: 'id' });
    expectTypeOf<PlainRecord<typeof schema>>().toEqualTypeOf<{ id: string; tags: { who: string }[]; n?: number }>();
    expectTypeOf<MaskedRecord<typeof schema>['tags'][number]['who']>().toEqualTypeOf<string>();
    expectTypeOf<SealedRecord<typeof schema>['tags'][number]['who']>().toEqualTypeOf<SealedField>();
  });
});
