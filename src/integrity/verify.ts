/**
 * Checking records without decrypting anything: what a label printer or sorting centre runs before
 * it prints masks or routes on plain fields. With signed tags it holds only public keys
 * (`parseVerifyKeys`) and cannot make a tag; with HMAC tags it holds the integrity secret, which
 * makes tags as well as checking them.
 */
import { IntegrityError } from '../errors.js';
import type { MaskedRecord, Schema, SealedRecord } from '../schema/schema.js';
import { mask, type Profile } from '../seal/mask-view.js';
import { createTagger, type IntegrityKeySource, type IntegrityOptions, type VerifyResult } from './tag.js';
import type { VerifyKeys } from './verify-keys.js';

export interface RecordVerifier {
  /** ok, or the first path that differs and why. Never throws for a bad record. */
  verify<S extends Schema>(schema: S, sealed: SealedRecord<S>): Promise<VerifyResult>;
  /** `mask()` of a record whose tag verifies; IntegrityError otherwise. */
  mask<S extends Schema>(schema: S, sealed: SealedRecord<S>, profile?: Profile): Promise<MaskedRecord<S>>;
  /** Zero the derived keys. */
  close(): void;
}

/**
 * A verifier over verify-only keys (`parseVerifyKeys`: it accepts the keys the file lists, of its
 * algorithm only), or over a keyring or integrity-only key file. With `options.version` or
 * `options.accept` it accepts those keys only (as `open` does); without, every key the source holds.
 */
export function createVerifier(keys: IntegrityKeySource | VerifyKeys, options: IntegrityOptions = {}): RecordVerifier {
  const alg = 'alg' in keys ? keys.alg : options.alg;
  const pinned = options.version !== undefined || options.accept !== undefined;
  const tagger = createTagger(keys, 'hmac-sha256', { ...options, ...(alg ? { alg } : {}), acceptHeld: !pinned });
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
