/**
 * Rebuilds the search-token vectors of docs/FORMAT.md §10 from their inputs with the primitives
 * the spec names (noble HKDF, HMAC, SHA-256, the library's SM3, noble FF1), not with the library's
 * search code, so the test checks the code against the text. Print them with
 *   npx tsx test/search/search-vector-builder.ts
 */
import { FF1 } from '@noble/ciphers/ff1.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { encodeParts, toBase64Url } from '../../src/crypto/bytes.js';
import { sm3 } from '../../src/crypto/sm/sm3.js';
import { defineSchema, s } from '../../src/index.js';
import { hex, toHex } from '../helpers.js';

export const searchVectorSchema = defineSchema(
  'vector',
  1,
  { id: s.string(), createdAt: s.date(), name: s.name(), mobile: s.mobile() },
  {
    recordId: 'id',
    indexes: {
      mobile: { field: 'mobile', bits: 16 },
      'mobile:last4': { field: 'mobile', transform: 'phone-last4', bits: 9 },
      name: { field: 'name', bits: 256 },
      'mobile:ff1': { type: 'ff1', field: 'mobile' },
    },
  },
);

export interface SearchVectorInput {
  hash: 'hmac-sha256' | 'hmac-sm3';
  indexSecret: { version: number; key: string };
  plain: { id: string; createdAt: string; name: string; mobile: string };
}

export function searchVectorInputs(): SearchVectorInput[] {
  const key = toHex(Uint8Array.from({ length: 32 }, (_, i) => 0x60 + i));
  const plain = { id: 'SF1000000000001', createdAt: '2025-03-01T08:30:00Z', name: '张三', mobile: '13812345678' };
  return [
    { hash: 'hmac-sha256', indexSecret: { version: 1, key }, plain },
    { hash: 'hmac-sm3', indexSecret: { version: 1, key }, plain },
  ];
}

/** Normalised parts of each index for the plain record (the spec's transform table, by hand). */
const PARTS: Record<string, string[]> = { mobile: ['+8613812345678'], 'mobile:last4': ['5678'], name: ['张三'] };

export function buildSearchVector(v: SearchVectorInput) {
  const H = v.hash === 'hmac-sm3' ? sm3 : sha256;
  const root = hex(v.indexSecret.key);
  const indexes: Record<string, Record<string, string>> = {};
  const tok: { mobile: Record<string, string>; name: Record<string, string> } = { mobile: {}, name: {} };
  for (const [name, spec] of Object.entries(searchVectorSchema.indexes)) {
    if (spec.type === 'blind') {
      const info = encodeParts(['waybill-seal/index', v.hash, 'vector', name, spec.id]);
      const key = hkdf(H, root, undefined, info, 32);
      const message = encodeParts(PARTS[name]!);
      const mac = hmac(H, key, message);
      const bytes = mac.slice(0, Math.ceil(spec.bits / 8));
      const spare = bytes.length * 8 - spec.bits;
      if (spare > 0) bytes[bytes.length - 1]! &= (0xff << spare) & 0xff;
      const token = `${v.indexSecret.version}.${toBase64Url(bytes)}`;
      indexes[name] = { spec: spec.id, info: toHex(info), key: toHex(key), message: toHex(message), token };
      tok[spec.parts[0]!.path as 'mobile' | 'name'][name] = token;
    } else {
      const info = encodeParts(['waybill-seal/ff1', v.hash, 'vector', name, spec.id]);
      const key = hkdf(H, root, undefined, info, 32);
      const tweak = encodeParts(['waybill-seal/ff1', 'vector', 'mobile', '86']);
      const digits = FF1(10, key, tweak).encrypt(Array.from('13812345678', Number)).join('');
      const token = `${v.indexSecret.version}.${digits}`;
      indexes[name] = { spec: spec.id, info: toHex(info), key: toHex(key), tweak: toHex(tweak), digits: '13812345678', token };
      tok.mobile[name] = token;
    }
  }
  return { input: v, indexes, tok };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(searchVectorInputs().map(buildSearchVector), null, 2));
}
