/**
 * XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha-03 §2.3.1: HChaCha20 subkey, then the ChaCha20-Poly1305
 * AEAD of RFC 8439 §2.8 with nonce 0x00000000 ‖ nonce[16..24]) for the short values of waybill fields.
 *
 * Why not only noble's `xchacha20poly1305`: for a 20-byte field with its ~110-byte AAD, noble spends
 * about 12 µs per message in per-call validation, copies and views around ~1 µs of arithmetic, and a
 * waybill has six fields. This module does the same computation with no per-message allocation but
 * the output: the ChaCha20 block function (RFC 8439 §2.3) and HChaCha20 written out on 32-bit words,
 * and Poly1305 (RFC 8439 §2.5) in 13-bit limbs, the arithmetic of poly1305-donna-16 as noble has it.
 * Output is byte-identical to noble's and OpenSSL's (test/crypto/chacha.test.ts: RFC 8439 and draft
 * vectors, Wycheproof, property tests against both for every length up to several blocks).
 *
 * Timing: ARX and multiply-add only; no table lookups or branches on secret data (the tag
 * comparison is constant time). Not reentrant (module-level scratch), which JS guarantees for
 * synchronous code.
 * @module
 */

const SIGMA0 = 0x61707865;
const SIGMA1 = 0x3320646e;
const SIGMA2 = 0x79622d32;
const SIGMA3 = 0x6b206574;

const TAG_LENGTH = 16;
/** RFC 8439: a 32-bit block counter; block 0 keys Poly1305, so at most 2^32 − 1 data blocks. */
const MAX_MESSAGE = (2 ** 32 - 1) * 64;

/** Little-endian 32-bit words of `bytes[offset, offset + 4·n)`. */
export function leWords(bytes: Uint8Array, offset: number, n: number, out: Uint32Array = new Uint32Array(n)): Uint32Array {
  for (let i = 0, p = offset; i < n; i++, p += 4) {
    out[i] = (bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16) | (bytes[p + 3]! << 24)) >>> 0;
  }
  return out;
}

const le32 = (b: Uint8Array, p: number): number => (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;

/**
 * The ChaCha20 permutation of (sigma, key k[0..7], c12, c13, c14, c15). `feedForward` true: the RFC 8439
 * block (words added back) into out[0..15]; false: HChaCha20's output words 0–3 and 12–15 into out[0..7].
 */
function core(k: Uint32Array, c12: number, c13: number, c14: number, c15: number, out: Uint32Array, feedForward: boolean): void {
  const k0 = k[0]!, k1 = k[1]!, k2 = k[2]!, k3 = k[3]!, k4 = k[4]!, k5 = k[5]!, k6 = k[6]!, k7 = k[7]!;
  let x0 = SIGMA0, x1 = SIGMA1, x2 = SIGMA2, x3 = SIGMA3;
  let x4 = k0, x5 = k1, x6 = k2, x7 = k3, x8 = k4, x9 = k5, x10 = k6, x11 = k7;
  let x12 = c12, x13 = c13, x14 = c14, x15 = c15;
  let t: number;
  for (let i = 0; i < 10; i++) {
    // Column rounds: quarter rounds on (0,4,8,12) (1,5,9,13) (2,6,10,14) (3,7,11,15).
    x0 = (x0 + x4) | 0; t = x12 ^ x0; x12 = (t << 16) | (t >>> 16);
    x8 = (x8 + x12) | 0; t = x4 ^ x8; x4 = (t << 12) | (t >>> 20);
    x0 = (x0 + x4) | 0; t = x12 ^ x0; x12 = (t << 8) | (t >>> 24);
    x8 = (x8 + x12) | 0; t = x4 ^ x8; x4 = (t << 7) | (t >>> 25);
    x1 = (x1 + x5) | 0; t = x13 ^ x1; x13 = (t << 16) | (t >>> 16);
    x9 = (x9 + x13) | 0; t = x5 ^ x9; x5 = (t << 12) | (t >>> 20);
    x1 = (x1 + x5) | 0; t = x13 ^ x1; x13 = (t << 8) | (t >>> 24);
    x9 = (x9 + x13) | 0; t = x5 ^ x9; x5 = (t << 7) | (t >>> 25);
    x2 = (x2 + x6) | 0; t = x14 ^ x2; x14 = (t << 16) | (t >>> 16);
    x10 = (x10 + x14) | 0; t = x6 ^ x10; x6 = (t << 12) | (t >>> 20);
    x2 = (x2 + x6) | 0; t = x14 ^ x2; x14 = (t << 8) | (t >>> 24);
    x10 = (x10 + x14) | 0; t = x6 ^ x10; x6 = (t << 7) | (t >>> 25);
    x3 = (x3 + x7) | 0; t = x15 ^ x3; x15 = (t << 16) | (t >>> 16);
    x11 = (x11 + x15) | 0; t = x7 ^ x11; x7 = (t << 12) | (t >>> 20);
    x3 = (x3 + x7) | 0; t = x15 ^ x3; x15 = (t << 8) | (t >>> 24);
    x11 = (x11 + x15) | 0; t = x7 ^ x11; x7 = (t << 7) | (t >>> 25);
    // Diagonal rounds: (0,5,10,15) (1,6,11,12) (2,7,8,13) (3,4,9,14).
    x0 = (x0 + x5) | 0; t = x15 ^ x0; x15 = (t << 16) | (t >>> 16);
    x10 = (x10 + x15) | 0; t = x5 ^ x10; x5 = (t << 12) | (t >>> 20);
    x0 = (x0 + x5) | 0; t = x15 ^ x0; x15 = (t << 8) | (t >>> 24);
    x10 = (x10 + x15) | 0; t = x5 ^ x10; x5 = (t << 7) | (t >>> 25);
    x1 = (x1 + x6) | 0; t = x12 ^ x1; x12 = (t << 16) | (t >>> 16);
    x11 = (x11 + x12) | 0; t = x6 ^ x11; x6 = (t << 12) | (t >>> 20);
    x1 = (x1 + x6) | 0; t = x12 ^ x1; x12 = (t << 8) | (t >>> 24);
    x11 = (x11 + x12) | 0; t = x6 ^ x11; x6 = (t << 7) | (t >>> 25);
    x2 = (x2 + x7) | 0; t = x13 ^ x2; x13 = (t << 16) | (t >>> 16);
    x8 = (x8 + x13) | 0; t = x7 ^ x8; x7 = (t << 12) | (t >>> 20);
    x2 = (x2 + x7) | 0; t = x13 ^ x2; x13 = (t << 8) | (t >>> 24);
    x8 = (x8 + x13) | 0; t = x7 ^ x8; x7 = (t << 7) | (t >>> 25);
    x3 = (x3 + x4) | 0; t = x14 ^ x3; x14 = (t << 16) | (t >>> 16);
    x9 = (x9 + x14) | 0; t = x4 ^ x9; x4 = (t << 12) | (t >>> 20);
    x3 = (x3 + x4) | 0; t = x14 ^ x3; x14 = (t << 8) | (t >>> 24);
    x9 = (x9 + x14) | 0; t = x4 ^ x9; x4 = (t << 7) | (t >>> 25);
  }
  if (feedForward) {
    out[0] = (x0 + SIGMA0) | 0; out[1] = (x1 + SIGMA1) | 0; out[2] = (x2 + SIGMA2) | 0; out[3] = (x3 + SIGMA3) | 0;
    out[4] = (x4 + k0) | 0; out[5] = (x5 + k1) | 0; out[6] = (x6 + k2) | 0; out[7] = (x7 + k3) | 0;
    out[8] = (x8 + k4) | 0; out[9] = (x9 + k5) | 0; out[10] = (x10 + k6) | 0; out[11] = (x11 + k7) | 0;
    out[12] = (x12 + c12) | 0; out[13] = (x13 + c13) | 0; out[14] = (x14 + c14) | 0; out[15] = (x15 + c15) | 0;
  } else {
    out[0] = x0; out[1] = x1; out[2] = x2; out[3] = x3;
    out[4] = x12; out[5] = x13; out[6] = x14; out[7] = x15;
  }
}

// Module scratch, zeroed after every message.
const subkey = new Uint32Array(8);
const block = new Uint32Array(16);
const polyKey = new Uint8Array(32);
const pad16 = new Uint8Array(16);

/** HChaCha20 (draft-irtf-cfrg-xchacha §2.2) of key words and nonce[0..16], as 8 words into `out`. */
export function hchacha20(keyWords: Uint32Array, nonce: Uint8Array, out: Uint32Array): void {
  core(keyWords, le32(nonce, 0), le32(nonce, 4), le32(nonce, 8), le32(nonce, 12), out, false);
}

/** XOR the ChaCha20 keystream of (subkey, counter from 1, n1, n2) into dst = src ^ keystream. */
function xorStream(k: Uint32Array, n1: number, n2: number, src: Uint8Array, dst: Uint8Array, dstOffset: number): void {
  const len = src.length;
  for (let pos = 0, counter = 1; pos < len; pos += 64, counter++) {
    core(k, counter, 0, n1, n2, block, true);
    const n = len - pos < 64 ? len - pos : 64;
    let i = 0;
    for (let w = 0; i + 4 <= n; w++, i += 4) {
      const v = block[w]!;
      const s = pos + i;
      const d = dstOffset + s;
      dst[d] = src[s]! ^ (v & 0xff);
      dst[d + 1] = src[s + 1]! ^ ((v >>> 8) & 0xff);
      dst[d + 2] = src[s + 2]! ^ ((v >>> 16) & 0xff);
      dst[d + 3] = src[s + 3]! ^ (v >>> 24);
    }
    for (; i < n; i++) dst[dstOffset + pos + i] = src[pos + i]! ^ ((block[i >> 2]! >>> (8 * (i & 3))) & 0xff);
  }
}

/** The Poly1305 one-time key: the first 32 bytes of ChaCha20 block 0 (RFC 8439 §2.6). */
function makePolyKey(k: Uint32Array, n1: number, n2: number): void {
  core(k, 0, 0, n1, n2, block, true);
  for (let w = 0; w < 8; w++) {
    const v = block[w]!;
    polyKey[4 * w] = v & 0xff;
    polyKey[4 * w + 1] = (v >>> 8) & 0xff;
    polyKey[4 * w + 2] = (v >>> 16) & 0xff;
    polyKey[4 * w + 3] = v >>> 24;
  }
}

// ---- Poly1305: 130-bit accumulator in ten 13-bit limbs (poly1305-donna-16, as noble) ----

const h = new Uint16Array(10);
const r = new Uint16Array(10);
const pad = new Uint16Array(8);
const g = new Uint16Array(10);

const le16 = (b: Uint8Array, i: number): number => b[i]! | (b[i + 1]! << 8);

function polyInit(key: Uint8Array): void {
  const t0 = le16(key, 0), t1 = le16(key, 2), t2 = le16(key, 4), t3 = le16(key, 6);
  const t4 = le16(key, 8), t5 = le16(key, 10), t6 = le16(key, 12), t7 = le16(key, 14);
  // r is clamped (RFC 8439 §2.5) by these masks while it is split into limbs.
  r[0] = t0 & 0x1fff;
  r[1] = ((t0 >>> 13) | (t1 << 3)) & 0x1fff;
  r[2] = ((t1 >>> 10) | (t2 << 6)) & 0x1f03;
  r[3] = ((t2 >>> 7) | (t3 << 9)) & 0x1fff;
  r[4] = ((t3 >>> 4) | (t4 << 12)) & 0x00ff;
  r[5] = (t4 >>> 1) & 0x1ffe;
  r[6] = ((t4 >>> 14) | (t5 << 2)) & 0x1fff;
  r[7] = ((t5 >>> 11) | (t6 << 5)) & 0x1f81;
  r[8] = ((t6 >>> 8) | (t7 << 8)) & 0x1fff;
  r[9] = (t7 >>> 5) & 0x007f;
  for (let i = 0; i < 8; i++) pad[i] = le16(key, 16 + 2 * i);
  h.fill(0);
}

/** Absorbs the full 16-byte blocks of data[off, off + len) (len a multiple of 16), each with the 2^128 bit. */
function polyBlocks(data: Uint8Array, off: number, len: number): void {
  const r0 = r[0]!, r1 = r[1]!, r2 = r[2]!, r3 = r[3]!, r4 = r[4]!, r5 = r[5]!, r6 = r[6]!, r7 = r[7]!, r8 = r[8]!, r9 = r[9]!;
  let h0 = h[0]!, h1 = h[1]!, h2 = h[2]!, h3 = h[3]!, h4 = h[4]!, h5 = h[5]!, h6 = h[6]!, h7 = h[7]!, h8 = h[8]!, h9 = h[9]!;
  for (let p = off, end = off + len; p < end; p += 16) {
    const t0 = le16(data, p), t1 = le16(data, p + 2), t2 = le16(data, p + 4), t3 = le16(data, p + 6);
    const t4 = le16(data, p + 8), t5 = le16(data, p + 10), t6 = le16(data, p + 12), t7 = le16(data, p + 14);
    h0 += t0 & 0x1fff;
    h1 += ((t0 >>> 13) | (t1 << 3)) & 0x1fff;
    h2 += ((t1 >>> 10) | (t2 << 6)) & 0x1fff;
    h3 += ((t2 >>> 7) | (t3 << 9)) & 0x1fff;
    h4 += ((t3 >>> 4) | (t4 << 12)) & 0x1fff;
    h5 += (t4 >>> 1) & 0x1fff;
    h6 += ((t4 >>> 14) | (t5 << 2)) & 0x1fff;
    h7 += ((t5 >>> 11) | (t6 << 5)) & 0x1fff;
    h8 += ((t6 >>> 8) | (t7 << 8)) & 0x1fff;
    h9 += (t7 >>> 5) | (1 << 11);
    // h *= r (mod 2^130 − 5): limb products stay below 2^53, carries propagate 13 bits at a time.
    let c = 0;
    let d0 = c + h0 * r0 + h1 * (5 * r9) + h2 * (5 * r8) + h3 * (5 * r7) + h4 * (5 * r6);
    c = d0 >>> 13; d0 &= 0x1fff;
    d0 += h5 * (5 * r5) + h6 * (5 * r4) + h7 * (5 * r3) + h8 * (5 * r2) + h9 * (5 * r1);
    c += d0 >>> 13; d0 &= 0x1fff;
    let d1 = c + h0 * r1 + h1 * r0 + h2 * (5 * r9) + h3 * (5 * r8) + h4 * (5 * r7);
    c = d1 >>> 13; d1 &= 0x1fff;
    d1 += h5 * (5 * r6) + h6 * (5 * r5) + h7 * (5 * r4) + h8 * (5 * r3) + h9 * (5 * r2);
    c += d1 >>> 13; d1 &= 0x1fff;
    let d2 = c + h0 * r2 + h1 * r1 + h2 * r0 + h3 * (5 * r9) + h4 * (5 * r8);
    c = d2 >>> 13; d2 &= 0x1fff;
    d2 += h5 * (5 * r7) + h6 * (5 * r6) + h7 * (5 * r5) + h8 * (5 * r4) + h9 * (5 * r3);
    c += d2 >>> 13; d2 &= 0x1fff;
    let d3 = c + h0 * r3 + h1 * r2 + h2 * r1 + h3 * r0 + h4 * (5 * r9);
    c = d3 >>> 13; d3 &= 0x1fff;
    d3 += h5 * (5 * r8) + h6 * (5 * r7) + h7 * (5 * r6) + h8 * (5 * r5) + h9 * (5 * r4);
    c += d3 >>> 13; d3 &= 0x1fff;
    let d4 = c + h0 * r4 + h1 * r3 + h2 * r2 + h3 * r1 + h4 * r0;
    c = d4 >>> 13; d4 &= 0x1fff;
    d4 += h5 * (5 * r9) + h6 * (5 * r8) + h7 * (5 * r7) + h8 * (5 * r6) + h9 * (5 * r5);
    c += d4 >>> 13; d4 &= 0x1fff;
    let d5 = c + h0 * r5 + h1 * r4 + h2 * r3 + h3 * r2 + h4 * r1;
    c = d5 >>> 13; d5 &= 0x1fff;
    d5 += h5 * r0 + h6 * (5 * r9) + h7 * (5 * r8) + h8 * (5 * r7) + h9 * (5 * r6);
    c += d5 >>> 13; d5 &= 0x1fff;
    let d6 = c + h0 * r6 + h1 * r5 + h2 * r4 + h3 * r3 + h4 * r2;
    c = d6 >>> 13; d6 &= 0x1fff;
    d6 += h5 * r1 + h6 * r0 + h7 * (5 * r9) + h8 * (5 * r8) + h9 * (5 * r7);
    c += d6 >>> 13; d6 &= 0x1fff;
    let d7 = c + h0 * r7 + h1 * r6 + h2 * r5 + h3 * r4 + h4 * r3;
    c = d7 >>> 13; d7 &= 0x1fff;
    d7 += h5 * r2 + h6 * r1 + h7 * r0 + h8 * (5 * r9) + h9 * (5 * r8);
    c += d7 >>> 13; d7 &= 0x1fff;
    let d8 = c + h0 * r8 + h1 * r7 + h2 * r6 + h3 * r5 + h4 * r4;
    c = d8 >>> 13; d8 &= 0x1fff;
    d8 += h5 * r3 + h6 * r2 + h7 * r1 + h8 * r0 + h9 * (5 * r9);
    c += d8 >>> 13; d8 &= 0x1fff;
    let d9 = c + h0 * r9 + h1 * r8 + h2 * r7 + h3 * r6 + h4 * r5;
    c = d9 >>> 13; d9 &= 0x1fff;
    d9 += h5 * r4 + h6 * r3 + h7 * r2 + h8 * r1 + h9 * r0;
    c += d9 >>> 13; d9 &= 0x1fff;
    c = ((c << 2) + c) | 0;
    c = (c + d0) | 0;
    d0 = c & 0x1fff;
    c = c >>> 13;
    d1 += c;
    h0 = d0; h1 = d1; h2 = d2; h3 = d3; h4 = d4; h5 = d5; h6 = d6; h7 = d7; h8 = d8; h9 = d9;
  }
  h[0] = h0; h[1] = h1; h[2] = h2; h[3] = h3; h[4] = h4; h[5] = h5; h[6] = h6; h[7] = h7; h[8] = h8; h[9] = h9;
}

/** `data` followed by zeros up to a multiple of 16 (RFC 8439 §2.8 pad16). */
function polyPadded(data: Uint8Array, off: number, len: number): void {
  const full = len & ~15;
  if (full > 0) polyBlocks(data, off, full);
  if (len > full) {
    pad16.fill(0);
    for (let i = 0; i < len - full; i++) pad16[i] = data[off + full + i]!;
    polyBlocks(pad16, 0, 16);
  }
}

/** Final reduction mod 2^130 − 5, plus s (mod 2^128), written as 16 bytes at out[o]; wipes the state. */
function polyFinish(out: Uint8Array, o: number): void {
  let c = h[1]! >>> 13;
  h[1]! &= 0x1fff;
  for (let i = 2; i < 10; i++) {
    h[i]! += c;
    c = h[i]! >>> 13;
    h[i]! &= 0x1fff;
  }
  h[0]! += c * 5;
  c = h[0]! >>> 13;
  h[0]! &= 0x1fff;
  h[1]! += c;
  c = h[1]! >>> 13;
  h[1]! &= 0x1fff;
  h[2]! += c;
  g[0] = h[0]! + 5;
  c = g[0]! >>> 13;
  g[0]! &= 0x1fff;
  for (let i = 1; i < 10; i++) {
    g[i] = h[i]! + c;
    c = g[i]! >>> 13;
    g[i]! &= 0x1fff;
  }
  g[9]! -= 1 << 13;
  // Select h or h − p without a branch.
  let mask = (c ^ 1) - 1;
  for (let i = 0; i < 10; i++) g[i]! &= mask;
  mask = ~mask;
  for (let i = 0; i < 10; i++) h[i] = (h[i]! & mask) | g[i]!;
  h[0] = (h[0]! | (h[1]! << 13)) & 0xffff;
  h[1] = ((h[1]! >>> 3) | (h[2]! << 10)) & 0xffff;
  h[2] = ((h[2]! >>> 6) | (h[3]! << 7)) & 0xffff;
  h[3] = ((h[3]! >>> 9) | (h[4]! << 4)) & 0xffff;
  h[4] = ((h[4]! >>> 12) | (h[5]! << 1) | (h[6]! << 14)) & 0xffff;
  h[5] = ((h[6]! >>> 2) | (h[7]! << 11)) & 0xffff;
  h[6] = ((h[7]! >>> 5) | (h[8]! << 8)) & 0xffff;
  h[7] = ((h[8]! >>> 8) | (h[9]! << 5)) & 0xffff;
  let f = h[0]! + pad[0]!;
  h[0] = f & 0xffff;
  for (let i = 1; i < 8; i++) {
    f = (((h[i]! + pad[i]!) | 0) + (f >>> 16)) | 0;
    h[i] = f & 0xffff;
  }
  for (let i = 0; i < 8; i++) {
    out[o + 2 * i] = h[i]! & 0xff;
    out[o + 2 * i + 1] = h[i]! >>> 8;
  }
  h.fill(0);
  r.fill(0);
  pad.fill(0);
  g.fill(0);
}

/** The RFC 8439 §2.8 tag over aad and ciphertext ct[0, ctLength) into out[o..o+16]. */
function tagInto(aad: Uint8Array, ct: Uint8Array, ctOffset: number, ctLength: number, out: Uint8Array, o: number): void {
  polyInit(polyKey);
  polyKey.fill(0);
  polyPadded(aad, 0, aad.length);
  polyPadded(ct, ctOffset, ctLength);
  // len(aad) ‖ len(ct) as 64-bit little-endian integers.
  pad16.fill(0);
  let a = aad.length;
  let c = ctLength;
  for (let i = 0; i < 6; i++) {
    pad16[i] = a & 0xff;
    pad16[8 + i] = c & 0xff;
    a = Math.floor(a / 256);
    c = Math.floor(c / 256);
  }
  polyBlocks(pad16, 0, 16);
  pad16.fill(0);
  polyFinish(out, o);
}

function deriveSubkey(keyWords: Uint32Array, nonce: Uint8Array): void {
  hchacha20(keyWords, nonce, subkey);
}

/**
 * XChaCha20-Poly1305 encryption: ciphertext ‖ tag. `keyWords` is the 32-byte key as eight
 * little-endian words (`leWords(key, 0, 8)`), `nonce` 24 bytes. Sizes are the caller's to check.
 */
export function xchachaSeal(keyWords: Uint32Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  if (plaintext.length > MAX_MESSAGE) throw new RangeError('xchacha20-poly1305: message too long');
  deriveSubkey(keyWords, nonce);
  const n1 = le32(nonce, 16);
  const n2 = le32(nonce, 20);
  const out = new Uint8Array(plaintext.length + TAG_LENGTH);
  makePolyKey(subkey, n1, n2);
  xorStream(subkey, n1, n2, plaintext, out, 0);
  subkey.fill(0);
  block.fill(0);
  tagInto(aad, out, 0, plaintext.length, out, plaintext.length);
  return out;
}

const expected = new Uint8Array(TAG_LENGTH);

/**
 * XChaCha20-Poly1305 decryption of ciphertext ‖ tag: the plaintext, or undefined when the tag does
 * not verify (checked in constant time before anything is decrypted).
 */
export function xchachaOpen(keyWords: Uint32Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array | undefined {
  const length = sealed.length - TAG_LENGTH;
  if (length < 0 || length > MAX_MESSAGE) return undefined;
  deriveSubkey(keyWords, nonce);
  const n1 = le32(nonce, 16);
  const n2 = le32(nonce, 20);
  makePolyKey(subkey, n1, n2);
  tagInto(aad, sealed, 0, length, expected, 0);
  let diff = 0;
  for (let i = 0; i < TAG_LENGTH; i++) diff |= expected[i]! ^ sealed[length + i]!;
  expected.fill(0);
  if (diff !== 0) {
    subkey.fill(0);
    block.fill(0);
    return undefined;
  }
  const out = new Uint8Array(length);
  xorStream(subkey, n1, n2, sealed.subarray(0, length), out, 0);
  subkey.fill(0);
  block.fill(0);
  return out;
}
