import { BULK, bulkOptions, JOBS, parse } from '../args.js';
import { runPipeline } from '../pipeline.js';
import { loadSchema } from '../schemas.js';
import { bulkHelp, exitCode } from './shared.js';
import { EXIT, exitLine } from '../exit.js';

const EXITS = [EXIT.OK, EXIT.USAGE, EXIT.REJECTED] as const;

export const help = `waybill-seal convert [--schema NAME|FILE.json] --in-format F --out-format F [--in FILE] [--out FILE]

JSON Lines ↔ CSV for records of a schema, plain or sealed (a protected field may hold either:
a sealed field's object is one CSV column of compact JSON). Each record is checked against the
schema (unknown fields are refused); values are converted by the schema (numbers, booleans,
JSON text of arrays and objects). Needs no keys; nothing is decrypted or encrypted.

${bulkHelp({ jobs: true })}

Examples:
  waybill-seal convert --in sealed.csv --out sealed.jsonl        # then: waybill-seal reseal --in sealed.jsonl …
  waybill-seal convert --in waybills.jsonl --out-format csv --map "手机=receiver.mobile" > waybills.csv

${exitLine(EXITS)}`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { ...BULK, ...JOBS });
  const bulk = bulkOptions(values);
  const schema = await loadSchema(values['schema'] as string);
  const summary = await runPipeline({ command: 'convert', bulk, schema, spec: { command: 'convert' } });
  const code = exitCode(summary);
  summary.done(code);
  return code;
}
