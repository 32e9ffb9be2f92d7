/**
 * `#backend` outside Node (browsers, edge runtimes, bundles): no native crypto, the portable
 * implementations are used. See backend.ts.
 * @module
 */
import type { NativeCrypto } from './backend.js';

export const backend: NativeCrypto | undefined = undefined;
