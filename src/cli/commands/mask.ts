import type { AnyNode, Shape } from '../../schema/builder.js';
import { BULK, bulkOptions, JOBS, parse, UsageError } from '../args.js';
import { runPipeline } from '../pipeline.js';
import { loadSchema } from '../schemas.js';
import { EXIT, exitLine } from '../exit.js';
import { bulkHelp, exitCode } from './shared.js';

const EXITS = [EXIT.OK, EXIT.USAGE, EXIT.REJECTED, EXIT.INTEGRITY] as const;

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

${exitLine(EXITS)}
4: with --verify-key, some record did not verify (it is not printed).`;

/** The mask profiles every sealed field of a schema stores: label, screen and the schema's custom ones. */
function profilesOf(shape: Shape, into = new Set<string>(['label', 'screen'])): Set<string> {
  const visit = (node: AnyNode): void => {
    const def = node.def;
    if (def.type === 'protected') for (const name of Object.keys(def.mask.custom ?? {})) into.add(name);
    else if (def.type === 'object') profilesOf(def.shape, into);
    else if (def.type === 'array') visit(def.element);
  };
  for (const node of Object.values(shape)) visit(node);
  return into;
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { ...BULK, ...JOBS, profile: { type: 'string', default: 'screen' }, 'verify-key': { type: 'string' } });
  const bulk = bulkOptions(values);
  const schema = await loadSchema(values['schema'] as string);
  const verifyKey = values['verify-key'] as string | undefined;
  const profile = values['profile'] as string;
  const profiles = profilesOf(schema.schema.shape);
  if (!profiles.has(profile)) throw new UsageError(`--profile "${profile}" is not a mask profile of schema ${schema.schema.name} (profiles: ${[...profiles].join(', ')})`);
  const spec = { command: 'mask', profile, ...(verifyKey === undefined ? {} : { verifyKey }) } as const;
  const summary = await runPipeline({ command: 'mask', bulk, schema, spec });
  const failed = Number(summary.stats['failed'] ?? 0);
  const code = failed > 0 ? EXIT.INTEGRITY : exitCode(summary);
  summary.done(code);
  return code;
}
