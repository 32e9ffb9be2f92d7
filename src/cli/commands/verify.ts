import { BULK, bulkOptions, JOBS, parse, required, UsageError } from '../args.js';
import { EXIT, exitLine } from '../exit.js';
import { runPipeline } from '../pipeline.js';
import { loadSchema } from '../schemas.js';
import { bulkHelp } from './shared.js';

const EXITS = [EXIT.OK, EXIT.USAGE, EXIT.REJECTED, EXIT.INTEGRITY] as const;

export const help = `waybill-seal verify --keys FILE | --verify-key FILE [--schema waybill|FILE.json] [--in FILE] [--out FILE] [--format jsonl|csv]

Reads sealed records (JSON Lines or CSV) and checks each one's integrity tag: masks, tokens, ciphertexts and signed plain fields
(district, routing, items, weight) must be as sealed. Writes one result per record: JSON Lines
{"line":N,"ok":true} or {"line":N,"ok":false,"path":"receiver.mobile","reason":"altered"}; CSV
rows line,ok,path,reason. Lines that are not records (invalid JSON, bad CSV cells) are rejected.
Decrypts nothing. Signed records (keygen --integrity ed25519|sm2): --verify-key FILE, the public
keys from "waybill-seal keys export-verify" (what a label printer or sorting centre should get: it
cannot forge a signature). HMAC records: --keys FILE, a full key file or one holding just
{"secrets":{"integrity":[…]}}; that secret makes tags as well as checking them.

${bulkHelp({ jobs: true })}

Examples:
  waybill-seal verify --verify-key verify.json --in sealed.jsonl
  waybill-seal verify --keys keys.json --in sealed.csv --out-format csv --jobs auto | grep ',false,'

${exitLine(EXITS)}
2: a line is not a record; 4: some record failed verification.`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { ...BULK, ...JOBS, keys: { type: 'string' }, 'verify-key': { type: 'string' } });
  const bulk = bulkOptions(values);
  const schema = await loadSchema(values['schema'] as string);
  const verifyKey = values['verify-key'] as string | undefined;
  if (verifyKey !== undefined && values['keys'] !== undefined) throw new UsageError('give --keys or --verify-key, not both');
  const spec = verifyKey !== undefined ? { command: 'verify', verifyKey } as const : { command: 'verify', keys: required(values, 'keys') } as const;
  const summary = await runPipeline({ command: 'verify', bulk, schema, spec });
  const failed = Number(summary.stats['failed'] ?? 0);
  if (failed > 0 && !bulk.quiet) process.stderr.write(`${failed} of the records failed verification\n`);
  const code = failed > 0 ? EXIT.INTEGRITY : summary.rejected > 0 ? EXIT.REJECTED : EXIT.OK;
  summary.done(code);
  return code;
}
