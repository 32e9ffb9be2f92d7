import { createHmac, hkdfSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeParts } from '../../src/crypto/bytes.js';
import { hex } from '../helpers.js';
import { referenceCanonicalJson } from './reference-canonical.js';
import { buildTagVector, tagVectorInputs } from './tag-vector-builder.js';

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
    // Units of the vector schema: record id, scope date (signed by default) and both sealed fields.
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
    const mac = createHmac('sha256', key).update(head).update(lp).update(locators).digest('base64url');
    expect($tag).toBe(`t1.hmac-sha256.1.${mac}.${locators.toString('base64url')}`);
  });
});
