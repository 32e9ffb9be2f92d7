import { loadKeyFile } from '../../node/key-file-io.js';
import { presetFor } from '../../presets/index.js';
import { createSealer } from '../../seal/sealer.js';
import { parse, required, UsageError } from '../args.js';
import { loadSchema } from '../schemas.js';
import { indexHashOption, indexName } from './find.js';
import { warnKeyFile } from './shared.js';

export const help = `waybill-seal token --keys keys.json --index NAME [--country CC] [--index-hash H] [--schema NAME|FILE.json] VALUE...

Prints the search token(s) of VALUE for an index, one per line: one per index-secret version the
key file holds, newest first (during an index key rotation a record may carry either). Use them to
query a database column that stores the sealed field's tok member. A compound index takes one
VALUE per field (receiver.mobile:last4+district 5678 西湖区). For an FF1 index the part after the
dot is the format-preserving token. Values that begin with "-" go after "--".

Examples:
  waybill-seal token --keys keys.json --index receiver.mobile "+86 138-1234-5678"
  waybill-seal token --keys keys.json --index receiver.mobile:last4 5678

Exit codes: 0 done, 1 usage or configuration error (also a value that does not normalise).`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { keys: { type: 'string' }, index: { type: 'string' }, country: { type: 'string' }, 'index-hash': { type: 'string' } });
  const { schema } = await loadSchema(values['schema'] as string);
  const index = indexName(schema, required(values, 'index'));
  if (positionals.length === 0) throw new UsageError('give the value (one per field of the index)');
  const keys = await loadKeyFile(required(values, 'keys'));
  warnKeyFile(keys);
  const sealer = createSealer({ ...presetFor(keys.file.suite), ...indexHashOption(values['index-hash']), keyring: keys.keyring, keyStore: keys.keyStore });
  try {
    const country = typeof values['country'] === 'string' ? { country: values['country'] } : {};
    const tokens = await sealer.tokensFor(schema, index, positionals.length === 1 ? positionals[0]! : positionals, country);
    process.stdout.write(`${tokens.join('\n')}\n`);
    return 0;
  } finally {
    sealer.close();
  }
}
