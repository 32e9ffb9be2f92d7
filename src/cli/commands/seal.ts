import { isSuiteName } from '../../crypto/aead.js';
import { loadKeyFile } from '../../node/key-file-io.js';
import { createSealer } from '../../seal/sealer.js';
import { parse, required, UsageError } from '../args.js';
import { openStreams, runJsonl } from '../io.js';
import { schemaByName } from '../schemas.js';
import { exitCode, warnKeyFile } from './shared.js';

export const help = `waybill-seal seal --keys keys.json [--schema waybill] [--suite NAME] [--lenient] [--in FILE] [--out FILE]

Plain JSON Lines in, sealed JSON Lines out (stdin to stdout by default). Rejected lines are
reported on stderr by line number and reason (never content); exit code 2 if any was rejected.

Example:
  waybill-seal seal --keys keys.json --in waybills.jsonl --out sealed.jsonl`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { keys: { type: 'string' }, suite: { type: 'string' }, lenient: { type: 'boolean' } });
  const schema = schemaByName(values['schema'] as string);
  const keys = await loadKeyFile(required(values, 'keys'));
  warnKeyFile(keys);
  const suite = values['suite'] ?? keys.file.suite;
  if (!isSuiteName(suite)) throw new UsageError(`unknown suite "${String(suite)}"`);
  const sealer = createSealer({ keyring: keys.keyring, keyStore: keys.keyStore, suite, lenient: values['lenient'] === true });
  const summary = await runJsonl(openStreams(values['in'] as string | undefined, values['out'] as string | undefined), async (rec) =>
    JSON.stringify(await sealer.seal(schema, rec as never)),
  );
  sealer.close();
  return exitCode(summary);
}
