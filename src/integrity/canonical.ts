/**
 * Canonical bytes of the parts of a sealed record that the record tag covers (docs/FORMAT.md §11):
 * a list of units, one per signed plain field and one per sealed field, sorted by path.
 */
import { ConfigError } from '../errors.js';
import { isSealedField } from '../format/sealed-field.js';
import type { Shape } from '../schema/builder.js';
import type { Schema } from '../schema/schema.js';
import { isPlainObject, TAG_FIELD } from '../schema/walk.js';

export interface Unit {
  /** Value path (`receiver.address.district`, `receiver.mobile`, `contacts.2.name`). */
  readonly path: string;
  /** UTF-8 of the canonical JSON of the value at the path. */
  readonly content: Uint8Array;
}

/**
 * JSON with object members sorted by key (UTF-16 code unit order) and no white space; strings and
 * numbers as JSON.stringify writes them. The same value always gives the same text.
 */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) {
    // As `[${v.map(canonicalJson).join(',')}]`: holes and undefined items give empty text.
    let s = '[';
    for (let i = 0; i < v.length; i++) {
      const item = i in v ? (canonicalJson(v[i]) as string | undefined) : undefined;
      s += (i > 0 ? ',' : '') + (item === undefined ? '' : item);
    }
    return `${s}]`;
  }
  if (isPlainObject(v)) {
    const keys = Object.keys(v).sort();
    let s = '{';
    let first = true;
    for (const k of keys) {
      const x = v[k];
      if (x === undefined) continue;
      s += `${first ? '' : ','}${JSON.stringify(k)}:${canonicalJson(x)}`;
      first = false;
    }
    return `${s}}`;
  }
  return JSON.stringify(v);
}

const signedCache = new WeakMap<Schema, readonly string[][]>();

/**
 * The signed plain paths of a schema, as key lists: each named path, with objects expanded to their
 * plain descendants (protected fields are units of their own) and arrays of plain objects taken whole.
 */
export function signedPaths(schema: Schema): readonly string[][] {
  let paths = signedCache.get(schema);
  if (!paths) {
    const out: string[][] = [];
    for (const p of new Set([schema.recordId, ...(schema.scopeFrom ? [schema.scopeFrom] : []), ...schema.signed])) {
      expand(schema.shape, p.split('.'), [], out, p);
    }
    paths = out;
    signedCache.set(schema, paths);
  }
  return paths;
}

function expand(shape: Shape, rest: string[], at: string[], out: string[][], named: string): void {
  const [head, ...tail] = rest;
  const node = head === undefined ? undefined : shape[head];
  if (!node || head === undefined) throw new ConfigError(`signed path "${named}" names no field`);
  const def = node.def;
  const here = [...at, head];
  if (tail.length > 0) {
    if (def.type !== 'object') throw new ConfigError(`signed path "${named}" goes through a non-object`);
    expand(def.shape, tail, here, out, named);
    return;
  }
  if (def.type === 'plain') out.push(here);
  else if (def.type === 'object') for (const key of Object.keys(def.shape)) expandAll(def.shape, key, here, out, named);
  else if (def.type === 'array') {
    if (hasProtected(def.element.def)) throw new ConfigError(`signed path "${named}" is an array with protected fields`);
    out.push(here);
  }
  // A protected field named here is covered by its own unit anyway.
}

function expandAll(shape: Shape, key: string, at: string[], out: string[][], named: string): void {
  const def = shape[key]!.def;
  if (def.type === 'protected') return;
  if (def.type === 'array' && hasProtected(def.element.def)) return;
  expand(shape, [key], at, out, named);
}

function hasProtected(def: Shape[string]['def']): boolean {
  if (def.type === 'protected') return true;
  if (def.type === 'object') return Object.values(def.shape).some((n) => hasProtected(n.def));
  if (def.type === 'array') return hasProtected(def.element.def);
  return false;
}

/** The units of a sealed record (the `$tag` member is not part of it), sorted by path. */
export function unitsOf(schema: Schema, sealed: Record<string, unknown>): Unit[] {
  const texts: UnitText[] = [];
  const paths = signedPaths(schema);
  const joined = joinedPaths(paths);
  for (let i = 0; i < paths.length; i++) {
    const v = valueAt(sealed, paths[i]!);
    if (v !== undefined) texts.push({ path: joined[i]!, text: canonicalJson(v) });
  }
  collectSealed(sealed, '', texts);
  // All contents UTF-8 encoded into one buffer (one allocation; each unit a view of its part).
  let max = 0;
  for (const t of texts) max += 3 * t.text.length;
  const buffer = new Uint8Array(max);
  const units: Unit[] = [];
  let o = 0;
  for (const t of texts) {
    const { written } = encoder.encodeInto(t.text, buffer.subarray(o));
    units.push({ path: t.path, content: buffer.subarray(o, o + written) });
    o += written;
  }
  return units.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

interface UnitText {
  readonly path: string;
  readonly text: string;
}

const encoder = new TextEncoder();

const joinedCache = new WeakMap<readonly string[][], readonly string[]>();
/** The dotted form of each signed path (memoised with the paths). */
function joinedPaths(paths: readonly string[][]): readonly string[] {
  let joined = joinedCache.get(paths);
  if (!joined) {
    joined = paths.map((keys) => keys.join('.'));
    joinedCache.set(paths, joined);
  }
  return joined;
}

function collectSealed(v: unknown, path: string, out: UnitText[]): void {
  if (isSealedField(v)) out.push({ path, text: canonicalJson(v) });
  else if (Array.isArray(v)) v.forEach((x, i) => collectSealed(x, `${path}.${i}`, out));
  else if (isPlainObject(v)) {
    for (const [k, x] of Object.entries(v)) if (!(path === '' && k === TAG_FIELD)) collectSealed(x, path ? `${path}.${k}` : k, out);
  }
}

function valueAt(record: Record<string, unknown>, keys: readonly string[]): unknown {
  let v: unknown = record;
  for (const k of keys) {
    if (!isPlainObject(v)) return undefined;
    v = v[k];
  }
  return v;
}
