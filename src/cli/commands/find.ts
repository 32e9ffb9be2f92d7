import { loadKeyFile } from '../../node/key-file-io.js';
import type { Schema } from '../../schema/schema.js';
import { INDEX_HASHES, type IndexHash } from '../../search/definition.js';
import { indexesOf } from '../../search/engine.js';
import { BULK, bulkOptions, JOBS, parse, required, UsageError } from '../args.js';
import { runPipeline } from '../pipeline.js';
import { loadSchema } from '../schemas.js';
import { bulkHelp, EXIT_SHORT, exitCode, warnKeyFile } from './shared.js';

export const help = `waybill-seal find --keys keys.json --index NAME [--candidates] [--country CC] [--index-hash H] [--schema NAME|FILE.json] [--jobs N] [--in FILE] [--out FILE] [--format jsonl|csv] VALUE...

Sealed records in; the records whose index matches VALUE out, unchanged (sealed). Give one
VALUE per field of the index: a compound index such as receiver.mobile:last4+district takes the
last four digits and the district. Values are normalised as at seal time (+86 138-1234-5678,
13812345678 and 0086 13812345678 are the same number); a last4 index takes 4 digits or a full number.

Tokens of every index-secret version in the key file are tried, so records sealed before an index
key rotation are found too. Truncated tokens have false positives by design: each token match is
confirmed by opening the index's protected fields inside this process (principal system:search,
purpose search); only sealed records are printed. --candidates prints every token match without
opening anything (needs only the index secret).

The index hash follows the key file's preset (hmac-sm3 for sm4-gcm key files, else hmac-sha256);
--index-hash overrides it and must match the sealer that wrote the records. Exit code 0 also when
nothing matched. Values that begin with "-" go after "--".

${bulkHelp({ jobs: true })}

Examples:
  waybill-seal find --keys keys.json --index receiver.mobile 13812345678 < sealed.jsonl
  waybill-seal find --keys keys.json --index receiver.mobile:last4 5678 --in sealed.jsonl
  waybill-seal find --keys keys.json --index receiver.mobile:last4+district 5678 西湖区 --in sealed.jsonl
  waybill-seal find --keys keys.json --index sender.idNumber 11010519491231002x --in sealed.csv --jobs 2

${EXIT_SHORT}`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    ...BULK,
    ...JOBS,
    keys: { type: 'string' },
    index: { type: 'string' },
    candidates: { type: 'boolean' },
    country: { type: 'string' },
    'index-hash': { type: 'string' },
  });
  const bulk = bulkOptions(values);
  const schema = await loadSchema(values['schema'] as string);
  const index = indexName(schema.schema, required(values, 'index'));
  if (positionals.length === 0) throw new UsageError('give the value to find (one per field of the index)');
  const keysPath = required(values, 'keys');
  const indexHash = indexHashOption(values['index-hash']);
  const keys = await loadKeyFile(keysPath);
  warnKeyFile(keys);
  const onlyCandidates = values['candidates'] === true;
  const summary = await runPipeline({
    command: 'find',
    bulk,
    schema,
    spec: {
      command: 'find',
      keys: keysPath,
      index,
      values: positionals,
      candidates: onlyCandidates,
      ...(typeof values['country'] === 'string' ? { country: values['country'] } : {}),
      ...indexHash,
    },
    env: { keys },
  });
  const n = (k: string) => (summary.stats[k] as number | undefined) ?? 0;
  const [candidates, matches, unverifiable] = [n('candidates'), n('matches'), n('unverifiable')];
  const dropped = candidates - matches - unverifiable;
  const code = exitCode(summary);
  summary.done(code);
  if (!bulk.quiet) {
    process.stderr.write(
      onlyCandidates
        ? `find: ${summary.written} candidate${summary.written === 1 ? '' : 's'} in ${summary.read} records\n`
        : `find: ${matches} match${matches === 1 ? '' : 'es'} in ${summary.read} records (${dropped} false positive${dropped === 1 ? '' : 's'} dropped${unverifiable ? `, ${unverifiable} not verifiable` : ''})\n`,
    );
  }
  return code;
}

export function indexName(schema: Schema, name: string): string {
  const names = Object.keys(indexesOf(schema));
  if (!names.includes(name)) throw new UsageError(`unknown index "${name}" of schema ${schema.name} (indexes: ${names.join(', ')})`);
  return name;
}

export function indexHashOption(value: unknown): { indexHash?: IndexHash } {
  if (value === undefined) return {};
  if (!(INDEX_HASHES as readonly unknown[]).includes(value)) throw new UsageError(`unknown index hash "${String(value)}" (known: ${INDEX_HASHES.join(', ')})`);
  return { indexHash: value as IndexHash };
}
