/**
 * Encrypting and decrypting one field value: the value encoding, the AAD and the payload layout
 * (nonce || ciphertext || tag). Internal: the nonce is a parameter only so that the format's test
 * vectors can be reproduced; the sealer always passes a fresh random one.
 */
import type { AeadSuite } from '../crypto/aead.js';
import { fromUtf8, utf8 } from '../crypto/bytes.js';
import { AuthenticationError } from '../errors.js';
import type { ProtectedKind, VirtualNumber } from '../schema/kinds.js';
import { isPlainObject } from '../schema/walk.js';
import { fieldAad, type AadParts } from './aad.js';
import { formatEnc, type ParsedEnc } from './sealed-field.js';

export type FieldBinding = Omit<AadParts, 'suite' | 'dataKeyId'>;

export function encryptField(
  suite: AeadSuite,
  dataKey: { id: string; key: Uint8Array },
  nonce: Uint8Array,
  binding: FieldBinding,
  value: string | VirtualNumber,
): string {
  const aad = fieldAad({ ...binding, suite: suite.name, dataKeyId: dataKey.id });
  const ct = suite.encrypt(dataKey.key, nonce, encodeValue(value), aad);
  const payload = new Uint8Array(nonce.length + ct.length);
  payload.set(nonce);
  payload.set(ct, nonce.length);
  return formatEnc(suite.name, dataKey.id, payload);
}

export function decryptField(
  suite: AeadSuite,
  key: Uint8Array,
  enc: ParsedEnc,
  binding: FieldBinding,
  kind: ProtectedKind,
): string | VirtualNumber {
  if (enc.payload.length < suite.nonceLength + suite.tagLength) throw new AuthenticationError();
  const aad = fieldAad({ ...binding, suite: enc.suite, dataKeyId: enc.dataKeyId });
  const plain = suite.decrypt(key, enc.payload.subarray(0, suite.nonceLength), enc.payload.subarray(suite.nonceLength), aad);
  return decodeValue(kind, plain);
}

function encodeValue(v: string | VirtualNumber): Uint8Array {
  if (typeof v === 'string') return utf8(v);
  const canonical: VirtualNumber =
    v.expiresAt === undefined ? { main: v.main, ext: v.ext } : { main: v.main, ext: v.ext, expiresAt: v.expiresAt };
  return utf8(JSON.stringify(canonical));
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
