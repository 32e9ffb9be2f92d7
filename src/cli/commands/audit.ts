import { verifyAuditFile } from '../../node/audit-file-sink.js';
import { loadKeyFile } from '../../node/key-file-io.js';
import { parse, required, UsageError } from '../args.js';
import { warnKeyFile } from './shared.js';

export const help = `waybill-seal audit verify --keys keys.json [--checkpoint SEQ:MAC] FILE   (or --in FILE)

Verifies a tamper-evident audit log (written by "waybill-seal open"): every line's HMAC (keyed by
the key file's audit secret), its sequence number and its link to the line before. Prints the
head (last sequence number and MAC) when the log is intact: keep it somewhere else as a
checkpoint, because cutting lines off the end is only detectable against a checkpoint.

Exit codes: 0 intact; 4 a line was altered, removed, reordered or spliced, or the log is shorter
than the checkpoint (the first bad line number is printed); 1 usage or configuration error.

Examples:
  waybill-seal audit verify --keys keys.json keys.audit.jsonl
  waybill-seal audit verify --keys keys.json --checkpoint 1200:Jx3…Q keys.audit.jsonl`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { keys: { type: 'string' }, checkpoint: { type: 'string' } });
  const [sub, ...rest] = positionals;
  if (sub !== 'verify') throw new UsageError('usage: waybill-seal audit verify --keys keys.json FILE');
  const [file, ...extra] = typeof values['in'] === 'string' ? [values['in'], ...rest] : rest;
  if (file === undefined || extra.length > 0) throw new UsageError('audit verify takes one audit log FILE');
  let checkpoint: { seq: number; mac: string } | undefined;
  if (typeof values['checkpoint'] === 'string') {
    const m = /^([1-9][0-9]*):([A-Za-z0-9_-]{43})$/.exec(values['checkpoint']);
    if (!m) throw new UsageError('--checkpoint must be SEQ:MAC as printed by a previous verify');
    checkpoint = { seq: Number(m[1]), mac: m[2]! };
  }
  const keys = await loadKeyFile(required(values, 'keys'));
  warnKeyFile(keys);
  const result = await verifyAuditFile(file, keys.keyring, checkpoint ? { checkpoint } : {});
  if (result.ok) {
    process.stdout.write(`ok: ${result.lines} line(s) intact; head ${result.head.seq}:${result.head.mac}\n`);
    return 0;
  }
  process.stdout.write(`FAILED: ${result.message} [${result.reason}]\n`);
  process.stderr.write(`audit log ${file}: first bad line ${result.line} (${result.reason})\n`);
  return 4;
}
