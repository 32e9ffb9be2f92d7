/**
 * Schema files: a JSON form of `defineSchema`, so teams can seal their own record types from the
 * CLI without writing TypeScript (JSON Schema for editors: `schemas/waybill-seal-schema.json`).
 *
 * ```json
 * { "$schema": "./node_modules/waybill-seal/schemas/waybill-seal-schema.json",
 *   "name": "parcel", "version": 1, "recordId": "id",
 *   "fields": {
 *     "id": "string", "createdAt": "date", "who": { "kind": "name", "mask": { "nameStyle": "keepFirstLast" } },
 *     "phone": "mobile?", "items": { "kind": "array", "of": { "kind": "object", "fields": { "sku": "string" } } } },
 *   "indexes": { "phone": { "field": "phone", "bits": 19 } },
 *   "csv": { "columns": { "收件人手机": "phone" } } }
 * ```
 *
 * Pure (no Node built-ins). Every problem is a `SchemaFileError` naming the JSON path and a reason;
 * unknown members are refused, so a typo cannot silently change what is protected.
 */
import { ConfigError } from '../errors.js';
import type { MaskOptions } from '../mask/types.js';
import { compileIndexes, type IndexOption } from './indexes.js';
import { s, type AnyNode, type NodeDef, type Shape } from './builder.js';
import { DEFAULT_KEY_CLASS, keyClassProblem, PROTECTED_KINDS, type ProtectedKind } from './kinds.js';
import { defineSchema, type Schema } from './schema.js';

/** The `format` member a schema file may carry (optional). */
export const SCHEMA_FILE_FORMAT = 'waybill-seal/schema';

export const PLAIN_FIELD_KINDS = ['string', 'number', 'boolean', 'date'] as const;
export const FIELD_KINDS = [...PLAIN_FIELD_KINDS, ...PROTECTED_KINDS, 'object', 'array'] as const;
export type FieldKind = (typeof FIELD_KINDS)[number];

/** A field: a kind name (`"mobile"`, `"mobile?"` for optional) or an object. */
export type FieldJson =
  | string
  | {
      readonly kind: FieldKind;
      readonly optional?: boolean;
      readonly description?: string;
      /** Protected kinds: key class (default by kind). */
      readonly keyClass?: string;
      /** Protected kinds: `nameStyle` (name), `mobileLabel` (mobile, phone). */
      readonly mask?: { readonly nameStyle?: 'keepFirst' | 'keepFirstLast'; readonly mobileLabel?: 'last4' | 'first3last2' };
      /** `object`: its fields. */
      readonly fields?: Readonly<Record<string, FieldJson>>;
      /** `array`: the element (a plain kind or an object). */
      readonly of?: FieldJson;
    };

export interface SchemaJson {
  readonly $schema?: string;
  readonly format?: typeof SCHEMA_FILE_FORMAT;
  readonly description?: string;
  readonly name: string;
  readonly version: number;
  readonly recordId: string;
  readonly scopeFrom?: string;
  readonly fields: Readonly<Record<string, FieldJson>>;
  readonly indexes?: Readonly<Record<string, IndexOption>>;
  /** Plain fields the record integrity tag covers besides the record id and scope date (`defineSchema`'s `signed`). */
  readonly signed?: readonly string[];
  /** CSV column ↔ field path mapping used by the CLI (`"-"` drops a column). */
  readonly csv?: { readonly columns?: Readonly<Record<string, string>> };
}

/** A schema file that does not describe a valid schema: `path` is the JSON path (`fields.receiver.fields.mobile.kind`). */
export class SchemaFileError extends ConfigError {
  readonly path: string;
  readonly reason: string;
  constructor(path: string, reason: string) {
    super(`schema file: ${path || '(root)'}: ${reason}`);
    this.path = path;
    this.reason = reason;
  }
}

export interface ParsedSchemaJson {
  readonly schema: Schema;
  /** CSV column name → field path (`"-"`: drop the column). */
  readonly columns: Readonly<Record<string, string>>;
}

const MAX_DEPTH = 32;
const TOP_KEYS = ['$schema', 'format', 'description', 'name', 'version', 'recordId', 'scopeFrom', 'fields', 'indexes', 'signed', 'csv'];
const FIELD_KEYS = ['kind', 'optional', 'description', 'keyClass', 'mask', 'fields', 'of'];
const MASK_KEYS: Readonly<Record<string, { kinds: readonly ProtectedKind[]; values: readonly string[] }>> = {
  nameStyle: { kinds: ['name'], values: ['keepFirst', 'keepFirstLast'] },
  mobileLabel: { kinds: ['mobile', 'phone'], values: ['last4', 'first3last2'] },
};
/** Field path syntax of a CSV mapping: dot-separated field names. */
const FIELD_PATH = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/** Builds the schema a schema file describes: the same `Schema` `defineSchema` returns for the equivalent builder calls. */
export function schemaFromJson(json: unknown): Schema {
  return parseSchemaJson(json).schema;
}

/** The schema and the CLI's CSV column mapping of a schema file. */
export function parseSchemaJson(json: unknown): ParsedSchemaJson {
  const doc = object(json, '');
  onlyKeys(doc, TOP_KEYS, '');
  if (doc['$schema'] !== undefined && typeof doc['$schema'] !== 'string') throw new SchemaFileError('$schema', 'must be a string');
  if (doc['format'] !== undefined && doc['format'] !== SCHEMA_FILE_FORMAT) throw new SchemaFileError('format', `must be "${SCHEMA_FILE_FORMAT}"`);
  if (doc['description'] !== undefined && typeof doc['description'] !== 'string') throw new SchemaFileError('description', 'must be a string');
  const name = doc['name'];
  if (typeof name !== 'string' || !/^[a-z][a-z0-9_-]{0,63}$/i.test(name)) {
    throw new SchemaFileError('name', 'must be a string of 1-64 letters, digits, "_" or "-", starting with a letter');
  }
  const version = doc['version'];
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) throw new SchemaFileError('version', 'must be a positive integer');
  if (doc['fields'] === undefined) throw new SchemaFileError('fields', 'required');
  const shape = shapeOf(doc['fields'], 'fields', 0);

  const recordId = doc['recordId'];
  if (typeof recordId !== 'string') throw new SchemaFileError('recordId', 'required: the name of a top-level plain string field');
  const idDef = Object.hasOwn(shape, recordId) ? shape[recordId]!.def : undefined;
  if (!idDef || idDef.type !== 'plain' || idDef.kind !== 'string' || idDef.optional) {
    throw new SchemaFileError('recordId', `"${recordId}" must name a required top-level field of kind "string"`);
  }
  const scopeFrom = doc['scopeFrom'];
  if (scopeFrom !== undefined) {
    if (typeof scopeFrom !== 'string') throw new SchemaFileError('scopeFrom', 'must be a string');
    const def = Object.hasOwn(shape, scopeFrom) ? shape[scopeFrom]!.def : undefined;
    if (!def || def.type !== 'plain' || def.kind !== 'date' || def.optional) {
      throw new SchemaFileError('scopeFrom', `"${scopeFrom}" must name a required top-level field of kind "date"`);
    }
  } else if (Object.hasOwn(shape, 'createdAt')) {
    const def = shape['createdAt']!.def;
    if (def.type !== 'plain' || def.kind !== 'date' || def.optional) {
      throw new SchemaFileError('fields.createdAt', 'the default data-key scope comes from "createdAt": make it a required "date", or set "scopeFrom"');
    }
  }

  const indexes = doc['indexes'];
  if (indexes !== undefined) {
    const idx = object(indexes, 'indexes');
    for (const [k, v] of Object.entries(idx)) checkIndex(v, `indexes.${k}`);
  }
  const signed = doc['signed'];
  if (signed !== undefined) {
    if (!Array.isArray(signed)) throw new SchemaFileError('signed', 'must be an array of field paths');
    signed.forEach((p: unknown, i: number) => {
      if (typeof p !== 'string' || !FIELD_PATH.test(p)) throw new SchemaFileError(`signed.${i}`, 'must be a field path (receiver.address, routing, items)');
    });
  }
  let schema: Schema;
  try {
    schema = defineSchema(name, version, shape, {
      recordId,
      ...(scopeFrom !== undefined ? { scopeFrom: scopeFrom as string } : {}),
      ...(indexes !== undefined ? { indexes: indexes as never } : {}),
      ...(signed !== undefined ? { signed: signed as string[] } : {}),
    });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    // Index problems name the index ("index NAME: …"), signed paths the path; anything else is about the whole schema.
    const m = /^index (\S+): (.*)$/s.exec(e.message);
    if (m) throw new SchemaFileError(`indexes.${m[1]}`, m[2]!);
    const sp = /^signed path "([^"]*)" (.*)$/s.exec(e.message);
    if (sp && Array.isArray(signed)) throw new SchemaFileError(`signed.${signed.indexOf(sp[1])}`, `"${sp[1]}" ${sp[2]}`);
    throw new SchemaFileError('', e.message);
  }
  return { schema, columns: columnsOf(doc['csv']) };
}

function shapeOf(value: unknown, path: string, depth: number): Shape {
  const fields = object(value, path);
  if (Object.keys(fields).length === 0) throw new SchemaFileError(path, 'must have at least one field');
  const shape: Record<string, AnyNode> = {};
  for (const [key, field] of Object.entries(fields)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new SchemaFileError(`${path}.${key}`, 'field names are letters, digits and "_", not starting with a digit');
    shape[key] = nodeOf(field, `${path}.${key}`, depth + 1);
  }
  return shape;
}

function nodeOf(field: unknown, path: string, depth: number): AnyNode {
  if (depth > MAX_DEPTH) throw new SchemaFileError(path, `nested deeper than ${MAX_DEPTH} levels`);
  if (typeof field === 'string') {
    const optional = field.endsWith('?');
    const kind = optional ? field.slice(0, -1) : field;
    if (kind === 'object' || kind === 'array') throw new SchemaFileError(path, `"${kind}" needs the object form: { "kind": "${kind}", ${kind === 'object' ? '"fields"' : '"of"'}: … }`);
    const node = build(kindOf(kind, path), {}, path, depth);
    return optional ? node.optional() : node;
  }
  const f = object(field, path);
  onlyKeys(f, FIELD_KEYS, path);
  if (f['kind'] === undefined) throw new SchemaFileError(`${path}.kind`, 'required');
  const kind = kindOf(f['kind'], `${path}.kind`);
  if (f['optional'] !== undefined && typeof f['optional'] !== 'boolean') throw new SchemaFileError(`${path}.optional`, 'must be true or false');
  if (f['description'] !== undefined && typeof f['description'] !== 'string') throw new SchemaFileError(`${path}.description`, 'must be a string');
  const node = build(kind, f, path, depth);
  return f['optional'] === true ? node.optional() : node;
}

function build(kind: FieldKind, f: Record<string, unknown>, path: string, depth: number): AnyNode {
  const isProtected = (PROTECTED_KINDS as readonly string[]).includes(kind);
  if (!isProtected) {
    for (const k of ['keyClass', 'mask'] as const) if (f[k] !== undefined) throw new SchemaFileError(`${path}.${k}`, `only protected kinds take "${k}" (this field is "${kind}")`);
  }
  if (kind !== 'object' && f['fields'] !== undefined) throw new SchemaFileError(`${path}.fields`, `only kind "object" takes "fields" (this field is "${kind}")`);
  if (kind !== 'array' && f['of'] !== undefined) throw new SchemaFileError(`${path}.of`, `only kind "array" takes "of" (this field is "${kind}")`);
  switch (kind) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'date':
      return s[kind]();
    case 'object':
      if (f['fields'] === undefined) throw new SchemaFileError(`${path}.fields`, 'required for kind "object"');
      return s.object(shapeOf(f['fields'], `${path}.fields`, depth));
    case 'array': {
      if (f['of'] === undefined) throw new SchemaFileError(`${path}.of`, 'required for kind "array" (a plain kind or an object)');
      const element = nodeOf(f['of'], `${path}.of`, depth + 1);
      if (element.def.optional) throw new SchemaFileError(`${path}.of`, 'array elements cannot be optional');
      if (element.def.type !== 'plain' && element.def.type !== 'object') {
        throw new SchemaFileError(`${path}.of`, 'array elements are plain kinds or objects (a protected field inside an array goes in an object: { "kind": "object", "fields": { … } })');
      }
      return s.array(element);
    }
    default: {
      const options: { keyClass?: string; mask?: MaskOptions } = {};
      if (f['keyClass'] !== undefined) {
        if (typeof f['keyClass'] !== 'string') throw new SchemaFileError(`${path}.keyClass`, 'must be a string (contact, address, identity, note, or your own)');
        const problem = keyClassProblem(f['keyClass']);
        if (problem) throw new SchemaFileError(`${path}.keyClass`, `${problem} (contact, address, identity, note, or your own)`);
        options.keyClass = f['keyClass'];
      }
      if (f['mask'] !== undefined) options.mask = maskOf(f['mask'], kind as ProtectedKind, `${path}.mask`);
      return s[kind as ProtectedKind](options);
    }
  }
}

function maskOf(value: unknown, kind: ProtectedKind, path: string): MaskOptions {
  const m = object(value, path);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m)) {
    const spec = Object.hasOwn(MASK_KEYS, k) ? MASK_KEYS[k] : undefined;
    if (!spec) throw new SchemaFileError(`${path}.${k}`, `unknown mask option (known: ${Object.keys(MASK_KEYS).join(', ')}; custom mask functions need the TypeScript API)`);
    if (!spec.kinds.includes(kind)) throw new SchemaFileError(`${path}.${k}`, `applies to kind ${spec.kinds.join(', ')}, not "${kind}"`);
    if (typeof v !== 'string' || !spec.values.includes(v)) throw new SchemaFileError(`${path}.${k}`, `must be one of ${spec.values.map((x) => `"${x}"`).join(', ')}`);
    out[k] = v;
  }
  return out as MaskOptions;
}

function kindOf(value: unknown, path: string): FieldKind {
  if (typeof value !== 'string' || !(FIELD_KINDS as readonly string[]).includes(value)) {
    throw new SchemaFileError(path, `unknown kind ${JSON.stringify(value)} (known: ${FIELD_KINDS.join(', ')}; "?" after a kind name makes it optional)`);
  }
  return value as FieldKind;
}

const INDEX_KEYS = ['type', 'field', 'fields', 'transform', 'bits'];

function checkIndex(value: unknown, path: string): void {
  const o = object(value, path);
  onlyKeys(o, INDEX_KEYS, path);
  if (o['field'] !== undefined && o['fields'] !== undefined) throw new SchemaFileError(path, 'give "field" or "fields", not both');
  if (o['fields'] !== undefined) {
    if (!Array.isArray(o['fields']) || o['fields'].length === 0) throw new SchemaFileError(`${path}.fields`, 'must be a non-empty array');
    if (o['transform'] !== undefined) throw new SchemaFileError(`${path}.transform`, 'a compound index gives a transform per source: { "field": …, "transform": … }');
    o['fields'].forEach((src: unknown, i: number) => {
      if (typeof src === 'string') return;
      const part = object(src, `${path}.fields.${i}`);
      onlyKeys(part, ['field', 'transform'], `${path}.fields.${i}`);
    });
  }
}

function columnsOf(csv: unknown): Readonly<Record<string, string>> {
  if (csv === undefined) return {};
  const c = object(csv, 'csv');
  onlyKeys(c, ['columns'], 'csv');
  if (c['columns'] === undefined) return {};
  const cols = object(c['columns'], 'csv.columns');
  const out: Record<string, string> = {};
  const seen = new Map<string, string>();
  for (const [column, path] of Object.entries(cols)) {
    if (column === '') throw new SchemaFileError('csv.columns', 'a column name is empty');
    if (typeof path !== 'string' || (path !== '-' && path !== '$tag' && !FIELD_PATH.test(path))) {
      throw new SchemaFileError(`csv.columns.${column}`, 'must be a field path (receiver.mobile) or "-" to drop the column');
    }
    if (path !== '-') {
      if (seen.has(path)) throw new SchemaFileError(`csv.columns.${column}`, `field path "${path}" is already the column "${seen.get(path)}"`);
      seen.set(path, column);
    }
    out[column] = path;
  }
  return out;
}

function object(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SchemaFileError(path, 'must be an object');
  return value as Record<string, unknown>;
}

function onlyKeys(o: Record<string, unknown>, allowed: readonly string[], path: string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw new SchemaFileError(path ? `${path}.${k}` : k, `unknown member (known: ${allowed.join(', ')})`);
  }
}

/**
 * The JSON form of a schema (the inverse of `schemaFromJson`), e.g. to start a schema file from a
 * built-in one. Custom mask functions have no JSON form: a schema with them is a ConfigError.
 */
export function schemaToJson(schema: Schema, columns?: Readonly<Record<string, string>>): SchemaJson {
  const fields = shapeToJson(schema.shape, '');
  const defaultScope = Object.hasOwn(schema.shape, 'createdAt') ? 'createdAt' : undefined;
  const indexes: Record<string, IndexOption> = {};
  for (const [name, spec] of Object.entries(schema.indexes)) {
    const part = (p: (typeof spec.parts)[number]) => (p.transform === defaultTransform(schema.shape, p.path) ? p.path : { field: p.path, transform: p.transform });
    if (spec.type === 'ff1') indexes[name] = { type: 'ff1', field: spec.parts[0]!.path, transform: spec.parts[0]!.transform as 'phone' | 'digits' };
    else if (spec.parts.length === 1) {
      const p = part(spec.parts[0]!);
      indexes[name] = typeof p === 'string' ? { field: p, bits: spec.bits } : { ...p, bits: spec.bits };
    } else indexes[name] = { fields: spec.parts.map(part) as never, bits: spec.bits };
  }
  return {
    format: SCHEMA_FILE_FORMAT,
    name: schema.name,
    version: schema.version,
    recordId: schema.recordId,
    ...(schema.scopeFrom !== undefined && schema.scopeFrom !== defaultScope ? { scopeFrom: schema.scopeFrom } : {}),
    fields,
    ...(Object.keys(indexes).length > 0 ? { indexes } : {}),
    ...(signedOf(schema).length > 0 ? { signed: [...signedOf(schema)] } : {}),
    ...(columns && Object.keys(columns).length > 0 ? { csv: { columns } } : {}),
  };
}

/** The schema's signed paths (`defineSchema`'s `signed`; none for schemas built before it existed). */
const signedOf = (schema: Schema): readonly string[] => (schema as { signed?: readonly string[] }).signed ?? [];

function shapeToJson(shape: Shape, prefix: string): Record<string, FieldJson> {
  const out: Record<string, FieldJson> = {};
  for (const [key, node] of Object.entries(shape)) out[key] = nodeToJson(node.def, `${prefix}${key}`);
  return out;
}

function nodeToJson(def: NodeDef, path: string): FieldJson {
  const opt = def.optional ? '?' : '';
  switch (def.type) {
    case 'plain':
      return `${def.kind}${opt}`;
    case 'object':
      return { kind: 'object', ...(def.optional ? { optional: true } : {}), fields: shapeToJson(def.shape, `${path}.`) };
    case 'array':
      return { kind: 'array', ...(def.optional ? { optional: true } : {}), of: nodeToJson(def.element.def, `${path}[]`) };
    case 'protected': {
      const { custom, ...rest } = def.mask;
      if (custom !== undefined && Object.keys(custom).length > 0) throw new ConfigError(`${path}: custom mask functions have no JSON form`);
      const keyClass = def.keyClass !== DEFAULT_KEY_CLASS[def.kind] ? { keyClass: def.keyClass } : {};
      const mask = Object.keys(rest).length > 0 ? { mask: rest as NonNullable<Exclude<FieldJson, string>['mask']> } : {};
      if (Object.keys(keyClass).length === 0 && Object.keys(mask).length === 0) return `${def.kind}${opt}`;
      return { kind: def.kind, ...(def.optional ? { optional: true } : {}), ...keyClass, ...mask };
    }
  }
}

/** The transform `compileIndexes` picks for a source that names none (asked of it, not duplicated here). */
function defaultTransform(shape: Shape, path: string): string | undefined {
  try {
    return compileIndexes(shape, { probe: { field: path, bits: 1 } })['probe']?.parts[0]?.transform;
  } catch {
    // A plain string field cannot be a primary source: its default is "text".
    return 'text';
  }
}
