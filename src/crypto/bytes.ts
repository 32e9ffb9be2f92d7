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

/** Unpadded base64url (RFC 4648 §5). */
export function toBase64Url(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += B64URL[n >>> 18]! + B64URL[(n >>> 12) & 63]! + B64URL[(n >>> 6) & 63]! + B64URL[n & 63]!;
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
  const encoded = parts.map(utf8);
  let len = 0;
  for (const e of encoded) len += 4 + e.length;
  const out = new Uint8Array(len);
  const view = new DataView(out.buffer);
  let o = 0;
  for (const e of encoded) {
    view.setUint32(o, e.length);
    out.set(e, o + 4);
    o += 4 + e.length;
  }
  return out;
}

/** Best-effort zeroing of key material. */
export function wipe(...arrays: Uint8Array[]): void {
  for (const a of arrays) a.fill(0);
}
