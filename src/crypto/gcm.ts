/**
 * GCM (NIST SP 800-38D) keyed once per data key, for the portable AES-256-GCM and SM4-GCM paths:
 * the block cipher's key schedule, H = E_K(0^128) and the GHASH table are computed when a key is
 * first used and reused for every message under it (noble's `gcm` and `sm4gcm` rebuild all three
 * per message). Per message only J0 = nonce ‖ 0^31 ‖ 1, E_K(J0), the CTR blocks and the GHASH
 * blocks remain. Only 96-bit nonces (the suites' size). Output is byte-identical to noble's `gcm`
 * and to OpenSSL (Wycheproof and property tests in test/crypto).
 *
 * The block ciphers are noble's AES (`unsafe.expandKeyLE` / `unsafe.encrypt`, table-based, see the
 * README's timing note) and this package's SM4; GHASH is noble's, subclassed to be reset per message.
 * @module
 */
import { GHASH } from '@noble/ciphers/_polyval.js';
import { unsafe as aes } from '@noble/ciphers/aes.js';
import { sm4EncryptWords, sm4Expand } from './sm/sm4.js';

const TAG_LENGTH = 16;
/** SP 800-38D §5.2.1.1: len(P) ≤ 2^39 − 256 bits, so inc32 never wraps back onto J0. */
const MAX_PLAINTEXT = 2 ** 36 - 32;

const le32 = (b: Uint8Array, p: number): number => (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
const be32 = (b: Uint8Array, p: number): number => ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
function putLe32(b: Uint8Array, p: number, v: number): void {
  b[p] = v & 0xff;
  b[p + 1] = (v >>> 8) & 0xff;
  b[p + 2] = (v >>> 16) & 0xff;
  b[p + 3] = v >>> 24;
}
function putBe32(b: Uint8Array, p: number, v: number): void {
  b[p] = v >>> 24;
  b[p + 1] = (v >>> 16) & 0xff;
  b[p + 2] = (v >>> 8) & 0xff;
  b[p + 3] = v & 0xff;
}

/** noble's GHASH with a reset, so one table serves every message under a key. */
class KeyedGhash extends GHASH {
  readonly #tail = new Uint8Array(16);

  begin(): void {
    this.s0 = 0;
    this.s1 = 0;
    this.s2 = 0;
    this.s3 = 0;
    this.finished = false;
  }

  /** data[off, off + len), zero-padded to a block boundary (GCM pads A and C separately). */
  absorb(data: Uint8Array, off: number, len: number): void {
    const full = off + (len & ~15);
    for (let p = off; p < full; p += 16) this._updateBlock(le32(data, p), le32(data, p + 4), le32(data, p + 8), le32(data, p + 12));
    if (len & 15) {
      const t = this.#tail;
      t.fill(0);
      for (let i = 0; i < (len & 15); i++) t[i] = data[full + i]!;
      this._updateBlock(le32(t, 0), le32(t, 4), le32(t, 8), le32(t, 12));
      t.fill(0);
    }
  }

  /** The 64-bit bit lengths of A and C (big-endian), then the hash XOR `mask`, into out[o..o+16]. */
  finish(aadLength: number, ctLength: number, mask: Uint8Array, out: Uint8Array, o: number): void {
    const t = this.#tail;
    t.fill(0);
    putBe32(t, 0, Math.floor(aadLength / 2 ** 29));
    putBe32(t, 4, (aadLength * 8) >>> 0);
    putBe32(t, 8, Math.floor(ctLength / 2 ** 29));
    putBe32(t, 12, (ctLength * 8) >>> 0);
    this._updateBlock(le32(t, 0), le32(t, 4), le32(t, 8), le32(t, 12));
    putLe32(t, 0, this.s0);
    putLe32(t, 4, this.s1);
    putLe32(t, 8, this.s2);
    putLe32(t, 12, this.s3);
    for (let i = 0; i < 16; i++) out[o + i] = t[i]! ^ mask[i]!;
    t.fill(0);
    this.begin();
  }
}

/** A 128-bit block cipher under one key: encrypts input[0..16] into out[0..16] (may alias). */
type BlockCipher = { encrypt(input: Uint8Array, out: Uint8Array): void; wipe(): void };

/** AES (noble) under one key; noble works on little-endian words of the block. */
function aesBlock(key: Uint8Array): BlockCipher {
  const xk = aes.expandKeyLE(key);
  return {
    encrypt(input, out) {
      const s = aes.encrypt(xk, le32(input, 0), le32(input, 4), le32(input, 8), le32(input, 12));
      putLe32(out, 0, s.s0);
      putLe32(out, 4, s.s1);
      putLe32(out, 8, s.s2);
      putLe32(out, 12, s.s3);
    },
    wipe: () => xk.fill(0),
  };
}

/** SM4 (this package) under one key, on big-endian words. */
function sm4Block(key: Uint8Array): BlockCipher {
  const rk = sm4Expand(key);
  const w = new Uint32Array(4);
  return {
    encrypt(input, out) {
      sm4EncryptWords(rk, be32(input, 0), be32(input, 4), be32(input, 8), be32(input, 12), w);
      for (let i = 0; i < 4; i++) putBe32(out, 4 * i, w[i]!);
      w.fill(0);
    },
    wipe: () => rk.fill(0),
  };
}

/** GCM under one key with 96-bit nonces: `seal` → ciphertext ‖ tag, `open` → plaintext or undefined. */
export interface KeyedGcm {
  seal(nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array;
  open(nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array | undefined;
  /** Zeroes the key schedule and the GHASH table; the object is unusable afterwards. */
  destroy(): void;
}

function keyedGcm(cipher: BlockCipher): KeyedGcm {
  const h = new Uint8Array(16);
  cipher.encrypt(h, h); // H = E_K(0^128)
  const ghash = new KeyedGhash(h, 2048);
  h.fill(0);
  const counter = new Uint8Array(16);
  const stream = new Uint8Array(16);
  const tagMask = new Uint8Array(16);
  const expected = new Uint8Array(16);
  let destroyed = false;

  /** J0 = nonce ‖ 1; tagMask = E_K(J0); counter left at inc32(J0). */
  function start(nonce: Uint8Array): void {
    if (destroyed) throw new Error('gcm: key destroyed');
    counter.set(nonce.subarray(0, 12));
    putBe32(counter, 12, 1);
    cipher.encrypt(counter, tagMask);
    putBe32(counter, 12, 2);
  }

  /** GCTR from the current counter: dst[dOff..] = src ^ keystream (inc32 per block). */
  function gctr(src: Uint8Array, dst: Uint8Array, dOff: number): void {
    let ctr = 2;
    for (let pos = 0; pos < src.length; pos += 16) {
      cipher.encrypt(counter, stream);
      const n = src.length - pos < 16 ? src.length - pos : 16;
      for (let i = 0; i < n; i++) dst[dOff + pos + i] = src[pos + i]! ^ stream[i]!;
      ctr = (ctr + 1) >>> 0;
      putBe32(counter, 12, ctr);
    }
  }

  function clear(): void {
    counter.fill(0);
    stream.fill(0);
    tagMask.fill(0);
    expected.fill(0);
  }

  return {
    seal(nonce, plaintext, aad) {
      if (plaintext.length > MAX_PLAINTEXT) throw new RangeError('gcm: message too long');
      start(nonce);
      const out = new Uint8Array(plaintext.length + TAG_LENGTH);
      gctr(plaintext, out, 0);
      ghash.begin();
      ghash.absorb(aad, 0, aad.length);
      ghash.absorb(out, 0, plaintext.length);
      ghash.finish(aad.length, plaintext.length, tagMask, out, plaintext.length);
      clear();
      return out;
    },
    open(nonce, sealed, aad) {
      const length = sealed.length - TAG_LENGTH;
      if (length < 0 || length > MAX_PLAINTEXT) return undefined;
      start(nonce);
      ghash.begin();
      ghash.absorb(aad, 0, aad.length);
      ghash.absorb(sealed, 0, length);
      ghash.finish(aad.length, length, tagMask, expected, 0);
      let diff = 0;
      for (let i = 0; i < TAG_LENGTH; i++) diff |= expected[i]! ^ sealed[length + i]!;
      if (diff !== 0) {
        clear();
        return undefined;
      }
      // Authenticated before anything is decrypted.
      const out = new Uint8Array(length);
      gctr(sealed.subarray(0, length), out, 0);
      clear();
      return out;
    },
    destroy() {
      destroyed = true;
      cipher.wipe();
      ghash.destroy();
      clear();
    },
  };
}

/** AES-GCM (noble AES) keyed once; key 16, 24 or 32 bytes (the suite uses 32). */
export const keyedAesGcm = (key: Uint8Array): KeyedGcm => keyedGcm(aesBlock(key));

/** SM4-GCM (RFC 8998) keyed once; key 16 bytes. */
export const keyedSm4Gcm = (key: Uint8Array): KeyedGcm => keyedGcm(sm4Block(key));
