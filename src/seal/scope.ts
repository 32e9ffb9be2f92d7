/** Data-key scopes: by default the UTC calendar month of the schema's `scopeFrom` date. */
import { ValidationError } from '../errors.js';
import type { Schema } from '../schema/schema.js';

export type ScopeFunction = (record: Readonly<Record<string, unknown>>, schema: Schema) => string;

const SCOPE = /^[A-Za-z0-9_-]{1,64}$/;

export const monthScope: ScopeFunction = (record, schema) => {
  if (schema.scopeFrom === undefined) return 'all';
  const raw = record[schema.scopeFrom] as string;
  const t = Date.parse(raw.length === 10 ? `${raw}T00:00:00Z` : raw);
  return new Date(t).toISOString().slice(0, 7);
};

export function scopeOf(fn: ScopeFunction, record: Readonly<Record<string, unknown>>, schema: Schema): string {
  const scope = fn(record, schema);
  if (typeof scope !== 'string' || !SCOPE.test(scope)) throw new ValidationError('', 'invalid_scope');
  return scope;
}
