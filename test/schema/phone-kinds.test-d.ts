import { describe, expectTypeOf, it } from 'vitest';
import { defineSchema, s, type MaskedRecord, type MaskedText, type OpenedRecord, type PlainRecord, type Redacted, type SealedField, type SealedRecord } from '../../src/index.js';

const contact = defineSchema('contact', 1, { id: s.string(), createdAt: s.date(), tel: s.phone(), alt: s.phone().optional() }, { recordId: 'id' });
type C = typeof contact;

describe('phone(): types follow the value', () => {
  it('plain string in, sealed field stored, mask string shown, Redacted opened', () => {
    expectTypeOf<PlainRecord<C>['tel']>().toEqualTypeOf<string>();
    expectTypeOf<PlainRecord<C>['alt']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<SealedRecord<C>['tel']>().toEqualTypeOf<SealedField>();
    expectTypeOf<MaskedRecord<C>['tel']>().toEqualTypeOf<MaskedText>();
    expectTypeOf<OpenedRecord<C>['tel']>().toEqualTypeOf<Redacted<string> | string>();
  });
});
