/**
 * Encrypting and decrypting one field value: the value encoding, the AAD and the payload layout
 * (nonce || ciphertext || tag). Internal: the nonce is a parameter only so that the format's test
 * vectors can be reproduced; the sealer always passes a fresh random one.
 *
 * Hot path: the AAD is assembled from memoised parts (see aad.ts), a string value is UTF-8 encoded
 * into a scratch buffer that is zeroed right after use, and the payload's base64url is the nonce's
 * followed by the ciphertext's (both suites' nonce lengths are multiples of 3 bytes, so the two
 * encodings concatenate to the encoding of the concatenation).
 */
import type { AeadSuite } from '../crypto/aead.js';
import { encodePart, fromUtf8, toBase64Url, utf8 } from '../crypto/bytes.js';
import { AuthenticationError } from '../errors.js';
import type { ProtectedKind, VirtualNumber } from '../schema/kinds.js';
import { isPlainObject } from '../schema/walk.js';
import { aadHead, transientAad, type AadParts } from './aad.js';

/** The parts of a field AAD shared by every field of one record under one suite. */
export interface RecordAad {
  readonly head: Uint8Array;
  readonly recordId: Uint8Array;
}

export const recordAad = (suite: string, binding: Omit<FieldBinding, 'fieldPath'>): RecordAad => ({
  head: aadHead(suite, binding.schemaName, binding.schemaVersion),
  recordId: encodePart(binding.recordId),
});
import { FORMAT_VERSION, type ParsedEnc } from './sealed-field.js';

export type FieldBinding = Omit<AadParts, 'suite' | 'dataKeyId'>;

const encoder = new TextEncoder();
/** Plaintext scratch: values up to 1 KiB of UTF-8 are encoded here (no allocation) and wiped after use. */
const scratch = new Uint8Array(3072);

export function encryptField(
  suite: AeadSuite,
  dataKey: { id: string; key: Uint8Array },
  nonce: Uint8Array,
  binding: FieldBinding,
  value: string | VirtualNumber,
  /** The encoded AAD head and record id (`recordAad`), when the caller seals several fields of one record. */
  record?: RecordAad,
): string {
  const aad = transientAad(
    record?.head ?? aadHead(suite.name, binding.schemaName, binding.schemaVersion),
    record?.recordId ?? encodePart(binding.recordId),
    binding.fieldPath,
    dataKey.id,
  );
  const text = typeof value === 'string' ? value : canonicalVirtualNumber(value);
  let ct: Uint8Array;
  if (text.length <= 1024) {
    const { written } = encoder.encodeInto(text, scratch);
    try {
      ct = suite.encrypt(dataKey.key, nonce, scratch.subarray(0, written), aad);
    } finally {
      scratch.fill(0, 0, written);
    }
  } else {
    const plain = utf8(text);
    ct = suite.encrypt(dataKey.key, nonce, plain, aad);
    plain.fill(0);
  }
  const payload = nonce.length % 3 === 0 ? toBase64Url(nonce) + toBase64Url(ct) : toBase64Url(concat(nonce, ct));
  return `${FORMAT_VERSION}.${suite.name}.${dataKey.id}.${payload}`;
}

export function decryptField(
  suite: AeadSuite,
  key: Uint8Array,
  enc: ParsedEnc,
  binding: FieldBinding,
  kind: ProtectedKind,
  /** The encoded AAD head of `enc.suite` and the record id (`recordAad`), when the caller opens several fields of one record. */
  record?: RecordAad,
): string | VirtualNumber {
  if (enc.payload.length < suite.nonceLength + suite.tagLength) throw new AuthenticationError();
  const aad = transientAad(
    record?.head ?? aadHead(enc.suite, binding.schemaName, binding.schemaVersion),
    record?.recordId ?? encodePart(binding.recordId),
    binding.fieldPath,
    enc.dataKeyId,
  );
  const plain = suite.decrypt(key, enc.payload.subarray(0, suite.nonceLength), enc.payload.subarray(suite.nonceLength), aad);
  try {
    return decodeValue(kind, plain);
  } finally {
    plain.fill(0);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** The plaintext of a virtual number: JSON of `{ main, ext }` or `{ main, ext, expiresAt }`, in that order. */
function canonicalVirtualNumber(v: VirtualNumber): string {
  const canonical: VirtualNumber = v.expiresAt === undefined ? { main: v.main, ext: v.ext } : { main: v.main, ext: v.ext, expiresAt: v.expiresAt };
  return JSON.stringify(canonical);
}

function decodeValue(kind: ProtectedKind, plain: Uint8Array): string | VirtualNumber {
  let text: string;
  let v: unknown;
  try {
    text = fromUtf8(plain);
    if (kind !== 'virtualNumber') return text;
    v = JSON.parse(text);
  } catch {
    // Decoder and JSON.parse messages may quote their input: never let one escape.
    throw new AuthenticationError();
  }
  if (!isPlainObject(v) || typeof v['main'] !== 'string' || typeof v['ext'] !== 'string') throw new AuthenticationError();
  return v as unknown as VirtualNumber;
}
