/** `defineSchema`: a named, versioned record type with its record id and key scope. */
import { ConfigError } from '../errors.js';
import type { MaskedOfShape, NodeDef, OpenedOfShape, PlainOfShape, SealedOfShape, Shape } from './builder.js';
import type { Redacted } from '../access/redacted.js';
import { signedPaths } from './signed.js';
import { compileIndexes, type IndexesOption, type IndexOption, type IndexSpec } from './indexes.js';

export interface SchemaOptions<Sh extends Shape, I extends string = never> {
  /** The plain string field that identifies a record (bound into every ciphertext). */
  recordId: keyof Sh & string;
  /**
   * The plain date field whose calendar month (UTC) is the default data-key scope, so retention
   * can destroy a month at once. Defaults to `createdAt` when the schema has one.
   */
  scopeFrom?: keyof Sh & string;
  /**
   * Keyed search tokens (blind indexes, FF1 tokens) computed at seal time and stored in the sealed
   * field of each index's first source field, e.g.
   * `{ 'receiver.mobile:last4': { field: 'receiver.mobile', transform: 'phone-last4', bits: 9 } }`.
   */
  indexes?: IndexesOption<Sh, I>;
  /**
   * Plain fields covered by the record integrity tag besides the record id and scope date (docs/FORMAT.md
   * §11): paths of plain fields, objects (their plain descendants) or arrays of plain values/objects, e.g.
   * `['routing', 'receiver.address', 'items']`. Sealed fields (ciphertexts, masks, tokens) are always covered.
   */
  signed?: readonly string[];
}

export interface Schema<Sh extends Shape = Shape, I extends string = string> {
  readonly name: string;
  readonly version: number;
  readonly shape: Sh;
  readonly recordId: string;
  readonly scopeFrom: string | undefined;
  /** Checked index definitions by index name (see `IndexSpec`). */
  readonly indexes: Readonly<Record<I, IndexSpec>>;
  /** Plain paths the record tag covers (besides the record id and scope date). */
  readonly signed: readonly string[];
  /** Phantom: the plain, sealed and masked record types. */
  readonly _plain?: PlainOfShape<Sh>;
  readonly _sealed?: SealedOfShape<Sh>;
  readonly _masked?: MaskedOfShape<Sh>;
}

export type PlainRecord<S extends Schema> = S extends Schema<infer Sh> ? PlainOfShape<Sh> : never;
export type SealedRecord<S extends Schema> = S extends Schema<infer Sh> ? SealedOfShape<Sh> : never;
export type MaskedRecord<S extends Schema> = S extends Schema<infer Sh> ? MaskedOfShape<Sh> : never;
/** What `open` returns: the plain record type, where an opened field is a `Redacted` value and a field that was not opened holds its screen mask. */
export type OpenedRecord<S extends Schema> = S extends Schema<infer Sh> ? OpenedOfShape<Sh> : never;
/** What `open` returns with `reveal: 'plain'`: opened fields are plain values instead of `Redacted`. */
export type PlainOpenedRecord<S extends Schema> = Unredacted<OpenedRecord<S>>;
/** `Redacted<V>` → `V`, deeply. */
export type Unredacted<T> =
  T extends Redacted<infer V> ? V : T extends readonly (infer E)[] ? Unredacted<E>[] : T extends object ? { [K in keyof T]: Unredacted<T[K]> } : T;

const NAME = /^[a-z][a-z0-9_-]{0,63}$/i;

export function defineSchema<Sh extends Shape, I extends string = never>(
  name: string,
  version: number,
  shape: Sh,
  options: SchemaOptions<Sh, I>,
): Schema<Sh, I> {
  if (!NAME.test(name)) throw new ConfigError(`schema name must match ${NAME}`);
  if (!Number.isSafeInteger(version) || version < 1) throw new ConfigError('schema version must be a positive integer');
  const idDef: NodeDef | undefined = shape[options.recordId]?.def;
  if (!idDef || idDef.type !== 'plain' || idDef.kind !== 'string' || idDef.optional) {
    throw new ConfigError(`recordId "${options.recordId}" must be a required plain string field`);
  }
  const scopeFrom = options.scopeFrom ?? ('createdAt' in shape ? 'createdAt' : undefined);
  if (scopeFrom !== undefined) {
    const def = shape[scopeFrom]?.def;
    if (!def || def.type !== 'plain' || def.kind !== 'date' || def.optional) {
      throw new ConfigError(`scopeFrom "${scopeFrom}" must be a required date field`);
    }
  }
  checkFieldNames(shape, '');
  const indexes = compileIndexes(shape, options.indexes as Readonly<Record<string, IndexOption>> | undefined) as Readonly<Record<I, IndexSpec>>;
  const schema: Schema<Sh, I> = { name, version, shape, recordId: options.recordId, scopeFrom, indexes, signed: [...(options.signed ?? [])] };
  signedPaths(schema);
  return schema;
}

function checkFieldNames(shape: Shape, prefix: string): void {
  for (const [key, node] of Object.entries(shape)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new ConfigError(`invalid field name "${prefix}${key}"`);
    // Records are read as obj[key]: a field named like an Object.prototype member (`constructor`,
    // `toString`, `__proto__`) would read the prototype's when the record lacks it.
    if (key in Object.prototype) throw new ConfigError(`field name "${prefix}${key}" is an Object.prototype member`);
    const def = node.def;
    if (def.type === 'object') checkFieldNames(def.shape, `${prefix}${key}.`);
    if (def.type === 'array') {
      if (def.element.def.type === 'object') checkFieldNames(def.element.def.shape, `${prefix}${key}[].`);
      else if (def.element.def.type !== 'plain') throw new ConfigError(`arrays hold plain values or objects (${prefix}${key})`);
    }
  }
}
