/** Prints the format test vectors (JSON) for docs/FORMAT.md. Run: npx tsx scripts/gen-format-vectors.ts */
import { buildVector, vectorInputs } from '../test/format/vector-builder.js';

process.stdout.write(`${JSON.stringify(vectorInputs().map(buildVector), null, 2)}\n`);
