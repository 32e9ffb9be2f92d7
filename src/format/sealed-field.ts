/**
 * Wire format of one sealed field (docs/FORMAT.md):
 *   { "enc": "ws1.<suite>.<dataKeyId>.<base64url(nonce || ciphertext || tag)>",
 *     "mask": { "label": "...", "screen": "..." }, "tok"?: { "<index>": "<token>" } }
 */
import { fromBase64Url, toBase64Url } from '../crypto/bytes.js';
import { FormatError } from '../errors.js';

export const FORMAT_VERSION = 'ws1';
/** The longest `enc`, mask or token string (UTF-16 code units) a sealed field may hold. */
export const MAX_SEALED_TEXT = 1_000_000;

declare const sealedBrand: unique symbol;

/** A sealed protected field. It holds ciphertext and masks, never plaintext. */
export interface SealedField {
  readonly enc: string;
  readonly mask: Readonly<Record<string, string>>;
  readonly tok?: Readonly<Record<string, string>>;
  readonly [sealedBrand]?: true;
}

export interface ParsedEnc {
  readonly version: string;
  readonly suite: string;
  readonly dataKeyId: string;
  readonly payload: Uint8Array;
}

/** `<keyClass>/<scope>/<generation>`, e.g. `contact/2025-03/1`. */
export const DATA_KEY_ID = /^([a-z][a-z0-9-]{0,31})\/([A-Za-z0-9_-]{1,64})\/([1-9][0-9]{0,8})$/;
const SUITE = /^[a-z0-9-]{1,32}$/;

export function formatEnc(suite: string, dataKeyId: string, payload: Uint8Array): string {
  return `${FORMAT_VERSION}.${suite}.${dataKeyId}.${toBase64Url(payload)}`;
}

export function parseEnc(enc: unknown): ParsedEnc {
  if (typeof enc !== 'string') throw new FormatError('enc is not a string');
  if (enc.length > MAX_SEALED_TEXT) throw new FormatError('enc too long');
  const a = enc.indexOf('.');
  const b = a < 0 ? -1 : enc.indexOf('.', a + 1);
  const c = b < 0 ? -1 : enc.indexOf('.', b + 1);
  if (c < 0 || enc.indexOf('.', c + 1) >= 0) throw new FormatError('enc must have 4 dot-separated parts');
  const version = enc.slice(0, a);
  const suite = enc.slice(a + 1, b);
  const dataKeyId = enc.slice(b + 1, c);
  const body = enc.slice(c + 1);
  if (version !== FORMAT_VERSION) throw new FormatError('unsupported format version');
  if (!SUITE.test(suite)) throw new FormatError('bad suite id');
  if (!DATA_KEY_ID.test(dataKeyId)) throw new FormatError('bad data key id');
  const payload = fromBase64Url(body);
  if (!payload) throw new FormatError('payload is not canonical base64url');
  return { version, suite, dataKeyId, payload };
}

export function isSealedField(value: unknown): value is SealedField {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  const enc = v['enc'];
  if (typeof enc !== 'string' || !enc.startsWith(ENC_PREFIX)) return false;
  if (!isStringRecord(v['mask'])) return false;
  const tok = v['tok'];
  if (tok !== undefined && !isStringRecord(tok)) return false;
  // Own enumerable keys only (Object.keys: cheaper than for-in with hasOwn, same keys).
  const keys = Object.keys(v);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (k !== 'enc' && k !== 'mask' && k !== 'tok') return false;
  }
  return true;
}

const ENC_PREFIX = `${FORMAT_VERSION}.`;

function isStringRecord(v: unknown): v is Record<string, string> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  for (let i = 0; i < keys.length; i++) if (typeof (v as Record<string, unknown>)[keys[i]!] !== 'string') return false;
  return true;
}
