/**
 * Prints the test vectors for docs/FORMAT.md. Run: npx tsx scripts/gen-format-vectors.ts [fields|tags|signatures]
 * (fields: §9, the default; tags: §11; signatures: §11.2).
 */
import { buildVector, vectorInputs } from '../test/format/vector-builder.js';
import { buildSignatureVector, buildTagVector, signatureVectorInputs, tagVectorInputs } from '../test/integrity/tag-vector-builder.js';

const which = process.argv[2] ?? 'fields';
const vectors =
  which === 'tags'
    ? await Promise.all(tagVectorInputs().map(buildTagVector))
    : which === 'signatures'
      ? await Promise.all(signatureVectorInputs().map(buildSignatureVector))
      : vectorInputs().map(buildVector);
process.stdout.write(`${JSON.stringify(vectors, null, 2)}\n`);
