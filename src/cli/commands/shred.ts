import { shred, shredBefore, type ShredReport } from '../../access/shred.js';
import { JsonlAuditSink } from '../../node/audit-file-sink.js';
import { loadKeyFile } from '../../node/key-file-io.js';
import { parse, required, UsageError } from '../args.js';
import { siblingOf, warnKeyFile } from './shared.js';
import { EXIT, exitLine } from '../exit.js';

const EXITS = [EXIT.OK, EXIT.USAGE] as const;

export const help = `waybill-seal shred --keys keys.json (--before YYYY-MM | --scope SCOPE) [--class C[,C]] [--dry-run] [--audit FILE]

Crypto-shredding: replaces data keys in the key file by tombstones, so every field sealed under them
can never be opened again (copies and backups of the sealed data included); masks stay readable.
Data-key scopes are months (YYYY-MM) of the records' createdAt by default.

  --before YYYY-MM    retention: shred every month before this one (exclusive)
  --scope SCOPE       shred one scope (e.g. 2024-03)
  --class C[,C]       only these key classes (contact, address, identity, note); default all
  --dry-run           list what would be shredded, change nothing
  --audit FILE        audit log for the shred event (default: <keys>.audit.jsonl)

Destroy key-file backups older than the cut-off too: a backup of the key file still opens the data.

Examples:
  waybill-seal shred --keys keys.json --before 2024-12                  # keep 2024-12 and later
  waybill-seal shred --keys keys.json --before 2023-06 --class identity # real-name records only
  waybill-seal shred --keys keys.json --scope 2025-02 --class contact --dry-run

${exitLine(EXITS)}`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    keys: { type: 'string' },
    before: { type: 'string' },
    scope: { type: 'string' },
    class: { type: 'string' },
    'dry-run': { type: 'boolean' },
    audit: { type: 'string' },
  });
  const keysPath = required(values, 'keys');
  const before = values['before'] as string | undefined;
  const scope = values['scope'] as string | undefined;
  if ((before === undefined) === (scope === undefined)) throw new UsageError('give exactly one of --before YYYY-MM and --scope SCOPE');
  if (before !== undefined && !/^\d{4}-(0[1-9]|1[0-2])$/.test(before)) throw new UsageError('--before must be a month, YYYY-MM');
  const classes = typeof values['class'] === 'string' ? values['class'].split(',').map((c) => c.trim()).filter(Boolean) : undefined;
  const dryRun = values['dry-run'] === true;
  const keys = await loadKeyFile(keysPath);
  warnKeyFile(keys);

  const audit = dryRun ? undefined : await JsonlAuditSink.open((values['audit'] as string | undefined) ?? siblingOf(keysPath, '.audit.jsonl'), keys.keyring);
  let report: ShredReport;
  try {
    const options = { dryRun, ...(audit ? { audit } : {}) };
    if (before !== undefined) report = await shredBefore(keys.keyStore, before, { ...options, ...(classes ? { keyClasses: classes } : {}) });
    else {
      const parts: ShredReport[] = [];
      for (const c of classes ?? ['*']) parts.push(await shred(keys.keyStore, c, scope!, options));
      report = { shredded: parts.flatMap((p) => p.shredded), alreadyShredded: parts.flatMap((p) => p.alreadyShredded) };
    }
  } finally {
    await audit?.close();
  }
  const verb = dryRun ? 'would shred' : 'shredded';
  process.stdout.write(`${verb} ${report.shredded.length} data key(s)${report.shredded.length ? `: ${report.shredded.join(', ')}` : ''}\n`);
  if (report.alreadyShredded.length > 0) process.stdout.write(`already shredded: ${report.alreadyShredded.length}\n`);
  return 0;
}
