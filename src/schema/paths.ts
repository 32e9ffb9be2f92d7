/** Static facts about a schema, computed once per schema object. */
import type { Shape } from './builder.js';
import type { Schema } from './schema.js';
import type { ProtectedDef } from './walk.js';

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

function collect(shape: Shape, prefix: string, out: Map<string, ProtectedDef>): void {
  for (const [key, node] of Object.entries(shape)) {
    const def = node.def;
    const path = `${prefix}${key}`;
    if (def.type === 'protected') out.set(path, def);
    else if (def.type === 'object') collect(def.shape, `${path}.`, out);
    else if (def.type === 'array' && def.element.def.type === 'object') collect(def.element.def.shape, `${path}[].`, out);
  }
}
