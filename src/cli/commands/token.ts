import { loadKeyFile } from '../../node/key-file-io.js';
import { parse, required, UsageError } from '../args.js';
import { loadSchema } from '../schemas.js';
import { authorizedQuery, indexHashOption, indexName, searchAccess, WINDOW, windowOption } from './find.js';
import { ACCESS, accessSinks, warnKeyFile } from './shared.js';
import { EXIT, exitLine } from '../exit.js';

const EXITS = [EXIT.OK, EXIT.USAGE, EXIT.QUOTA] as const;

export const help = `waybill-seal token --keys keys.json --principal ID [--purpose P] [evidence] --index NAME [--from YYYY-MM] [--to YYYY-MM] [--country CC] [--index-hash H] [--schema NAME|FILE.json] VALUE...

Prints the search token(s) of VALUE for an index, one per line: one per live month's index key in
--from..--to (default every live month), newest first: 24 months = 24 tokens, for WHERE tok =
ANY($1). Records sealed before per-month index keys carry tokens of the old index secret, which no
token printed here matches: they are found only after reindex (waybill-seal/search). Use them to
query a database column that stores the sealed field's tok member. A compound index takes one
VALUE per field (receiver.mobile:last4+district 5678 西湖区). For an FF1 index the part after the
dot is the format-preserving token. Values that begin with "-" go after "--".

A token is a search: the access policy decides it (purpose, default search; evidence; the indexes
the purpose may search), it is charged to the principal's search quota (built-in policy: 60 an
hour) and audited before it is printed (index, number of tokens; never the value). Printed tokens
carry no scope, so a scoped purpose (pickup --outlet) is refused: use find, which applies the scope.

Access (as for open): --principal ID (required), --purpose P (default search), --ticket, --route,
--outlet, --approval, --context JSON, --policy FILE, --audit FILE, --quota-state FILE.

Examples:
  waybill-seal token --keys keys.json --principal cs-4 --ticket T-1 --index receiver.mobile "+86 138-1234-5678"
  waybill-seal token --keys keys.json --principal cs-4 --purpose customer-service --ticket T-1 --index receiver.mobile:last4 5678

${exitLine(EXITS)}
1 also: a value that does not normalise, or a query the policy refuses; 3: the search
quota is spent.`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    ...ACCESS,
    ...WINDOW,
    keys: { type: 'string' },
    index: { type: 'string' },
    country: { type: 'string' },
    'index-hash': { type: 'string' },
  });
  const { schema } = await loadSchema(values['schema'] as string);
  const index = indexName(schema, required(values, 'index'));
  if (positionals.length === 0) throw new UsageError('give the value (one per field of the index)');
  const keysPath = required(values, 'keys');
  const access = await searchAccess(values, schema);
  const keys = await loadKeyFile(keysPath);
  warnKeyFile(keys);
  const { audit, quotaStore } = await accessSinks(values, keysPath, keys);
  try {
    const country = typeof values['country'] === 'string' ? { country: values['country'] } : {};
    const value = positionals.length === 1 ? positionals[0]! : positionals;
    const window = windowOption(values);
    // Bare tokens carry no scope: a scoped purpose (pickup) is refused; `find` applies the scope.
    const tokens = await authorizedQuery(keys, indexHashOption(values['index-hash']).indexHash, { ...access, audit, quotaStore }, (sealer) =>
      sealer.tokensFor(schema, index as never, value, { ...access.request, ...country, ...window }),
    );
    if (typeof tokens === 'number') return tokens;
    process.stdout.write(`${tokens.join('\n')}\n`);
    return 0;
  } finally {
    await audit.close();
  }
}
