/** The one source of randomness for keys and nonces: the platform CSPRNG via noble. */
import { randomBytes as nobleRandomBytes } from '@noble/ciphers/utils.js';

export type RandomSource = (length: number) => Uint8Array;

export const randomBytes: RandomSource = (length) => nobleRandomBytes(length);
