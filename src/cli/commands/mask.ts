import { BULK, bulkOptions, JOBS, parse } from '../args.js';
import { runPipeline } from '../pipeline.js';
import { loadSchema } from '../schemas.js';
import { bulkHelp, EXIT_SHORT, exitCode } from './shared.js';

export const help = `waybill-seal mask [--profile label|screen|NAME] [--schema NAME|FILE.json] [--in FILE] [--out FILE] [--format jsonl|csv]

Sealed records in, masked records out: each protected field becomes its stored mask string.
Needs no keys.

${bulkHelp({ jobs: true })}

Examples:
  waybill-seal mask --profile label --in sealed.jsonl
  waybill-seal mask --in sealed.jsonl --out-format csv --out screen.csv

${EXIT_SHORT}`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { ...BULK, ...JOBS, profile: { type: 'string', default: 'screen' } });
  const bulk = bulkOptions(values);
  const schema = await loadSchema(values['schema'] as string);
  const summary = await runPipeline({ command: 'mask', bulk, schema, spec: { command: 'mask', profile: values['profile'] as string } });
  const code = exitCode(summary);
  summary.done(code);
  return code;
}
