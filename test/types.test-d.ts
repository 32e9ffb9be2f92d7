import { describe, expectTypeOf, it } from 'vitest';
import {
  defineSchema,
  s,
  waybill,
  type MaskedRecord,
  type MaskedText,
  type OpenedRecord,
  type OpenResult,
  type PlainOpenedRecord,
  type PlainRecord,
  type Redacted,
  type Sealer,
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
    expectTypeOf<MaskedRecord<W>['receiver']['mobile']>().toEqualTypeOf<MaskedText | undefined>();
    expectTypeOf<MaskedRecord<W>['receiver']['virtualNumber']>().toEqualTypeOf<MaskedText | undefined>();
    expectTypeOf<MaskedRecord<W>['sender']['address']['detail']>().toEqualTypeOf<MaskedText>();
    // A mask reads as a string; a string (plaintext) cannot pass for a mask, nor a plain record for a masked view.
    expectTypeOf<MaskedText>().toMatchTypeOf<string>();
    expectTypeOf<string>().not.toMatchTypeOf<MaskedText>();
    expectTypeOf<PlainRecord<W>>().not.toMatchTypeOf<MaskedRecord<W>>();
  });

  it('opened records hold Redacted values, or the mask of a field that was not opened', () => {
    expectTypeOf<OpenedRecord<W>['receiver']['virtualNumber']>().toEqualTypeOf<Redacted<VirtualNumber> | string | undefined>();
    expectTypeOf<OpenedRecord<W>['receiver']['name']>().toEqualTypeOf<Redacted<string> | string>();
    expectTypeOf<OpenedRecord<W>['sender']['address']['detail']>().toEqualTypeOf<Redacted<string> | string>();
    // plain fields stay plain
    expectTypeOf<OpenedRecord<W>['sender']['address']['city']>().toEqualTypeOf<string>();
    expectTypeOf<OpenedRecord<W>['weightGrams']>().toEqualTypeOf<number>();
    expectTypeOf<Redacted<string>['reveal']>().returns.toEqualTypeOf<string>();
  });

  it('reveal: "plain" gives plain values, with the same shape', () => {
    expectTypeOf<PlainOpenedRecord<W>['receiver']['virtualNumber']>().toEqualTypeOf<VirtualNumber | string | undefined>();
    expectTypeOf<PlainOpenedRecord<W>['receiver']['name']>().toEqualTypeOf<string>();
    expectTypeOf<PlainOpenedRecord<W>['items']>().toEqualTypeOf<{ name: string; quantity: number }[]>();
    // a plain record is a fully opened one
    expectTypeOf<PlainRecord<W>>().toExtend<PlainOpenedRecord<W>>();
    expectTypeOf<OpenedRecord<W>>().not.toExtend<PlainOpenedRecord<W>>();
  });

  it('open returns Redacted values unless the request says reveal: "plain"', () => {
    type Open = Sealer['open'];
    const open = null as unknown as Open;
    const sealed = null as unknown as SealedRecord<W>;
    expectTypeOf(open(waybill, sealed, { principal: 'p', purpose: 'deliver' })).resolves.toEqualTypeOf<OpenResult<W>>();
    expectTypeOf(open(waybill, sealed, { principal: 'p', purpose: 'deliver', reveal: 'plain' })).resolves.toEqualTypeOf<
      OpenResult<W, PlainOpenedRecord<W>>
    >();
  });

  it('the waybill schema has optional plain routing fields', () => {
    expectTypeOf<PlainRecord<W>['routing']>().toEqualTypeOf<{ originOutlet?: string; destOutlet?: string; routeId?: string } | undefined>();
    expectTypeOf<SealedRecord<W>['routing']>().toEqualTypeOf<{ originOutlet?: string; destOutlet?: string; routeId?: string } | undefined>();
  });

  it('optional fields and arrays follow the builder', () => {
    const schema = defineSchema('t', 1, { id: s.string(), tags: s.array(s.object({ who: s.name() })), n: s.number().optional() }, { recordId: 'id' });
    expectTypeOf<PlainRecord<typeof schema>>().toEqualTypeOf<{ id: string; tags: { who: string }[]; n?: number }>();
    expectTypeOf<MaskedRecord<typeof schema>['tags'][number]['who']>().toEqualTypeOf<MaskedText>();
    expectTypeOf<SealedRecord<typeof schema>['tags'][number]['who']>().toEqualTypeOf<SealedField>();
  });
});
