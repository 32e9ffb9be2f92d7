/** Command-line parsing on node:util's parseArgs, with usage errors as a typed error. */
import { availableParallelism } from 'node:os';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError } from '../errors.js';
import { readJson } from '../node/read-json.js';

export class UsageError extends ConfigError {}

/** The JSON of a file named on the command line (`what`: "schema file", "policy file"). */
export const readJsonFile = (path: string, what: string): Promise<unknown> =>
  readJson(path, (problem) => new UsageError(problem === 'unreadable' ? `cannot read ${what} ${path}` : `${what} ${path} is not valid JSON`));

export type Options = NonNullable<ParseArgsConfig['options']>;

/** Flags every command takes. */
export const COMMON: Options = {
  in: { type: 'string' },
  out: { type: 'string' },
  schema: { type: 'string', default: 'waybill' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
};

/** Flags of the bulk (record-streaming) commands. */
export const BULK: Options = {
  format: { type: 'string' },
  'in-format': { type: 'string' },
  'out-format': { type: 'string' },
  map: { type: 'string', multiple: true },
  rejects: { type: 'string' },
  'json-progress': { type: 'boolean' },
  progress: { type: 'boolean' },
  'progress-interval': { type: 'string' },
  encoding: { type: 'string' },
  bom: { type: 'boolean' },
  force: { type: 'boolean' },
};

/** `--jobs`, for the bulk commands that spread work over worker threads. */
export const JOBS: Options = { jobs: { type: 'string', short: 'j' } };

export function parse(argv: string[], options: Options) {
  const all: Options = { ...COMMON, ...options };
  // `--budget -5`: a value that looks like a negative number is the flag's value (so its own check
  // names what is wrong), not an "ambiguous" flag.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      args.push(...argv.slice(i));
      break;
    }
    const next = argv[i + 1];
    const takesValue = a.startsWith('--') && !a.includes('=') && all[a.slice(2)]?.type === 'string';
    if (takesValue && next !== undefined && /^-\d/.test(next)) {
      args.push(`${a}=${next}`);
      i++;
    } else args.push(a);
  }
  try {
    return parseArgs({ args, options: all, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function required(values: Record<string, unknown>, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required`);
  return v;
}

/** Encodings `--encoding` takes (labels as the WHATWG Encoding Standard spells them; gbk and gb2312 decode as gb18030). */
export const ENCODINGS = ['utf-8', 'gb18030', 'utf-16le'] as const;
export type InputEncoding = (typeof ENCODINGS)[number];
const ALIASES: Readonly<Record<string, InputEncoding>> = { 'utf-8': 'utf-8', utf8: 'utf-8', gb18030: 'gb18030', gbk: 'gb18030', gb2312: 'gb18030', 'utf-16le': 'utf-16le', utf16le: 'utf-16le' };

export function encodingOf(v: unknown): InputEncoding {
  if (v === undefined) return 'utf-8';
  const e = typeof v === 'string' ? ALIASES[v.toLowerCase()] : undefined;
  if (e === undefined) throw new UsageError(`--encoding must be ${ENCODINGS.join(', ')} (gbk and gb2312 are read as gb18030)`);
  return e;
}

export type Format = 'jsonl' | 'csv';
const FORMATS: readonly Format[] = ['jsonl', 'csv'];

export interface BulkOptions {
  readonly inPath: string | undefined;
  readonly outPath: string | undefined;
  readonly inFormat: Format;
  readonly outFormat: Format;
  /** CSV column → field path from `--map` (`-`: drop the column). */
  readonly map: Readonly<Record<string, string>>;
  readonly rejects: string | undefined;
  readonly quiet: boolean;
  readonly jsonProgress: boolean;
  /** `--progress`: draw the bar even when stderr is not a terminal. */
  readonly forceBar: boolean;
  readonly progressIntervalMs: number;
  readonly jobs: number;
  /** `--encoding`: how input bytes are decoded (strictly). */
  readonly encoding: InputEncoding;
  /** `--bom`: the output starts with a UTF-8 byte order mark (for Excel). */
  readonly bom: boolean;
  /** `--force`: `--out` and `--rejects` may replace existing files. */
  readonly force: boolean;
}

const formatOf = (v: unknown, flag: string): Format | undefined => {
  if (v === undefined) return undefined;
  if (!FORMATS.includes(v as Format)) throw new UsageError(`${flag} must be ${FORMATS.join(' or ')}`);
  return v as Format;
};
const byExtension = (path: string | undefined): Format | undefined =>
  path === undefined ? undefined : /\.csv$/i.test(path) ? 'csv' : /\.(jsonl|ndjson)$/i.test(path) ? 'jsonl' : undefined;

/**
 * The bulk flags. Formats: `--in-format`/`--out-format`, else `--format`, else the file extension
 * (`.csv`, `.jsonl`), else jsonl in and the input's format out.
 */
export function bulkOptions(values: Record<string, unknown>): BulkOptions {
  const inPath = values['in'] as string | undefined;
  const outPath = values['out'] as string | undefined;
  const both = formatOf(values['format'], '--format');
  const inFormat = formatOf(values['in-format'], '--in-format') ?? both ?? byExtension(inPath) ?? 'jsonl';
  const outFormat = formatOf(values['out-format'], '--out-format') ?? both ?? byExtension(outPath) ?? inFormat;
  const interval = values['progress-interval'] === undefined ? 1000 : Number(values['progress-interval']);
  if (!Number.isSafeInteger(interval) || interval < 0) throw new UsageError('--progress-interval must be a number of milliseconds');
  return {
    inPath,
    outPath,
    inFormat,
    outFormat,
    map: parseMap(values['map'] as string[] | undefined),
    rejects: values['rejects'] as string | undefined,
    quiet: values['quiet'] === true,
    jsonProgress: values['json-progress'] === true,
    forceBar: values['progress'] === true,
    progressIntervalMs: interval,
    jobs: jobsOf(values['jobs']),
    encoding: encodingOf(values['encoding']),
    bom: values['bom'] === true,
    force: values['force'] === true,
  };
}

/** `--map col=path,col2=path2` (repeatable); the last `=` splits, so column names may contain `=`. */
export function parseMap(items: readonly string[] | undefined): Record<string, string> {
  const map: Record<string, string> = {};
  for (const item of items ?? []) {
    for (const pair of item.split(',')) {
      if (pair.trim() === '') continue;
      const eq = pair.lastIndexOf('=');
      if (eq <= 0) throw new UsageError(`--map takes COLUMN=FIELD.PATH pairs (or COLUMN=- to drop a column), got "${pair}"`);
      const column = pair.slice(0, eq);
      const path = pair.slice(eq + 1).trim();
      if (path !== '-' && path !== '$tag' && !/^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(path)) {
        throw new UsageError(`--map ${column}=${path}: not a field path (receiver.mobile) or "-"`);
      }
      if (Object.hasOwn(map, column)) throw new UsageError(`--map names column "${column}" twice`);
      map[column] = path;
    }
  }
  return map;
}

function jobsOf(v: unknown): number {
  if (v === undefined) return 1;
  if (v === 'auto') return availableParallelism();
  const n = Number(v);
  if (typeof v !== 'string' || !/^[0-9]+$/.test(v) || !Number.isSafeInteger(n) || n < 1 || n > 64) throw new UsageError('--jobs must be 1-64 or "auto"');
  return n;
}
