import { isSuiteName, SUITES } from '../../crypto/aead.js';
import { loadKeyFile } from '../../node/key-file-io.js';
import { presetFor } from '../../presets/index.js';
import { indexHashOption } from './find.js';
import { createSealer } from '../../seal/sealer.js';
import { parse, required, UsageError } from '../args.js';
import { openStreams, runJsonl } from '../io.js';
import { schemaByName } from '../schemas.js';
import { exitCode, warnKeyFile } from './shared.js';

export const help = `waybill-seal seal --keys keys.json [--schema waybill] [--suite NAME] [--index-hash NAME] [--lenient] [--in FILE] [--out FILE]

Plain JSON Lines in, sealed JSON Lines out (stdin to stdout by default). Rejected lines are
reported on stderr by line number and reason (never content); exit code 2 if any was rejected.
The sealer follows the key file's preset: china (SM4-GCM, HMAC-SM3 indexes) for an sm4-gcm key
file, else international (HMAC-SHA-256 indexes). --suite (${SUITES.join(', ')}) overrides the
field suite for this run; any suite opens. --index-hash overrides the index hash, and must then be
given to find and token too (tokens of different hashes never match).

Examples:
  waybill-seal seal --keys keys.json --in waybills.jsonl --out sealed.jsonl
  waybill-seal seal --keys keys.json --suite sm4-gcm < waybills.jsonl > sealed.jsonl`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    keys: { type: 'string' },
    suite: { type: 'string' },
    'index-hash': { type: 'string' },
    lenient: { type: 'boolean' },
  });
  const schema = schemaByName(values['schema'] as string);
  const keys = await loadKeyFile(required(values, 'keys'));
  warnKeyFile(keys);
  const suite = values['suite'] ?? keys.file.suite;
  if (!isSuiteName(suite)) throw new UsageError(`unknown suite "${String(suite)}" (known: ${SUITES.join(', ')})`);
  const sealer = createSealer({
    ...presetFor(keys.file.suite),
    ...indexHashOption(values['index-hash']),
    keyring: keys.keyring,
    keyStore: keys.keyStore,
    suite,
    lenient: values['lenient'] === true,
  });
  const summary = await runJsonl(openStreams(values['in'] as string | undefined, values['out'] as string | undefined), async (rec) =>
    JSON.stringify(await sealer.seal(schema, rec as never)),
  );
  sealer.close();
  return exitCode(summary);
}
