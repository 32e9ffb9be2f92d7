/**
 * Matchers for vitest and jest (`expect.extend(matchers)`; both call them with the same protocol):
 * - `toContainNoPlaintext(records, options?)`: no protected value of the records anywhere in the value;
 * - `toBeSealed(schema)`: a stored record (object or JSON text) whose protected fields are all sealed fields;
 * - `toMatchMasks(schema, sealed, profile?)`: a view equal to the stored masks of `sealed` (default `screen`).
 * Failure messages name fields, paths and offsets, never a value of the record or of the view.
 */
import { WaybillSealError } from '../errors.js';
import { isSealedField, parseEnc } from '../format/sealed-field.js';
import type { Schema, SealedRecord } from '../schema/schema.js';
import { walkRecord } from '../schema/walk.js';
import { mask, type Profile } from '../seal/mask-view.js';
import { describeFindings, findPlaintext, type FindPlaintextOptions } from './find-plaintext.js';

interface MatcherContext {
  readonly isNot?: boolean;
}

export interface MatcherResult {
  pass: boolean;
  message: () => string;
}

function toContainNoPlaintext(this: MatcherContext, received: unknown, records: unknown, options?: FindPlaintextOptions): MatcherResult {
  const findings = findPlaintext(received, records, options);
  return {
    pass: findings.length === 0,
    message: () =>
      findings.length === 0
        ? 'expected plaintext of the records in the value, found none'
        : `expected no plaintext of the records, found ${findings.length} occurrence(s):\n${describeFindings(findings)}`,
  };
}

/** Why a stored record is not sealed for a schema (a path and a reason code), or undefined. */
function unsealedReason(received: unknown, schema: Schema): string | undefined {
  let record = received;
  if (typeof received === 'string') {
    try {
      record = JSON.parse(received);
    } catch {
      return 'the value is text that is not JSON';
    }
  }
  try {
    const { leaves } = walkRecord(schema.shape, record, 'sealed');
    for (const leaf of leaves) parseEnc(leaf.value.enc);
    return undefined;
  } catch (e) {
    if (!(e instanceof WaybillSealError)) throw e;
    const { path, reason } = e as WaybillSealError & { path?: string; reason?: string };
    // An unknown key may itself be plaintext: name its parent only.
    const where = path === undefined ? '' : reason === 'unknown_field' ? `a key under ${path.split('.').slice(0, -1).join('.') || '(record)'}` : path || '(record)';
    return `${where ? `${where}: ` : ''}${reason ?? e.code}`;
  }
}

function toBeSealed(this: MatcherContext, received: unknown, schema: Schema): MatcherResult {
  const reason = unsealedReason(received, schema);
  return {
    pass: reason === undefined,
    message: () => (reason === undefined ? `expected a value that is not a sealed ${schema.name} record, got one` : `expected a sealed ${schema.name} record: ${reason}`),
  };
}

/** Paths where two JSON-like values differ (values never reported). */
function differences(a: unknown, b: unknown, path: string, out: string[]): void {
  if (Object.is(a, b)) return;
  const bothObjects = typeof a === 'object' && a !== null && typeof b === 'object' && b !== null && Array.isArray(a) === Array.isArray(b);
  if (!bothObjects || isSealedField(a) || isSealedField(b)) {
    out.push(path || '(view)');
    return;
  }
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k, out);
}

function toMatchMasks<S extends Schema>(this: MatcherContext, received: unknown, schema: S, sealed: SealedRecord<S>, profile: Profile = 'screen'): MatcherResult {
  const expected = mask(schema, sealed, profile);
  const diff: string[] = [];
  differences(received, expected, '', diff);
  return {
    pass: diff.length === 0,
    message: () =>
      diff.length === 0
        ? `expected a view that differs from the ${profile} masks, got one equal to them`
        : `expected the ${profile} mask view of the sealed record; these paths differ: ${diff.slice(0, 20).join(', ')}${diff.length > 20 ? ` … (${diff.length})` : ''}`,
  };
}

/** The matchers, for `expect.extend(matchers)` in vitest or jest. */
export const matchers = { toContainNoPlaintext, toBeSealed, toMatchMasks };

/** The matchers' types, for `declare module` augmentations of a test framework's assertions. */
export interface WaybillSealMatchers<R = unknown> {
  /** Passes when no protected value of `records` (one plain record or an array) appears in the value, in any common form. */
  toContainNoPlaintext(records: unknown, options?: FindPlaintextOptions): R;
  /** Passes when the value (an object or JSON text) is a record of `schema` whose protected fields are all sealed. */
  toBeSealed(schema: Schema): R;
  /** Passes when the value equals `mask(schema, sealed, profile)` (default profile `screen`). */
  toMatchMasks<S extends Schema>(schema: S, sealed: SealedRecord<S>, profile?: Profile): R;
}
