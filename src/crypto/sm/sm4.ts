/**
 * SM4 block cipher (GB/T 32907-2016): 128-bit block, 128-bit key, 32 rounds.
 *
 * Timing caveat: the S-box is applied through a 1 KiB table indexed by secret data, so cache-timing
 * side channels are possible, the same class of caveat as table-based AES (noble, OpenSSL's
 * portable SM4). There are no secret-dependent branches.
 * @module
 */

/** S-box, GB/T 32907-2016 §6.2 table 1. */
// prettier-ignore
const SBOX = /* @__PURE__ */ Uint8Array.from([
  0xd6, 0x90, 0xe9, 0xfe, 0xcc, 0xe1, 0x3d, 0xb7, 0x16, 0xb6, 0x14, 0xc2, 0x28, 0xfb, 0x2c, 0x05,
  0x2b, 0x67, 0x9a, 0x76, 0x2a, 0xbe, 0x04, 0xc3, 0xaa, 0x44, 0x13, 0x26, 0x49, 0x86, 0x06, 0x99,
  0x9c, 0x42, 0x50, 0xf4, 0x91, 0xef, 0x98, 0x7a, 0x33, 0x54, 0x0b, 0x43, 0xed, 0xcf, 0xac, 0x62,
  0xe4, 0xb3, 0x1c, 0xa9, 0xc9, 0x08, 0xe8, 0x95, 0x80, 0xdf, 0x94, 0xfa, 0x75, 0x8f, 0x3f, 0xa6,
  0x47, 0x07, 0xa7, 0xfc, 0xf3, 0x73, 0x17, 0xba, 0x83, 0x59, 0x3c, 0x19, 0xe6, 0x85, 0x4f, 0xa8,
  0x68, 0x6b, 0x81, 0xb2, 0x71, 0x64, 0xda, 0x8b, 0xf8, 0xeb, 0x0f, 0x4b, 0x70, 0x56, 0x9d, 0x35,
  0x1e, 0x24, 0x0e, 0x5e, 0x63, 0x58, 0xd1, 0xa2, 0x25, 0x22, 0x7c, 0x3b, 0x01, 0x21, 0x78, 0x87,
  0xd4, 0x00, 0x46, 0x57, 0x9f, 0xd3, 0x27, 0x52, 0x4c, 0x36, 0x02, 0xe7, 0xa0, 0xc4, 0xc8, 0x9e,
  0xea, 0xbf, 0x8a, 0xd2, 0x40, 0xc7, 0x38, 0xb5, 0xa3, 0xf7, 0xf2, 0xce, 0xf9, 0x61, 0x15, 0xa1,
  0xe0, 0xae, 0x5d, 0xa4, 0x9b, 0x34, 0x1a, 0x55, 0xad, 0x93, 0x32, 0x30, 0xf5, 0x8c, 0xb1, 0xe3,
  0x1d, 0xf6, 0xe2, 0x2e, 0x82, 0x66, 0xca, 0x60, 0xc0, 0x29, 0x23, 0xab, 0x0d, 0x53, 0x4e, 0x6f,
  0xd5, 0xdb, 0x37, 0x45, 0xde, 0xfd, 0x8e, 0x2f, 0x03, 0xff, 0x6a, 0x72, 0x6d, 0x6c, 0x5b, 0x51,
  0x8d, 0x1b, 0xaf, 0x92, 0xbb, 0xdd, 0xbc, 0x7f, 0x11, 0xd9, 0x5c, 0x41, 0x1f, 0x10, 0x5a, 0xd8,
  0x0a, 0xc1, 0x31, 0x88, 0xa5, 0xcd, 0x7b, 0xbd, 0x2d, 0x74, 0xd0, 0x12, 0xb8, 0xe5, 0xb4, 0xb0,
  0x89, 0x69, 0x97, 0x4a, 0x0c, 0x96, 0x77, 0x7e, 0x65, 0xb9, 0xf1, 0x09, 0xc5, 0x6e, 0xc6, 0x84,
  0x18, 0xf0, 0x7d, 0xec, 0x3a, 0xdc, 0x4d, 0x20, 0x79, 0xee, 0x5f, 0x3e, 0xd7, 0xcb, 0x39, 0x48,
]);

/** System parameter FK, §7.3. */
const FK = /* @__PURE__ */ Uint32Array.of(0xa3b1bac6, 0x56aa3350, 0x677d9197, 0xb27022dc);

const rotl = (x: number, n: number): number => (x << n) | (x >>> (32 - n));

/** Fixed parameter CK, §7.3: byte j of CK_i is (4i + j) * 7 mod 256. */
const CK = /* @__PURE__ */ (() => {
  const ck = new Uint32Array(32);
  for (let i = 0; i < 32; i++) {
    let w = 0;
    for (let j = 0; j < 4; j++) w = (w << 8) | (((4 * i + j) * 7) & 0xff);
    ck[i] = w;
  }
  return ck;
})();

/** Non-linear transform τ, §6.2: the S-box on each byte of a word. */
const tau = (a: number): number =>
  (SBOX[a >>> 24]! << 24) |
  (SBOX[(a >>> 16) & 0xff]! << 16) |
  (SBOX[(a >>> 8) & 0xff]! << 8) |
  SBOX[a & 0xff]!;

/**
 * Round transform T = L∘τ, §6.2, precomputed for the top byte: TT[x] = L(S(x) << 24).
 * L is XOR of rotations, so it commutes with byte rotation and the other three bytes reuse TT
 * rotated (one 1 KiB table instead of four keeps the secret-indexed footprint small).
 */
const TT = /* @__PURE__ */ (() => {
  const t = new Uint32Array(256);
  for (let x = 0; x < 256; x++) {
    const b = SBOX[x]! << 24;
    t[x] = b ^ rotl(b, 2) ^ rotl(b, 10) ^ rotl(b, 18) ^ rotl(b, 24);
  }
  return t;
})();

const T = (a: number): number =>
  TT[a >>> 24]! ^
  rotl(TT[(a >>> 16) & 0xff]!, 24) ^
  rotl(TT[(a >>> 8) & 0xff]!, 16) ^
  rotl(TT[a & 0xff]!, 8);

function checkBlock(b: unknown, name: string): asserts b is Uint8Array {
  if (!(b instanceof Uint8Array)) throw new TypeError(`sm4: ${name} must be a Uint8Array`);
  if (b.length !== 16) throw new RangeError(`sm4: ${name} must be 16 bytes, got ${b.length}`);
}

function checkRoundKeys(rk: unknown): asserts rk is Uint32Array {
  if (!(rk instanceof Uint32Array) || rk.length !== 32)
    throw new TypeError('sm4: round keys must be the Uint32Array(32) from sm4Expand');
}

/** Key schedule, §7.3. Returns the 32 round keys rk_0..rk_31 (used in reverse to decrypt). */
export function sm4Expand(key: Uint8Array): Uint32Array {
  if (!(key instanceof Uint8Array)) throw new TypeError('sm4: key must be a Uint8Array');
  if (key.length !== 16) throw new RangeError(`sm4: key must be 16 bytes, got ${key.length}`);
  const rk = new Uint32Array(32);
  const word = (i: number) =>
    ((key[4 * i]! << 24) | (key[4 * i + 1]! << 16) | (key[4 * i + 2]! << 8) | key[4 * i + 3]!) ^
    FK[i]!;
  let k0 = word(0);
  let k1 = word(1);
  let k2 = word(2);
  let k3 = word(3);
  for (let i = 0; i < 32; i++) {
    // T' = L'∘τ with L'(B) = B ^ (B <<< 13) ^ (B <<< 23).
    const b = tau(k1 ^ k2 ^ k3 ^ CK[i]!);
    const next = k0 ^ b ^ rotl(b, 13) ^ rotl(b, 23);
    rk[i] = next;
    k0 = k1;
    k1 = k2;
    k2 = k3;
    k3 = next;
  }
  return rk;
}

/**
 * The 32 rounds and reverse transform R, §7.1, on a block held as four big-endian words.
 * Round key i is rk[first + i * step]: step 1 encrypts, first 31 with step -1 decrypts (§7.2).
 * Unchecked fast path for the modes; the result words go to out[0..3].
 */
function crypt(
  rk: Uint32Array,
  first: number,
  step: number,
  x0: number,
  x1: number,
  x2: number,
  x3: number,
  out: Uint32Array
): void {
  for (let i = 0, k = first; i < 8; i++) {
    x0 ^= T(x1 ^ x2 ^ x3 ^ rk[k]!);
    k += step;
    x1 ^= T(x2 ^ x3 ^ x0 ^ rk[k]!);
    k += step;
    x2 ^= T(x3 ^ x0 ^ x1 ^ rk[k]!);
    k += step;
    x3 ^= T(x0 ^ x1 ^ x2 ^ rk[k]!);
    k += step;
  }
  out[0] = x3;
  out[1] = x2;
  out[2] = x1;
  out[3] = x0;
}

/** Encrypts one block given as four big-endian words into out[0..3]. No input checks: for modes. */
export function sm4EncryptWords(
  rk: Uint32Array,
  x0: number,
  x1: number,
  x2: number,
  x3: number,
  out: Uint32Array
): void {
  crypt(rk, 0, 1, x0, x1, x2, x3, out);
}

const blockOp = (first: number, step: number) =>
  function (rk: Uint32Array, input: Uint8Array, output: Uint8Array): void {
    checkRoundKeys(rk);
    checkBlock(input, 'input');
    checkBlock(output, 'output');
    const src = new DataView(input.buffer, input.byteOffset, 16);
    const words = new Uint32Array(4);
    const x0 = src.getUint32(0);
    const x1 = src.getUint32(4);
    const x2 = src.getUint32(8);
    const x3 = src.getUint32(12);
    crypt(rk, first, step, x0, x1, x2, x3, words);
    const dst = new DataView(output.buffer, output.byteOffset, 16);
    for (let i = 0; i < 4; i++) dst.setUint32(4 * i, words[i]!);
    words.fill(0);
  };

/** Encrypts one 16-byte block (ECB primitive, not a mode). `output` may alias `input`. */
export const sm4EncryptBlock: (rk: Uint32Array, input: Uint8Array, output: Uint8Array) => void =
  /* @__PURE__ */ blockOp(0, 1);

/** Decrypts one 16-byte block with the round keys from sm4Expand. `output` may alias `input`. */
export const sm4DecryptBlock: (rk: Uint32Array, input: Uint8Array, output: Uint8Array) => void =
  /* @__PURE__ */ blockOp(31, -1);
