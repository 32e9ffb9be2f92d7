/**
 * Loading the runtime's native crypto module (`#backend`, see backend.ts) and its known-answer
 * self-test against the portable implementations. Imported by the sealer, not by the mask and
 * token code (whose bundles need none of the AEAD code the self-test compares with).
 * @module
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { setNativeCrypto, type NativeCrypto } from './backend.js';
import { getSuite, nativeSuitesOf } from './aead.js';

let loading: Promise<NativeCrypto | undefined> | undefined;

/** Loads the runtime's native module once; resolves to it, or undefined (none, or it failed its self-test). */
export function loadNativeCrypto(): Promise<NativeCrypto | undefined> {
  loading ??= import('#backend').then(
    (m) => {
      const candidate = m.backend as NativeCrypto | undefined;
      const ok = candidate !== undefined && selfTest(candidate) ? candidate : undefined;
      setNativeCrypto(ok);
      return ok;
    },
    () => undefined,
  );
  return loading;
}

/** Installs a native module directly (tests, and runtimes that provide their own). Returns false if it fails the self-test. */
export function useNativeCrypto(candidate: NativeCrypto | undefined): boolean {
  if (candidate !== undefined && !selfTest(candidate)) return false;
  setNativeCrypto(candidate);
  loading = Promise.resolve(candidate);
  return true;
}

const eq = (a: Uint8Array | undefined, b: Uint8Array): boolean => a !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Known-answer test against the portable implementations on fixed inputs (several block and tail
 * sizes), including a rejected forgery. A runtime whose `node:crypto` differs is not used.
 */
export function selfTest(b: NativeCrypto): boolean {
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
