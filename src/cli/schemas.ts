/** Schemas the CLI knows by name. */
import type { Schema } from '../schema/schema.js';
import { waybill } from '../schema/waybill.js';
import { UsageError } from './args.js';

const BUILT_IN: Record<string, Schema> = { waybill };

export function schemaByName(name: string): Schema {
  const schema = BUILT_IN[name];
  if (!schema) throw new UsageError(`unknown schema "${name}" (built in: ${Object.keys(BUILT_IN).join(', ')})`);
  return schema;
}
