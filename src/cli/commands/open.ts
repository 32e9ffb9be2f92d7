import { loadKeyFile } from '../../node/key-file-io.js';
import { BULK, bulkOptions, JOBS, parse, required, UsageError } from '../args.js';
import { EXIT, exitLine } from '../exit.js';
import { runPipeline } from '../pipeline.js';
import { loadSchema } from '../schemas.js';
import { ACCESS, accessSinks, bulkHelp, contextOf, exitCode, policyOf, requirePurpose, warnKeyFile } from './shared.js';
import { policyFrom } from '../tasks.js';

const EXITS = [EXIT.OK, EXIT.USAGE, EXIT.REJECTED, EXIT.QUOTA, EXIT.INTEGRITY] as const;

export const help = `waybill-seal open --keys keys.json --principal ID --purpose P [evidence] [--in FILE] [--out FILE] [--format jsonl|csv] [options]

Sealed records in, opened records out (JSON Lines or CSV: --format, --in-format, --out-format),
under an access policy. Every record's decision is appended to a tamper-evident audit log before
its plaintext is written. A record the principal may not open is written as its screen-masked
view (the denial is in the audit log; exit 0). A record refused because a quota or export budget
is spent is written masked too, and the run exits 3. A record whose data keys were shredded is
written masked as well (its masks survive shredding). An unknown --purpose, or a purpose without
the evidence its rule needs for every record (--ticket, --route, --approval), is a usage error
(exit 1) before any record is read.

Each record written carries "$opened": {"fields": [paths opened], "withheld": {path: reason}}, so a
masked field is never mistaken for an opened one. Reasons: the policy's (field_not_granted,
out_of_scope, missing_ticket, …), quota_exceeded, export_budget_spent, shredded, key_not_held, and
not_requested (left out by --fields). CSV output has it as its last column, $opened, holding the same
JSON: a CSV reader tells an opened row from a masked one by that cell.

Evidence (recorded in the audit log):
  --ticket ID          ticket / case id (customer-service, realname-verify, audit)
  --route ID           the principal's route (deliver: routing.routeId must equal it)
  --outlet ID          the principal's outlet (waybill-issue: routing.originOutlet must equal it)
  --approval ID        an approved export (export); --budget N records at most (default 1000)
  --context JSON       any other evidence, e.g. '{"case":"C-9"}'

Options:
  --fields a.b,c.d     open only these fields (others keep their screen masks)
  --policy FILE        policy JSON (default: the built-in waybill policy, see README)
  --audit FILE         audit log (default: <keys>.audit.jsonl next to the key file)
  --quota-state FILE   quota counters (default: <keys>.quota.json next to the key file)
  -j, --jobs N|auto    worker threads (default 1); they share this run's audit log and quota
                       file through the main thread. Which records reach a quota first then
                       depends on timing; the count of opened records does not.

Built-in waybill policy: deliver (receiver name, mobile, address detail; --route), customer-service
(receiver.mobile; --ticket), realname-verify (sender.idNumber; --ticket), waybill-issue (names,
phones, address details; --outlet), audit (every field; --ticket; 50 records a day), export (every
field; --approval, --budget). At most 200 opened records per principal per hour.

Examples:
  waybill-seal open --keys keys.json --principal courier-17 --purpose deliver --route R-0571-03 < today.jsonl
  waybill-seal open --keys keys.json --principal cs-4 --purpose customer-service --ticket T-88121 --in one.jsonl
  waybill-seal open --keys keys.json --principal ops-2 --purpose export --approval EXP-2025-031 --budget 5000 --in month.jsonl
  waybill-seal open --keys keys.json --principal ops-2 --purpose export --approval EXP-7 --budget 100000 --jobs 2 --in month.csv --out month-open.csv

${bulkHelp({ jobs: false })}

${exitLine(EXITS)}
0 also when records were written masked (each says why in "$opened").`;

const DEFAULT_BUDGET = 1000;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    ...BULK,
    ...JOBS,
    ...ACCESS,
    keys: { type: 'string' },
    fields: { type: 'string' },
    budget: { type: 'string' },
  });
  const bulk = bulkOptions(values);
  const schema = await loadSchema(values['schema'] as string);
  const principal = required(values, 'principal');
  const purpose = required(values, 'purpose');
  const keysPath = required(values, 'keys');
  const fields = typeof values['fields'] === 'string' ? values['fields'].split(',').map((f) => f.trim()).filter(Boolean) : undefined;
  const context = contextOf(values);
  const approval = context['approval'];
  if (values['budget'] !== undefined && approval === undefined) throw new UsageError('--budget needs --approval');
  const budget = values['budget'] === undefined ? DEFAULT_BUDGET : Number(values['budget']);
  if (!Number.isSafeInteger(budget) || budget < 0) throw new UsageError('--budget must be a non-negative integer');
  const policyPath = values['policy'] as string | undefined;
  const policyJson = await policyOf(policyPath, schema.schema);
  requirePurpose(policyFrom(policyJson, policyPath), purpose, context);

  const keys = await loadKeyFile(keysPath);
  warnKeyFile(keys);
  const { audit, quotaStore } = await accessSinks(values, keysPath, keys);
  try {
    const summary = await runPipeline({
      command: 'open',
      bulk,
      schema,
      spec: {
        command: 'open',
        keys: keysPath,
        principal,
        purpose,
        context,
        budget,
        ...(fields ? { fields } : {}),
        ...(policyJson !== undefined ? { policyJson, policyPath: policyPath! } : {}),
      },
      env: { keys, audit, quotaStore },
    });
    const denied = Object.entries(summary.stats)
      .filter(([k]) => k.startsWith('denied:'))
      .map(([k, n]) => [k.slice('denied:'.length), n as number] as const);
    const spent = summary.stats['spent'] as string | undefined;
    // Tampering outranks a spent quota and bad lines: a script must not miss it behind another code.
    const code = summary.integrityFailed > 0 ? EXIT.INTEGRITY : spent !== undefined ? EXIT.QUOTA : exitCode(summary);
    summary.done(code);
    if (bulk.quiet) return code;
    if (denied.length > 0) {
      const counts = denied.map(([reason, n]) => `${reason}: ${n}`).join(', ');
      process.stderr.write(`${denied.reduce((a, [, n]) => a + n, 0)} record(s) written masked (${counts}); see the audit log\n`);
    }
    if (spent !== undefined) {
      const what = spent === 'export_budget_spent' ? 'export budget' : 'quota';
      process.stderr.write(`${what} reached: ${String(summary.stats['spentMessage'])}\n`);
    }
    return code;
  } finally {
    await audit.close();
  }
}
