import { isSuiteName, SUITES } from '../../crypto/aead.js';
import { loadKeyFile } from '../../node/key-file-io.js';
import { BULK, bulkOptions, JOBS, parse, required, UsageError } from '../args.js';
import { runPipeline } from '../pipeline.js';
import { loadSchema } from '../schemas.js';
import { indexHashOption } from './find.js';
import { bulkHelp, exitCode, warnKeyFile } from './shared.js';
import { EXIT, exitLine } from '../exit.js';

const EXITS = [EXIT.OK, EXIT.USAGE, EXIT.REJECTED] as const;

export const help = `waybill-seal seal --keys keys.json [--schema NAME|FILE.json] [--suite NAME] [--index-hash NAME] [--lenient] [--jobs N] [--in FILE] [--out FILE] [--format jsonl|csv]

Plain records in, sealed records out (stdin to stdout by default). Every protected field becomes
{ "enc", "mask", "tok"? }; in CSV output that object is one column of compact JSON.
The sealer follows the key file's preset: china (SM4-GCM, HMAC-SM3 indexes) for an sm4-gcm key
file, else international (HMAC-SHA-256 indexes). --suite (${SUITES.join(', ')}) overrides the
field suite for this run; any suite opens. --index-hash overrides the index hash, and must then be
given to find and token too (tokens of different hashes never match). --lenient seals values that
fail validation, masking every character. With --jobs N, N worker threads seal, each with its own
sealer on the same key file (data keys created by two workers at once end as one key per scope).

${bulkHelp({ jobs: true })}

Examples:
  waybill-seal seal --keys keys.json --in waybills.jsonl --out sealed.jsonl
  waybill-seal seal --keys keys.json --suite sm4-gcm < waybills.jsonl > sealed.jsonl
  waybill-seal seal --keys keys.json --jobs auto --in waybills.csv --out sealed.csv --rejects rejects.jsonl
  waybill-seal seal --keys keys.json --schema parcel.json --format csv --map "收件人手机=phone" < parcels.csv

${exitLine(EXITS)}`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    ...BULK,
    ...JOBS,
    keys: { type: 'string' },
    suite: { type: 'string' },
    'index-hash': { type: 'string' },
    lenient: { type: 'boolean' },
  });
  const bulk = bulkOptions(values);
  const schema = await loadSchema(values['schema'] as string);
  const keysPath = required(values, 'keys');
  const indexHash = indexHashOption(values['index-hash']);
  const keys = await loadKeyFile(keysPath);
  warnKeyFile(keys);
  const suite = values['suite'] ?? keys.file.suite;
  if (!isSuiteName(suite)) throw new UsageError(`unknown suite "${String(suite)}" (known: ${SUITES.join(', ')})`);
  const summary = await runPipeline({
    command: 'seal',
    bulk,
    schema,
    spec: { command: 'seal', keys: keysPath, suite, lenient: values['lenient'] === true, ...indexHash },
    env: { keys },
  });
  const code = exitCode(summary);
  summary.done(code);
  return code;
}
