/**
 * SM3 hash (GB/T 32905-2016) on noble's Merkle–Damgård base, so noble's `hmac` accepts it.
 * Padding and the big-endian 64-bit length are the same as SHA-256's, which HashMD provides.
 * @module
 */
import { Chi, HashMD, Maj } from '@noble/hashes/_md.js';
import { type CHash, clean, createHasher, rotl } from '@noble/hashes/utils.js';

/** Initial value IV, §4.1. */
// prettier-ignore
const SM3_IV = /* @__PURE__ */ Uint32Array.from([
  0x7380166f, 0x4914b2b9, 0x172442d7, 0xda8a0600, 0xa96f30bc, 0x163138aa, 0xe38dee4d, 0xb0fb0e4e,
]);

/** Round constants T_j (§4.2) pre-rotated by j mod 32, as used in SS1 (§5.3.3). */
const SM3_TJ = /* @__PURE__ */ (() => {
  const t = new Uint32Array(64);
  for (let j = 0; j < 64; j++) t[j] = rotl(j < 16 ? 0x79cc4519 : 0x7a879d8a, j % 32);
  return t;
})();

/** Message expansion W_0..W_67 (§5.3.2); W'_j is computed on the fly as W_j ^ W_{j+4}. */
const SM3_W = /* @__PURE__ */ new Uint32Array(68);

const P0 = (x: number): number => x ^ rotl(x, 9) ^ rotl(x, 17);
const P1 = (x: number): number => x ^ rotl(x, 15) ^ rotl(x, 23);

/** Internal SM3 class; use `sm3` / `sm3.create()`. */
export class _SM3 extends HashMD<_SM3> {
  // Scalar fields rather than an array so the JIT keeps the state in registers (as noble's SHA-2).
  protected A = SM3_IV[0]! | 0;
  protected B = SM3_IV[1]! | 0;
  protected C = SM3_IV[2]! | 0;
  protected D = SM3_IV[3]! | 0;
  protected E = SM3_IV[4]! | 0;
  protected F = SM3_IV[5]! | 0;
  protected G = SM3_IV[6]! | 0;
  protected H = SM3_IV[7]! | 0;

  constructor() {
    super(64, 32, 8, false);
  }
  protected get(): [number, number, number, number, number, number, number, number] {
    const { A, B, C, D, E, F, G, H } = this;
    return [A, B, C, D, E, F, G, H];
  }
  // prettier-ignore
  protected set(
    A: number, B: number, C: number, D: number, E: number, F: number, G: number, H: number
  ): void {
    this.A = A | 0;
    this.B = B | 0;
    this.C = C | 0;
    this.D = D | 0;
    this.E = E | 0;
    this.F = F | 0;
    this.G = G | 0;
    this.H = H | 0;
  }
  _cloneInto(to?: _SM3): _SM3 {
    const target = to ?? new _SM3();
    target.set(...this.get());
    return this._cloneIntoMeta(target);
  }
  protected process(view: DataView, offset: number): void {
    const W = SM3_W;
    for (let j = 0; j < 16; j++, offset += 4) W[j] = view.getUint32(offset, false);
    for (let j = 16; j < 68; j++) {
      W[j] =
        P1(W[j - 16]! ^ W[j - 9]! ^ rotl(W[j - 3]!, 15)) ^ rotl(W[j - 13]!, 7) ^ W[j - 6]!;
    }
    let { A, B, C, D, E, F, G, H } = this;
    // FF_j and GG_j are plain XOR for j < 16, then majority (FF) and choice (GG) for j >= 16
    // (§4.3); the selection depends only on the public round index.
    for (let j = 0; j < 64; j++) {
      const a12 = rotl(A, 12);
      const SS1 = rotl((a12 + E + SM3_TJ[j]!) | 0, 7);
      const SS2 = SS1 ^ a12;
      const ff = j < 16 ? A ^ B ^ C : Maj(A, B, C);
      const gg = j < 16 ? E ^ F ^ G : Chi(E, F, G);
      const TT1 = (ff + D + SS2 + (W[j]! ^ W[j + 4]!)) | 0;
      const TT2 = (gg + H + SS1 + W[j]!) | 0;
      D = C;
      C = rotl(B, 9);
      B = A;
      A = TT1;
      H = G;
      G = rotl(F, 19);
      F = E;
      E = P0(TT2);
    }
    // SM3 chains with XOR (V_{i+1} = ABCDEFGH ^ V_i), not modular addition as in SHA-2.
    this.set(
      A ^ this.A,
      B ^ this.B,
      C ^ this.C,
      D ^ this.D,
      E ^ this.E,
      F ^ this.F,
      G ^ this.G,
      H ^ this.H
    );
  }
  protected roundClean(): void {
    clean(SM3_W);
  }
  destroy(): void {
    this.destroyed = true;
    this.set(0, 0, 0, 0, 0, 0, 0, 0);
    clean(this.buffer);
  }
}

/** SM3: `sm3(data)` → 32-byte digest; `sm3.create()` for streaming; blockLen 64, outputLen 32. */
export const sm3: CHash<_SM3> = /* @__PURE__ */ createHasher(() => new _SM3());
