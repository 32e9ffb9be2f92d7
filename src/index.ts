/**
 * waybill-seal: field-level encryption, stored display masks and keyed search for waybill
 * personal data. This entry point is pure TypeScript (no Node built-ins): it runs in any runtime.
 * Node file helpers live in `waybill-seal/node`.
 */
export { s, type MaskedText, type Node, type ProtectedOptions, type Shape } from './schema/builder.js';
export {
  defineSchema,
  type Schema,
  type SchemaOptions,
  type PlainRecord,
  type SealedRecord,
  type MaskedRecord,
  type OpenedRecord,
  type PlainOpenedRecord,
  type Unredacted,
} from './schema/schema.js';
export { protectedPaths, isProtectedPath, type ProtectedPath } from './schema/paths.js';
export { waybill, type WaybillSchema } from './schema/waybill.js';
export { PROTECTED_KINDS, KEY_CLASSES, type ProtectedKind, type KeyClass, type VirtualNumber } from './schema/kinds.js';
// Schema files (JSON form of defineSchema; JSON Schema in schemas/waybill-seal-schema.json), issue 7.
export {
  schemaFromJson,
  schemaToJson,
  parseSchemaJson,
  SchemaFileError,
  SCHEMA_FILE_FORMAT,
  FIELD_KINDS,
  type SchemaJson,
  type FieldJson,
  type FieldKind,
  type ParsedSchemaJson,
} from './schema/from-json.js';

export { createSealer, type Sealer, type SealerOptions, type AccessRequest, type SearchRequest, type SearchGrant, type OpenResult } from './seal/sealer.js';
export { mask, type Profile } from './seal/mask-view.js';
export { createVerifier, type RecordVerifier } from './integrity/verify.js';
export type { VerifyResult, IntegrityKeySource, IntegrityOptions, TagAlg, TagKeyRef } from './integrity/tag.js';
export { parseVerifyKeys, exportVerifyKeys, VERIFY_KEYS_FORMAT, type VerifyKeys, type VerifyKeyFile } from './integrity/verify-keys.js';
export { SIGNATURE_ALGS, type SignatureAlg } from './crypto/signature.js';
export { inspect, type FieldInfo } from './seal/inspect.js';
export { monthScope, type ScopeFunction } from './seal/scope.js';

// Keyed search: blind indexes, FF1 tokens, planner, lookups, re-indexing (issue 3).
export * from './search/index.js';
export { addSecretVersion, dropSecretVersion, withIndexKeks, withoutIndexSecret } from './keys/key-file.js';

export { SUITES, type SuiteName } from './crypto/aead.js';
export type { BackendChoice } from './crypto/backend.js';
export { describeBackend } from './crypto/backend-load.js';
// Phone metadata: installed by this entry; `waybill-seal/mask` bundles take it from `waybill-seal/phone`.
export { usePhoneMetadata, type PhoneMetadata, type PhoneParser, type ParsedPhone, type PhoneContext, type PhoneType } from './normalize/phone-core.js';
export { FORMAT_VERSION, type SealedField } from './format/sealed-field.js';

export type { Keyring, WrapContext, WrappedDataKey, SecretName } from './keys/keyring.js';
export { MemoryKeyStore, type KeyStore, type DataKeyRecord, type KeyFilter } from './keys/key-store.js';
export { indexKeyClass, retireIndexKeys, withIndexClasses, type IndexKeyFilter, type SearchWindow } from './keys/index-keys.js';
export {
  LocalKeyring,
  generateLocalKeyMaterial,
  KEK_ALGS,
  type KekAlg,
  type LocalKeyMaterialOptions,
  type LocalKeyMaterial,
  type KekVersion,
} from './keys/local-keyring.js';
export { newKeyFile, parseKeyFile, type KeyFile, type NewKeyFileOptions } from './keys/key-file.js';
export { presets, presetFor, type SealerPreset } from './presets/index.js';
export type { KeyCacheOptions } from './keys/cache.js';

// Key lifecycle: rotation, re-sealing, multi-authority and caching keyrings (issue 5).
export {
  rewrapDataKeys,
  kekUsage,
  assertKekUnused,
  retireDataKeys,
  addKekVersion,
  removeKekVersion,
  localKekIds,
  type RewrapOptions,
  type RewrapSummary,
  type RewrapEvent,
  type RewrapOutcome,
  type RetiredKek,
  type RotatableKeyMaterial,
} from './keys/rotation.js';
export { createResealer, type Resealer, type ResealerOptions, type ResealResult } from './seal/reseal.js';
export { MultiKeyring } from './keyrings/multi.js';
export { CachingKeyring, type CachingKeyringOptions, type CachingKeyringStats } from './keyrings/caching.js';

export type { MaskOptions, MaskContext } from './mask/index.js';

// Access control: policies, quotas, audit chain, redacted values, crypto-shredding (issue 4).
export * from './access/index.js';

export {
  WaybillSealError,
  ValidationError,
  AuthenticationError,
  FormatError,
  KeyError,
  KekNotAllowedError,
  ConfigError,
  FileError,
  AccessDeniedError,
  ShreddedError,
  IntegrityError,
  StoreError,
} from './errors.js';
