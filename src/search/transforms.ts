/**
 * Normalisation of index sources (pure, total): a value in, its canonical form out, or undefined
 * when the value does not normalise (then no token is written or matched, never a wrong one).
 */
import { parseEmail } from '../normalize/email.js';
import { parseIdNumber } from '../normalize/id-number.js';
import { normalizeName } from '../normalize/name.js';
import { parsePhoneWithDefault, type PhoneParser } from '../normalize/phone-core.js';
import { isPlainObject } from '../schema/walk.js';
import type { IndexPartSpec, IndexTransform } from '../schema/indexes.js';

/** `seal`: a stored value; `query`: what a user types (e.g. just the last four digits). */
export type Side = 'seal' | 'query';

const SEPARATORS = /[\s\-\u2010-\u2015\u2212.()]/g;

/** `parser` reads phone numbers (default: the installed phone metadata). */
export function normalizePart(transform: IndexTransform, value: unknown, side: Side, country: string | undefined, parser?: PhoneParser): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > 4096) return undefined;
  switch (transform) {
    case 'phone':
      return parsePhoneWithDefault(parser, value, phoneContext(country))?.e164;
    case 'phone-last4': {
      if (side === 'query') {
        const digits = value.normalize('NFKC').trim();
        if (/^\d{4}$/.test(digits)) return digits;
      }
      const national = parsePhoneWithDefault(parser, value, phoneContext(country))?.nationalNumber;
      return national !== undefined && national.length >= 4 ? national.slice(-4) : undefined;
    }
    case 'id-number':
      return parseIdNumber(value)?.normalized;
    case 'name':
      return nonEmpty(normalizeName(value).toLowerCase());
    case 'email': {
      const email = parseEmail(value);
      return email ? `${email.local}@${email.domain}` : undefined;
    }
    case 'digits': {
      const digits = value.normalize('NFKC').replace(SEPARATORS, '');
      return /^\d+$/.test(digits) ? digits : undefined;
    }
    case 'text':
      return nonEmpty(value.normalize('NFKC').trim().replace(/\s+/g, ' '));
    case 'exact':
      return value;
  }
}

/**
 * The digit string and tweak context an FF1 index encrypts: for `phone`, the national number
 * (11 digits for a mainland mobile) with its country calling code; for `digits`, the digits.
 */
export function ff1Digits(
  transform: IndexTransform,
  value: unknown,
  country: string | undefined,
  parser?: PhoneParser,
): { digits: string; callingCode: string } | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > 4096) return undefined;
  if (transform === 'phone') {
    const phone = parsePhoneWithDefault(parser, value, phoneContext(country));
    return phone ? { digits: phone.nationalNumber, callingCode: phone.countryCallingCode } : undefined;
  }
  const digits = normalizePart('digits', value, 'seal', undefined);
  return digits === undefined ? undefined : { digits, callingCode: '' };
}

const phoneContext = (country: string | undefined) => (country === undefined ? {} : { country });
const nonEmpty = (s: string): string | undefined => (s.length > 0 ? s : undefined);

const pathKeys = new Map<string, readonly string[]>();

/** The keys of a dotted path, split once per path (index paths come from schemas: a small set; bounded anyway). */
function keysOf(path: string): readonly string[] {
  let keys = pathKeys.get(path);
  if (keys === undefined) {
    if (pathKeys.size >= 1024) pathKeys.clear();
    keys = path.split('.');
    pathKeys.set(path, keys);
  }
  return keys;
}

/** Reads a dotted path of a (plain, opened or sealed) record. */
export function valueAt(record: unknown, path: string): unknown {
  let current: unknown = record;
  for (const key of keysOf(path)) {
    if (!isPlainObject(current) || !Object.hasOwn(current, key)) return undefined;
    current = current[key];
  }
  return current;
}

/**
 * The country used to read phone numbers at a path: the nearest `country` (or `address.country`)
 * on the objects above the field, as the record walker gives masks, so tokens and masks agree.
 */
export function countryAt(record: unknown, path: string): string | undefined {
  let country: string | undefined;
  let current: unknown = record;
  const keys = keysOf(path);
  for (let i = 0; i < keys.length; i++) {
    if (!isPlainObject(current)) return country;
    country = countryOf(current) ?? country;
    current = current[keys[i]!];
  }
  return country;
}

function countryOf(v: Record<string, unknown>): string | undefined {
  if (typeof v['country'] === 'string') return v['country'];
  const address = v['address'];
  if (isPlainObject(address) && typeof address['country'] === 'string') return address['country'];
  return undefined;
}

/** Normalised parts of an index read from a record (plain or opened); undefined if any part is missing or does not normalise. */
export function partsFromRecord(parts: readonly IndexPartSpec[], record: unknown, parser?: PhoneParser): string[] | undefined {
  const out: string[] = [];
  for (const part of parts) {
    const v = normalizePart(part.transform, valueAt(record, part.path), 'seal', countryAt(record, part.path), parser);
    if (v === undefined) return undefined;
    out.push(v);
  }
  return out;
}
