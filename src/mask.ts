/**
 * `waybill-seal/mask`: masks for browsers and edge runtimes, without the sealer, the AEAD code or
 * the phone metadata. Nothing here computes a search token: devices send the query to the search
 * service (`sealer.search`, decided by the access policy and audited) and receive masked records.
 *
 * - `mask(schema, sealed, profile)`: the stored label/screen masks of a sealed record (no key), and
 *   `createVerifier` to check a record's integrity tag before printing it: with the public keys of a
 *   verify-only key file (`parseVerifyKeys`, signed tags), or the integrity secret (HMAC tags);
 * - `computeMasks` / `maskValue` / `checkProtectedValue`: masks and validation of plain values.
 *
 * Phone numbers need libphonenumber's metadata (≈ 150 kB minified): masking a phone here throws
 * ConfigError until it is installed, e.g. lazily:
 *
 * ```ts
 * import { usePhoneMetadata } from 'waybill-seal/mask';
 * const { phoneMetadata } = await import('waybill-seal/phone');
 * usePhoneMetadata(phoneMetadata);
 * ```
 *
 * Names, addresses, ID numbers, emails and text, and stored masks work without it.
 * The main `waybill-seal` entry installs the metadata itself.
 * @module
 */
export { s, type MaskedText, type Node, type ProtectedOptions, type Shape } from './schema/builder.js';
export { defineSchema, type Schema, type SchemaOptions, type PlainRecord, type SealedRecord, type MaskedRecord } from './schema/schema.js';
export { waybill, type WaybillSchema } from './schema/waybill.js';
export { PROTECTED_KINDS, KEY_CLASSES, type ProtectedKind, type KeyClass, type VirtualNumber } from './schema/kinds.js';
export { mask, type Profile } from './seal/mask-view.js';
export { createVerifier, type RecordVerifier } from './integrity/verify.js';
export { parseVerifyKeys, VERIFY_KEYS_FORMAT, type VerifyKeys, type VerifyKeyFile } from './integrity/verify-keys.js';
export type { VerifyResult, IntegrityKeySource } from './integrity/tag.js';
export { computeMasks, maskValue, checkProtectedValue, maskAll, type MaskOptions, type MaskContext, type MaskProfile } from './mask/index.js';
export type { IndexName, IndexHash, FieldPath } from './schema/indexes.js';
export {
  usePhoneMetadata,
  type PhoneMetadata,
  type PhoneParser,
  type ParsedPhone,
  type PhoneContext,
  type PhoneType,
} from './normalize/phone-core.js';
export { WaybillSealError, ValidationError, ConfigError, KeyError, FormatError, IntegrityError } from './errors.js';
