/**
 * Native crypto on Node (OpenSSL through `node:crypto`, and libsodium's XChaCha20-Poly1305 through
 * the optional dependency `sodium-native` where its prebuilt binary loads), loaded by the core as
 * `#backend` only under the `node` condition, so no browser or edge bundle contains it. Raw
 * primitives only: this module imports nothing from the core (a CommonJS and an ES module copy of the
 * core may share it). `WAYBILL_SEAL_BACKEND=js` disables it: the sealer then stays on the portable
 * path; `WAYBILL_SEAL_BACKEND=openssl` leaves libsodium out.
 * @module
 */
import { createCipheriv, createDecipheriv, createHmac, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { createRequire } from 'node:module';
import type { NativeAead, NativeCrypto } from './backend.js';

const TAG = 16;

function join(ct: Buffer, tag: Buffer): Uint8Array {
  const out = new Uint8Array(ct.length + TAG);
  out.set(ct);
  out.set(tag, ct.length);
  ct.fill(0);
  return out;
}

function seal(alg: 'chacha20-poly1305' | 'aes-256-gcm', key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  // Byte arrays go to OpenSSL as they are (wrapping each in a Buffer view costs more than the call saves).
  const c = alg === 'aes-256-gcm' ? createCipheriv(alg, key, nonce, { authTagLength: TAG }) : createCipheriv(alg, key, nonce, { authTagLength: TAG });
  c.setAAD(aad, { plaintextLength: plaintext.length });
  const ct = c.update(plaintext);
  c.final();
  return join(ct, c.getAuthTag());
}

function open(alg: 'chacha20-poly1305' | 'aes-256-gcm', key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array | undefined {
  const length = sealed.length - TAG;
  if (length < 0) return undefined;
  // authTagLength pins the tag size: OpenSSL would otherwise accept a truncated GCM tag.
  const d = alg === 'aes-256-gcm' ? createDecipheriv(alg, key, nonce, { authTagLength: TAG }) : createDecipheriv(alg, key, nonce, { authTagLength: TAG });
  d.setAuthTag(sealed.subarray(length));
  d.setAAD(aad, { plaintextLength: length });
  const plain = d.update(sealed.subarray(0, length));
  try {
    d.final();
  } catch {
    // OpenSSL decrypts before it verifies: nothing of an unauthenticated plaintext leaves here.
    plain.fill(0);
    return undefined;
  }
  const out = new Uint8Array(plain.length);
  out.set(plain);
  plain.fill(0);
  return out;
}

/** The subset of sodium-native this module calls (its public API, libsodium's names). */
interface Sodium {
  crypto_aead_xchacha20poly1305_ietf_encrypt(out: Uint8Array, m: Uint8Array, ad: Uint8Array | null, nsec: null, npub: Uint8Array, k: Uint8Array): number;
  crypto_aead_xchacha20poly1305_ietf_decrypt(out: Uint8Array, nsec: null, c: Uint8Array, ad: Uint8Array | null, npub: Uint8Array, k: Uint8Array): number;
}

/**
 * libsodium's XChaCha20-Poly1305 over reused buffers. A native call on a fresh small typed array
 * costs V8 a copy of it off the heap (about as much as the AEAD itself), so nonces, ciphertexts and
 * outputs pass through buffers allocated once; the result is copied out, and plaintext left in a
 * buffer is zeroed right after.
 */
function sodiumAead(sodium: Sodium, name: string): NativeAead {
  let input = new Uint8Array(4096);
  let output = new Uint8Array(4096);
  const nonce = new Uint8Array(24);
  const room = (n: number) => {
    if (n > output.length) {
      output = new Uint8Array(Math.max(n, 2 * output.length));
      input = new Uint8Array(output.length);
    }
  };
  return {
    name,
    seal(key, n, plaintext, aad) {
      const length = plaintext.length + TAG;
      room(length);
      nonce.set(n);
      const out = output.subarray(0, length);
      sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(out, plaintext, aad, null, nonce, key);
      return out.slice();
    },
    open(key, n, sealed, aad) {
      const length = sealed.length - TAG;
      if (length < 0) return undefined;
      room(sealed.length);
      nonce.set(n);
      input.set(sealed);
      const out = output.subarray(0, length);
      try {
        sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(out, null, input.subarray(0, sealed.length), aad, nonce, key);
      } catch {
        return undefined;
      }
      const plain = out.slice();
      out.fill(0);
      return plain;
    },
  };
}

/** sodium-native, when installed with a binary for this platform (no musl build, no compiler at install). */
function loadSodium(): NativeAead | undefined {
  try {
    const load = createRequire(import.meta.url);
    const sodium = load('sodium-native') as Sodium;
    const { version } = load('sodium-native/package.json') as { version: string };
    if (typeof sodium.crypto_aead_xchacha20poly1305_ietf_encrypt !== 'function' || typeof sodium.crypto_aead_xchacha20poly1305_ietf_decrypt !== 'function') return undefined;
    return sodiumAead(sodium, `libsodium (sodium-native ${version})`);
  } catch {
    return undefined;
  }
}

const jwkBytes = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('base64url');

const openssl: NativeCrypto = {
  name: 'node:crypto',
  chacha20poly1305Seal: (key, nonce, plaintext, aad) => seal('chacha20-poly1305', key, nonce, plaintext, aad),
  chacha20poly1305Open: (key, nonce, sealed, aad) => open('chacha20-poly1305', key, nonce, sealed, aad),
  aes256gcmSeal: (key, nonce, plaintext, aad) => seal('aes-256-gcm', key, nonce, plaintext, aad),
  aes256gcmOpen: (key, nonce, sealed, aad) => open('aes-256-gcm', key, nonce, sealed, aad),
  hmacSha256: (key, data) => new Uint8Array(createHmac('sha256', key).update(data).digest()),
  hmacSha256Stream(key) {
    const h = createHmac('sha256', key);
    const stream = {
      update(data: Uint8Array) {
        h.update(data);
        return stream;
      },
      digest: () => new Uint8Array(h.digest()),
    };
    return stream;
  },
  ed25519Signer(seed, publicKey) {
    const key = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: jwkBytes(seed), x: jwkBytes(publicKey) }, format: 'jwk' });
    return (message) => new Uint8Array(sign(null, message, key));
  },
  ed25519Verifier(publicKey) {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwkBytes(publicKey) }, format: 'jwk' });
    return (message, signature) => {
      try {
        return signature.length === 64 && verify(null, message, key, signature);
      } catch {
        return false;
      }
    };
  },
};

function choose(): NativeCrypto | undefined {
  const choice = process.env['WAYBILL_SEAL_BACKEND'];
  if (choice === 'js') return undefined;
  const sodium = choice === 'openssl' ? undefined : loadSodium();
  return sodium === undefined ? openssl : { ...openssl, xchacha20poly1305: sodium };
}

/** OpenSSL, with libsodium's XChaCha20-Poly1305 where sodium-native loads; undefined with `WAYBILL_SEAL_BACKEND=js`. */
export const backend: NativeCrypto | undefined = choose();
