import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LocalKeyring, MemoryKeyStore, createSealer, generateLocalKeyMaterial } from '../../src/index.js';
import { contextOf } from '../../src/keys/data-keys.js';
import { hex, SEARCH } from '../helpers.js';
import { buildSearchVector, searchVectorInputs, searchVectorSchema, type SearchVectorInput } from './search-vector-builder.js';

const spec = readFileSync(new URL('../../docs/FORMAT.md', import.meta.url), 'utf8');
const block = /<!-- search-vectors:begin -->\s*```json\n([\s\S]*?)```\s*<!-- search-vectors:end -->/.exec(spec);
const vectors = JSON.parse(block![1]!) as (ReturnType<typeof buildSearchVector> & { input: SearchVectorInput })[];

/** A sealer whose key store holds the vector's key as March 2025's contact index key (generation 1). */
async function sealerFor(v: SearchVectorInput) {
  const keyring = new LocalKeyring(generateLocalKeyMaterial(['contact']));
  const keyStore = new MemoryKeyStore();
  const row = { id: 'contact-index/2025-03/1', keyClass: 'contact-index', scope: '2025-03', generation: 1, suite: 'xchacha20-poly1305' };
  await keyStore.putIfAbsent({ ...row, ...(await keyring.wrap(hex(v.indexSecret.key), contextOf(row))), createdAt: '2025-03-01T00:00:00Z' });
  return createSealer({ keyring, keyStore, guard: 'allow-all', indexHash: v.hash });
}

const monthToken = (t: string | undefined) => t?.replace(/^1\./, '2025-03~1.');
const monthTokens = (tok: Record<string, string>) => Object.fromEntries(Object.entries(tok).map(([k, t]) => [k, monthToken(t)]));

describe('docs/FORMAT.md §10 search-token vectors', () => {
  it('has a vector per index hash, from the documented inputs', () => {
    expect(vectors.map((v) => v.input.hash)).toEqual(['hmac-sha256', 'hmac-sm3']);
    expect(vectors.map((v) => v.input)).toEqual(searchVectorInputs());
  });

  it.each(vectors.map((v) => [v.input.hash, v] as const))('%s: the primitives rebuild the vector byte for byte', (_, v) => {
    expect(buildSearchVector(v.input)).toEqual(v);
  });

  it.each(vectors.map((v) => [v.input.hash, v] as const))('%s: seal stores exactly these tokens; tokensFor returns them', async (_, v) => {
    const sealer = await sealerFor(v.input);
    const sealed = await sealer.seal(searchVectorSchema, v.input.plain);
    expect(sealed.mobile.tok).toEqual(monthTokens(v.tok.mobile));
    expect(sealed.name.tok).toEqual(monthTokens(v.tok.name));
    for (const [index, value] of [
      ['mobile', '+86 138-1234-5678'],
      ['mobile:last4', '5678'],
      ['name', '张三'],
      ['mobile:ff1', '13812345678'],
    ] as const) {
      expect(await sealer.tokensFor(searchVectorSchema, index, value, SEARCH)).toEqual([monthToken(v.indexes[index]!['token'])]);
    }
  });
});
