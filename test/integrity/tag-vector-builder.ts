/**
 * Rebuilds the record-tag vectors of docs/FORMAT.md §11 from their fixed inputs: the §9 xchacha
 * sealed record and a fixed integrity secret, under both keyed hashes, and a sealed waybill from the
 * ws1 fixtures (arrays, an optional object, tokens, numbers).
 */
import { readFileSync } from 'node:fs';
import { toBase64Url } from '../../src/crypto/bytes.js';
import type { SignatureAlg } from '../../src/crypto/signature.js';
import { createTagger } from '../../src/integrity/tag.js';
import { exportVerifyKeys } from '../../src/integrity/verify-keys.js';
import { LocalKeyring, waybill, type Schema } from '../../src/index.js';
import type { IndexHash } from '../../src/schema/indexes.js';
import { buildVector, vectorInputs, vectorSchema } from '../format/vector-builder.js';
import { hex, toHex } from '../helpers.js';

export interface TagVectorInput {
  hash: IndexHash;
  integritySecret: { version: number; key: string };
  /**
   * `waybill`: the fixture waybill SF1234567890123 under the built-in schema (default: the §9 record);
   * `migrating`: the same waybill still holding legacy plaintext in `sender.landline` (a `p` unit).
   */
  record?: 'waybill' | 'migrating';
}

export function tagVectorInputs(): TagVectorInput[] {
  const key = toHex(Uint8Array.from({ length: 32 }, (_, i) => 0x60 + i));
  const integritySecret = { version: 1, key };
  return [...(['hmac-sha256', 'hmac-sm3'] as const).map((hash) => ({ hash, integritySecret })), { hash: 'hmac-sha256', integritySecret, record: 'waybill' }, { hash: 'hmac-sha256', integritySecret, record: 'migrating' }];
}

/** The sealed waybill SF1234567890123 of test/fixtures/sealed-ws1.jsonl, without its tag. */
export function fixtureWaybill(): Record<string, unknown> {
  const line = readFileSync(new URL('../fixtures/sealed-ws1.jsonl', import.meta.url), 'utf8')
    .split('\n')
    .find((l) => l.includes('"waybillNo":"SF1234567890123"'))!;
  const { $tag: _, ...record } = JSON.parse(line) as Record<string, unknown>;
  return record;
}

export function tagVectorRecord(input: TagVectorInput): { schema: Schema; sealed: Record<string, unknown> } {
  if (input.record === undefined) return { schema: vectorSchema, sealed: buildVector(vectorInputs()[0]!).sealed };
  const sealed = fixtureWaybill();
  if (input.record === 'migrating') (sealed['sender'] as Record<string, unknown>)['landline'] = '0755-12345678';
  return { schema: waybill, sealed };
}

export async function buildTagVector(input: TagVectorInput) {
  const { schema, sealed } = tagVectorRecord(input);
  const keyring = new LocalKeyring({
    keks: [{ version: 1, createdAt: '', keys: {} }],
    currentKek: 1,
    secrets: { integrity: [{ version: input.integritySecret.version, key: toBase64Url(hex(input.integritySecret.key)) }] },
  });
  const tag = await createTagger(keyring, input.hash).tag(schema, sealed);
  return { input, sealed: { ...sealed, $tag: tag } };
}

export interface SignatureVectorInput {
  alg: SignatureAlg;
  /** The private signing key (hex): an Ed25519 seed, or an SM2 scalar. */
  privateKey: string;
}

export function signatureVectorInputs(): SignatureVectorInput[] {
  return [
    { alg: 'ed25519', privateKey: toHex(Uint8Array.from({ length: 32 }, (_, i) => 0x40 + i)) },
    { alg: 'sm2', privateKey: toHex(Uint8Array.from({ length: 32 }, (_, i) => 0x20 + i)) },
  ];
}

/** The §9 record tagged with a signature. SM2 signatures are randomised: give the stored tag to check instead of rebuild. */
export async function buildSignatureVector(input: SignatureVectorInput) {
  const sealed = buildVector(vectorInputs()[0]!).sealed;
  const keyring = new LocalKeyring({
    keks: [{ version: 1, createdAt: '', keys: {} }],
    currentKek: 1,
    secrets: { [input.alg]: [{ version: 1, key: toBase64Url(hex(input.privateKey)) }] },
  });
  const verifyKeys = await exportVerifyKeys(keyring, input.alg);
  const tag = await createTagger(keyring, 'hmac-sha256', { alg: input.alg }).tag(vectorSchema, sealed);
  return { input, verifyKeys, sealed: { ...sealed, $tag: tag } };
}
