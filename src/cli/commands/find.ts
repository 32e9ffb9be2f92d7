import { loadKeyFile } from '../../node/key-file-io.js';
import { presetFor } from '../../presets/index.js';
import { createSealer } from '../../seal/sealer.js';
import { walkRecord } from '../../schema/walk.js';
import { INDEX_HASHES, type IndexHash } from '../../search/definition.js';
import { indexesOf } from '../../search/engine.js';
import { createFinder } from '../../search/find.js';
import { parse, required, UsageError } from '../args.js';
import { openStreams, runJsonl } from '../io.js';
import { schemaByName } from '../schemas.js';
import { exitCode, warnKeyFile } from './shared.js';

export const help = `waybill-seal find --keys keys.json --index NAME [--candidates] [--country CC] [--index-hash H] [--schema waybill] [--in FILE] [--out FILE] VALUE...

Sealed JSON Lines in; the records whose index matches VALUE out, unchanged (sealed). Give one
VALUE per field of the index: a compound index such as receiver.mobile:last4+district takes the
last four digits and the district. Values are normalised as at seal time (+86 138-1234-5678,
13812345678 and 0086 13812345678 are the same number); a last4 index takes 4 digits or a full number.

Tokens of every index-secret version in the key file are tried, so records sealed before an index
key rotation are found too. Truncated tokens have false positives by design: each token match is
confirmed by opening the index's protected fields inside this process (principal system:search,
purpose search); only sealed records are printed. --candidates prints every token match without
opening anything (needs only the index secret).

The index hash follows the key file's preset (hmac-sm3 for sm4-gcm key files, else hmac-sha256);
--index-hash overrides it and must match the sealer that wrote the records. Exit codes: 0 (also
when nothing matched), 1 usage or configuration error, 2 some lines rejected (by number, never content).
Values that begin with "-" go after "--".

Examples:
  waybill-seal find --keys keys.json --index receiver.mobile 13812345678 < sealed.jsonl
  waybill-seal find --keys keys.json --index receiver.mobile:last4 5678 --in sealed.jsonl
  waybill-seal find --keys keys.json --index receiver.mobile:last4+district 5678 西湖区 --in sealed.jsonl
  waybill-seal find --keys keys.json --index sender.idNumber 11010519491231002x --in sealed.jsonl`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    keys: { type: 'string' },
    index: { type: 'string' },
    candidates: { type: 'boolean' },
    country: { type: 'string' },
    'index-hash': { type: 'string' },
  });
  const schema = schemaByName(values['schema'] as string);
  const index = indexName(schema, required(values, 'index'));
  if (positionals.length === 0) throw new UsageError('give the value to find (one per field of the index)');
  const keys = await loadKeyFile(required(values, 'keys'));
  warnKeyFile(keys);
  const sealer = createSealer({
    ...presetFor(keys.file.suite),
    ...indexHashOption(values['index-hash']),
    keyring: keys.keyring,
    keyStore: keys.keyStore,
    guard: 'allow-all',
  });
  try {
    const country = typeof values['country'] === 'string' ? { country: values['country'] } : {};
    const finder = await createFinder(sealer, schema, index, positionals.length === 1 ? positionals[0]! : positionals, country);
    const onlyCandidates = values['candidates'] === true;
    const summary = await runJsonl(openStreams(values['in'] as string | undefined, values['out'] as string | undefined), async (rec) => {
      walkRecord(schema.shape, rec, 'sealed');
      const hit = onlyCandidates ? finder.isCandidate(rec) : await finder.matches(rec as never);
      return hit ? JSON.stringify(rec) : undefined;
    });
    const { candidates, matches, unverifiable } = finder.stats;
    process.stderr.write(
      onlyCandidates
        ? `find: ${summary.written} candidate${summary.written === 1 ? '' : 's'} in ${summary.read} records\n`
        : `find: ${matches} match${matches === 1 ? '' : 'es'} in ${summary.read} records (${candidates - matches - unverifiable} false positive${candidates - matches - unverifiable === 1 ? '' : 's'} dropped${unverifiable ? `, ${unverifiable} not verifiable` : ''})\n`,
    );
    return exitCode(summary);
  } finally {
    sealer.close();
  }
}

export function indexName(schema: ReturnType<typeof schemaByName>, name: string): string {
  const names = Object.keys(indexesOf(schema));
  if (!names.includes(name)) throw new UsageError(`unknown index "${name}" of schema ${schema.name} (indexes: ${names.join(', ')})`);
  return name;
}

export function indexHashOption(value: unknown): { indexHash?: IndexHash } {
  if (value === undefined) return {};
  if (!(INDEX_HASHES as readonly unknown[]).includes(value)) throw new UsageError(`unknown index hash "${String(value)}" (known: ${INDEX_HASHES.join(', ')})`);
  return { indexHash: value as IndexHash };
}
