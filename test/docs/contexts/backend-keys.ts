/** ts-context `backend-keys`: code inside examples/backend/keys.ts (its `loadKeys`, the `env` it reads). */
export { loadKeys } from '../../../examples/backend/keys.js';
export declare const env: Readonly<Record<string, string | undefined>>;
