/**
 * Records as CSV rows and back.
 *
 * Columns are named by the record's dot paths (`receiver.mobile`, `receiver.address.detail`), or
 * renamed by a mapping (`--map 收件人手机=receiver.mobile`, or `csv.columns` in the schema file).
 * Arrays and whole objects go in one column as JSON text; a protected field's sealed object goes in
 * one column as compact JSON (`{"enc":"ws1.…","mask":{…},"tok":{…}}`); a plain virtual number as
 * JSON text (`{"main":"…","ext":"…"}`) or in two columns `….virtualNumber.main` / `.ext`. A sealed
 * record's integrity tag is the column `$tag`; an opened record's `$opened` member (fields opened,
 * withheld with reasons) the last column `$opened`, as compact JSON.
 * CSV strings are converted back by the schema: numbers, booleans (`true`/`false`/`1`/`0`), JSON
 * text. An empty string is written quoted (`""`) and read back as an empty string; an unquoted empty
 * cell is an absent field (except for a required plain string, all of whose parents are required:
 * the empty string), so optional empty strings survive a round trip, and with them record tags.
 */
import { ValidationError } from '../errors.js';
import type { AnyNode, NodeDef, Shape } from '../schema/builder.js';
import type { Schema } from '../schema/schema.js';
import { isPlainObject, TAG_FIELD } from '../schema/walk.js';
import { UsageError } from './args.js';

/** The reserved member of every record `open` writes: which fields were opened, and why each other one was not. */
export const OPENED_FIELD = '$opened';

/** How protected cells are read: plaintext (seal), sealed JSON (open, mask, find), or either (convert). */
export type DecodeMode = 'plain' | 'sealed' | 'auto';

interface ColumnTarget {
  readonly keys: readonly string[];
  readonly path: string;
  /** An empty cell means "" (a required plain string) rather than an absent field. */
  readonly emptyIsString: boolean;
}

/** Per input column: where its cells go (undefined: the column is dropped). */
export interface CsvInputPlan {
  readonly header: readonly string[];
  readonly targets: readonly (ColumnTarget | undefined)[];
}

export interface CsvOutputPlan {
  readonly header: readonly string[];
  readonly paths: readonly (readonly string[])[];
}

/** Where a dot path lands in a schema: `unit` is the column unit (plain leaf, array, protected field, or object as JSON). */
interface Resolved {
  readonly node: NodeDef;
  /** Number of keys up to the column unit (shorter than the path inside a virtual number). */
  readonly unitLength: number;
  readonly allRequired: boolean;
}

function resolve(shape: Shape, keys: readonly string[]): Resolved | undefined {
  let current: Shape = shape;
  let allRequired = true;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (!Object.hasOwn(current, key)) return undefined;
    const def = current[key]!.def;
    allRequired &&= !def.optional;
    const last = i === keys.length - 1;
    if (def.type === 'object') {
      if (last) return { node: def, unitLength: i + 1, allRequired };
      current = def.shape;
      continue;
    }
    if (last) return { node: def, unitLength: i + 1, allRequired };
    // Inside a leaf: only the members of a plain virtual number (main, ext, expiresAt).
    if (def.type === 'protected' && def.kind === 'virtualNumber' && i === keys.length - 2 && ['main', 'ext', 'expiresAt'].includes(keys[i + 1]!)) {
      return { node: def, unitLength: i + 1, allRequired: false };
    }
    return undefined;
  }
  return undefined;
}

/** Checks a CSV header against the schema and mapping once, before any record (UsageError naming the column). */
export function planCsvInput(header: readonly string[], schema: Schema | undefined, map: Readonly<Record<string, string>>): CsvInputPlan {
  const seen = new Map<string, string>();
  const targets = header.map((column): ColumnTarget | undefined => {
    const path = Object.hasOwn(map, column) ? map[column]! : column;
    if (path === '-') return undefined;
    if (seen.has(path)) throw new UsageError(`CSV columns "${seen.get(path)}" and "${column}" both hold field ${path}`);
    seen.set(path, column);
    if (path === TAG_FIELD) return { keys: [TAG_FIELD], path, emptyIsString: false };
    if (!/^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(path)) {
      throw new UsageError(`CSV column "${column}" is not a field path; name it with --map "${column}=field.path" (or "${column}=-" to drop it)`);
    }
    const keys = path.split('.');
    if (keys.some((k) => k === '__proto__' || k === 'constructor' || k === 'prototype')) throw new UsageError(`CSV column "${column}": field path ${path} is not allowed`);
    if (!schema) return { keys, path, emptyIsString: false };
    const r = resolve(schema.shape, keys);
    if (!r) {
      throw new UsageError(
        `CSV column "${column}"${path === column ? '' : ` (${path})`} is not a field of schema ${schema.name}; map it with --map "${column}=field.path" or drop it with --map "${column}=-"`,
      );
    }
    return { keys, path, emptyIsString: r.node.type === 'plain' && r.node.kind === 'string' && r.allRequired && r.unitLength === keys.length };
  });
  // One field cannot come from two columns (a whole object and one of its members, say).
  const paths = targets.filter((t): t is ColumnTarget => t !== undefined).map((t) => t.path);
  for (const a of paths) {
    for (const b of paths) if (b.startsWith(`${a}.`)) throw new UsageError(`CSV columns for ${a} and ${b} overlap`);
  }
  return { header, targets };
}

/**
 * One CSV row → a record (typed by the schema). Throws ValidationError (path and reason, never the
 * value). Cells are strings, or null for an unquoted empty cell (absent).
 */
export function decodeCsvRow(plan: CsvInputPlan, cells: readonly (string | null)[], schema: Schema | undefined, mode: DecodeMode): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (let i = 0; i < plan.targets.length; i++) {
    const t = plan.targets[i];
    if (t === undefined) continue;
    let cell = cells[i] ?? null;
    if (cell === null) {
      if (!t.emptyIsString) continue;
      cell = '';
    }
    let obj = raw;
    for (let k = 0; k < t.keys.length - 1; k++) {
      const key = t.keys[k]!;
      const next = obj[key];
      if (isPlainObject(next)) obj = next;
      else obj = obj[key] = {};
    }
    obj[t.keys[t.keys.length - 1]!] = cell;
  }
  if (!schema) return autoJson(raw) as Record<string, unknown>;
  coerceObject(schema.shape, raw, '', mode);
  return raw;
}

function coerceObject(shape: Shape, obj: Record<string, unknown>, path: string, mode: DecodeMode): void {
  for (const key of Object.keys(obj)) {
    const node: AnyNode | undefined = Object.hasOwn(shape, key) ? shape[key] : undefined;
    if (!node) continue; // unknown: the walker refuses it with its path
    obj[key] = coerce(node.def, obj[key], path ? `${path}.${key}` : key, mode);
  }
}

/** Longer than any number a waybill column holds (a float64 prints in at most 24 characters). */
const MAX_NUMBER_CHARS = 64;

function coerce(def: NodeDef, v: unknown, path: string, mode: DecodeMode): unknown {
  switch (def.type) {
    case 'plain':
      if (typeof v !== 'string') return v;
      if (def.kind === 'number') {
        const t = v.trim();
        // Length cap first, and a pattern with one way to split a digit run (linear on any input).
        if (t.length > MAX_NUMBER_CHARS || !/^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/.test(t)) throw new ValidationError(path, 'expected_number');
        return Number(t);
      }
      if (def.kind === 'boolean') {
        const t = v.trim().toLowerCase();
        if (t === 'true' || t === '1') return true;
        if (t === 'false' || t === '0') return false;
        throw new ValidationError(path, 'expected_boolean');
      }
      return v;
    case 'object':
      if (typeof v === 'string') {
        const parsed = json(v, path);
        if (!isPlainObject(parsed)) throw new ValidationError(path, 'expected_object');
        return parsed;
      }
      if (isPlainObject(v)) coerceObject(def.shape, v, path, mode);
      return v;
    case 'array':
      if (typeof v === 'string') {
        const parsed = json(v, path);
        if (!Array.isArray(parsed)) throw new ValidationError(path, 'expected_array');
        return parsed;
      }
      return v;
    case 'protected':
      if (typeof v !== 'string') return v;
      if (mode === 'sealed') {
        if (!v.trimStart().startsWith('{')) throw new ValidationError(path, 'expected_sealed_field');
        return json(v, path);
      }
      if (mode === 'auto' && /^\s*\{\s*"enc"/.test(v)) return json(v, path);
      if (def.kind === 'virtualNumber' && v.trimStart().startsWith('{')) return json(v, path);
      return v;
  }
}

function json(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ValidationError(path, 'invalid_json');
  }
}

/** csv-stringify options: an empty string is written `""`, an absent field as nothing. */
export const CSV_WRITE = { quoted_match: /^$/ } as const;

/** csv-parse cast: an unquoted empty cell is null (absent); a quoted one the empty string. */
export const castCell = (value: string, ctx: { quoting: boolean }): string | null => (value === '' && !ctx.quoting ? null : value);

/** Without a schema (inspect): cells that are JSON objects or arrays are parsed, others stay strings. */
function autoJson(v: unknown): unknown {
  if (typeof v === 'string') {
    const t = v.trimStart();
    if (t.startsWith('{') || t.startsWith('[')) {
      try {
        return JSON.parse(v);
      } catch {
        return v;
      }
    }
    return v;
  }
  if (isPlainObject(v)) for (const k of Object.keys(v)) v[k] = autoJson(v[k]);
  return v;
}

/**
 * Output columns. From a CSV input: its columns in its order and with its names (a virtual
 * number's `.main`/`.ext` columns become one column); else every column unit of the schema in
 * schema order, named by the mapping where it names one. Then `$tag` (`tag`) and `$opened`
 * (`opened`). `canonical` (sealed output): every column is named by its field path (or the schema
 * file's `csv.columns` name, given here as path → column), whatever `--map` or the input header
 * called it, so the next command reads the file without the mapping.
 */
export function planCsvOutput(
  schema: Schema,
  map: Readonly<Record<string, string>>,
  input?: CsvInputPlan,
  options: { tag?: boolean; opened?: boolean; canonical?: ReadonlyMap<string, string> } = {},
): CsvOutputPlan {
  const nameOf = new Map<string, string>();
  for (const [column, path] of Object.entries(map)) if (path !== '-') nameOf.set(path, column);
  const header: string[] = [];
  const paths: string[][] = [];
  const add = (keys: readonly string[], name?: string) => {
    const path = keys.join('.');
    if (paths.some((p) => p.join('.') === path)) return;
    header.push(options.canonical ? (options.canonical.get(path) ?? path) : (name ?? nameOf.get(path) ?? path));
    paths.push([...keys]);
  };
  const walk = (shape: Shape, prefix: readonly string[]) => {
    for (const [key, node] of Object.entries(shape)) {
      const keys = [...prefix, key];
      if (node.def.type === 'object') walk(node.def.shape, keys);
      else add(keys);
    }
  };
  if (input) {
    input.targets.forEach((t, i) => {
      // Masked and opened records carry no tag: their output has no `$tag` column.
      if (!t || (t.path === TAG_FIELD && !options.tag)) return;
      const r = resolve(schema.shape, t.keys);
      const unit = t.keys.slice(0, r?.unitLength ?? t.keys.length);
      // A column named by its path takes the --map name on output (`mask --map 收件人手机=receiver.mobile`).
      add(unit, unit.length === t.keys.length && input.header[i] !== t.path ? input.header[i] : undefined);
    });
  } else walk(schema.shape, []);
  if (options.tag) add([TAG_FIELD]);
  if (options.opened) add([OPENED_FIELD]);
  return { header, paths };
}

/**
 * One record → its CSV cells along the plan: strings as they are, numbers and booleans as text,
 * objects and arrays as compact JSON, absent fields undefined (written as an unquoted empty cell).
 */
export function encodeCsvCells(plan: CsvOutputPlan, record: unknown): (string | undefined)[] {
  return plan.paths.map((keys) => cell(valueAt(record, keys)));
}

function valueAt(record: unknown, keys: readonly string[]): unknown {
  let v: unknown = record;
  for (const k of keys) {
    if (!isPlainObject(v)) return undefined;
    v = v[k];
  }
  return v;
}

export function cell(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}
