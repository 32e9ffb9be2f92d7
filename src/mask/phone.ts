import type { VirtualNumber } from '../schema/kinds.js';
import { parsePhoneWithDefault, parseVirtualNumber, virtualExt, virtualMain, type ParsedPhone, type PhoneParser } from '../normalize/phone-core.js';
import { LABEL_MIN_HIDDEN_DIGITS, maskAll, starAllButLast, stars } from './stars.js';
import type { MaskContext, MaskOptions, MaskProfile } from './types.js';

const MAINLAND = '86';

/**
 * The phone kinds share one masker: the parsed type, not the field, decides the format. A company
 * number is shown in full in the landline and phone fields; in the mobile field it is invalid data
 * and, like any unparseable value, fully masked.
 */
export function maskPhone(
  value: string,
  field: 'mobile' | 'landline' | 'phone',
  profile: MaskProfile,
  options: MaskOptions,
  ctx: MaskContext,
  parser?: PhoneParser,
): string {
  const phone = parsePhoneWithDefault(parser, value, ctx);
  if (phone === undefined || (field === 'mobile' && phone.type === 'service')) return maskAll(value);
  const ext = phone.ext === undefined ? '' : `转${phone.ext}`;
  return maskNumber(phone, profile, options) + ext;
}

/** A privacy number is what the label is meant to print instead of the real one, so it is shown in full. */
export function maskVirtualNumber(value: unknown, fallback: string): string {
  const parts = parseVirtualNumber(value);
  return parts === undefined ? maskAll(fallback) : `${parts.main}转${parts.ext}`;
}

/**
 * One rule in every country: what the numbering plan calls mobile. Where the plan cannot tell a
 * mobile from a fixed line (US, Canada: FIXED_LINE_OR_MOBILE) the number is accepted, or no mobile
 * there could be entered; a fixed line the plan recognises (`021-12345678`, `020 7946 0000`) is not.
 */
export function checkMobile(value: string, ctx: MaskContext, parser?: PhoneParser): string | undefined {
  const type = parsePhoneWithDefault(parser, value, ctx)?.type;
  return type === 'mobile' || type === 'mobileOrLandline' ? undefined : 'invalid_mobile';
}

/** Any valid number the plan does not call mobile: fixed lines, company numbers, VoIP and the like. */
export function checkLandline(value: string, ctx: MaskContext, parser?: PhoneParser): string | undefined {
  const type = parsePhoneWithDefault(parser, value, ctx)?.type;
  return type === undefined || type === 'mobile' ? 'invalid_landline' : undefined;
}

/** Any number valid in its country's plan, of any type (mobile, fixed line, company, VoIP …). */
export function checkPhone(value: string, ctx: MaskContext, parser?: PhoneParser): string | undefined {
  return parsePhoneWithDefault(parser, value, ctx) === undefined ? 'invalid_phone' : undefined;
}

export function checkVirtualNumber(value: VirtualNumber): string | undefined {
  if (virtualMain(value.main) === undefined) return 'invalid_virtual_main';
  if (virtualExt(value.ext) === undefined) return 'invalid_virtual_ext';
  return undefined;
}

function maskNumber(phone: ParsedPhone, profile: MaskProfile, options: MaskOptions): string {
  const national = phone.nationalNumber;
  const label = profile === 'label';
  const minHidden = label ? LABEL_MIN_HIDDEN_DIGITS : 1;

  // Company numbers (400, 800, 95xxx) are not personal data and must stay dialable.
  if (phone.type === 'service') {
    return phone.countryCallingCode === MAINLAND ? national : `+${phone.countryCallingCode} ${national}`;
  }
  if (phone.countryCallingCode !== MAINLAND) {
    return `+${phone.countryCallingCode} ${starAllButLast(national, label ? 2 : 4, minHidden)}`;
  }
  if (phone.type === 'mobile') return maskMobile(national, profile, options);
  if (phone.areaCode !== undefined && phone.subscriber !== undefined) {
    return `${phone.areaCode}-${starAllButLast(phone.subscriber, label ? 2 : 4, minHidden)}`;
  }
  return starAllButLast(national, label ? 2 : 4, minHidden);
}

/** label keeps the last 4 for pickup codes (7 hidden) or 3+2 (6 hidden); screen is the familiar 3+4. */
function maskMobile(national: string, profile: MaskProfile, options: MaskOptions): string {
  if (profile === 'screen') return national.slice(0, 3) + stars(national.length - 7) + national.slice(-4);
  if (options.mobileLabel === 'first3last2') return national.slice(0, 3) + stars(national.length - 5) + national.slice(-2);
  return starAllButLast(national, 4, LABEL_MIN_HIDDEN_DIGITS);
}
