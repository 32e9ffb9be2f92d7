/**
 * The waybill workload of issue 6, shared by every contender in the `peers` section: seeded synthetic
 * waybills reduced to the six protected fields every contender encrypts (sender and receiver name,
 * mobile and address detail) plus the plain routing fields, and two search tokens (both mobiles).
 *
 * `jobSchema` is the built-in `waybill` schema with exactly those two indexes, so waybill-seal does
 * the same job as the peers (it still validates the record, computes the label and screen masks,
 * binds every ciphertext to its record and field, and writes the record integrity tag if enabled).
 */
import { syntheticWaybills, type SyntheticWaybill as Waybill } from 'waybill-seal/testing';
import { defineSchema, waybill } from '../src/index.js';

/** The six protected fields, as paths (every contender encrypts these, each separately decryptable). */
export const PROTECTED_PATHS = [
  'sender.name',
  'sender.mobile',
  'sender.address.detail',
  'receiver.name',
  'receiver.mobile',
  'receiver.address.detail',
] as const;

/** The two token sources: a keyed hash of each normalised mobile. */
export const TOKEN_PATHS = ['sender.mobile', 'receiver.mobile'] as const;

export const jobSchema = defineSchema('waybill', 1, waybill.shape, {
  recordId: 'waybillNo',
  ...(Array.isArray((waybill as { signed?: unknown }).signed) ? { signed: (waybill as unknown as { signed: string[] }).signed } : {}),
  indexes: {
    'receiver.mobile': { field: 'receiver.mobile', bits: 19 },
    'sender.mobile': { field: 'sender.mobile', bits: 19 },
  },
});

export type JobRecord = Waybill;

/** `count` seeded waybills with only the six protected fields (no landline, virtual number, ID number or remark). */
export function workload(count: number, seed = 20250301): JobRecord[] {
  return syntheticWaybills({ count: count, seed: seed }).map((w) => {
    const { idNumber: _id, idType: _t, ...sender } = w.sender;
    const { landline: _l, virtualNumber: _v, ...receiver } = w.receiver;
    const { remark: _r, ...rest } = w;
    return { ...rest, sender, receiver };
  });
}

/**
 * The normalisation every peer applies before hashing a mobile for its token: digits only, a leading
 * 86 country code dropped (`+86 138-1234-5678` and `13812345678` give one token), as a peer's
 * application code would do it. waybill-seal uses its own `phone` transform (libphonenumber E.164).
 */
export function normalizeMobile(mobile: string): string {
  const digits = mobile.replace(/\D/g, '');
  return digits.length === 13 && digits.startsWith('86') ? digits.slice(2) : digits;
}

/** Reads a dotted path. */
export function get(record: unknown, path: string): unknown {
  let v: unknown = record;
  for (const k of path.split('.')) v = (v as Record<string, unknown>)[k];
  return v;
}

/** A structural copy with one dotted path replaced. */
export function set(record: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let o = record;
  for (const k of keys.slice(0, -1)) o = o[k] as Record<string, unknown>;
  o[keys.at(-1)!] = value;
}
