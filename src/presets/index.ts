/**
 * Sealer presets: the algorithm choices of a deployment in one object, spread into
 * `createSealer({ ...presets.china, keyring, keyStore })`. A preset never holds keys.
 *
 * - `china`: SM4-GCM (RFC 8998) for fields and HMAC-SM3 for blind indexes, for carriers assessed
 *   under GB/T 39786 / MLPS level 3. Create its key file with `newKeyFile(presets.china.suite)` (or
 *   `waybill-seal keygen --suite sm4-gcm`) so the KEKs are SM4 too. Labels follow GB/T 41833 (the
 *   built-in `label` profile).
 * - `international`: AES-256-GCM (NIST SP 800-38D) and HMAC-SHA-256, the least surprising choice
 *   for cross-border shipments; `{ ...presets.international, suite: 'xchacha20-poly1305' }` is the
 *   other option.
 *
 * The index hash belongs to the deployment, not to a run: tokens made with one hash never match
 * queries made with the other, so seal and find must use the same preset (the CLI takes it from the
 * key file's `suite`).
 *
 * Choosing the suite is one link only: a commercial-cryptography assessment (密评) also needs a
 * certified HSM or KMS to hold the KEKs.
 */
import type { SuiteName } from '../crypto/aead.js';
import type { IndexHash } from '../schema/indexes.js';
import type { SealerOptions } from '../seal/sealer.js';

/** Algorithm options of a sealer, without keys or stores. */
export type SealerPreset = Readonly<Omit<Partial<SealerOptions>, 'keyring' | 'keyStore' | 'guard'>> & {
  readonly suite: SuiteName;
  readonly indexHash: IndexHash;
};

const china = Object.freeze({ suite: 'sm4-gcm', indexHash: 'hmac-sm3' }) satisfies SealerPreset;
const international = Object.freeze({ suite: 'aes-256-gcm', indexHash: 'hmac-sha256' }) satisfies SealerPreset;

export const presets: Readonly<{ china: SealerPreset; international: SealerPreset }> = Object.freeze({ china, international });

/**
 * The preset that belongs to a key file's default suite: `china` for `sm4-gcm`, otherwise
 * `international` with that suite (so HMAC-SHA-256 indexes, as before presets existed). The CLI builds its sealers from this, so everything keyed by
 * the deployment (not the per-run `--suite`) stays the same across runs.
 */
export function presetFor(suite: SuiteName): SealerPreset {
  return suite === 'sm4-gcm' ? presets.china : suite === presets.international.suite ? presets.international : { ...presets.international, suite };
}
