/** Shared by the key-store index key tests: key classes with their `-index` classes, a one-mobile schema. */
import { defineSchema, KEY_CLASSES, s, type SealedRecord } from '../../src/index.js';

export const CLASSES = [...KEY_CLASSES, ...KEY_CLASSES.map((c) => `${c}-index`)];
/** 32-bit tokens: a chance match among 10^4 candidates is ~2·10^-6, so "none matches" is a sharp claim. */
export const people = defineSchema(
  'people',
  1,
  { id: s.string(), createdAt: s.date(), mobile: s.mobile() },
  { recordId: 'id', indexes: { mobile: { field: 'mobile', bits: 32 }, 'mobile:last4': { field: 'mobile', transform: 'phone-last4', bits: 9 } } },
);
export type Person = SealedRecord<typeof people>;
export const mobileOf = (i: number) => `139${String(4_000_000 + i * 7919).padStart(8, '0')}`;
