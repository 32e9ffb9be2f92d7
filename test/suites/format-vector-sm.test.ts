/**
 * The sm4-gcm vector of docs/FORMAT.md rebuilt without the library's SM code: OpenSSL's sm4-ecb and
 * sm4-ctr (Node) with a bit-serial GHASH written from SP 800-38D, Algorithm 1. The released
 * xchacha20-poly1305 and aes-256-gcm vectors are pinned, so data written with them keeps opening.
 */
import { createCipheriv } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hex } from '../helpers.js';
import type { buildVector } from '../format/vector-builder.js';

const spec = readFileSync(new URL('../../docs/FORMAT.md', import.meta.url), 'utf8');
const block = /<!-- vectors:begin -->\s*```json\n([\s\S]*?)```\s*<!-- vectors:end -->/.exec(spec);
const vectors = JSON.parse(block![1]!) as ReturnType<typeof buildVector>[];
const bySuite = (suite: string) => vectors.find((v) => v.input.suite === suite)!;

const lp = (parts: string[]) =>
  Buffer.concat(parts.flatMap((p) => {
    const b = Buffer.from(p, 'utf8');
    const n = Buffer.alloc(4);
    n.writeUInt32BE(b.length);
    return [n, b];
  }));

/** GF(2^128) multiplication of SP 800-38D §6.3 (bit-reflected, R = 0xe1 || 0^120). */
function gmul(x: bigint, y: bigint): bigint {
  const R = 0xe1n << 120n;
  let z = 0n;
  let v = y;
  for (let i = 127n; i >= 0n; i--) {
    if ((x >> i) & 1n) z ^= v;
    v = v & 1n ? (v >> 1n) ^ R : v >> 1n;
  }
  return z;
}
const toBig = (b: Buffer) => BigInt('0x' + (b.toString('hex') || '0'));
function ghash(h: Buffer, aad: Buffer, c: Buffer): Buffer {
  const H = toBig(h);
  const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((16 - (b.length % 16)) % 16)]);
  const len = Buffer.alloc(16);
  len.writeBigUInt64BE(BigInt(aad.length * 8), 0);
  len.writeBigUInt64BE(BigInt(c.length * 8), 8);
  const data = Buffer.concat([pad(aad), pad(c), len]);
  let y = 0n;
  for (let i = 0; i < data.length; i += 16) y = gmul(y ^ toBig(data.subarray(i, i + 16)), H);
  return Buffer.from(y.toString(16).padStart(32, '0'), 'hex');
}
const ecb = (key: Buffer, block: Buffer) => createCipheriv('sm4-ecb', key, null).setAutoPadding(false).update(block);
/** SM4-GCM with a 96-bit IV from OpenSSL primitives: the 32-bit counter never wraps for these sizes. */
function sm4GcmOpenSsl(key: Buffer, iv: Buffer, aad: Buffer, p: Buffer): Buffer {
  const h = ecb(key, Buffer.alloc(16));
  const j0 = Buffer.concat([iv, Buffer.from([0, 0, 0, 1])]);
  const j1 = Buffer.concat([iv, Buffer.from([0, 0, 0, 2])]);
  const c = createCipheriv('sm4-ctr', key, j1).update(p);
  const s = ghash(h, aad, c);
  const ekj0 = ecb(key, j0);
  const tag = Buffer.from(s.map((b, i) => b ^ ekj0[i]!));
  return Buffer.concat([c, tag]);
}

describe('sm4-gcm format vector, independently', () => {
  it('the GCM reconstruction reproduces RFC 8998 A.1', () => {
    const out = sm4GcmOpenSsl(
      Buffer.from('0123456789abcdeffedcba9876543210', 'hex'),
      Buffer.from('00001234567800000000abcd', 'hex'),
      Buffer.from('feedfacedeadbeeffeedfacedeadbeefabaddad2', 'hex'),
      Buffer.from('aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbccccccccccccccccddddddddddddddddeeeeeeeeeeeeeeeeffffffffffffffffeeeeeeeeeeeeeeeeaaaaaaaaaaaaaaaa', 'hex'),
    );
    expect(out.toString('hex')).toBe(
      '17f399f08c67d5ee19d0dc9969c4bb7d5fd46fd3756489069157b282bb200735d82710ca5c22f0ccfa7cbf93d496ac15a56834cbcf98c397b4024a2691233b8d' +
        '83de3541e4c2b58177e065a9bf7b62ec',
    );
  });

  it('rebuilds the wrapped data key and both field ciphertexts of the spec', () => {
    const v = bySuite('sm4-gcm');
    const { input } = v;
    expect(input.kekAlg).toBe('sm4-gcm');
    expect(v.keyFile.keks[0]).toMatchObject({ alg: 'sm4-gcm' });
    const rec = v.keyFile.dataKeys[0]!;
    const kekId = 'local:v1:contact';
    const wrapAad = lp(['waybill-seal/wrap', kekId, rec.id, rec.keyClass, rec.scope, String(rec.generation), rec.suite]);
    const wn = Buffer.from(hex(input.wrapNonce));
    const wrapped = Buffer.concat([wn, sm4GcmOpenSsl(Buffer.from(hex(input.kek)), wn, wrapAad, Buffer.from(hex(input.dataKey)))]);
    expect(rec.wrapped).toBe(wrapped.toString('base64url'));

    for (const field of ['name', 'mobile'] as const) {
      const aad = lp(['waybill-seal/field', 'ws1', 'sm4-gcm', 'vector', '1', input.plain.id, field, rec.id]);
      if (field === 'name') expect(aad.toString('hex')).toBe(v.aadOfName);
      const nonce = Buffer.from(hex(input.fieldNonces[field]));
      const payload = Buffer.concat([nonce, sm4GcmOpenSsl(Buffer.from(hex(input.dataKey)), nonce, aad, Buffer.from(input.plain[field], 'utf8'))]);
      expect(v.sealed[field].enc).toBe(`ws1.sm4-gcm.${rec.id}.${payload.toString('base64url')}`);
    }
  });

  it('the released vectors are unchanged (values from 0.1.0 development, before sm4-gcm)', () => {
    const pins = {
      'xchacha20-poly1305': [
        'oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3xHPHXOe3wWboRUGzYiLMe_taONB2bk-V-m6cWrN8_YPMdaZXK79_9ioYyXwS0xRb',
        'ws1.xchacha20-poly1305.contact/2025-03/1.wMHCw8TFxsfIycrLzM3Oz9DR0tPU1dbXv-1yDkp_9ZwPj02u5IYaI6v1p0DMHg',
        'ws1.xchacha20-poly1305.contact/2025-03/1.0NHS09TV1tfY2drb3N3e3-Dh4uPk5ebnrngltbNDORaDVFKVXiVC-fsmIArVcpL_KceO',
      ],
      'aes-256-gcm': [
        'oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3xXDGW-a0wGnpRkC0YyHNZPpZOdd3bU6a-22dXbJ__LzWv3n9auixmVBxZ1MzfOKP',
        'ws1.aes-256-gcm.contact/2025-03/1.wMHCw8TFxsfIycrL3dnJq3osAxpiAnoQdM0_CRiaslLHZA',
        'ws1.aes-256-gcm.contact/2025-03/1.0NHS09TV1tfY2drbY4nC7zdPsmA4s2CG3KTVKxBirL_DXeHwOe8T',
      ],
    };
    for (const [suite, [wrapped, name, mobile]] of Object.entries(pins)) {
      const v = bySuite(suite);
      expect([v.keyFile.dataKeys[0]!.wrapped, v.sealed.name.enc, v.sealed.mobile.enc]).toEqual([wrapped, name, mobile]);
      expect(v.keyFile.keks[0]).not.toHaveProperty('alg');
      expect(v.input).not.toHaveProperty('kekAlg');
    }
  });
});
