import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LocalKeyring, MemoryKeyStore, createSealer, parseKeyFile } from '../../src/index.js';
import { buildVector, vectorSchema, type VectorInput } from './vector-builder.js';

const spec = readFileSync(new URL('../../docs/FORMAT.md', import.meta.url), 'utf8');
const block = /<!-- vectors:begin -->\s*```json\n([\s\S]*?)```\s*<!-- vectors:end -->/.exec(spec);
const vectors = JSON.parse(block![1]!) as (ReturnType<typeof buildVector> & { input: VectorInput })[];

describe('docs/FORMAT.md test vectors', () => {
  it('has a vector per suite', () => {
    expect(vectors.map((v) => v.input.suite).sort()).toEqual(['aes-256-gcm', 'sm4-gcm', 'xchacha20-poly1305']);
  });

  it.each(vectors.map((v) => [v.input.suite, v] as const))('%s: the code rebuilds the vector byte for byte', (_, v) => {
    expect(buildVector(v.input)).toEqual(v);
  });

  it.each(vectors.map((v) => [v.input.suite, v] as const))('%s: the public API opens the vector', async (_, v) => {
    const file = parseKeyFile(v.keyFile);
    // §9 vectors cover field encryption; record tags have their own vectors (§11).
    const sealer = createSealer({ keyring: new LocalKeyring(file), keyStore: new MemoryKeyStore(file.dataKeys), guard: 'allow-all', integrity: false });
    const { record } = await sealer.open(vectorSchema, v.sealed as never, { principal: 'spec', purpose: 'test', reveal: 'plain' });
    expect(record).toEqual(v.input.plain);
  });
});
