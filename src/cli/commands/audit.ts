import { auditKey, GENESIS, type AuditVerification, type ChainHead } from '../../access/audit.js';
import { repairAuditFile, verifyAuditFile } from '../../node/audit-file-sink.js';
import { readCheckpointFile } from '../../node/checkpoint-file.js';
import { loadKeyFile } from '../../node/key-file-io.js';
import { PgAuditSink } from '../../stores/pg-audit.js';
import { parse, required, UsageError } from '../args.js';
import { connectDatabase } from '../database.js';
import { warnKeyFile } from './shared.js';
import { EXIT, exitLine } from '../exit.js';

const EXITS = [EXIT.OK, EXIT.USAGE, EXIT.INTEGRITY] as const;

export const help = `waybill-seal audit verify --keys keys.json [--checkpoint SEQ:MAC] FILE   (or --in FILE)
waybill-seal audit verify --keys keys.json --database URL [--table NAME] [--checkpoints FILE [--max-checkpoint-age S]] [--json]
waybill-seal audit repair --keys keys.json FILE

Verifies a tamper-evident audit log: every line's HMAC (keyed by the key file's audit secret), its
sequence number and its link to the line before. FILE is a log written by "waybill-seal open";
--database verifies the chain that PgAuditSink (waybill-seal/pg) keeps in a PostgreSQL table
(default waybill_seal_audit), shared by every instance. Prints the head (last sequence number and
MAC) when the log is intact.

Cutting lines off the end is only detectable against a checkpoint: --checkpoint SEQ:MAC (a head
printed earlier), or --checkpoints FILE, the signed checkpoints PgAuditSink wrote to a file
(FileCheckpointSink): every one must verify, at least one must name this table (under any
spelling that resolves to it), and the log must still hold the newest one's entry; its time and
age are printed, and --max-checkpoint-age S fails when it is older (a file rolled back). Keep the
checkpoints append-only (WORM, a log service) and out of reach of the database's writers.

${exitLine(EXITS)}
4: a line was altered, removed, reordered or spliced, the log is shorter than the checkpoint (the
first bad line number is printed), a checkpoint does not verify, none names this table
(no_checkpoint), or the newest is too old (checkpoint_stale); 1 also: database unreachable.

audit repair: a crash or a full disk during a write can leave the log ending mid-line, and then
every open refuses to extend it. repair takes the writers' lock, verifies every whole line, and cuts
off the torn last line (printing how many bytes and the head it ends on). It never rewrites or
removes a complete line: a last line that is whole but for its newline gets the newline, and if
the whole lines do not verify it changes nothing and exits 4. Exit 0: repaired or nothing to repair.

Examples:
  waybill-seal audit verify --keys keys.json keys.audit.jsonl
  waybill-seal audit verify --keys keys.json --checkpoint 1200:Jx3…Q keys.audit.jsonl
  waybill-seal audit verify --keys keys.json --database postgres://audit@db/waybills --checkpoints /var/log/ws-checkpoints.jsonl
  waybill-seal audit repair --keys keys.json keys.audit.jsonl`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    keys: { type: 'string' },
    checkpoint: { type: 'string' },
    checkpoints: { type: 'string' },
    database: { type: 'string' },
    table: { type: 'string' },
    'max-checkpoint-age': { type: 'string' },
    json: { type: 'boolean' },
  });
  const [sub, ...rest] = positionals;
  if (sub === 'repair') {
    const [file, ...extra] = typeof values['in'] === 'string' ? [values['in'], ...rest] : rest;
    if (file === undefined || extra.length > 0) throw new UsageError('audit repair takes one audit log FILE');
    if (['checkpoint', 'checkpoints', 'database', 'table'].some((k) => values[k] !== undefined)) throw new UsageError('audit repair takes --keys and one FILE only');
    return repair(file, required(values, 'keys'));
  }
  if (sub !== 'verify') throw new UsageError('usage: waybill-seal audit verify|repair --keys keys.json FILE');
  const database = typeof values['database'] === 'string' ? values['database'] : undefined;
  const [file, ...extra] = typeof values['in'] === 'string' ? [values['in'], ...rest] : rest;
  if (database === undefined ? file === undefined || extra.length > 0 : file !== undefined) {
    throw new UsageError('audit verify takes one audit log FILE, or --database URL');
  }
  if (database === undefined && (values['checkpoints'] !== undefined || values['table'] !== undefined)) {
    throw new UsageError('--checkpoints and --table go with --database');
  }
  const maxAge = values['max-checkpoint-age'] === undefined ? undefined : Number(values['max-checkpoint-age']);
  if (maxAge !== undefined && (values['checkpoints'] === undefined || !Number.isSafeInteger(maxAge) || maxAge < 1)) {
    throw new UsageError('--max-checkpoint-age takes whole seconds and goes with --checkpoints');
  }
  let checkpoint: ChainHead | undefined;
  if (typeof values['checkpoint'] === 'string') {
    const m = /^([1-9][0-9]*):([A-Za-z0-9_-]{43})$/.exec(values['checkpoint']);
    if (!m) throw new UsageError('--checkpoint must be SEQ:MAC as printed by a previous verify');
    checkpoint = { seq: Number(m[1]), mac: m[2]! };
  }
  const keys = await loadKeyFile(required(values, 'keys'));
  warnKeyFile(keys);
  const json = values['json'] === true;
  const where = database === undefined ? `audit log ${file}` : 'audit table';
  let result: AuditVerification;
  let checkpointCount: number | undefined;
  let newestAt: { time: string; ageSeconds: number } | undefined;
  if (database === undefined) {
    result = await verifyAuditFile(file!, keys.keyring, checkpoint ? { checkpoint } : {});
  } else {
    const key = await auditKey(keys.keyring);
    const client = await connectDatabase(database, 1);
    try {
      const sink = await PgAuditSink.open(client, key, typeof values['table'] === 'string' ? { table: values['table'] } : {});
      if (typeof values['checkpoints'] === 'string') {
        const file = values['checkpoints'];
        const picked = await sink.selectCheckpoint(await readCheckpointFile(file));
        if (!picked.ok) return report(json, { ok: false, reason: 'checkpoint_forged', message: picked.message, line: 0, head: GENESIS }, where);
        // A checkpoint file that names another table, or was emptied, proves nothing: fail, never pass.
        if (!picked.newest) return report(json, { ok: false, reason: 'no_checkpoint', message: `no checkpoint in ${file} is of ${sink.log}`, line: 0, head: GENESIS }, where, undefined, 0);
        checkpointCount = picked.count;
        newestAt = { time: picked.newest.time, ageSeconds: Math.round((Date.now() - Date.parse(picked.newest.time)) / 1000) };
        if (maxAge !== undefined && !(newestAt.ageSeconds <= maxAge)) {
          const message = `the newest checkpoint of ${sink.log} (${newestAt.time}) is ${newestAt.ageSeconds} s old, over --max-checkpoint-age ${maxAge}`;
          return report(json, { ok: false, reason: 'checkpoint_stale', message, line: 0, head: GENESIS }, where, undefined, checkpointCount, newestAt);
        }
        // The newer of the two checkpoints given (a file's newest, or --checkpoint) is the one the log must reach.
        if (picked.newest && (!checkpoint || picked.newest.seq > checkpoint.seq)) checkpoint = { seq: picked.newest.seq, mac: picked.newest.mac };
      }
      result = await sink.verify(checkpoint ? { checkpoint } : {});
    } finally {
      await client.end().catch(() => {});
    }
  }
  return report(json, result, where, checkpoint, checkpointCount, newestAt);
}

function report(
  json: boolean,
  result: AuditVerification | { ok: false; reason: string; message: string; line: number; head: ChainHead },
  where: string,
  checkpoint?: ChainHead,
  checkpoints?: number,
  newest?: { time: string; ageSeconds: number },
): number {
  if (json) {
    process.stdout.write(`${JSON.stringify({ ...result, ...(checkpoint ? { checkpoint } : {}), ...(checkpoints !== undefined ? { checkpoints } : {}), ...(newest ? { newestCheckpoint: newest } : {}) })}\n`);
  } else if (result.ok) {
    const against = checkpoint ? `; reaches checkpoint ${checkpoint.seq}${newest ? ` (newest checkpoint ${newest.time}, ${newest.ageSeconds} s old)` : ''}` : '';
    process.stdout.write(`ok: ${result.lines} line(s) intact${against}; head ${result.head.seq}:${result.head.mac}\n`);
  } else {
    process.stdout.write(`FAILED: ${result.message} [${result.reason}]\n`);
  }
  if (!result.ok) process.stderr.write(`${where}: ${result.line > 0 ? `first bad line ${result.line}` : 'checkpoints'} (${result.reason})\n`);
  return result.ok ? 0 : 4;
}

async function repair(file: string, keyFile: string): Promise<number> {
  const keys = await loadKeyFile(keyFile);
  warnKeyFile(keys);
  const r = await repairAuditFile(file, keys.keyring);
  if (r.action === 'truncated') {
    process.stdout.write(`repaired: cut off a torn last line (${r.bytes} bytes); ${r.head.seq} line(s) before it verified; head ${r.head.seq}:${r.head.mac}\n`);
    return 0;
  }
  if (r.action === 'completed') {
    process.stdout.write(`repaired: the last line was whole but for its newline, which was added; head ${r.head.seq}:${r.head.mac}\n`);
    return 0;
  }
  if (r.verification.ok) {
    process.stdout.write(`nothing to repair: ${r.verification.lines} line(s) intact; head ${r.verification.head.seq}:${r.verification.head.mac}\n`);
    return 0;
  }
  process.stdout.write(`FAILED: ${r.verification.message} [${r.verification.reason}]; nothing was changed\n`);
  process.stderr.write(`audit log ${file}: first bad line ${r.verification.line} (${r.verification.reason})\n`);
  return 4;
}
