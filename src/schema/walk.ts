/**
 * One walk over a record and its schema: validates the structure (never echoing values),
 * copies it, and collects the protected leaves so the caller can replace them
 * (seal: plaintext → sealed field; mask/open: sealed field → string).
 */
import { ValidationError } from '../errors.js';
import { isSealedField, type SealedField } from '../format/sealed-field.js';
import type { AnyNode, NodeDef, Shape } from './builder.js';
import type { ProtectedKind, VirtualNumber } from './kinds.js';

/** Where a sealed record keeps its integrity tag (src/integrity); `$` never begins a field name. */
export const TAG_FIELD = '$tag';

export type ProtectedDef = Extract<NodeDef, { type: 'protected' }>;

export interface Leaf<V> {
  readonly def: ProtectedDef;
  /** Value path with array indexes (`items.2.name`): bound into the ciphertext. */
  readonly path: string;
  /** Schema path with `[]` for arrays (`items[].name`): what policies and options name. */
  readonly schemaPath: string;
  /** Country of the nearest address (or `country` field) above the leaf, for phone parsing. */
  readonly country: string | undefined;
  readonly value: V;
  readonly parent: Record<string, unknown>;
  readonly key: string;
}

/** `mixed`: a protected field may hold a sealed field or (legacy, not yet sealed) plaintext. */
export type WalkMode = 'plain' | 'sealed' | 'mixed';
type LeafValue<M extends WalkMode> = M extends 'plain' ? string | VirtualNumber : M extends 'sealed' ? SealedField : SealedField | string | VirtualNumber;

export interface Walked<M extends WalkMode> {
  readonly copy: Record<string, unknown>;
  readonly leaves: Leaf<LeafValue<M>>[];
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

export function isIsoDate(v: unknown): v is string {
  return typeof v === 'string' && ISO_DATE.test(v) && !Number.isNaN(Date.parse(v.length === 10 ? `${v}T00:00:00Z` : v));
}

export function walkRecord<M extends WalkMode>(shape: Shape, record: unknown, mode: M): Walked<M> {
  const leaves: Leaf<LeafValue<M>>[] = [];
  if (!isPlainObject(record)) throw new ValidationError('', 'not_an_object');
  // A sealed record's integrity tag is not a field: the tag module checks it; the copy leaves it out.
  const copy = walkObject(planOf(shape), record, '', '', undefined, mode, leaves as Leaf<unknown>[], mode !== 'plain');
  return { copy, leaves };
}

function walkObject(
  plan: ShapePlan,
  value: Record<string, unknown>,
  path: string,
  schemaPath: string,
  inheritedCountry: string | undefined,
  mode: WalkMode,
  leaves: Leaf<unknown>[],
  tagged = false,
): Record<string, unknown> {
  const shape = plan.shape;
  // `value` is a plain object (checked by the caller): Object.keys lists exactly its own keys.
  const keys = Object.keys(value);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (!Object.hasOwn(shape, key) && !(tagged && key === TAG_FIELD)) throw new ValidationError(join(path, key), 'unknown_field');
  }
  const country = countryOf(value) ?? inheritedCountry;
  const out: Record<string, unknown> = {};
  const { paths, schemaPaths } = childPaths(plan, path, schemaPath);
  const entries = plan.entries;
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    const v = value[entry.key];
    if (v === undefined) {
      if (!entry.node.def.optional) throw new ValidationError(paths[i]!, 'required');
      continue;
    }
    out[entry.key] = walkNode(entry, v, paths[i]!, schemaPaths[i]!, country, mode, leaves, out);
  }
  return out;
}

/**
 * Per shape: its entries (with the plans of nested shapes), and the child paths under each parent
 * path seen (the same string objects every record, so paths used as map keys downstream hash
 * once). Array positions add paths per index: at most 256 parents are remembered per shape,
 * others are joined each time.
 */
interface ShapePlan {
  readonly shape: Shape;
  readonly entries: readonly PlanEntry[];
  readonly children: Map<string, ChildPaths>;
}

interface PlanEntry {
  readonly key: string;
  readonly node: AnyNode;
  /** The plan of an object child, or of an array's object elements. */
  readonly plan: ShapePlan | undefined;
}

interface ChildPaths {
  readonly schemaParent: string;
  readonly paths: readonly string[];
  readonly schemaPaths: readonly string[];
}

const plans = new WeakMap<Shape, ShapePlan>();

function planOf(shape: Shape): ShapePlan {
  let plan = plans.get(shape);
  if (!plan) {
    const entries = Object.entries(shape).map(([key, node]): PlanEntry => {
      const def = node.def;
      const nested = def.type === 'object' ? def.shape : def.type === 'array' && def.element.def.type === 'object' ? def.element.def.shape : undefined;
      return { key, node, plan: nested === undefined ? undefined : planOf(nested) };
    });
    plan = { shape, entries, children: new Map() };
    plans.set(shape, plan);
  }
  return plan;
}

function childPaths(plan: ShapePlan, parent: string, schemaParent: string): ChildPaths {
  // Keyed by the value path; the schema path is checked too (a shape may be shared by schemas).
  const cached = plan.children.get(parent);
  if (cached !== undefined && cached.schemaParent === schemaParent) return cached;
  const paths = { schemaParent, paths: plan.entries.map((e) => join(parent, e.key)), schemaPaths: plan.entries.map((e) => join(schemaParent, e.key)) };
  if (cached === undefined && plan.children.size < 256) plan.children.set(parent, paths);
  return paths;
}

function walkNode(
  entry: PlanEntry,
  v: unknown,
  path: string,
  schemaPath: string,
  country: string | undefined,
  mode: WalkMode,
  leaves: Leaf<unknown>[],
  parent: Record<string, unknown>,
): unknown {
  const def = entry.node.def;
  switch (def.type) {
    case 'plain':
      checkPlain(def.kind, v, path);
      return v;
    case 'object':
      if (!isPlainObject(v)) throw new ValidationError(path, 'expected_object');
      return walkObject(entry.plan!, v, path, schemaPath, country, mode, leaves);
    case 'array': {
      if (!Array.isArray(v)) throw new ValidationError(path, 'expected_array');
      const element = def.element.def;
      const arr: unknown[] = [];
      v.forEach((item: unknown, i) => {
        const ip = `${path}.${i}`;
        if (element.type === 'object') {
          if (!isPlainObject(item)) throw new ValidationError(ip, 'expected_object');
          arr.push(walkObject(entry.plan!, item, ip, `${schemaPath}[]`, country, mode, leaves));
        } else {
          if (element.type === 'plain') checkPlain(element.kind, item, ip);
          arr.push(item);
        }
      });
      return arr;
    }
    case 'protected':
      if (mode === 'plain') checkProtectedShape(def.kind, v, path);
      else if (mode === 'mixed') {
        if (!isSealedField(v)) checkProtectedShape(def.kind, v, path);
      } else if (!isSealedField(v)) throw new ValidationError(path, 'expected_sealed_field');
      leaves.push({ def, path, schemaPath, country, value: v, parent, key: entry.key });
      return undefined;
  }
}

function checkPlain(kind: string, v: unknown, path: string): void {
  const ok =
    kind === 'string'
      ? typeof v === 'string' && v.isWellFormed()
      : kind === 'number'
        ? typeof v === 'number' && Number.isFinite(v)
        : kind === 'boolean'
          ? typeof v === 'boolean'
          : isIsoDate(v);
  if (!ok) throw new ValidationError(path, `expected_${kind}`);
}

function checkProtectedShape(kind: ProtectedKind, v: unknown, path: string): void {
  if (kind === 'virtualNumber') {
    if (!isPlainObject(v)) throw new ValidationError(path, 'expected_object');
    for (const k of Object.keys(v)) {
      if (k !== 'main' && k !== 'ext' && k !== 'expiresAt') throw new ValidationError(`${path}.${k}`, 'unknown_field');
    }
    if (typeof v['main'] !== 'string') throw new ValidationError(`${path}.main`, 'expected_string');
    if (typeof v['ext'] !== 'string') throw new ValidationError(`${path}.ext`, 'expected_string');
    if (v['expiresAt'] !== undefined && !isIsoDate(v['expiresAt'])) throw new ValidationError(`${path}.expiresAt`, 'expected_date');
    return;
  }
  if (typeof v !== 'string') throw new ValidationError(path, 'expected_string');
  // Lone surrogates cannot round-trip through UTF-8; refusing them keeps "opened == input" exact.
  if (!v.isWellFormed()) throw new ValidationError(path, 'malformed_unicode');
}

/** The country of a party: its own `country` field or its address's. */
export function countryOf(v: Record<string, unknown>): string | undefined {
  if (typeof v['country'] === 'string') return v['country'];
  const address = v['address'];
  if (isPlainObject(address) && typeof address['country'] === 'string') return address['country'];
  return undefined;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

const join = (path: string, key: string) => (path ? `${path}.${key}` : key);
