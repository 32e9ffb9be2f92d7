/** Schemas the CLI knows: built in by name, or a schema file (`--schema FILE.json`). */
import type { Schema } from '../schema/schema.js';
import { parseSchemaJson, SchemaFileError } from '../schema/from-json.js';
import { waybill } from '../schema/waybill.js';
import { readJsonFile, UsageError } from './args.js';

const BUILT_IN: Record<string, Schema> = { waybill };

export const builtInSchemaNames = (): string[] => Object.keys(BUILT_IN);

/** What a worker thread needs to rebuild the same schema (structured-cloneable). */
export type SchemaSource = { readonly builtin: string } | { readonly json: unknown; readonly path: string };

export interface LoadedSchema {
  readonly schema: Schema;
  /** CSV column → field path from the schema file (`-`: drop). */
  readonly columns: Readonly<Record<string, string>>;
  readonly source: SchemaSource;
}

export function schemaByName(name: string): Schema {
  const schema = Object.hasOwn(BUILT_IN, name) ? BUILT_IN[name] : undefined;
  if (!schema) throw new UsageError(`unknown schema "${name}" (built in: ${Object.keys(BUILT_IN).join(', ')}; or a schema file, FILE.json)`);
  return schema;
}

/** `--schema NAME|FILE.json`: a built-in name, else a path to a schema file. */
export async function loadSchema(value: string): Promise<LoadedSchema> {
  if (Object.hasOwn(BUILT_IN, value)) return { schema: BUILT_IN[value]!, columns: {}, source: { builtin: value } };
  if (!/[./\\]/.test(value)) schemaByName(value); // a bare name that is not built in: say so
  const json = await readJsonFile(value, 'schema file');
  return { ...fromJson(json, value), source: { json, path: value } };
}

/** Rebuilds a loaded schema from its source (worker threads). */
export function schemaFromSource(source: SchemaSource): LoadedSchema {
  if ('builtin' in source) return { schema: schemaByName(source.builtin), columns: {}, source };
  return { ...fromJson(source.json, source.path), source };
}

function fromJson(json: unknown, path: string): { schema: Schema; columns: Readonly<Record<string, string>> } {
  try {
    return parseSchemaJson(json);
  } catch (e) {
    if (e instanceof SchemaFileError) throw new UsageError(`schema file ${path}: ${e.path || '(root)'}: ${e.reason}`);
    throw e;
  }
}
