import { createAccessGuard } from '../../access/guard.js';
import type { AuditSink } from '../../access/audit.js';
import type { QuotaStore } from '../../access/quota.js';
import { AccessDeniedError } from '../../errors.js';
import { loadKeyFile, type LoadedKeys } from '../../node/key-file-io.js';
import { presetFor } from '../../presets/index.js';
import { createSealer, type Sealer, type SearchRequest } from '../../seal/sealer.js';
import { windowProblem, type SearchWindow } from '../../keys/index-keys.js';
import type { Schema } from '../../schema/schema.js';
import { INDEX_HASHES, type IndexHash } from '../../schema/indexes.js';
import { indexesOf } from '../../search/engine.js';
import { BULK, bulkOptions, JOBS, parse, required, UsageError } from '../args.js';
import { EXIT, exitLine } from '../exit.js';
import { runPipeline } from '../pipeline.js';
import { loadSchema } from '../schemas.js';
import { policyFrom } from '../tasks.js';
import { ACCESS, accessSinks, bulkHelp, contextOf, exitCode, policyOf, warnKeyFile } from './shared.js';

const EXITS = [EXIT.OK, EXIT.USAGE, EXIT.REJECTED, EXIT.QUOTA] as const;

export const help = `waybill-seal find --keys keys.json --principal ID [--purpose P] [evidence] --index NAME [--from YYYY-MM] [--to YYYY-MM] [--candidates] [--country CC] [--index-hash H] [--schema NAME|FILE.json] [--jobs N] [--in FILE] [--out FILE] [--format jsonl|csv] VALUE...

Sealed records in; the records whose index matches VALUE out, unchanged (sealed). Give one
VALUE per field of the index: a compound index such as receiver.mobile:last4+district takes the
last four digits and the district. Values are normalised as at seal time (+86 138-1234-5678,
13812345678 and 0086 13812345678 are the same number); a last4 index takes 4 digits or a full number.

A search is an access, like open: the query is decided by the access policy (the purpose,
default search, must exist, carry its evidence and be allowed to search the index; scoped purposes
such as pickup --outlet only find records of their scope), charged to the principal's search quota
(built-in policy: 60 queries an hour) and written to the audit log (index, scope, counts; never the
value). Tokens of each live month's index key are tried; --from/--to limit the months searched
(default every month not shredded). Records sealed before per-month index keys carry tokens of the
old index secret and are NOT found until reindex (waybill-seal/search) has moved them: "no match" on
such data does not mean no such record. Truncated tokens have false positives by design: each token match
is confirmed by opening the index's protected fields inside this process under the same principal
and purpose (audited, charged to the open quota); only sealed records are printed. --candidates
prints every token match in scope without opening anything.

Access (as for open): --principal ID (required), --purpose P (default search), --ticket, --route,
--outlet, --approval, --context JSON, --policy FILE, --audit FILE, --quota-state FILE.

The index hash follows the key file's preset (hmac-sm3 for sm4-gcm key files, else hmac-sha256);
--index-hash overrides it and must match the sealer that wrote the records. Exit code 0 also when
nothing matched. Values that begin with "-" go after "--".

${bulkHelp({ jobs: true })}

Examples:
  waybill-seal find --keys keys.json --principal cs-4 --ticket T-1 --index receiver.mobile 13812345678 < sealed.jsonl
  waybill-seal find --keys keys.json --principal station-17 --purpose pickup --outlet HZ-XH-017 --index receiver.mobile:last4 5678 --in sealed.jsonl
  waybill-seal find --keys keys.json --principal cs-4 --purpose customer-service --ticket T-1 --index receiver.mobile:last4+district 5678 西湖区 --in sealed.jsonl
  waybill-seal find --keys keys.json --principal cs-4 --ticket T-1 --index sender.idNumber 11010519491231002x --in sealed.csv --jobs 2

${exitLine(EXITS)}
1 also: a query the policy refuses; 3: the search quota (or the open quota while
confirming) was reached.`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    ...BULK,
    ...JOBS,
    ...ACCESS,
    ...WINDOW,
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
  const access = await searchAccess(values, schema.schema);
  const keys = await loadKeyFile(keysPath);
  warnKeyFile(keys);
  const onlyCandidates = values['candidates'] === true;
  const { audit, quotaStore } = await accessSinks(values, keysPath, keys);
  try {
    const value = positionals.length === 1 ? positionals[0]! : positionals;
    const country = typeof values['country'] === 'string' ? { country: values['country'] } : {};
    const window = windowOption(values);
    const grant = await authorizedQuery(keys, indexHash.indexHash, { ...access, audit, quotaStore }, (sealer) => sealer.search(schema.schema, index, value, { ...access.request, ...country, ...window }));
    if (typeof grant === 'number') return grant;
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
        ...country,
        ...indexHash,
        principal: access.request.principal,
        purpose: access.request.purpose,
        context: access.request.context,
        ...(access.policyJson !== undefined ? { policyJson: access.policyJson, policyPath: access.policyPath! } : {}),
        grant: { tokens: grant.tokens, scope: grant.scope },
      },
      env: { keys, audit, quotaStore },
    });
    const n = (k: string) => (summary.stats[k] as number | undefined) ?? 0;
    const [candidates, matches, unverifiable] = [n('candidates'), n('matches'), n('unverifiable')];
    await grant.done({ candidates: onlyCandidates ? summary.written : candidates, matches, unverifiable });
    const dropped = candidates - matches - unverifiable;
    const spent = summary.stats['spent'] !== undefined;
    const code = spent ? EXIT.QUOTA : exitCode(summary);
    summary.done(code);
    if (!bulk.quiet) {
      process.stderr.write(
        onlyCandidates
          ? `find: ${summary.written} candidate${summary.written === 1 ? '' : 's'} in ${summary.read} records\n`
          : `find: ${matches} match${matches === 1 ? '' : 'es'} in ${summary.read} records (${dropped} false positive${dropped === 1 ? '' : 's'} dropped${unverifiable ? `, ${unverifiable} not verifiable` : ''})\n`,
      );
      if (spent) process.stderr.write(`quota reached while confirming candidates: ${String(summary.stats['spentMessage'])}\n`);
    }
    return code;
  } finally {
    await audit.close();
  }
}

interface SearchAccess {
  readonly request: SearchRequest & { readonly purpose: string; readonly context: Readonly<Record<string, string>> };
  readonly policyJson: unknown;
  readonly policyPath: string | undefined;
}

/** The search request of `find` and `token`: --principal (required), --purpose (default search), evidence, policy. */
export async function searchAccess(values: Record<string, unknown>, schema: Schema): Promise<SearchAccess> {
  const principal = required(values, 'principal');
  const purpose = typeof values['purpose'] === 'string' ? values['purpose'] : 'search';
  const policyPath = values['policy'] as string | undefined;
  const policyJson = await policyOf(policyPath, schema);
  return { request: { principal, purpose, context: contextOf(values) }, policyJson, policyPath };
}

/**
 * The query (`sealer.search` or `sealer.tokensFor`) decided, charged and audited through the policy
 * guard (a refused query: a message and exit 1, or 3 when the search quota is spent).
 */
export async function authorizedQuery<T>(
  keys: LoadedKeys,
  indexHash: IndexHash | undefined,
  access: SearchAccess & { readonly audit: AuditSink; readonly quotaStore: QuotaStore },
  query: (sealer: Sealer) => Promise<T>,
): Promise<T | number> {
  const guard = createAccessGuard({ policy: policyFrom(access.policyJson, access.policyPath), audit: access.audit, quotaStore: access.quotaStore });
  const sealer = createSealer({ ...presetFor(keys.file.suite), ...(indexHash ? { indexHash } : {}), keyring: keys.keyring, keyStore: keys.keyStore, guard });
  try {
    return await query(sealer);
  } catch (e) {
    if (!(e instanceof AccessDeniedError)) throw e;
    process.stderr.write(`search refused: ${e.message} (see the audit log)\n`);
    return e.reason === 'quota_exceeded' ? EXIT.QUOTA : EXIT.USAGE;
  } finally {
    sealer.close();
  }
}

/** `--from YYYY-MM --to YYYY-MM`: the months a query searches (key files with per-month index keys). */
export function windowOption(values: Record<string, unknown>): { window?: SearchWindow } {
  const window = { ...(typeof values['from'] === 'string' ? { from: values['from'] } : {}), ...(typeof values['to'] === 'string' ? { to: values['to'] } : {}) };
  if (Object.keys(window).length === 0) return {};
  const bad = windowProblem(window);
  if (bad !== undefined) throw new UsageError(`--from/--to: ${bad}`);
  return { window };
}

/** The options of `windowOption`. */
export const WINDOW = { from: { type: 'string' }, to: { type: 'string' } } as const;

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
