/**
 * AEAD suites used for field encryption. Each suite is a thin adapter over an implementation with
 * noble's shape, with its key and nonce sizes and its per-key message cap: AES-256-GCM and
 * XChaCha20-Poly1305 from noble (audited), SM4-GCM (RFC 8998) from `./sm` on noble's GHASH.
 */
import { gcm } from '@noble/ciphers/aes.js';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { AuthenticationError, ConfigError } from '../errors.js';
import { sm4gcm } from './sm/sm4gcm.js';

export const SUITES = ['xchacha20-poly1305', 'aes-256-gcm', 'sm4-gcm'] as const;
export type SuiteName = (typeof SUITES)[number];

export interface AeadSuite {
  readonly name: SuiteName;
  readonly keyLength: number;
  readonly nonceLength: number;
  readonly tagLength: number;
  /**
   * How many messages one data key may encrypt with random nonces before the sealer must move
   * to a new data key generation (undefined: no practical limit, as with 192-bit nonces).
   */
  readonly messageCap: number | undefined;
  /** Returns ciphertext || tag. */
  encrypt(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array;
  /** Throws AuthenticationError on any failure; never returns partial plaintext. */
  decrypt(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array;
}

type NobleAead = (key: Uint8Array, nonce: Uint8Array, aad?: Uint8Array) => {
  encrypt(p: Uint8Array): Uint8Array;
  decrypt(c: Uint8Array): Uint8Array;
};

function nobleSuite(
  name: SuiteName,
  cipher: NobleAead,
  keyLength: number,
  nonceLength: number,
  messageCap: number | undefined,
): AeadSuite {
  return {
    name,
    keyLength,
    nonceLength,
    tagLength: 16,
    messageCap,
    encrypt(key, nonce, plaintext, aad) {
      if (key.length !== keyLength || nonce.length !== nonceLength) throw new ConfigError(`${name}: wrong key or nonce size`);
      return cipher(key, nonce, aad).encrypt(plaintext);
    },
    decrypt(key, nonce, sealed, aad) {
      if (key.length !== keyLength || nonce.length !== nonceLength) throw new AuthenticationError();
      try {
        return cipher(key, nonce, aad).decrypt(sealed);
      } catch {
        throw new AuthenticationError();
      }
    },
  };
}

/**
 * NIST SP 800-38D caps random 96-bit nonces at 2^32 messages per key. Our counter is kept per
 * sealer instance, so the default leaves a wide margin for many instances sharing a scope key.
 */
export const GCM_DEFAULT_MESSAGE_CAP = 2 ** 28;

const registry = new Map<string, AeadSuite>([
  ['xchacha20-poly1305', nobleSuite('xchacha20-poly1305', xchacha20poly1305, 32, 24, undefined)],
  ['aes-256-gcm', nobleSuite('aes-256-gcm', gcm, 32, 12, GCM_DEFAULT_MESSAGE_CAP)],
  // GB/T 39786 deployments: 128-bit SM4 keys, RFC 8998 96-bit nonces, same cap as AES-GCM.
  ['sm4-gcm', nobleSuite('sm4-gcm', sm4gcm, 16, 12, GCM_DEFAULT_MESSAGE_CAP)],
]);

export function isSuiteName(name: unknown): name is SuiteName {
  return typeof name === 'string' && registry.has(name);
}

export function getSuite(name: string): AeadSuite {
  const suite = registry.get(name);
  if (!suite) throw new ConfigError(`unknown suite "${name}" (known: ${[...registry.keys()].join(', ')})`);
  return suite;
}
