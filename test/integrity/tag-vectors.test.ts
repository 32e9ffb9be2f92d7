import { spawnSync } from 'node:child_process';
import { createHmac, createPublicKey, hkdfSync, verify } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeParts } from '../../src/crypto/bytes.js';
import { hex } from '../helpers.js';
import { referenceCanonicalJson } from './reference-canonical.js';
import { createVerifier } from '../../src/index.js';
import { parseVerifyKeys } from '../../src/integrity/verify-keys.js';
import { vectorSchema } from '../format/vector-builder.js';
import { buildSignatureVector, buildTagVector, signatureVectorInputs, tagVectorInputs } from './tag-vector-builder.js';

const spec = readFileSync(new URL('../../docs/FORMAT.md', import.meta.url), 'utf8');
const block = /<!-- tag-vectors:begin -->\s*```json\n([\s\S]*?)```\s*<!-- tag-vectors:end -->/.exec(spec);
const vectors = JSON.parse(block![1]!) as Awaited<ReturnType<typeof buildTagVector>>[];

describe('docs/FORMAT.md §11 record tag vectors', () => {
  it('has one vector per keyed hash, from the documented inputs', () => {
    expect(vectors.map((v) => v.input)).toEqual(tagVectorInputs());
  });

  it.each(vectors.map((v) => [v.input.hash, v] as const))('%s: the library rebuilds the vector byte for byte', async (_, v) => {
    expect(await buildTagVector(v.input)).toEqual(v);
  });

  it('hmac-sha256: an independent computation from the text of §11 gives the same tag', () => {
    const v = vectors.find((x) => x.input.hash === 'hmac-sha256')!;
    const { $tag, ...record } = v.sealed as Record<string, unknown>;
    const key = Buffer.from(hkdfSync('sha256', hex(v.input.integritySecret.key), Buffer.alloc(0), encodeParts(['waybill-seal/integrity', 'hmac-sha256']), 32));
    const { message, locators } = referenceTagMessage(record);
    const mac = createHmac('sha256', key).update(message).digest('base64url');
    expect($tag).toBe(`t1.hmac-sha256.1.${mac}.${locators.toString('base64url')}`);
  });
});

const sigBlock = /<!-- signature-vectors:begin -->\s*```json\n([\s\S]*?)```\s*<!-- signature-vectors:end -->/.exec(spec);
const sigVectors = JSON.parse(sigBlock![1]!) as Awaited<ReturnType<typeof buildSignatureVector>>[];

describe('docs/FORMAT.md §11.2 signed tag vectors', () => {
  it('has one vector per signature algorithm, from the documented inputs; each public key is its private key\'s', async () => {
    expect(sigVectors.map((v) => v.input)).toEqual(signatureVectorInputs());
    for (const v of sigVectors) expect((await buildSignatureVector(v.input)).verifyKeys).toEqual(v.verifyKeys);
  });

  it('ed25519: the library rebuilds the vector byte for byte (Ed25519 is deterministic)', async () => {
    const v = sigVectors.find((x) => x.input.alg === 'ed25519')!;
    expect(await buildSignatureVector(v.input)).toEqual(v);
  });

  it.each(['ed25519', 'sm2'])('%s: the tag verifies with the verify-only keys, and fails once a mask is changed', async (alg) => {
    const v = sigVectors.find((x) => x.input.alg === alg)!;
    const verifier = createVerifier(parseVerifyKeys(v.verifyKeys));
    expect(await verifier.verify(vectorSchema, v.sealed as never)).toEqual({ ok: true });
    const changed = structuredClone(v.sealed) as { mobile: { mask: Record<string, string> } };
    changed.mobile.mask['label'] = '*******9999';
    expect(await verifier.verify(vectorSchema, changed as never)).toEqual({ ok: false, path: 'mobile', reason: 'altered' });
  });

  it('ed25519: Node\'s OpenSSL verifies the signature over the message built from the text of §11', () => {
    const v = sigVectors.find((x) => x.input.alg === 'ed25519')!;
    const { $tag, ...record } = v.sealed as Record<string, unknown>;
    const { message, locators } = referenceTagMessage(record);
    const [, alg, version, sig, locs] = ($tag as string).split('.');
    expect([alg, version, locs]).toEqual(['ed25519', '1', locators.toString('base64url')]);
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: v.verifyKeys.keys[0]!.publicKey }, format: 'jwk' });
    expect(verify(null, message, key, Buffer.from(sig!, 'base64url'))).toBe(true);
    expect(verify(null, Buffer.concat([message, Buffer.of(0)]), key, Buffer.from(sig!, 'base64url'))).toBe(false);
  });

  it('sm2: the OpenSSL command line (a second SM2 implementation, signer id 1234567812345678) verifies the signature', async () => {
    const v = sigVectors.find((x) => x.input.alg === 'sm2')!;
    const { $tag, ...record } = v.sealed as Record<string, unknown>;
    const { message } = referenceTagMessage(record);
    const sig = Buffer.from(($tag as string).split('.')[3]!, 'base64url');
    const dir = await mkdtemp(join(tmpdir(), 'ws-sm2-'));
    // SubjectPublicKeyInfo: id-ecPublicKey with the SM2 curve (1.2.156.10197.1.301), then the 65-byte point.
    const spki = Buffer.concat([Buffer.from('3059301306072a8648ce3d020106082a811ccf5501822d034200', 'hex'), Buffer.from(v.verifyKeys.keys[0]!.publicKey, 'base64url')]);
    await writeFile(join(dir, 'pub.pem'), `-----BEGIN PUBLIC KEY-----\n${spki.toString('base64')}\n-----END PUBLIC KEY-----\n`);
    // OpenSSL reads SM2 signatures as DER SEQUENCE { r INTEGER, s INTEGER }; the tag holds r ‖ s.
    await writeFile(join(dir, 'sig.der'), derSignature(sig.subarray(0, 32), sig.subarray(32)));
    await writeFile(join(dir, 'msg'), message);
    const openssl = (msg: string) =>
      spawnSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', join(dir, 'pub.pem'), '-rawin', '-digest', 'sm3', '-in', join(dir, msg), '-sigfile', join(dir, 'sig.der'), '-pkeyopt', 'distid:1234567812345678'], { encoding: 'utf8' });
    const ok = openssl('msg');
    expect(ok.stdout + ok.stderr).toMatch(/Signature Verified Successfully/);
    await writeFile(join(dir, 'other'), Buffer.concat([message, Buffer.of(0)]));
    expect(openssl('other').status).not.toBe(0);
  });
});

/** The tag message of §11, built from the text: units of the vector schema (record id, scope date, both sealed fields). */
function referenceTagMessage(record: Record<string, unknown>): { message: Buffer; locators: Buffer } {
  const units = ['createdAt', 'id', 'mobile', 'name'].map((path) => [path, referenceCanonicalJson(record[path])] as const);
  const fnv = (bytes: Buffer) => bytes.reduce((h, b) => Math.imul(h ^ b, 0x01000193) >>> 0, 0x811c9dc5);
  const locators = Buffer.concat(
    units.map(([path, content]) => {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(fnv(Buffer.concat([Buffer.from(`${path}\0`), Buffer.from(content)])));
      return b;
    }),
  );
  const head = encodeParts(['waybill-seal/tag', 't1', 'vector', '1', record['id'] as string, ...units.flat(), 'locators']);
  const lp = Buffer.alloc(4);
  lp.writeUInt32BE(locators.length);
  return { message: Buffer.concat([head, lp, locators]), locators };
}

/** DER of an ECDSA-style signature from 32-byte big-endian r and s (minimal positive INTEGERs). */
function derSignature(r: Uint8Array, s: Uint8Array): Buffer {
  const int = (b: Uint8Array) => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    const v = Buffer.from(b.subarray(i));
    const body = v[0]! & 0x80 ? Buffer.concat([Buffer.of(0), v]) : v;
    return Buffer.concat([Buffer.of(0x02, body.length), body]);
  };
  const seq = Buffer.concat([int(r), int(s)]);
  return Buffer.concat([Buffer.of(0x30, seq.length), seq]);
}
