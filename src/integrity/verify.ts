/**
 * Checking records without decrypting anything: what a label printer or sorting centre runs before
 * it prints masks or routes on plain fields. With signed tags it holds only public keys
 * (`parseVerifyKeys`) and cannot make a tag; with HMAC tags it holds the integrity secret, which
 * makes tags as well as checking them.
 */
import { IntegrityError } from '../errors.js';
import type { MaskedRecord, Schema, SealedRecord } from '../schema/schema.js';
import { mask, type Profile } from '../seal/mask-view.js';
import { createTagger, verifyRecord, type IntegrityKeySource, type IntegrityOptions, type VerifyResult } from './tag.js';
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
 * algorithm only, unless `options.version` or `options.accept` narrow them), or over a keyring or
 * integrity-only key file. A keyring is pinned as `open` is: the current key of `options.alg`
 * (default HMAC) plus `options.accept`, never whatever else it holds (a leftover HMAC secret that
 * printers once had must not vouch for records in a signing deployment).
 */
export function createVerifier(keys: IntegrityKeySource | VerifyKeys, options: IntegrityOptions = {}): RecordVerifier {
  const verifyOnly = 'alg' in keys;
  const alg = verifyOnly ? keys.alg : options.alg;
  const pinned = !verifyOnly || options.version !== undefined || options.accept !== undefined;
  const tagger = createTagger(keys, 'hmac-sha256', { ...options, ...(alg ? { alg } : {}), acceptHeld: !pinned });
  // The tag covers what the schema knows: a record with anything else (an extra field, a nested
  // `$tag`, a sealed field moved under a dotted key) is not one it vouches for, whatever the tag says.
  const verify = (schema: Schema, sealed: unknown): Promise<VerifyResult> => verifyRecord(tagger, schema, sealed);
  return {
    verify: (schema, sealed) => verify(schema, sealed),
    async mask(schema, sealed, profile) {
      const verdict = await verify(schema, sealed);
      if (!verdict.ok) throw new IntegrityError(verdict.path, verdict.reason);
      return mask(schema, sealed, profile);
    },
    close: () => tagger.close(),
  };
}
