import type { PhoneParser } from '../normalize/phone-core.js';
import { MAX_VALUE_LENGTH, type ProtectedKind, type VirtualNumber } from '../schema/kinds.js';
import { checkAddressDetail, maskAddressDetail } from './address.js';
import { checkEmail, maskEmail } from './email.js';
import { checkIdNumber, maskIdNumber } from './id-number.js';
import { checkName, maskName, maskNameProfiles } from './name.js';
import { phoneParser } from '../normalize/phone-core.js';
import { checkLandline, checkMobile, checkPhone, checkVirtualNumber, maskPhone, maskVirtualNumber } from './phone.js';
import { maskAll, PLACEHOLDER } from './stars.js';
import { checkText, maskText } from './text.js';
import type { MaskContext, MaskOptions, MaskProfile } from './types.js';

export type { MaskContext, MaskOptions, MaskProfile } from './types.js';
export { maskAll } from './stars.js';

const BUILTIN_PROFILES: readonly MaskProfile[] = ['label', 'screen'];

/**
 * Every profile's mask for a value: `{ label, screen, ...custom profiles }`. Built-in names cannot be
 * overridden. `parser` reads phone numbers (default: the installed phone metadata, see phone-core.ts).
 */
export function computeMasks(
  kind: ProtectedKind,
  value: string | VirtualNumber,
  options: MaskOptions,
  ctx: MaskContext,
  parser?: PhoneParser,
): Record<string, string> {
  const masks: Record<string, string> = builtinMasks(kind, value, options, ctx, parser);
  const custom = options?.custom;
  if (custom !== undefined) {
    for (const profile of Object.keys(custom)) {
      if (!isBuiltin(profile)) masks[profile] = maskValue(kind, value, profile, options, ctx, parser);
    }
  }
  return masks;
}

/** The built-in profiles' masks, in BUILTIN_PROFILES order; a name is normalised once for both. */
function builtinMasks(kind: ProtectedKind, value: string | VirtualNumber, options: MaskOptions, ctx: MaskContext, parser?: PhoneParser): Record<string, string> {
  if (kind !== 'name' || typeof value !== 'string' || tooLong(kind, value)) {
    return { label: maskValue(kind, value, 'label', options, ctx, parser), screen: maskValue(kind, value, 'screen', options, ctx, parser) };
  }
  try {
    return maskNameProfiles(value, options ?? {});
  } catch {
    // As in maskValue: masking never fails a write or leaks the value through an error.
    const all = fullMask(value);
    return { label: all, screen: all };
  }
}

/** One profile's mask. Total: any input gives a string, an unknown profile or a failing custom function the full mask. */
export function maskValue(
  kind: ProtectedKind,
  value: string | VirtualNumber,
  profile: string,
  options: MaskOptions,
  ctx: MaskContext,
  parser?: PhoneParser,
): string {
  // Over the kind's length cap no mask or custom function sees the value: the placeholder, no work.
  if (tooLong(kind, value)) return PLACEHOLDER;
  // Without phone metadata a phone cannot be masked: a configuration error, not a full mask.
  if (parser === undefined && (kind === 'mobile' || kind === 'landline' || kind === 'phone') && isBuiltin(profile)) parser = phoneParser();
  try {
    if (isBuiltin(profile)) return maskBuiltin(kind, value, profile, options ?? {}, ctx ?? {}, parser);
    const custom = options?.custom;
    const fn = custom !== undefined && Object.hasOwn(custom, profile) ? custom[profile] : undefined;
    if (typeof fn === 'function') {
      const masked: unknown = fn(displayText(value), ctx ?? {});
      if (typeof masked === 'string') return masked;
    }
  } catch {
    // Masking must never fail a write or leak the value through an error: fall through to the full mask.
  }
  return fullMask(value);
}

/**
 * Validation before sealing: undefined when the value is fine, else a stable reason code
 * ('empty', 'already_masked', 'invalid_mobile', ...). Never includes the value.
 */
export function checkProtectedValue(kind: ProtectedKind, value: string | VirtualNumber, ctx: MaskContext, parser?: PhoneParser): string | undefined {
  const context = ctx ?? {};
  // First: nothing below (NFKC, parsers, patterns) runs on a value past the cap.
  if (tooLong(kind, value)) return 'too_long';
  if (kind === 'virtualNumber') {
    if (!isVirtualNumber(value)) return 'invalid_type';
    if (value.main.trim() === '' || value.ext.trim() === '') return 'empty';
    if (isMasked(value.main) || isMasked(value.ext)) return 'already_masked';
    return checkVirtualNumber(value);
  }
  if (typeof value !== 'string') return 'invalid_type';
  // A blank remark is a real value (it must round-trip); a blank name or phone is not.
  if (value.trim() === '') return kind === 'text' ? undefined : 'empty';
  // E-waybill issuers refuse masked data, and sealing a mask would lose the real value for good.
  // Free text may hold a `*` of its own ("易碎*轻放"): only a remark that is nothing but stars is a mask.
  if (kind === 'text' ? isMaskedText(value) : isMasked(value)) return 'already_masked';
  switch (kind) {
    case 'name':
      return checkName(value);
    case 'mobile':
      return checkMobile(value, context, parser);
    case 'landline':
      return checkLandline(value, context, parser);
    case 'phone':
      return checkPhone(value, context, parser);
    case 'idNumber':
      return checkIdNumber(value);
    case 'addressDetail':
      return checkAddressDetail(value);
    case 'email':
      return checkEmail(value);
    case 'text':
      return checkText(value);
    default:
      return 'unknown_kind';
  }
}

function maskBuiltin(
  kind: ProtectedKind,
  value: string | VirtualNumber,
  profile: MaskProfile,
  options: MaskOptions,
  ctx: MaskContext,
  parser: PhoneParser | undefined,
): string {
  if (kind === 'virtualNumber') return maskVirtualNumber(value, displayText(value));
  if (typeof value !== 'string') return fullMask(value);
  switch (kind) {
    case 'name':
      return maskName(value, profile, options);
    case 'mobile':
    case 'landline':
    case 'phone':
      return maskPhone(value, kind, profile, options, ctx, parser);
    case 'idNumber':
      return maskIdNumber(value, profile);
    case 'addressDetail':
      return maskAddressDetail(value, profile);
    case 'email':
      return maskEmail(value, profile);
    case 'text':
      return maskText();
    default:
      return fullMask(value);
  }
}

function isBuiltin(profile: string): profile is MaskProfile {
  return (BUILTIN_PROFILES as readonly string[]).includes(profile);
}

/** Past MAX_VALUE_LENGTH (a virtual number: either part); other types are left to the callers' checks. */
function tooLong(kind: ProtectedKind, value: unknown): boolean {
  const max = MAX_VALUE_LENGTH[kind];
  if (typeof value === 'string') return value.length > max;
  return isVirtualNumber(value) && (value.main.length > max || value.ext.length > max);
}

function isVirtualNumber(value: unknown): value is VirtualNumber {
  if (typeof value !== 'object' || value === null) return false;
  const { main, ext } = value as { main?: unknown; ext?: unknown };
  return typeof main === 'string' && typeof ext === 'string';
}

/** `*` (also full-width ＊ and other forms NFKC folds to it) anywhere: masked data, in every structured kind. */
function isMasked(value: string): boolean {
  return value.normalize('NFKC').includes('*');
}

/** Free text that is only stars and white space (the text placeholder, or a remark masked elsewhere). */
function isMaskedText(value: string): boolean {
  const t = value.normalize('NFKC');
  return t.includes('*') && t.replace(/[\s*]+/g, '') === '';
}

/** The string custom profiles and the full mask see; a virtual number reads `main转ext`. */
function displayText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (isVirtualNumber(value)) return `${value.main}转${value.ext}`;
  return '';
}

function fullMask(value: unknown): string {
  try {
    return maskAll(displayText(value));
  } catch {
    return PLACEHOLDER;
  }
}
