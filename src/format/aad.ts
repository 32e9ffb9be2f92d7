/**
 * Associated data of a field ciphertext: an injective, length-prefixed encoding of everything a
 * ciphertext is bound to. Changing any part (moving the ciphertext to another field, record,
 * schema, scope or key) makes it fail to open.
 *
 * The encoding of a list is the concatenation of its items' encodings, so the constant head
 * (label, version, suite, schema name and version) is encoded once, the record id once per record
 * (when the caller passes it pre-encoded), and per field only the path and the data key id, straight
 * into the AAD buffer. The bytes are the same as `encodeParts` of the whole list.
 */
import { encodePart, encodeParts, putPart } from '../crypto/bytes.js';
import { FORMAT_VERSION } from './sealed-field.js';

export interface AadParts {
  suite: string;
  schemaName: string;
  schemaVersion: number;
  recordId: string;
  fieldPath: string;
  dataKeyId: string;
}

export const AAD_LABEL = 'waybill-seal/field';

/** Encoded heads by suite, schema name and version (bounded: cleared when it outgrows 256 entries). */
const heads = new Map<string, Uint8Array>();

/** The encoded constant head of every field AAD of one suite and schema version. */
export function aadHead(suite: string, schemaName: string, schemaVersion: number): Uint8Array {
  // Consecutive records usually share suite and schema: the last head is reused without building a map key.
  const same = last !== undefined && last.suite === suite && last.schemaName === schemaName && last.schemaVersion === schemaVersion;
  // Stryker disable next-line ConditionalExpression: equivalent (skipping this shortcut finds the same head in the map)
  if (same) return last!.head;
  const id = `${suite}\u0000${schemaName}\u0000${schemaVersion}`;
  let head = heads.get(id);
  if (head === undefined) {
    // Stryker disable next-line EqualityOperator: equivalent (where exactly the bound lies changes no byte)
    if (heads.size >= 256) heads.clear();
    head = encodeParts([AAD_LABEL, FORMAT_VERSION, suite, schemaName, String(schemaVersion)]);
    heads.set(id, head);
  }
  // Stryker disable next-line ObjectLiteral: equivalent (an empty `last` only disables the shortcut above)
  last = { suite, schemaName, schemaVersion, head };
  return head;
}

let last: { readonly suite: string; readonly schemaName: string; readonly schemaVersion: number; readonly head: Uint8Array } | undefined;

/** head ‖ LP(recordId) ‖ LP(fieldPath) ‖ LP(dataKeyId), with the record id given encoded (`encodePart`). */
export function assembleAad(head: Uint8Array, recordId: Uint8Array, fieldPath: string, dataKeyId: string): Uint8Array {
  // Room for the worst case (3 UTF-8 bytes per UTF-16 unit); the AAD is the written prefix.
  const out = new Uint8Array(aadBound(head, recordId, fieldPath, dataKeyId));
  return assembleInto(out, head, recordId, fieldPath, dataKeyId);
}

const aadBound = (head: Uint8Array, recordId: Uint8Array, fieldPath: string, dataKeyId: string) =>
  head.length + recordId.length + 8 + 3 * (fieldPath.length + dataKeyId.length);

function assembleInto(out: Uint8Array, head: Uint8Array, recordId: Uint8Array, fieldPath: string, dataKeyId: string): Uint8Array {
  out.set(head);
  out.set(recordId, head.length);
  const end = putPart(out, putPart(out, head.length + recordId.length, fieldPath), dataKeyId);
  return out.subarray(0, end);
}

let scratch = new Uint8Array(1024);

/**
 * `assembleAad` into a reused buffer: for a caller that hands the AAD to one synchronous AEAD call
 * and drops it (the field encrypt/decrypt path). The AAD is not secret; the view is valid until the
 * next call.
 */
export function transientAad(head: Uint8Array, recordId: Uint8Array, fieldPath: string, dataKeyId: string): Uint8Array {
  const bound = aadBound(head, recordId, fieldPath, dataKeyId);
  // Stryker disable next-line EqualityOperator,ArithmeticOperator: equivalent (growing on equality, or to exactly `bound`, changes no byte)
  if (bound > scratch.length) scratch = new Uint8Array(Math.max(bound, 2 * scratch.length));
  return assembleInto(scratch, head, recordId, fieldPath, dataKeyId);
}

export function fieldAad(p: AadParts): Uint8Array {
  return assembleAad(aadHead(p.suite, p.schemaName, p.schemaVersion), encodePart(p.recordId), p.fieldPath, p.dataKeyId);
}
