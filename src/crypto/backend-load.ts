/**
 * Loading the runtime's native crypto module (`#backend`, see backend.ts) and its known-answer
 * self-test against the portable implementations. Imported by the sealer, not by the mask and
 * token code (whose bundles need none of the AEAD code the self-test compares with).
 * @module
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { opensslOnly, setNativeCrypto, type BackendChoice, type NativeCrypto } from './backend.js';
import { getSuite, nativeSuitesOf, SUITES } from './aead.js';

let loading: Promise<NativeCrypto | undefined> | undefined;

/**
 * Loads the runtime's native module once; resolves to it, or undefined (none, or it failed its
 * self-test). A module whose libsodium layer fails the self-test is used without it (OpenSSL only).
 */
export function loadNativeCrypto(): Promise<NativeCrypto | undefined> {
  loading ??= import('#backend').then(
    (m) => {
      const ok = passing(m.backend as NativeCrypto | undefined);
      setNativeCrypto(ok);
      return ok;
    },
    () => undefined,
  );
  return loading;
}

/**
 * What a backend choice runs, per suite, once native crypto has loaded: e.g. `xchacha20-poly1305:
 * libsodium (sodium-native 5.1.0), aes-256-gcm: node:crypto, sm4-gcm: js` (`keygen`, the CLI and the
 * demo print it).
 */
export async function describeBackend(backend: BackendChoice = 'auto'): Promise<string> {
  if (backend !== 'js') await loadNativeCrypto();
  return SUITES.map((s) => `${s}: ${getSuite(s, backend).backend}`).join(', ');
}

/** `candidate` if it passes the self-test, else its OpenSSL layer alone if that passes, else undefined. */
function passing(candidate: NativeCrypto | undefined): NativeCrypto | undefined {
  return candidate === undefined ? undefined : [candidate, opensslOnly(candidate)].find(selfTest);
}

/**
 * Installs a native module directly (tests, and runtimes that provide their own), without its
 * libsodium layer if only that fails the self-test. Returns false if nothing of it passes.
 */
export function useNativeCrypto(candidate: NativeCrypto | undefined): boolean {
  const ok = passing(candidate);
  if (candidate !== undefined && ok === undefined) return false;
  setNativeCrypto(ok);
  loading = Promise.resolve(ok);
  return true;
}

const eq = (a: Uint8Array | undefined, b: Uint8Array): boolean => a !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Known-answer test against the portable implementations on fixed inputs (several block and tail
 * sizes), including a rejected forgery, of every layer `b` offers (with libsodium and, as
 * `backend: 'openssl'` uses it, without). A runtime whose `node:crypto` or libsodium differs is not used.
 */
export function selfTest(b: NativeCrypto): boolean {
  const openssl = opensslOnly(b);
  return layerTest(b) && (openssl === b || layerTest(openssl));
}

function layerTest(b: NativeCrypto): boolean {
  try {
    const key = Uint8Array.from({ length: 32 }, (_, i) => (i * 29 + 7) & 0xff);
    const nonce = Uint8Array.from({ length: 24 }, (_, i) => (i * 13 + 1) & 0xff);
    const aad = Uint8Array.from({ length: 37 }, (_, i) => (i * 3) & 0xff);
    const native = nativeSuitesOf(b);
    for (const length of [0, 1, 16, 31, 64, 100]) {
      const plain = Uint8Array.from({ length }, (_, i) => (i * 7 + length) & 0xff);
      for (const name of ['xchacha20-poly1305', 'aes-256-gcm'] as const) {
        const js = getSuite(name, 'js');
        const n = nonce.subarray(0, js.nonceLength);
        const sealed = native[name].encrypt(key, n, plain, aad);
        if (!eq(sealed, js.encrypt(key, n, plain, aad)) || !eq(native[name].decrypt(key, n, sealed, aad), plain) || !eq(js.decrypt(key, n, sealed, aad), plain)) return false;
        const forged = sealed.slice();
        forged[forged.length - 1]! ^= 1;
        if (opens(() => native[name].decrypt(key, n, forged, aad))) return false;
      }
      if (!eq(b.hmacSha256(key, plain), hmac(sha256, key, plain))) return false;
      if (!eq(b.hmacSha256Stream(key).update(aad).update(plain).digest(), hmac.create(sha256, key).update(aad).update(plain).digest())) return false;
    }
    if (b.ed25519Signer || b.ed25519Verifier) {
      if (!b.ed25519Signer || !b.ed25519Verifier) return false;
      const pub = ed25519.getPublicKey(key);
      const sig = b.ed25519Signer(key, pub)(aad);
      const forged = sig.slice();
      forged[0]! ^= 1;
      const verify = b.ed25519Verifier(pub);
      if (!eq(sig, ed25519.sign(aad, key)) || !verify(aad, sig) || verify(aad, forged) || verify(nonce, sig)) return false;
    }
    return true;
  } catch {
    return false;
  }
}

/** Whether a decryption returns instead of throwing. */
function opens(decrypt: () => Uint8Array): boolean {
  try {
    decrypt();
    return true;
  } catch {
    return false;
  }
}
