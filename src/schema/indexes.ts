/**
 * Index definitions: what a schema's `indexes` option says, checked and normalised at
 * `defineSchema` time (ConfigError), so sealing and querying never meet a bad definition.
 */
import { ConfigError } from '../errors.js';
import type { SealedField } from '../format/sealed-field.js';
import type { SealedOfShape, Shape } from './builder.js';
import type { ProtectedKind } from './kinds.js';

/**
 * How a source value is normalised before it is keyed:
 * - `phone`: E.164 of the parsed number (`+86 138-1234-5678`, `13812345678`, `0086 13812345678` agree);
 * - `phone-last4`: the last four digits of the parsed national number (queries may give just the 4 digits);
 * - `id-number`: a valid resident ID / legacy ID / residence permit, uppercase, no spaces;
 * - `name`: NFKC, middle dots unified, whitespace collapsed, lower case;
 * - `email`: a valid address, domain in lower case;
 * - `digits`: NFKC, spaces and dashes removed, digits only;
 * - `text`: NFKC, trimmed, whitespace collapsed (default for plain string fields and free text);
 * - `exact`: the string as given.
 * A value that does not normalise (an invalid phone sealed with `lenient`) gets no token.
 */
export const INDEX_TRANSFORMS = ['phone', 'phone-last4', 'id-number', 'name', 'email', 'digits', 'text', 'exact'] as const;
export type IndexTransform = (typeof INDEX_TRANSFORMS)[number];

/** Keyed hash of blind indexes (the sealer option `indexHash`). */
export const INDEX_HASHES = ['hmac-sha256', 'hmac-sm3'] as const;
export type IndexHash = (typeof INDEX_HASHES)[number];

/** Transforms an FF1 (format-preserving) index accepts: both give a digit string. */
export type Ff1Transform = 'phone' | 'digits';

/** One source of a compound index: a field path and how its value is normalised. */
export interface IndexPartOption<P extends string = string> {
  readonly field: P;
  readonly transform?: IndexTransform;
}

export type IndexSource<P extends string = string> = P | IndexPartOption<P>;

/**
 * An index of a schema. The first (primary) source must be a protected field: its sealed field
 * stores the token in `tok[<index name>]`. Further sources (compound indexes) may be protected
 * fields or plain string fields such as `receiver.address.district`. No source may lie inside an array.
 */
export type IndexOption<P extends string = string> =
  | {
      readonly type?: 'blind';
      readonly field: P;
      readonly transform?: IndexTransform;
      /** Token length in bits (1–256); see `planIndex`. */
      readonly bits: number;
    }
  | {
      readonly type?: 'blind';
      readonly fields: readonly [IndexSource<P>, ...IndexSource<P>[]];
      readonly bits: number;
    }
  | {
      /** A deterministic FF1 (NIST SP 800-38G) token of the digit string: same length, digits only. */
      readonly type: 'ff1';
      readonly field: P;
      readonly transform?: Ff1Transform;
    };

/** Recursion limit of path types (nesting depth 7). */
export type Depth = [never, 0, 1, 2, 3, 4, 5, 6];
/** Dotted paths of a sealed record type's fields, not entering arrays or sealed fields. */
type PathsOf<T, D extends number = 7> = [D] extends [never]
  ? never
  : {
      [K in keyof T & string]-?: NonNullable<T[K]> extends SealedField
        ? K
        : NonNullable<T[K]> extends readonly unknown[]
          ? never
          : NonNullable<T[K]> extends object
            ? `${K}.${PathsOf<NonNullable<T[K]>, Depth[D]>}`
            : K;
    }[keyof T & string];

/** The field paths of a shape an index may name (`receiver.mobile`, `receiver.address.district`). */
export type FieldPath<Sh extends Shape> = PathsOf<SealedOfShape<Sh>>;

export type IndexesOption<Sh extends Shape, I extends string> = { readonly [K in I]: IndexOption<FieldPath<Sh>> };

/** A checked, normalised index definition (what a schema's `indexes` holds). */
export interface IndexSpec {
  readonly name: string;
  readonly type: 'blind' | 'ff1';
  readonly parts: readonly IndexPartSpec[];
  /** Token bits (blind indexes); 0 for FF1. */
  readonly bits: number;
  /** Canonical description, bound into the key derivation: `<type>:<path>=<transform>+…/<bits>`. */
  readonly id: string;
}

export interface IndexPartSpec {
  readonly path: string;
  readonly transform: IndexTransform;
  /** The field is protected (sealed), so reading it back needs `open`. */
  readonly protected: boolean;
  readonly kind: ProtectedKind | 'string';
}

const INDEX_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.:+-]{0,127}$/;
/** NIST SP 800-38G Rev. 1 (2nd pd): FF1 domains must hold at least 10^6 values. */
export const FF1_MIN_DIGITS = 6;

const TRANSFORMS_FOR: Readonly<Record<ProtectedKind | 'string', readonly IndexTransform[]>> = {
  mobile: ['phone', 'phone-last4', 'digits', 'text', 'exact'],
  landline: ['phone', 'phone-last4', 'digits', 'text', 'exact'],
  phone: ['phone', 'phone-last4', 'digits', 'text', 'exact'],
  idNumber: ['id-number', 'text', 'exact'],
  name: ['name', 'text', 'exact'],
  email: ['email', 'text', 'exact'],
  addressDetail: ['text', 'exact', 'digits'],
  text: ['text', 'exact', 'digits'],
  string: ['text', 'exact', 'digits', 'name', 'phone', 'phone-last4', 'id-number', 'email'],
  virtualNumber: [],
};

const DEFAULT_TRANSFORM: Readonly<Record<ProtectedKind | 'string', IndexTransform | undefined>> = {
  mobile: 'phone',
  landline: 'phone',
  phone: 'phone',
  idNumber: 'id-number',
  name: 'name',
  email: 'email',
  addressDetail: 'text',
  text: 'text',
  string: 'text',
  virtualNumber: undefined,
};

/** Checks a schema's `indexes` option against its shape; throws ConfigError naming the index. */
export function compileIndexes(shape: Shape, indexes: Readonly<Record<string, IndexOption>> | undefined): Readonly<Record<string, IndexSpec>> {
  const out: Record<string, IndexSpec> = {};
  if (indexes === undefined) return out;
  if (typeof indexes !== 'object' || indexes === null || Array.isArray(indexes)) throw new ConfigError('indexes must be an object');
  for (const [name, option] of Object.entries(indexes)) {
    if (!INDEX_NAME.test(name)) throw new ConfigError(`index name "${name}" must match ${INDEX_NAME}`);
    out[name] = compileIndex(shape, name, option);
  }
  return Object.freeze(out);
}

function compileIndex(shape: Shape, name: string, option: IndexOption): IndexSpec {
  if (typeof option !== 'object' || option === null) throw new ConfigError(`index ${name}: definition must be an object`);
  const type = option.type ?? 'blind';
  if (type !== 'blind' && type !== 'ff1') throw new ConfigError(`index ${name}: unknown type "${String(type)}"`);
  const sources: readonly IndexSource[] =
    'fields' in option ? option.fields : 'field' in option ? [{ field: option.field, ...(option.transform ? { transform: option.transform } : {}) }] : [];
  if (!Array.isArray(sources) || sources.length === 0) throw new ConfigError(`index ${name}: needs "field" or a non-empty "fields"`);
  const parts = sources.map((source, i) => compilePart(shape, name, source, i === 0));
  if (new Set(parts.map((p) => p.path)).size !== parts.length) throw new ConfigError(`index ${name}: a field is named twice`);
  // The token key is the first protected source's class's month index key: a second class's shred
  // would leave its values confirmable through this token, so all protected sources share one class.
  const classes = new Set(parts.filter((p) => p.protected).map((p) => (fieldAt(shape, p.path) as { keyClass: string }).keyClass));
  if (classes.size > 1) {
    throw new ConfigError(
      `index ${name}: its protected fields have key classes ${[...classes].join(', ')}; a compound index takes the fields of one key class (shredding one class would leave its values confirmable through the token)`,
      'INDEX_KEY_CLASSES',
    );
  }

  if (type === 'ff1') {
    const part = parts[0]!;
    if (parts.length !== 1) throw new ConfigError(`index ${name}: an FF1 index has one field`);
    if (part.transform === 'phone-last4') {
      throw new ConfigError(`index ${name}: FF1 over the last 4 digits has a domain of 10^4, below the 10^6 minimum of NIST SP 800-38G`);
    }
    if (part.transform !== 'phone' && part.transform !== 'digits') {
      throw new ConfigError(`index ${name}: FF1 needs a digit string (transform "phone" or "digits")`);
    }
    return Object.freeze({ name, type, parts: Object.freeze(parts), bits: 0, id: specId(type, parts, 0) });
  }
  const bits = (option as { bits?: unknown }).bits;
  if (typeof bits !== 'number' || !Number.isInteger(bits) || bits < 1 || bits > 256) {
    throw new ConfigError(`index ${name}: bits must be an integer from 1 to 256 (see planIndex)`);
  }
  return Object.freeze({ name, type, parts: Object.freeze(parts), bits, id: specId(type, parts, bits) });
}

function compilePart(shape: Shape, name: string, source: IndexSource, primary: boolean): IndexPartSpec {
  const option = typeof source === 'string' ? { field: source } : source;
  if (typeof option !== 'object' || option === null || typeof option.field !== 'string') {
    throw new ConfigError(`index ${name}: each source is a field path or { field, transform }`);
  }
  const path = option.field;
  const kind = fieldKind(shape, path);
  if (kind === undefined) throw new ConfigError(`index ${name}: "${path}" is not a protected or plain string field outside arrays`);
  if (primary && kind === 'string') throw new ConfigError(`index ${name}: the first field ("${path}") must be a protected field`);
  const transform = option.transform ?? DEFAULT_TRANSFORM[kind];
  if (transform === undefined || !(INDEX_TRANSFORMS as readonly string[]).includes(transform) || !TRANSFORMS_FOR[kind].includes(transform)) {
    throw new ConfigError(`index ${name}: transform "${String(transform)}" does not apply to ${kind} field "${path}"`);
  }
  return Object.freeze({ path, transform, protected: kind !== 'string', kind });
}

/** The kind of the field at a dotted path: a protected kind, 'string' for plain strings, else undefined. */
function fieldKind(shape: Shape, path: string): ProtectedKind | 'string' | undefined {
  const def = fieldAt(shape, path);
  if (def?.type === 'protected') return def.kind;
  if (def?.type === 'plain' && def.kind === 'string') return 'string';
  return undefined;
}

/** The definition of the field at a dotted path outside arrays, else undefined. */
function fieldAt(shape: Shape, path: string): Shape[string]['def'] | undefined {
  const keys = path.split('.');
  let current: Shape = shape;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (!Object.hasOwn(current, key)) return undefined;
    const def = current[key]!.def;
    if (i === keys.length - 1) return def;
    if (def.type !== 'object') return undefined;
    current = def.shape;
  }
  return undefined;
}

function specId(type: string, parts: readonly IndexPartSpec[], bits: number): string {
  return `${type}:${parts.map((p) => `${p.path}=${p.transform}`).join('+')}/${bits}`;
}

/** The index names of a schema (`string` for a schema typed only as `Schema`). */
// Structural (a schema's `indexes` keys), so this module imports nothing from schema.ts, which compiles indexes with it.
export type IndexName<S extends { readonly indexes: object }> = S extends { readonly indexes: Readonly<Record<infer I, IndexSpec>> } ? I & string : never;
