/**
 * A zod-like schema builder: each node carries its definition at run time and, as phantom
 * types, the plain, sealed and masked shapes it stands for.
 */
import { ConfigError } from '../errors.js';
import type { MaskOptions } from '../mask/index.js';
import { DEFAULT_KEY_CLASS, keyClassProblem, type KeyClass, type ProtectedKind, type VirtualNumber } from './kinds.js';
import type { SealedField } from '../format/sealed-field.js';
import type { Redacted } from '../access/redacted.js';

export type PlainKind = 'string' | 'number' | 'boolean' | 'date';

export interface ProtectedOptions {
  /** Key class (cryptographic boundary); defaults by kind: contact, address, identity or note. */
  keyClass?: KeyClass | (string & {});
  /** Mask options (name style, mobile label style, custom profiles). */
  mask?: MaskOptions;
}

export type NodeDef =
  | { readonly type: 'plain'; readonly kind: PlainKind; readonly optional: boolean }
  | {
      readonly type: 'protected';
      readonly kind: ProtectedKind;
      readonly keyClass: string;
      readonly mask: MaskOptions;
      readonly optional: boolean;
    }
  | { readonly type: 'object'; readonly shape: Readonly<Record<string, AnyNode>>; readonly optional: boolean }
  | { readonly type: 'array'; readonly element: AnyNode; readonly optional: boolean };

declare const types: unique symbol;
declare const maskedBrand: unique symbol;

/**
 * A protected field in a masked view: its stored mask string. Branded (types only) so that a plain
 * record cannot pass for a masked view: code that takes `MaskedRecord` cannot be handed plaintext.
 */
export type MaskedText = string & { readonly [maskedBrand]: true };

/**
 * A schema node. `P`, `S`, `M` and `R` are the plain, sealed, masked and opened types (opened:
 * an opened protected field is a `Redacted` value, one that was not opened holds its screen
 * mask); `O` marks optional.
 */
export interface Node<P, S, M, R = P, O extends boolean = false> {
  readonly def: NodeDef;
  readonly [types]?: { plain: P; sealed: S; masked: M; opened: R; optional: O };
  optional(): Node<P, S, M, R, true>;
}

// eslint-style `any` is the honest type for "some node of any shape" in a builder.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyNode = Node<any, any, any, any, boolean>;
export type Shape = Readonly<Record<string, AnyNode>>;

type Info<N> =
  N extends Node<infer P, infer S, infer M, infer R, infer O> ? { plain: P; sealed: S; masked: M; opened: R; optional: O } : never;
type OptionalKeys<Sh extends Shape> = { [K in keyof Sh]: Info<Sh[K]>['optional'] extends true ? K : never }[keyof Sh];
type RequiredKeys<Sh extends Shape> = Exclude<keyof Sh, OptionalKeys<Sh>>;
type Pretty<T> = { [K in keyof T]: T[K] } & {};
type ShapeOf<Sh extends Shape, W extends 'plain' | 'sealed' | 'masked' | 'opened'> = Pretty<
  { [K in RequiredKeys<Sh>]: Info<Sh[K]>[W] } & { [K in OptionalKeys<Sh>]?: Info<Sh[K]>[W] }
>;

export type PlainOfShape<Sh extends Shape> = ShapeOf<Sh, 'plain'>;
export type SealedOfShape<Sh extends Shape> = ShapeOf<Sh, 'sealed'>;
export type MaskedOfShape<Sh extends Shape> = ShapeOf<Sh, 'masked'>;
export type OpenedOfShape<Sh extends Shape> = ShapeOf<Sh, 'opened'>;

function node<P, S, M, R = P>(def: NodeDef): Node<P, S, M, R> {
  return {
    def,
    optional: () => node({ ...def, optional: true }) as never,
  };
}

const plain = <T>(kind: PlainKind) => node<T, T, T>({ type: 'plain', kind, optional: false });

function protectedNode<K extends ProtectedKind>(kind: K, options: ProtectedOptions = {}) {
  const keyClass = options.keyClass ?? DEFAULT_KEY_CLASS[kind];
  const problem = keyClassProblem(keyClass);
  if (problem) throw new ConfigError(`invalid key class "${keyClass}": ${problem}`);
  type Value = K extends 'virtualNumber' ? VirtualNumber : string;
  return node<Value, SealedField, MaskedText, Redacted<Value> | string>({ type: 'protected', kind, keyClass, mask: options.mask ?? {}, optional: false });
}

/** Field builders. Plain fields are stored as they are; protected fields are sealed and masked. */
export const s = {
  string: () => plain<string>('string'),
  number: () => plain<number>('number'),
  boolean: () => plain<boolean>('boolean'),
  /** An ISO 8601 date or date-time string. */
  date: () => plain<string>('date'),
  object: <Sh extends Shape>(shape: Sh) =>
    node<PlainOfShape<Sh>, SealedOfShape<Sh>, MaskedOfShape<Sh>, OpenedOfShape<Sh>>({ type: 'object', shape, optional: false }),
  array: <N extends AnyNode>(element: N) =>
    node<Info<N>['plain'][], Info<N>['sealed'][], Info<N>['masked'][], Info<N>['opened'][]>({
      type: 'array',
      element,
      optional: false,
    }),
  name: (o?: ProtectedOptions) => protectedNode('name', o),
  mobile: (o?: ProtectedOptions) => protectedNode('mobile', o),
  landline: (o?: ProtectedOptions) => protectedNode('landline', o),
  /** Any phone number valid in its country's plan: mobiles, landlines, company numbers. */
  phone: (o?: ProtectedOptions) => protectedNode('phone', o),
  virtualNumber: (o?: ProtectedOptions) => protectedNode('virtualNumber', o),
  idNumber: (o?: ProtectedOptions) => protectedNode('idNumber', o),
  addressDetail: (o?: ProtectedOptions) => protectedNode('addressDetail', o),
  email: (o?: ProtectedOptions) => protectedNode('email', o),
  text: (o?: ProtectedOptions) => protectedNode('text', o),
};
