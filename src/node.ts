/** Node-only helpers: key files on disk and the JSON-file key store. */
export { JsonFileKeyStore } from './node/json-file-key-store.js';
export { createKeyFile, loadKeyFile, loadVerifyKeys, keyringFromEnv, type LoadedKeys } from './node/key-file-io.js';
export { JsonlAuditSink, verifyAuditFile, type JsonlAuditSinkOptions } from './node/audit-file-sink.js';
export { JsonFileQuotaStore } from './node/json-file-quota-store.js';
export { FileCheckpointSink, readCheckpointFile } from './node/checkpoint-file.js';
export {
  keyFileStatus,
  rotateKeyFile,
  rewrapKeyFile,
  retireKeyFileKek,
  type KeyFileStatus,
  type KekVersionStatus,
} from './node/key-file-rotation.js';
export { resealFile, RESEAL_CHECKPOINT_FORMAT, type ResealFileOptions, type ResealFileSummary, type ResealProgress } from './node/reseal-file.js';
