/**
 * `waybill-seal/mask`: masks and search tokens for browsers and edge runtimes, without the sealer,
 * the AEAD code or the phone metadata.
 *
 * - `mask(schema, sealed, profile)`: the stored label/screen masks of a sealed record (no key), and
 *   `createVerifier` to check a record's integrity tag before printing it (integrity secret only);
 * - `computeMasks` / `maskValue` / `checkProtectedValue`: masks and validation of plain values;
 * - `createTokenizer({ keyring })`: query tokens from the index secret alone.
 *
 * Phone numbers need libphonenumber's metadata (≈ 150 kB minified): masking or tokenising a phone
 * here throws ConfigError until it is installed, e.g. lazily:
 *
 * ```ts
 * import { usePhoneMetadata } from 'waybill-seal/mask';
 * const { phoneMetadata } = await import('waybill-seal/phone');
 * usePhoneMetadata(phoneMetadata);
 * ```
 *
 * Names, addresses, ID numbers, emails and text, stored masks and non-phone tokens work without it.
 * The main `waybill-seal` entry installs the metadata itself.
 * @module
 */
export { s, type MaskedText, type Node, type ProtectedOptions, type Shape } from './schema/builder.js';
export { defineSchema, type Schema, type SchemaOptions, type PlainRecord, type SealedRecord, type MaskedRecord } from './schema/schema.js';
export { waybill, type WaybillSchema } from './schema/waybill.js';
export { PROTECTED_KINDS, KEY_CLASSES, type ProtectedKind, type KeyClass, type VirtualNumber } from './schema/kinds.js';
export { mask, type Profile } from './seal/mask-view.js';
export { createVerifier, type RecordVerifier } from './integrity/verify.js';
export type { VerifyResult, IntegrityKeySource } from './integrity/tag.js';
export { computeMasks, maskValue, checkProtectedValue, maskAll, type MaskOptions, type MaskContext, type MaskProfile } from './mask/index.js';
export { createTokenizer, type Tokenizer, type TokenizerOptions } from './search/tokenizer.js';
export { storedToken } from './search/find.js';
export { tokenVersion } from './search/tokens.js';
export type { IndexName, IndexHash, FieldPath } from './search/definition.js';
export type { RecordTokens, TokenQueryOptions, RecordTokenOptions, TokenKeySource } from './search/engine.js';
export {
  usePhoneMetadata,
  type PhoneMetadata,
  type PhoneParser,
  type ParsedPhone,
  type PhoneContext,
  type PhoneType,
} from './normalize/phone-core.js';
export { WaybillSealError, ValidationError, ConfigError, KeyError, FormatError, IntegrityError } from './errors.js';
