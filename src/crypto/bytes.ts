/** Byte helpers shared by the format and key modules. Portable: no Node built-ins. */
import { equalBytes } from '@noble/ciphers/utils.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export const utf8 = (s: string): Uint8Array => encoder.encode(s);
/** Throws TypeError on invalid UTF-8; callers map it to their own typed error. */
export const fromUtf8 = (b: Uint8Array): string => decoder.decode(b);

/** Constant-time comparison for secrets, MACs and tokens. */
export const constantTimeEqual = (a: Uint8Array, b: Uint8Array): boolean => equalBytes(a, b);

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const B64URL_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < B64URL.length; i++) B64URL_INDEX[B64URL.charCodeAt(i)] = i;

/** Two base64url characters for each 12-bit value: one lookup per 12 bits instead of per 6. */
const B64URL_PAIRS: readonly string[] = /* @__PURE__ */ Array.from({ length: 4096 }, (_, n) => B64URL[n >>> 6]! + B64URL[n & 63]!);

/** Unpadded base64url (RFC 4648 §5). */
export function toBase64Url(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  const end = bytes.length - 2;
  for (; i < end; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += B64URL_PAIRS[n >>> 12]! + B64URL_PAIRS[n & 4095]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += B64URL[n >>> 18]! + B64URL[(n >>> 12) & 63]!;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += B64URL[n >>> 18]! + B64URL[(n >>> 12) & 63]! + B64URL[(n >>> 6) & 63]!;
  }
  return out;
}

/** Strict unpadded base64url decoder: returns undefined on any non-canonical input. */
export function fromBase64Url(s: string): Uint8Array | undefined {
  if (s.length % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor((s.length * 3) / 4));
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const v = c < 128 ? B64URL_INDEX[c]! : -1;
    if (v < 0) return undefined;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >>> bits) & 0xff;
    }
  }
  // Non-zero leftover bits mean a non-canonical encoding (two strings for one value).
  if ((acc & ((1 << bits) - 1)) !== 0) return undefined;
  return out;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Length-prefixed (u32 big-endian) concatenation: an injective encoding of a list of strings. */
export function encodeParts(parts: readonly string[]): Uint8Array {
  // Upper bound of the UTF-8 size (3 bytes per UTF-16 unit), encoded in place, then trimmed.
  let max = 0;
  for (const p of parts) max += 4 + 3 * p.length;
  const out = new Uint8Array(max);
  let o = 0;
  for (const p of parts) o = putPart(out, o, p);
  return o === max ? out : out.slice(0, o);
}

/** One item of the encoding (u32 big-endian UTF-8 length, then the bytes) at out[o]; returns the end. */
export function putPart(out: Uint8Array, o: number, s: string): number {
  const written = utf8Into(s, out, o + 4);
  out[o] = written >>> 24;
  out[o + 1] = (written >>> 16) & 0xff;
  out[o + 2] = (written >>> 8) & 0xff;
  out[o + 3] = written & 0xff;
  return o + 4 + written;
}

/**
 * Strings up to this many UTF-16 units are encoded by `utf8Into`'s loop; longer ones by TextEncoder
 * (a fixed ~150 ns per call, then native speed: it wins from about 12 units on, measured on Node 20).
 */
const SHORT_TEXT = 12;

/**
 * UTF-8 of `s` at out[o] (room for 3 bytes per UTF-16 unit is the caller's to give); returns the
 * byte count. Exactly TextEncoder's bytes, a lone surrogate included (as U+FFFD). Very short strings
 * (keys, short paths) are encoded by a plain loop: TextEncoder's per-call cost (a subarray view and a
 * result object) exceeds the encoding itself for them.
 */
export function utf8Into(s: string, out: Uint8Array, o: number): number {
  const n = s.length;
  if (n > SHORT_TEXT || o + 3 * n > out.length) return encoder.encodeInto(s, out.subarray(o)).written;
  let p = o;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out[p++] = c;
    } else if (c < 0x800) {
      out[p++] = 0xc0 | (c >> 6);
      out[p++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c <= 0xdfff) {
        const next = i + 1 < n ? s.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
          i++;
          out[p++] = 0xf0 | (c >> 18);
          out[p++] = 0x80 | ((c >> 12) & 0x3f);
          out[p++] = 0x80 | ((c >> 6) & 0x3f);
          out[p++] = 0x80 | (c & 0x3f);
          continue;
        }
        c = 0xfffd;
      }
      out[p++] = 0xe0 | (c >> 12);
      out[p++] = 0x80 | ((c >> 6) & 0x3f);
      out[p++] = 0x80 | (c & 0x3f);
    }
  }
  return p - o;
}

/** One length-prefixed item, to be concatenated with others into an `encodeParts` list. */
export const encodePart = (s: string): Uint8Array => encodeParts([s]);

/** Best-effort zeroing of key material. */
export function wipe(...arrays: Uint8Array[]): void {
  for (const a of arrays) a.fill(0);
}
