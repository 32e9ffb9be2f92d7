import { checkPolicy, parsePolicy } from '../../access/policy.js';
import { waybillPolicy } from '../../access/waybill-policy.js';
import { JsonlAuditSink } from '../../node/audit-file-sink.js';
import { JsonFileQuotaStore } from '../../node/json-file-quota-store.js';
import type { LoadedKeys } from '../../node/key-file-io.js';
import { describeBackend } from '../../crypto/backend-load.js';
import type { AccessPolicy } from '../../access/policy.js';
import type { Schema } from '../../schema/schema.js';
import { readJsonFile, UsageError } from '../args.js';
import { EXIT } from '../exit.js';

/** 0: all lines done; 2: some lines rejected (usage and configuration errors exit 1 earlier). */
export const exitCode = (s: { readonly rejected: number }): number => (s.rejected > 0 ? EXIT.REJECTED : EXIT.OK);

/** A key file readable by others, or one still waiting for the index-key migration, is worth a warning even with --quiet (once per run). */
export function warnKeyFile(keys: LoadedKeys): void {
  if (keys.warning) process.stderr.write(`warning: ${keys.warning}\n`);
  if (keys.indexNotice) process.stderr.write(`warning: ${keys.indexNotice}\n`);
}

/** A file next to the key file: `keys.json` → `keys.audit.jsonl`, `keys.quota.json`. */
export const siblingOf = (keysPath: string, suffix: string): string => `${keysPath.replace(/\.json$/i, '')}${suffix}`;

/** Help text of the flags every bulk command shares. */
export const bulkHelp = (o: { jobs: boolean }) => `Input and output (every bulk command):
  --in FILE, --out FILE   default stdin and stdout; --out files are created with mode 0600 and
                          never replaced: an existing --out or --rejects file is refused before
                          any input is read (exit 1)
  --force                 replace an existing --out or --rejects file
  --format jsonl|csv      both sides (default jsonl; or by the file extension .csv/.jsonl)
  --in-format F, --out-format F   one side (e.g. JSON Lines in, CSV out)
  --encoding E            input encoding: utf-8 (default), gb18030 (also GBK and GB2312, as Excel
                          writes "CSV" in Chinese Windows) or utf-16le ("Unicode text"); decoded
                          strictly: a line that is not valid is rejected (INVALID_ENCODING, line
                          and byte offset), nothing is sealed from it. A UTF-8 BOM is accepted.
  --bom                   start the output with a UTF-8 BOM (so Excel reads it as UTF-8)
  --schema NAME|FILE.json built-in schema (waybill) or a schema file (see "waybill-seal schema --help")
  --map COL=PATH,...      CSV column names for field paths (COL=- drops a column); CSV columns
                          are otherwise the dot paths (receiver.mobile, receiver.address.detail).
                          Sealed CSV (seal, find) always names its columns by dot path, so the
                          next command reads it without --map; --map there names output columns
  --rejects FILE          also write rejected lines there (JSON Lines, or CSV for FILE.csv):
                          line number, reason code, field path; never content
${o.jobs ? '  -j, --jobs N|auto       worker threads (default 1); output order always equals input order\n' : ''}  -q, --quiet             no progress and no summary (rejections still go to stderr unless
                          --rejects FILE is given)
  --json-progress         JSON lines on stderr: {"type":"progress",…} every second, one
                          {"type":"rejected",…} per rejected line, {"type":"done",…,"exitCode"} at the end
  --progress              draw the progress bar even when stderr is not a terminal
  --progress-interval MS  --json-progress period (default 1000; 0: after every chunk)`;


/** Which crypto runs here, per suite (`WAYBILL_SEAL_BACKEND=js|openssl` in the environment changes it). */
export const backendLine = async (): Promise<string> => `crypto: ${await describeBackend()} (WAYBILL_SEAL_BACKEND=js|openssl changes it)`;

/** Flags of every command that is an access (`open`, `find`, `token`): who, why, evidence, policy, audit, quota. */
export const ACCESS = {
  principal: { type: 'string' },
  purpose: { type: 'string' },
  ticket: { type: 'string' },
  route: { type: 'string' },
  outlet: { type: 'string' },
  approval: { type: 'string' },
  context: { type: 'string' },
  policy: { type: 'string' },
  audit: { type: 'string' },
  'quota-state': { type: 'string' },
} as const;

/** The audit log (`--audit`, default `<keys>.audit.jsonl`) and quota file (`--quota-state`, default `<keys>.quota.json`). */
export async function accessSinks(values: Record<string, unknown>, keysPath: string, keys: LoadedKeys) {
  const audit = await JsonlAuditSink.open((values['audit'] as string | undefined) ?? siblingOf(keysPath, '.audit.jsonl'), keys.keyring);
  const quotaStore = new JsonFileQuotaStore((values['quota-state'] as string | undefined) ?? siblingOf(keysPath, '.quota.json'));
  return { audit, quotaStore };
}

/** Context keys with a flag of their own. */
const EVIDENCE_FLAGS = ['ticket', 'route', 'outlet', 'approval'];

/** The request's evidence: `--context JSON` plus `--ticket`, `--route`, `--outlet`, `--approval`. */
export function contextOf(values: Record<string, unknown>): Record<string, string> {
  let context: Record<string, string> = {};
  if (typeof values['context'] === 'string') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(values['context']);
    } catch {
      throw new UsageError('--context must be a JSON object of strings');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !Object.values(parsed).every((v) => typeof v === 'string')) {
      throw new UsageError('--context must be a JSON object of strings');
    }
    context = { ...(parsed as Record<string, string>) };
  }
  for (const key of EVIDENCE_FLAGS) {
    const v = values[key];
    if (typeof v !== 'string') continue;
    if (v === '') throw new UsageError(`--${key} must not be empty`);
    if (context[key] !== undefined && context[key] !== v) throw new UsageError(`--${key} and --context disagree on "${key}"`);
    context[key] = v;
  }
  return context;
}

/** The policy file's JSON (checked against the schema), or undefined for the built-in waybill policy. */
export async function policyOf(path: string | undefined, schema: Schema): Promise<unknown> {
  if (path === undefined) {
    if (schema.name !== 'waybill') throw new UsageError(`schema "${schema.name}" has no built-in policy: pass --policy FILE`);
    checkPolicy(waybillPolicy, schema);
    return undefined;
  }
  const json = await readJsonFile(path, 'policy file');
  checkPolicy(parsePolicy(json, path), schema);
  return json;
}

/**
 * `--purpose` must be one of the policy's, and the request must carry the evidence its rule needs
 * for every record (`requires`, `approval`, a scope key): a typo or a forgotten flag is a usage
 * error before any record is read, not a run of masked records.
 */
export function requirePurpose(policy: AccessPolicy, purpose: string, context: Readonly<Record<string, string>>): void {
  if (!Object.hasOwn(policy.purposes, purpose)) {
    throw new UsageError(`--purpose "${purpose}" is not a purpose of the policy (purposes: ${Object.keys(policy.purposes).join(', ')})`);
  }
  const rule = policy.purposes[purpose]!;
  const missing = [...(rule.requires ?? []), ...(rule.approval ? ['approval'] : [])].filter((key) => !given(context, key));
  const scopeKeys = [...new Set((rule.scope ?? []).map((m) => m.context))];
  if (scopeKeys.length > 0 && !scopeKeys.some((key) => given(context, key))) missing.push(scopeKeys.join(' or '));
  if (missing.length > 0) {
    const flags = missing.map((m) => m.split(' or ').map(flagOf).join(' or '));
    throw new UsageError(`--purpose ${purpose} needs ${flags.join(' and ')}: the policy refuses every record without it`);
  }
}

const given = (context: Readonly<Record<string, string>>, key: string): boolean => Object.hasOwn(context, key) && context[key] !== '';

/** The flag that sets a context key (`--ticket`), or `--context` for a policy's own key. */
const flagOf = (key: string): string => (EVIDENCE_FLAGS.includes(key) ? `--${key} ID` : `--context '{"${key}":…}'`);
