/**
 * Rebuilds the record-tag vectors of docs/FORMAT.md §11 from their fixed inputs: the §9 xchacha
 * sealed record and a fixed integrity secret, under both keyed hashes.
 */
import { toBase64Url } from '../../src/crypto/bytes.js';
import { createTagger } from '../../src/integrity/tag.js';
import { LocalKeyring } from '../../src/index.js';
import type { IndexHash } from '../../src/search/definition.js';
import { buildVector, vectorInputs, vectorSchema } from '../format/vector-builder.js';
import { hex, toHex } from '../helpers.js';

export interface TagVectorInput {
  hash: IndexHash;
  integritySecret: { version: number; key: string };
}

export function tagVectorInputs(): TagVectorInput[] {
  const key = toHex(Uint8Array.from({ length: 32 }, (_, i) => 0x60 + i));
  return (['hmac-sha256', 'hmac-sm3'] as const).map((hash) => ({ hash, integritySecret: { version: 1, key } }));
}

export async function buildTagVector(input: TagVectorInput) {
  const sealed = buildVector(vectorInputs()[0]!).sealed;
  const keyring = new LocalKeyring({
    keks: [{ version: 1, createdAt: '', keys: {} }],
    currentKek: 1,
    secrets: { integrity: [{ version: input.integritySecret.version, key: toBase64Url(hex(input.integritySecret.key)) }] },
  });
  const tag = await createTagger(keyring, input.hash).tag(vectorSchema, sealed);
  return { input, sealed: { ...sealed, $tag: tag } };
}
