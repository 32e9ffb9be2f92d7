import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LocalKeyring, MemoryKeyStore, createSealer, generateLocalKeyMaterial } from '../../src/index.js';
import { toBase64Url } from '../../src/crypto/bytes.js';
import { hex, SEARCH } from '../helpers.js';
import { buildSearchVector, searchVectorInputs, searchVectorSchema, type SearchVectorInput } from './search-vector-builder.js';

const spec = readFileSync(new URL('../../docs/FORMAT.md', import.meta.url), 'utf8');
const block = /<!-- search-vectors:begin -->\s*```json\n([\s\S]*?)```\s*<!-- search-vectors:end -->/.exec(spec);
const vectors = JSON.parse(block![1]!) as (ReturnType<typeof buildSearchVector> & { input: SearchVectorInput })[];

function sealerFor(v: SearchVectorInput) {
  const material = generateLocalKeyMaterial(['contact']);
  const keyring = new LocalKeyring({
    ...material,
    secrets: { index: [{ version: v.indexSecret.version, key: toBase64Url(hex(v.indexSecret.key)) }], integrity: material.secrets!.integrity! },
  });
  return createSealer({ keyring, keyStore: new MemoryKeyStore(), guard: 'allow-all', indexHash: v.hash });
}

describe('docs/FORMAT.md §10 search-token vectors', () => {
  it('has a vector per index hash, from the documented inputs', () => {
    expect(vectors.map((v) => v.input.hash)).toEqual(['hmac-sha256', 'hmac-sm3']);
    expect(vectors.map((v) => v.input)).toEqual(searchVectorInputs());
  });

  it.each(vectors.map((v) => [v.input.hash, v] as const))('%s: the primitives rebuild the vector byte for byte', (_, v) => {
    expect(buildSearchVector(v.input)).toEqual(v);
  });

  it.each(vectors.map((v) => [v.input.hash, v] as const))('%s: seal stores exactly these tokens; tokensFor returns them', async (_, v) => {
    const sealer = sealerFor(v.input);
    const sealed = await sealer.seal(searchVectorSchema, v.input.plain);
    expect(sealed.mobile.tok).toEqual(v.tok.mobile);
    expect(sealed.name.tok).toEqual(v.tok.name);
    for (const [index, value] of [
      ['mobile', '+86 138-1234-5678'],
      ['mobile:last4', '5678'],
      ['name', '张三'],
      ['mobile:ff1', '13812345678'],
    ] as const) {
      expect(await sealer.tokensFor(searchVectorSchema, index, value, SEARCH)).toEqual([v.indexes[index]!['token']]);
    }
  });
});
