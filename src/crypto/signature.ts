/**
 * Record signatures (docs/FORMAT.md §11.2): for parties that must check record tags but must never
 * be able to make them (label printers, stations, `mask`). The sealer signs the tag message with a
 * private key; verifiers hold only the public key.
 *
 *   ed25519  RFC 8032 Ed25519 from @noble/curves (audited); strict verification (no ZIP-215 leniency)
 *   sm2      GB/T 32918.2 SM2 with SM3 and the default signer id "1234567812345678", from the
 *            optional package sm-crypto-v2 (built on @noble/curves). Node's crypto cannot make SM2
 *            signatures: an SM2-curve EC key in Node 20 / OpenSSL 3.0 signs ECDSA, not SM2.
 *
 * Both signatures are 64 bytes (SM2: r ‖ s, 32 bytes each, big-endian). Private keys are 32 bytes
 * (Ed25519 seed; SM2 scalar d, big-endian), public keys 32 bytes (Ed25519) or 65 bytes (SM2:
 * 0x04 ‖ x ‖ y).
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToHex as toHex, hexToBytes as fromHex } from '@noble/hashes/utils.js';
import { randomBytes } from './random.js';
import { nativeCrypto, type BackendChoice } from './backend.js';
import { ConfigError, KeyError } from '../errors.js';

export const SIGNATURE_ALGS = ['ed25519', 'sm2'] as const;
export type SignatureAlg = (typeof SIGNATURE_ALGS)[number];
export const SIGNATURE_BYTES = 64;
const PUBLIC_KEY_BYTES: Record<SignatureAlg, number> = { ed25519: 32, sm2: 65 };

export const isSignatureAlg = (v: unknown): v is SignatureAlg => v === 'ed25519' || v === 'sm2';

/** The parts of sm-crypto-v2 used here (its SM2 over @noble/curves). */
interface Sm2Lib {
  generateKeyPairHex(): { privateKey: string; publicKey: string };
  getPublicKeyFromPrivateKey(privateKey: string): string;
  doSignature(msg: Uint8Array, privateKey: string, options: { hash: true; der: false; publicKey: string }): string;
  doVerifySignature(msg: Uint8Array, signHex: string, publicKey: string, options: { hash: true; der: false }): boolean;
}

let sm2Lib: Promise<Sm2Lib> | undefined;
function loadSm2(): Promise<Sm2Lib> {
  // A computed specifier: bundlers leave the optional package out (it is loaded only where SM2 is used).
  const name = 'sm-crypto-v2';
  sm2Lib ??= (import(/* @vite-ignore */ /* webpackIgnore: true */ name) as Promise<{ sm2: Sm2Lib } | { default: { sm2: Sm2Lib } }>).then(
    (m: { sm2: Sm2Lib } | { default: { sm2: Sm2Lib } }) => ('sm2' in m ? m.sm2 : m.default.sm2),
    () => {
      sm2Lib = undefined;
      throw new ConfigError('SM2 record signatures need the optional package sm-crypto-v2 (npm install sm-crypto-v2)');
    },
  );
  return sm2Lib;
}

/** A new private signing key (32 bytes) from the CSPRNG. */
export async function newSigningKey(alg: SignatureAlg): Promise<Uint8Array> {
  if (alg === 'ed25519') return randomBytes(32);
  // SM2 scalars must lie in [1, n-2]: the library draws one from the platform CSPRNG.
  return fromHex((await loadSm2()).generateKeyPairHex().privateKey.padStart(64, '0'));
}

function checkPrivate(alg: SignatureAlg, key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== 32) throw new KeyError('bad_key', `${alg} signing key must be 32 bytes`);
}

/** The public key of a private signing key. */
export async function publicKeyOf(alg: SignatureAlg, privateKey: Uint8Array): Promise<Uint8Array> {
  checkPrivate(alg, privateKey);
  if (alg === 'ed25519') return ed25519.getPublicKey(privateKey);
  return fromHex((await loadSm2()).getPublicKeyFromPrivateKey(toHex(privateKey)));
}

/** Signs `message`: deterministic for Ed25519, randomised (CSPRNG nonce) for SM2. */
export type SignFn = (message: Uint8Array) => Uint8Array;
/** Checks a signature; false for any malformed input, never throws. */
export type VerifyFn = (message: Uint8Array, signature: Uint8Array) => boolean;

/**
 * `backend: 'js'` keeps Ed25519 on noble; otherwise it runs on the native module where one is loaded
 * (`loadNativeCrypto`: the sealer loads it, and so does the CLI): same bytes, Ed25519 is deterministic.
 */
export async function signerOf(alg: SignatureAlg, privateKey: Uint8Array, backend: BackendChoice = 'auto'): Promise<SignFn> {
  checkPrivate(alg, privateKey);
  if (alg === 'ed25519') {
    const key = privateKey.slice();
    const native = backend === 'js' ? undefined : nativeCrypto();
    if (native?.ed25519Signer) return native.ed25519Signer(key, ed25519.getPublicKey(key));
    return (message) => ed25519.sign(message, key);
  }
  const lib = await loadSm2();
  const d = toHex(privateKey);
  const publicKey = lib.getPublicKeyFromPrivateKey(d);
  return (message) => fromHex(lib.doSignature(message, d, { hash: true, der: false, publicKey }));
}

export async function verifierOf(alg: SignatureAlg, publicKey: Uint8Array, backend: BackendChoice = 'auto'): Promise<VerifyFn> {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== PUBLIC_KEY_BYTES[alg] || (alg === 'sm2' && publicKey[0] !== 0x04)) {
    throw new KeyError('bad_key', `${alg} public key must be ${PUBLIC_KEY_BYTES[alg]} bytes`);
  }
  if (alg === 'ed25519') {
    const key = publicKey.slice();
    const native = backend === 'js' ? undefined : nativeCrypto();
    if (native?.ed25519Verifier) return native.ed25519Verifier(key);
    return (message, signature) => {
      try {
        return signature.length === SIGNATURE_BYTES && ed25519.verify(signature, message, key, { zip215: false });
      } catch {
        return false;
      }
    };
  }
  const lib = await loadSm2();
  const pub = toHex(publicKey);
  return (message, signature) => {
    try {
      return signature.length === SIGNATURE_BYTES && lib.doVerifySignature(message, toHex(signature), pub, { hash: true, der: false });
    } catch {
      return false;
    }
  };
}
