/**
 * Associated data of a field ciphertext: an injective, length-prefixed encoding of everything a
 * ciphertext is bound to. Changing any part (moving the ciphertext to another field, record,
 * schema, scope or key) makes it fail to open.
 */
import { encodeParts } from '../crypto/bytes.js';
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

export function fieldAad(p: AadParts): Uint8Array {
  return encodeParts([
    AAD_LABEL,
    FORMAT_VERSION,
    p.suite,
    p.schemaName,
    String(p.schemaVersion),
    p.recordId,
    p.fieldPath,
    p.dataKeyId,
  ]);
}
