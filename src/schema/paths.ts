/** Static facts about a schema, computed once per schema object. */
import type { SealedField } from '../format/sealed-field.js';
import type { SealedOfShape, Shape } from './builder.js';
import type { Depth } from './indexes.js';
import type { Schema } from './schema.js';
import type { ProtectedDef } from './walk.js';

/** Schema paths of the sealed fields of a sealed record type, `[]` for arrays of objects. */
type SealedPathsOf<T, D extends number = 7> = [D] extends [never]
  ? never
  : {
      [K in keyof T & string]-?: NonNullable<T[K]> extends SealedField
        ? K
        : NonNullable<T[K]> extends readonly (infer E)[]
          ? NonNullable<E> extends object
            ? `${K}[].${SealedPathsOf<NonNullable<E>, Depth[D]>}`
            : never
          : NonNullable<T[K]> extends object
            ? `${K}.${SealedPathsOf<NonNullable<T[K]>, Depth[D]>}`
            : never;
    }[keyof T & string];

/**
 * The schema paths of a schema's protected fields (`receiver.mobile`, `items[].name`): what
 * `open({ fields })` takes. A schema whose shape is not known to the compiler (loaded from JSON)
 * gives `string`, checked at run time.
 */
export type ProtectedPath<S extends Schema> =
  S extends Schema<infer Sh> ? (string extends keyof Sh ? string : SealedPathsOf<SealedOfShape<Sh>>) : string;

const cache = new WeakMap<Schema, Map<string, ProtectedDef>>();

/** Every protected field of a schema by schema path (`receiver.mobile`, `items[].name`). */
export function protectedFields(schema: Schema): ReadonlyMap<string, ProtectedDef> {
  let fields = cache.get(schema);
  if (!fields) {
    fields = new Map();
    collect(schema.shape, '', fields);
    cache.set(schema, fields);
  }
  return fields;
}

/** The schema paths of a schema's protected fields, e.g. to check the `fields` of an open request. */
export const protectedPaths = (schema: Schema): ReadonlySet<string> => new Set(protectedFields(schema).keys());

/** Whether `path` names a protected field of `schema`: narrows a path from outside (JSON, a form) to what `open({ fields })` takes. */
export function isProtectedPath<S extends Schema>(schema: S, path: string): path is ProtectedPath<S> {
  return protectedFields(schema).has(path);
}

function collect(shape: Shape, prefix: string, out: Map<string, ProtectedDef>): void {
  for (const [key, node] of Object.entries(shape)) {
    const def = node.def;
    const path = `${prefix}${key}`;
    if (def.type === 'protected') out.set(path, def);
    else if (def.type === 'object') collect(def.shape, `${path}.`, out);
    else if (def.type === 'array' && def.element.def.type === 'object') collect(def.element.def.shape, `${path}[].`, out);
  }
}
