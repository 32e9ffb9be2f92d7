/**
 * The plain paths a record tag signs (record id, scope date, `signed`), expanded over the shape.
 * Used by the tag (integrity) and by policies (which may scope only on signed fields); it lives in
 * the schema layer because `defineSchema` checks the named paths when a schema is defined.
 */
import { ConfigError } from '../errors.js';
import type { Shape } from './builder.js';

/** What a schema names as signed; structural, so this module needs nothing from schema.ts. */
export interface SignedSource {
  readonly shape: Shape;
  readonly recordId: string;
  readonly scopeFrom: string | undefined;
  readonly signed: readonly string[];
}

const signedCache = new WeakMap<SignedSource, readonly string[][]>();

/**
 * The signed plain paths of a schema, as key lists: each named path, with objects expanded to their
 * plain descendants (protected fields are units of their own) and arrays of plain objects taken whole.
 */
export function signedPaths(schema: SignedSource): readonly string[][] {
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
