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
import { createVerifier, LocalKeyring, type Schema } from '../../src/index.js';
import { toBase64Url } from '../../src/crypto/bytes.js';
import type { AnyNode, Shape } from '../../src/schema/builder.js';
import { parseVerifyKeys } from '../../src/integrity/verify-keys.js';
import { vectorSchema } from '../format/vector-builder.js';
import { buildSignatureVector, buildTagVector, signatureVectorInputs, tagVectorInputs, tagVectorRecord } from './tag-vector-builder.js';

const spec = readFileSync(new URL('../../docs/FORMAT.md', import.meta.url), 'utf8');
const block = /<!-- tag-vectors:begin -->\s*```json\n([\s\S]*?)```\s*<!-- tag-vectors:end -->/.exec(spec);
const vectors = JSON.parse(block![1]!) as Awaited<ReturnType<typeof buildTagVector>>[];
const t1Block = /<!-- tag-vectors-t1:begin -->\s*```json\n([\s\S]*?)```\s*<!-- tag-vectors-t1:end -->/.exec(spec);
const t1Vectors = JSON.parse(t1Block![1]!) as Awaited<ReturnType<typeof buildTagVector>>[];
const integrityKey = (v: { input: { integritySecret: { key: string } } }) =>
  Buffer.from(hkdfSync('sha256', hex(v.input.integritySecret.key), Buffer.alloc(0), encodeParts(['waybill-seal/integrity', 'hmac-sha256']), 32));

describe('docs/FORMAT.md §11 record tag vectors', () => {
  it('has one vector per keyed hash, one sealed waybill and one waybill being migrated, from the documented inputs', () => {
    expect(vectors.map((v) => v.input)).toEqual(tagVectorInputs());
  });

  it.each(vectors.map((v) => [`${v.input.hash} ${v.input.record ?? 'vector'}`, v] as const))('%s: the library rebuilds the vector byte for byte', async (_, v) => {
    expect(await buildTagVector(v.input)).toEqual(v);
  });

  it.each(vectors.filter((v) => v.input.hash === 'hmac-sha256').map((v) => [v.input.record ?? 'vector', v] as const))(
    'hmac-sha256 %s: an independent computation from the text of §11 gives the same t2 tag, locators included',
    (_, v) => {
      const { $tag, ...record } = v.sealed as Record<string, unknown>;
      const { message, locators } = referenceT2Message(tagVectorRecord(v.input).schema, record);
      const mac = createHmac('sha256', integrityKey(v)).update(message).digest('base64url');
      expect($tag).toBe(`t2.hmac-sha256.1.${mac}.${locators.toString('base64url')}`);
    },
  );

  it('t1 vectors (0.1.0) still verify, and an independent computation from the t1 text gives their tags', async () => {
    expect(t1Vectors.map((v) => v.input.hash)).toEqual(['hmac-sha256', 'hmac-sm3']);
    for (const v of t1Vectors) {
      const keyring = new LocalKeyring({ keks: [{ version: 1, createdAt: '', keys: {} }], currentKek: 1, secrets: { integrity: [{ version: 1, key: toBase64Url(hex(v.input.integritySecret.key)) }] } });
      const verifier = createVerifier(keyring);
      expect(await verifier.verify(vectorSchema, v.sealed as never)).toEqual({ ok: true });
      const changed = structuredClone(v.sealed) as unknown as { mobile: { mask: Record<string, string> } };
      changed.mobile.mask['label'] = '*******9999';
      expect(await verifier.verify(vectorSchema, changed as never)).toEqual({ ok: false, path: 'mobile', reason: 'altered' });
    }
    const v = t1Vectors[0]!;
    const { $tag, ...record } = v.sealed as Record<string, unknown>;
    const { message, locators } = referenceTagMessage(record);
    const mac = createHmac('sha256', integrityKey(v)).update(message).digest('base64url');
    expect($tag).toBe(`t1.hmac-sha256.1.${mac}.${locators.toString('base64url')}`);
  });
});

const sigBlock = /<!-- signature-vectors:begin -->\s*```json\n([\s\S]*?)```\s*<!-- signature-vectors:end -->/.exec(spec);
const sigVectors = JSON.parse(sigBlock![1]!) as Awaited<ReturnType<typeof buildSignatureVector>>[];
const sigT1Block = /<!-- signature-vectors-t1:begin -->\s*```json\n([\s\S]*?)```\s*<!-- signature-vectors-t1:end -->/.exec(spec);
const sigT1Vectors = JSON.parse(sigT1Block![1]!) as Awaited<ReturnType<typeof buildSignatureVector>>[];

describe('docs/FORMAT.md §11.2 signed tag vectors', () => {
  it('has one vector per signature algorithm, from the documented inputs; each public key is its private key\'s', async () => {
    expect(sigVectors.map((v) => v.input)).toEqual(signatureVectorInputs());
    for (const v of sigVectors) expect((await buildSignatureVector(v.input)).verifyKeys).toEqual(v.verifyKeys);
  });

  it('ed25519: the library rebuilds the vector byte for byte (Ed25519 is deterministic)', async () => {
    const v = sigVectors.find((x) => x.input.alg === 'ed25519')!;
    expect(await buildSignatureVector(v.input)).toEqual(v);
  });

  it.each(['ed25519', 'sm2'].flatMap((alg) => [[alg, 't2'] as const, [alg, 't1'] as const]))('%s %s: the tag verifies with the verify-only keys, and fails once a mask is changed', async (alg, format) => {
    const v = (format === 't2' ? sigVectors : sigT1Vectors).find((x) => x.input.alg === alg)!;
    expect((v.sealed as unknown as Record<string, string>)['$tag']!.startsWith(`${format}.${alg}.`)).toBe(true);
    const verifier = createVerifier(parseVerifyKeys(v.verifyKeys));
    expect(await verifier.verify(vectorSchema, v.sealed as never)).toEqual({ ok: true });
    const changed = structuredClone(v.sealed) as { mobile: { mask: Record<string, string> } };
    changed.mobile.mask['label'] = '*******9999';
    expect(await verifier.verify(vectorSchema, changed as never)).toEqual({ ok: false, path: 'mobile', reason: 'altered' });
  });

  it('ed25519: Node\'s OpenSSL verifies the signature over the message built from the text of §11', () => {
    const v = sigVectors.find((x) => x.input.alg === 'ed25519')!;
    const { $tag, ...record } = v.sealed as Record<string, unknown>;
    const { message, locators } = referenceT2Message(vectorSchema, record);
    const [format, alg, version, sig, locs] = ($tag as string).split('.');
    expect([format, alg, version, locs]).toEqual(['t2', 'ed25519', '1', locators.toString('base64url')]);
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: v.verifyKeys.keys[0]!.publicKey }, format: 'jwk' });
    expect(verify(null, message, key, Buffer.from(sig!, 'base64url'))).toBe(true);
    expect(verify(null, Buffer.concat([message, Buffer.of(0)]), key, Buffer.from(sig!, 'base64url'))).toBe(false);
  });

  it('sm2: the OpenSSL command line (a second SM2 implementation, signer id 1234567812345678) verifies the signature', async () => {
    const v = sigVectors.find((x) => x.input.alg === 'sm2')!;
    const { $tag, ...record } = v.sealed as Record<string, unknown>;
    const { message } = referenceT2Message(vectorSchema, record);
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

/**
 * The t2 message of §11, built from the text: the schema's fields in declaration order, each covered
 * value a unit LP(path) LP(content); locators Adler-32 of each unit's bytes.
 */
function referenceT2Message(schema: Schema, record: Record<string, unknown>): { message: Buffer; locators: Buffer } {
  // Signed, as §11 lists them (not the library's signedPaths): the record id, the scopeFrom date
  // (default createdAt: no schema here sets the option) and the `signed` option; objects and arrays
  // under a signed path are signed throughout.
  expect(schema.scopeFrom).toBe('createdAt' in schema.shape ? 'createdAt' : undefined);
  const signed = new Set([schema.recordId, ...('createdAt' in schema.shape ? ['createdAt'] : []), ...schema.signed]);
  const lp = (b: Buffer | string) => {
    const bytes = typeof b === 'string' ? Buffer.from(b, 'utf8') : b;
    const n = Buffer.alloc(4);
    n.writeUInt32BE(bytes.length);
    return Buffer.concat([n, bytes]);
  };
  const u32 = (x: number) => lp(Buffer.alloc(0)).fill(0).map((_, i) => (x >>> (8 * (3 - i))) & 0xff);
  const units: Buffer[] = [];
  const unit = (path: string, content: Buffer | string) => units.push(Buffer.concat([lp(path), lp(content)]));
  // Whether a node holds a signed value (signed paths name plain fields and arrays) or a sealed field.
  const holdsCovered = (node: AnyNode, path: string, inSigned: boolean): boolean => {
    const def = node.def;
    const isSigned = inSigned || signed.has(path);
    if (def.type === 'protected') return true;
    if (def.type === 'plain') return isSigned;
    if (def.type === 'array') return isSigned || holdsCovered(def.element, '', isSigned);
    return Object.entries(def.shape).some(([k, n]) => holdsCovered(n, path ? `${path}.${k}` : '', isSigned));
  };
  const pairs = (o: Record<string, string>) => Buffer.concat([u32(Object.keys(o).length), ...Object.keys(o).sort().flatMap((k) => [lp(k), lp(o[k]!)])]);
  const visit = (node: AnyNode, v: unknown, path: string, inSigned: boolean): void => {
    const def = node.def;
    const isSigned = inSigned || signed.has(path);
    if (def.type === 'plain') {
      if (isSigned) unit(path, `${typeof v === 'string' ? 's' : typeof v === 'number' ? 'n' : 'b'}${String(v)}`);
    } else if (def.type === 'protected') {
      // Legacy plaintext (a string, or a virtual number's plain object): `p` alone.
      if (typeof v === 'string' || !('enc' in (v as object))) return void unit(path, 'p');
      const f = v as { enc: string; mask: Record<string, string>; tok?: Record<string, string> };
      unit(path, Buffer.concat([Buffer.from('e'), lp(f.enc), pairs(f.mask), ...(f.tok ? [pairs(f.tok)] : [])]));
    } else if (def.type === 'object') {
      if (def.optional && holdsCovered(node, path, inSigned)) unit(path, 'o');
      visitShape(def.shape, v as Record<string, unknown>, `${path}.`, isSigned);
    } else {
      const items = v as unknown[];
      if (holdsCovered(node, path, inSigned)) unit(path, `a${items.length}`);
      items.forEach((item, i) => visit(def.element, item, `${path}.${i}`, isSigned));
    }
  };
  const visitShape = (shape: Shape, o: Record<string, unknown>, prefix: string, inSigned: boolean) => {
    for (const [key, node] of Object.entries(shape)) if (o[key] !== undefined) visit(node, o[key], `${prefix}${key}`, inSigned);
  };
  visitShape(schema.shape, record, '', false);
  const adler = (b: Buffer) => {
    let a = 1;
    let c = 0;
    for (const x of b) {
      a = (a + x) % 65521;
      c = (c + a) % 65521;
    }
    return c * 65536 + a;
  };
  const locators = Buffer.concat(units.map((u) => u32(adler(u))));
  const head = encodeParts(['waybill-seal/tag', 't2', schema.name, String(schema.version), record[schema.recordId] as string]);
  return { message: Buffer.concat([head, ...units]), locators };
}

/** The t1 message of §11, built from the text: units of the vector schema (record id, scope date, both sealed fields). */
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
