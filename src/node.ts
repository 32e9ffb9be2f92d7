/** Node-only helpers: key files on disk and the JSON-file key store. */
export { JsonFileKeyStore } from './node/json-file-key-store.js';
export { createKeyFile, loadKeyFile, keyringFromEnv, type LoadedKeys } from './node/key-file-io.js';
