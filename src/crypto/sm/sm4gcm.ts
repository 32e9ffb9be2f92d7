/**
 * SM4-GCM (RFC 8998; NIST SP 800-38D with SM4 as the 128-bit block cipher). 16-byte tag appended
 * to the ciphertext. Any non-empty nonce is accepted (12 bytes recommended: other lengths are
 * hashed with GHASH into J0, §7.1), so Wycheproof's odd-length IV cases work.
 * Timing: SM4 and noble's GHASH both use tables indexed by secret data; see index.ts.
 * @module
 */
import { ghash } from '@noble/ciphers/_polyval.js';
import { clean, equalBytes, u64Lengths } from '@noble/ciphers/utils.js';
import { sm4EncryptWords, sm4Expand } from './sm4.js';

const TAG_LENGTH = 16;
/** SP 800-38D §5.2.1.1: len(P) ≤ 2^39 − 256 bits, i.e. inc32 never wraps back onto J0. */
const MAX_PLAINTEXT = 2 ** 36 - 32;

/** Same shape as the `Cipher` returned by noble's `gcm`. */
export interface Sm4GcmCipher {
  /** Returns ciphertext || 16-byte tag. Callable once per instance (one nonce, one message). */
  encrypt(plaintext: Uint8Array): Uint8Array;
  /** Verifies the tag first and throws on mismatch; never returns unauthenticated plaintext. */
  decrypt(ciphertextWithTag: Uint8Array): Uint8Array;
}

function checkBytes(value: unknown, name: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`sm4-gcm: ${name} must be a Uint8Array`);
}

function checkLength(length: number): void {
  if (length > MAX_PLAINTEXT) throw new RangeError('sm4-gcm: message too long for GCM');
}

const wordsToBytes = (w: Uint32Array, out: Uint8Array): Uint8Array => {
  const v = new DataView(out.buffer, out.byteOffset, 16);
  for (let i = 0; i < 4; i++) v.setUint32(4 * i, w[i]!);
  return out;
};

/**
 * GCTR (§6.5) from counter block j[0..3], incrementing only the low word (inc32, §6.2):
 * dst = src ^ keystream. `dst` must have src.length bytes.
 */
function gctr(rk: Uint32Array, j: Uint32Array, src: Uint8Array, dst: Uint8Array): void {
  const c0 = j[0]!;
  const c1 = j[1]!;
  const c2 = j[2]!;
  let c3 = j[3]!;
  const ks = new Uint32Array(4);
  const sv = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const dv = new DataView(dst.buffer, dst.byteOffset, dst.byteLength);
  const full = src.length - (src.length % 16);
  let pos = 0;
  for (; pos < full; pos += 16, c3 = (c3 + 1) >>> 0) {
    sm4EncryptWords(rk, c0, c1, c2, c3, ks);
    dv.setUint32(pos, sv.getUint32(pos) ^ ks[0]!);
    dv.setUint32(pos + 4, sv.getUint32(pos + 4) ^ ks[1]!);
    dv.setUint32(pos + 8, sv.getUint32(pos + 8) ^ ks[2]!);
    dv.setUint32(pos + 12, sv.getUint32(pos + 12) ^ ks[3]!);
  }
  if (pos < src.length) {
    sm4EncryptWords(rk, c0, c1, c2, c3, ks);
    for (let i = 0; pos + i < src.length; i++)
      dst[pos + i] = src[pos + i]! ^ ((ks[i >> 2]! >>> (24 - 8 * (i & 3))) & 0xff);
  }
  clean(ks);
}

/**
 * SM4-GCM AEAD for one (key, nonce, aad). Like noble's `gcm(key, nonce, aad)`:
 * `encrypt(plaintext)` → ciphertext || tag, `decrypt(ciphertext || tag)` → plaintext.
 * Key: 16 bytes. Nonce: non-empty, 12 bytes recommended, never reused under one key.
 */
export function sm4gcm(key: Uint8Array, nonce: Uint8Array, aad?: Uint8Array): Sm4GcmCipher {
  checkBytes(key, 'key');
  if (key.length !== 16) throw new RangeError(`sm4-gcm: key must be 16 bytes, got ${key.length}`);
  checkBytes(nonce, 'nonce');
  if (nonce.length === 0) throw new RangeError('sm4-gcm: nonce must not be empty');
  if (aad !== undefined) checkBytes(aad, 'aad');
  const aadLength = aad ? aad.length : 0;

  // Derived per call and wiped afterwards, so no expanded key outlives an operation.
  function deriveKeys() {
    const rk = sm4Expand(key);
    const w = new Uint32Array(4);
    sm4EncryptWords(rk, 0, 0, 0, 0, w);
    const h = wordsToBytes(w, new Uint8Array(16)); // H = E_K(0^128)
    const j0 = new Uint32Array(4);
    if (nonce.length === 12) {
      const nv = new DataView(nonce.buffer, nonce.byteOffset, 12);
      j0.set([nv.getUint32(0), nv.getUint32(4), nv.getUint32(8), 1]);
    } else {
      // J0 = GHASH_H(IV || 0^(s+64) || [len(IV)]_64); ghash zero-pads each update to a block.
      const lenBlock = u64Lengths(8 * nonce.length, 0, false);
      const jb = ghash.create(h).update(nonce).update(lenBlock).digest();
      const jv = new DataView(jb.buffer, jb.byteOffset, 16);
      for (let i = 0; i < 4; i++) j0[i] = jv.getUint32(4 * i);
      clean(jb);
    }
    sm4EncryptWords(rk, j0[0]!, j0[1]!, j0[2]!, j0[3]!, w);
    const tagMask = wordsToBytes(w, new Uint8Array(16)); // E_K(J0)
    j0[3] = (j0[3]! + 1) >>> 0; // payload starts at inc32(J0)
    clean(w);
    return { rk, h, counter: j0, tagMask };
  }

  // T = E_K(J0) ^ GHASH_H(A || 0^v || C || 0^u || [len(A)]_64 || [len(C)]_64), §7.1 steps 5-6.
  function computeTag(h: Uint8Array, tagMask: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    const g = ghash.create(h, aadLength + ciphertext.length);
    if (aad) g.update(aad);
    g.update(ciphertext).update(u64Lengths(8 * ciphertext.length, 8 * aadLength, false));
    const tag = g.digest();
    for (let i = 0; i < TAG_LENGTH; i++) tag[i]! ^= tagMask[i]!;
    return tag;
  }

  let encrypted = false;
  return {
    encrypt(plaintext: Uint8Array): Uint8Array {
      // Consumed even if validation fails below, as in noble: one instance, one message.
      if (encrypted) throw new Error('sm4-gcm: encrypt() already called; use a new nonce');
      encrypted = true;
      checkBytes(plaintext, 'plaintext');
      checkLength(plaintext.length);
      const { rk, h, counter, tagMask } = deriveKeys();
      const out = new Uint8Array(plaintext.length + TAG_LENGTH);
      const ciphertext = out.subarray(0, plaintext.length);
      gctr(rk, counter, plaintext, ciphertext);
      out.set(computeTag(h, tagMask, ciphertext), plaintext.length);
      clean(rk, h, counter, tagMask);
      return out;
    },
    decrypt(ciphertextWithTag: Uint8Array): Uint8Array {
      checkBytes(ciphertextWithTag, 'ciphertext');
      if (ciphertextWithTag.length < TAG_LENGTH)
        throw new RangeError(`sm4-gcm: ciphertext must be at least ${TAG_LENGTH} bytes`);
      const length = ciphertextWithTag.length - TAG_LENGTH;
      checkLength(length);
      const ciphertext = ciphertextWithTag.subarray(0, length);
      const { rk, h, counter, tagMask } = deriveKeys();
      const tag = computeTag(h, tagMask, ciphertext);
      try {
        // Authenticate before decrypting, so no unauthenticated plaintext ever exists.
        if (!equalBytes(tag, ciphertextWithTag.subarray(length)))
          throw new Error('sm4-gcm: invalid tag');
        const out = new Uint8Array(length);
        gctr(rk, counter, ciphertext, out);
        return out;
      } finally {
        clean(rk, h, counter, tagMask, tag);
      }
    },
  };
}
