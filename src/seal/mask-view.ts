/** The masked view of a sealed record: every protected field replaced by one of its stored masks. Needs no key. */
import { ValidationError } from '../errors.js';
import type { MaskedRecord, Schema, SealedRecord } from '../schema/schema.js';
import { walkRecord } from '../schema/walk.js';

export type Profile = 'label' | 'screen' | (string & {});

export function mask<S extends Schema>(schema: S, sealed: SealedRecord<S>, profile: Profile = 'screen'): MaskedRecord<S> {
  const { copy, leaves } = walkRecord(schema.shape, sealed, 'sealed');
  for (const leaf of leaves) {
    const m = leaf.value.mask[profile];
    if (m === undefined) throw new ValidationError(leaf.path, 'mask_profile_missing');
    leaf.parent[leaf.key] = m;
  }
  return copy as MaskedRecord<S>;
}
