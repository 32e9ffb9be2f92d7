import { BULK, bulkOptions, JOBS, parse } from '../args.js';
import { runPipeline } from '../pipeline.js';
import { loadSchema } from '../schemas.js';
import { EXIT } from '../exit.js';
import { bulkHelp, EXIT_SHORT, exitCode } from './shared.js';

export const help = `waybill-seal mask [--profile label|screen|NAME] [--verify-key verify.json] [--schema NAME|FILE.json] [--in FILE] [--out FILE] [--format jsonl|csv]

Sealed records in, masked records out: each protected field becomes its stored mask string.
Needs no keys. Stored masks are data anyone who can write the table can change: with
--verify-key (a verify-only key file from "waybill-seal keys export-verify") each record's
signature is checked first, and a record whose masks or signed fields do not verify is rejected
and not printed (exit 4). The file holds public keys only: it cannot forge a signature.

${bulkHelp({ jobs: true })}

Examples:
  waybill-seal mask --profile label --in sealed.jsonl
  waybill-seal mask --profile label --verify-key verify.json --in sealed.jsonl --out labels.jsonl
  waybill-seal mask --in sealed.jsonl --out-format csv --out screen.csv

${EXIT_SHORT} With --verify-key: 4 some record did not verify.`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { ...BULK, ...JOBS, profile: { type: 'string', default: 'screen' }, 'verify-key': { type: 'string' } });
  const bulk = bulkOptions(values);
  const schema = await loadSchema(values['schema'] as string);
  const verifyKey = values['verify-key'] as string | undefined;
  const spec = { command: 'mask', profile: values['profile'] as string, ...(verifyKey === undefined ? {} : { verifyKey }) } as const;
  const summary = await runPipeline({ command: 'mask', bulk, schema, spec });
  const failed = Number(summary.stats['failed'] ?? 0);
  const code = failed > 0 ? EXIT.INTEGRITY : exitCode(summary);
  summary.done(code);
  return code;
}
