/**
 * Native crypto on Node (OpenSSL through `node:crypto`), loaded by the core as `#backend` only under
 * the `node` condition, so no browser or edge bundle contains it. Raw primitives only: this module
 * imports nothing from the core (a CommonJS and an ES module copy of the core may share it).
 * `WAYBILL_SEAL_BACKEND=js` disables it: the sealer then stays on the portable path.
 * @module
 */
import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import type { NativeCrypto } from './backend.js';

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

const nodeCrypto: NativeCrypto = {
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
};

export const backend: NativeCrypto | undefined = process.env['WAYBILL_SEAL_BACKEND'] === 'js' ? undefined : nodeCrypto;
