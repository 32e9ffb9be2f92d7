import { BULK, bulkOptions, JOBS, parse } from '../args.js';
import { runPipeline } from '../pipeline.js';
import { loadSchema } from '../schemas.js';
import { bulkHelp, exitCode } from './shared.js';
import { EXIT, exitLine } from '../exit.js';

const EXITS = [EXIT.OK, EXIT.USAGE, EXIT.REJECTED] as const;

export const help = `waybill-seal inspect [--in FILE] [--out FILE] [--format jsonl|csv]

Sealed records in; per record, the format version, suite and data key id of each sealed field.
JSON Lines out: one line per record, {"line":N,"fields":[{path,version,suite,dataKeyId}…]}; CSV
out: one row per sealed field (line,path,version,suite,dataKeyId). Needs no keys; works for records
of any schema and of every format version this release reads (ws1).

${bulkHelp({ jobs: true })}

Examples:
  waybill-seal inspect --in sealed.jsonl
  waybill-seal inspect --in sealed.csv --out-format csv --out fields.csv

${exitLine(EXITS)}`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { ...BULK, ...JOBS });
  const bulk = bulkOptions(values);
  const schema = await loadSchema(values['schema'] as string);
  const summary = await runPipeline({ command: 'inspect', bulk, schema, spec: { command: 'inspect' } });
  const code = exitCode(summary);
  summary.done(code);
  return code;
}
