import { describe, expectTypeOf, it } from 'vitest';
import {
  definePolicy,
  defineSchema,
  s,
  waybill,
  type MaskedRecord,
  type MaskedText,
  type OpenedRecord,
  type OpenResult,
  type PolicyPath,
  type PlainOpenedRecord,
  type PlainRecord,
  type ProtectedPath,
  type Redacted,
  type Sealer,
  type SealedField,
  type SealedRecord,
  type Schema,
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

describe('field paths in open({ fields }) follow the schema', () => {
  const open = null as unknown as Sealer['open'];
  const openMany = null as unknown as Sealer['openMany'];
  const sealed = null as unknown as SealedRecord<W>;
  const who = { principal: 'p', purpose: 'support' } as const;
  const parcels = defineSchema(
    'parcels',
    1,
    { id: s.string(), items: s.array(s.object({ label: s.string(), owner: s.name(), notes: s.array(s.object({ by: s.text() })) })) },
    { recordId: 'id' },
  );
  const sealedParcel = null as unknown as SealedRecord<typeof parcels>;

  it('names the protected fields of the waybill schema, nothing else', () => {
    expectTypeOf<ProtectedPath<W>>().toEqualTypeOf<
      | 'sender.name'
      | 'sender.mobile'
      | 'sender.landline'
      | 'sender.idNumber'
      | 'sender.address.detail'
      | 'receiver.name'
      | 'receiver.mobile'
      | 'receiver.landline'
      | 'receiver.virtualNumber'
      | 'receiver.address.detail'
      | 'remark'
    >();
    void open(waybill, sealed, { ...who, fields: ['receiver.mobile', 'sender.address.detail'] });
    void open(waybill, sealed, { ...who, fields: ['receiver.name'], reveal: 'plain' });
    void openMany(waybill, [sealed], { ...who, fields: ['remark'] });
    // @ts-expect-error the waybill has receiver.mobile, not receiver.phone
    void open(waybill, sealed, { ...who, fields: ['receiver.phone'] });
    // @ts-expect-error with reveal: 'plain' too
    void open(waybill, sealed, { ...who, fields: ['receiver.phone'], reveal: 'plain' });
    // @ts-expect-error openMany takes the same paths
    void openMany(waybill, [sealed], { ...who, fields: ['receiver.phone'] });
    // @ts-expect-error a plain field is not opened
    void open(waybill, sealed, { ...who, fields: ['receiver.address.district'] });
    // @ts-expect-error an object is not a field
    void open(waybill, sealed, { ...who, fields: ['receiver'] });
    // @ts-expect-error items[].name is a plain field of the waybill
    void open(waybill, sealed, { ...who, fields: ['items[].name'] });
  });

  it('goes into arrays of objects with []', () => {
    expectTypeOf<ProtectedPath<typeof parcels>>().toEqualTypeOf<'items[].owner' | 'items[].notes[].by'>();
    void open(parcels, sealedParcel, { ...who, fields: ['items[].owner', 'items[].notes[].by'] });
    // @ts-expect-error array paths are written with [], not an index
    void open(parcels, sealedParcel, { ...who, fields: ['items.0.owner'] });
    // @ts-expect-error nor without []
    void open(parcels, sealedParcel, { ...who, fields: ['items.owner'] });
    // @ts-expect-error a plain field inside the array
    void open(parcels, sealedParcel, { ...who, fields: ['items[].label'] });
  });

  it('a schema whose shape the compiler does not know (from JSON) takes any string, checked at run time', () => {
    expectTypeOf<ProtectedPath<Schema>>().toEqualTypeOf<string>();
    const loaded = null as unknown as Schema;
    const fields: string[] = ['receiver.mobile'];
    void open(loaded, null as unknown as SealedRecord<Schema>, { ...who, fields });
  });
});

describe('field paths in a policy built for a schema (definePolicy)', () => {
  it('fields and confirm take the protected paths and prefix.* wildcards', () => {
    expectTypeOf<'receiver.*' | 'receiver.address.*' | 'sender.address.detail'>().toExtend<PolicyPath<W>>();
    expectTypeOf<'receiver.phone'>().not.toExtend<PolicyPath<W>>();
    expectTypeOf<'routing.*'>().not.toExtend<PolicyPath<W>>();
    const policy = () =>
      definePolicy(waybill, {
        purposes: {
          deliver: { fields: ['receiver.name', 'receiver.address.*'], scope: [{ record: 'routing.routeId', context: 'route' }] },
          station: { fields: [], confirm: ['receiver.mobile'] },
          export: { fields: '*', approval: true },
        },
      });
    void policy;
    // @ts-expect-error the waybill has receiver.mobile, not receiver.phone
    const typo = () => definePolicy(waybill, { purposes: { deliver: { fields: ['receiver.phone'] } } });
    // @ts-expect-error confirm is typed too
    const confirmTypo = () => definePolicy(waybill, { purposes: { station: { fields: [], confirm: ['receiver.phone'] } } });
    void typo;
    void confirmTypo;
  });
});
