/** What a sealed record is made of (format version, suite, data key per field), without any key. */
import { FormatError } from '../errors.js';
import { isSealedField, parseEnc } from '../format/sealed-field.js';
import { isPlainObject } from '../schema/walk.js';

export interface FieldInfo {
  readonly path: string;
  readonly version: string;
  readonly suite: string;
  readonly dataKeyId: string;
}

/** Finds every sealed field by its shape, so it works on records of any schema. */
export function inspect(sealed: unknown): FieldInfo[] {
  if (!isPlainObject(sealed)) throw new FormatError('record is not an object');
  const out: FieldInfo[] = [];
  const visit = (v: unknown, path: string): void => {
    if (isSealedField(v)) {
      const { version, suite, dataKeyId } = parseEnc(v.enc);
      out.push({ path, version, suite, dataKeyId });
    } else if (Array.isArray(v)) v.forEach((x, i) => visit(x, `${path}.${i}`));
    else if (isPlainObject(v)) for (const [k, x] of Object.entries(v)) visit(x, path ? `${path}.${k}` : k);
  };
  visit(sealed, '');
  return out;
}
