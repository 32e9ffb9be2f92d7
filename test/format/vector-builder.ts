/**
 * Rebuilds the format test vectors of docs/FORMAT.md from their fixed inputs with the library's
 * own code. The test compares the result with the literals in the spec; scripts/gen-format-vectors.ts
 * prints them when a new vector is added.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { getSuite } from '../../src/crypto/aead.js';
import { sm4gcm } from '../../src/crypto/sm/sm4gcm.js';
import { concatBytes, toBase64Url } from '../../src/crypto/bytes.js';
import { fieldAad } from '../../src/format/aad.js';
import { encryptField } from '../../src/format/field-crypto.js';
import { contextOf } from '../../src/keys/data-keys.js';
import { wrapAad } from '../../src/keys/local-keyring.js';
import { computeMasks } from '../../src/mask/index.js';
import { defineSchema, s } from '../../src/index.js';
import { hex, toHex } from '../helpers.js';

export const vectorSchema = defineSchema(
  'vector',
  1,
  { id: s.string(), createdAt: s.date(), name: s.name(), mobile: s.mobile() },
  { recordId: 'id' },
);

export interface VectorInput {
  suite: string;
  /** KEK wrapping algorithm; absent means xchacha20-poly1305 (and no `alg` in the key file). */
  kekAlg?: 'sm4-gcm';
  kek: string;
  dataKey: string;
  wrapNonce: string;
  fieldNonces: { name: string; mobile: string };
  plain: { id: string; createdAt: string; name: string; mobile: string };
}

const pattern = (start: number, length: number) => toHex(Uint8Array.from({ length }, (_, i) => (start + i) & 0xff));

export function vectorInputs(): VectorInput[] {
  return ['xchacha20-poly1305', 'aes-256-gcm', 'sm4-gcm'].map((suite, n) => {
    const s = getSuite(suite);
    // The SM vector is SM end to end: a 128-bit SM4 KEK wraps the data key with SM4-GCM.
    const sm = suite === 'sm4-gcm';
    return {
      suite,
      ...(sm ? { kekAlg: 'sm4-gcm' as const } : {}),
      kek: pattern(0x01, sm ? 16 : 32),
      dataKey: pattern(0x40 + n, s.keyLength),
      wrapNonce: pattern(0xa0, sm ? 12 : 24),
      fieldNonces: { name: pattern(0xc0, s.nonceLength), mobile: pattern(0xd0, s.nonceLength) },
      plain: { id: 'SF1000000000001', createdAt: '2025-03-01T08:30:00Z', name: '张三', mobile: '13812345678' },
    };
  });
}

export function buildVector(v: VectorInput) {
  const suite = getSuite(v.suite);
  const kekId = 'local:v1:contact';
  const base = { id: 'contact/2025-03/1', keyClass: 'contact', scope: '2025-03', generation: 1, suite: v.suite };
  const wrapNonce = hex(v.wrapNonce);
  const wrapCipher = v.kekAlg === 'sm4-gcm' ? sm4gcm : xchacha20poly1305;
  const wrapped = toBase64Url(
    concatBytes(wrapNonce, wrapCipher(hex(v.kek), wrapNonce, wrapAad(kekId, contextOf(base))).encrypt(hex(v.dataKey))),
  );
  const dataKeyRecord = { ...base, kekId, wrapped, createdAt: '2025-03-01T00:00:00.000Z' };
  const binding = (fieldPath: string) => ({ schemaName: 'vector', schemaVersion: 1, recordId: v.plain.id, fieldPath });
  const dk = { id: base.id, key: hex(v.dataKey) };
  const field = (path: 'name' | 'mobile', kind: 'name' | 'mobile') => ({
    enc: encryptField(suite, dk, hex(v.fieldNonces[path]), binding(path), v.plain[path]),
    mask: computeMasks(kind, v.plain[path], {}, {}),
  });
  return {
    input: v,
    aadOfName: toHex(fieldAad({ ...binding('name'), suite: v.suite, dataKeyId: base.id })),
    keyFile: {
      format: 'waybill-seal/keys',
      version: 1,
      suite: v.suite,
      keks: [
        {
          version: 1,
          createdAt: '2025-01-01T00:00:00.000Z',
          ...(v.kekAlg ? { alg: v.kekAlg } : {}),
          keys: { contact: toBase64Url(hex(v.kek)) },
        },
      ],
      currentKek: 1,
      dataKeys: [dataKeyRecord],
    },
    sealed: { id: v.plain.id, createdAt: v.plain.createdAt, name: field('name', 'name'), mobile: field('mobile', 'mobile') },
  };
}
