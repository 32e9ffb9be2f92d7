import { BULK, bulkOptions, JOBS, parse, required } from '../args.js';
import { EXIT } from '../exit.js';
import { runPipeline } from '../pipeline.js';
import { loadSchema } from '../schemas.js';
import { bulkHelp } from './shared.js';

export const help = `waybill-seal verify --keys FILE [--schema waybill|FILE.json] [--in FILE] [--out FILE] [--format jsonl|csv]

Checks the integrity tag of every sealed record: masks, tokens, ciphertexts and signed plain fields
(district, routing, items, weight) must be as sealed. Writes one result per record: JSON Lines
{"line":N,"ok":true} or {"line":N,"ok":false,"path":"receiver.mobile","reason":"altered"}; CSV
rows line,ok,path,reason. Lines that are not records (invalid JSON, bad CSV cells) are rejected.
Needs only the integrity secret: a full key file works, and so does a verify-only file holding just
{"secrets":{"integrity":[…]}} (what a label printer or sorting centre should get). Decrypts nothing.

${bulkHelp({ jobs: true })}

Examples:
  waybill-seal verify --keys printer-keys.json --in sealed.jsonl
  waybill-seal verify --keys keys.json --in sealed.csv --out-format csv --jobs auto | grep ',false,'

Exit codes: 0 every record verifies, 2 some record failed or some line was rejected, 1 usage or key error.`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { ...BULK, ...JOBS, keys: { type: 'string' } });
  const bulk = bulkOptions(values);
  const schema = await loadSchema(values['schema'] as string);
  const summary = await runPipeline({ command: 'verify', bulk, schema, spec: { command: 'verify', keys: required(values, 'keys') } });
  const failed = Number(summary.stats['failed'] ?? 0);
  if (failed > 0 && !bulk.quiet) process.stderr.write(`${failed} of the records failed verification\n`);
  const code = failed > 0 || summary.rejected > 0 ? EXIT.REJECTED : EXIT.OK;
  summary.done(code);
  return code;
}
