/**
 * Checking records without decrypting anything: what a label printer or sorting centre runs with
 * only the integrity secret (no KEK), before it prints masks or routes on plain fields.
 */
import { IntegrityError } from '../errors.js';
import type { MaskedRecord, Schema, SealedRecord } from '../schema/schema.js';
import { mask, type Profile } from '../seal/mask-view.js';
import { createTagger, type IntegrityKeySource, type VerifyResult } from './tag.js';

export interface RecordVerifier {
  /** ok, or the first path that differs and why. Never throws for a bad record. */
  verify<S extends Schema>(schema: S, sealed: SealedRecord<S>): Promise<VerifyResult>;
  /** `mask()` of a record whose tag verifies; IntegrityError otherwise. */
  mask<S extends Schema>(schema: S, sealed: SealedRecord<S>, profile?: Profile): Promise<MaskedRecord<S>>;
  /** Zero the derived keys. */
  close(): void;
}

/** A verifier over any source of the `integrity` secret (a keyring, or an integrity-only key file). */
export function createVerifier(keys: IntegrityKeySource): RecordVerifier {
  const tagger = createTagger(keys);
  return {
    verify: (schema, sealed) => tagger.verify(schema, sealed),
    async mask(schema, sealed, profile) {
      const verdict = await tagger.verify(schema, sealed);
      if (!verdict.ok) throw new IntegrityError(verdict.path, verdict.reason);
      return mask(schema, sealed, profile);
    },
    close: () => tagger.close(),
  };
}
