import {
  isSupportedCountry,
  parsePhoneNumberFromString,
  type CountryCode,
  type PhoneNumber,
  type PhoneNumberType,
} from 'libphonenumber-js/max';

export type PhoneType = 'mobile' | 'landline' | 'service' | 'other';

export interface PhoneContext {
  /** ISO 3166 alpha-2 region for numbers written without a country code; default 'CN'. */
  country?: string;
}

export interface ParsedPhone {
  e164: string;
  countryCallingCode: string;
  nationalNumber: string;
  ext?: string;
  type: PhoneType;
  country?: string;
  /** CN landlines only: area code with the trunk 0, e.g. '010', '0755'. */
  areaCode?: string;
  /** CN landlines only: the 7- or 8-digit local number. */
  subscriber?: string;
}

export interface VirtualNumberParts {
  main: string;
  ext: string;
}

/** Extension markers libphonenumber does not know (转, 分机) plus the ones it does; anchored at the end. */
const EXTENSION = /(?:转|分机号?|ext\.?|x|#|,)\s*(\d{1,6})$/i;
/** `021-12345678-8001`: only tried when the whole string is not a valid number. */
const TRAILING_DASH_EXTENSION = /-\s*(\d{1,6})$/;
/** Spaces, ASCII/Unicode dashes, dots, parentheses and brackets: pure formatting. */
const SEPARATORS = /[\s\-\u2010-\u2015\u2212.()[\]]/g;
/**
 * 95xxx short codes (95338 SF, 95311 ZTO, ...) are company numbers. libphonenumber-js ships no
 * short-number metadata, so this single pattern is the one thing it cannot classify for us.
 */
const CN_SHORT_SERVICE = /^(?:\+86)?(95\d{3})$/;
/** E.164 allows 15 digits; leave room for a written `+` and short inputs like 95xxx. */
const DIGITS = /^\+?\d{3,17}$/;
const MAX_INPUT_LENGTH = 64;

const SERVICE_TYPES: ReadonlySet<PhoneNumberType> = new Set(['SHARED_COST', 'TOLL_FREE', 'PREMIUM_RATE', 'UAN']);

/**
 * Parses a phone number as it arrives on real orders (full-width digits, `+86`/`0086`/`86-`,
 * `(010)`, extensions written `转123`). Returns undefined for anything that is not a valid number:
 * callers must never guess.
 */
export function parsePhone(input: string, ctx: PhoneContext = {}): ParsedPhone | undefined {
  if (typeof input !== 'string') return undefined;
  const text = input.normalize('NFKC').trim();
  if (text.length === 0 || text.length > MAX_INPUT_LENGTH) return undefined;

  const marked = EXTENSION.exec(text);
  if (marked) return parseMain(text.slice(0, marked.index), marked[1], ctx);

  const whole = parseMain(text, undefined, ctx);
  if (whole) return whole;

  const dashed = TRAILING_DASH_EXTENSION.exec(text);
  if (!dashed) return undefined;
  const remainder = parseMain(text.slice(0, dashed.index), dashed[1], ctx);
  return remainder?.type === 'landline' ? remainder : undefined;
}

/**
 * A privacy number given as `{ main, ext }` or as one string (`12345678901-1234`, `13800138000转1234`).
 * The main number must be 11 digits (an optional +86/0086 is dropped), the extension 1–6 digits.
 */
export function parseVirtualNumber(value: unknown): VirtualNumberParts | undefined {
  if (typeof value === 'string') {
    const text = value.normalize('NFKC').trim();
    const split = /^(.+?)\s*(?:转|分机号?|ext\.?|x|#|,|-)\s*(\d{1,6})$/i.exec(text);
    if (!split?.[1] || split[2] === undefined) return undefined;
    return parseVirtualNumber({ main: split[1], ext: split[2] });
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { main: rawMain, ext: rawExt } = value as { main?: unknown; ext?: unknown };
  const main = virtualMain(rawMain);
  const ext = virtualExt(rawExt);
  return main !== undefined && ext !== undefined ? { main, ext } : undefined;
}

/** The 11-digit main number of a privacy number, or undefined. */
export function virtualMain(main: unknown): string | undefined {
  if (typeof main !== 'string') return undefined;
  const compact = main.normalize('NFKC').replace(SEPARATORS, '');
  return /^(?:\+86|0086)?(\d{11})$/.exec(compact)?.[1];
}

/** The 1–6 digit extension of a privacy number, or undefined. */
export function virtualExt(ext: unknown): string | undefined {
  if (typeof ext !== 'string') return undefined;
  const compact = ext.normalize('NFKC').trim();
  return /^\d{1,6}$/.test(compact) ? compact : undefined;
}

function parseMain(text: string, ext: string | undefined, ctx: PhoneContext): ParsedPhone | undefined {
  const compact = withPlus(text.trim(), text.replace(SEPARATORS, ''));
  if (!DIGITS.test(compact)) return undefined;

  const region = defaultRegion(ctx);
  const short = CN_SHORT_SERVICE.exec(compact);
  if (short?.[1] && (compact.startsWith('+') || region === 'CN')) {
    return withExt({ e164: `+86${short[1]}`, countryCallingCode: '86', nationalNumber: short[1], type: 'service', country: 'CN' }, ext);
  }

  // Without a + and without a usable default region a number cannot be read: no guessing.
  if (!compact.startsWith('+') && region === undefined) return undefined;
  const phone = parsePhoneNumberFromString(compact, region === undefined ? {} : { defaultCountry: region });
  if (!phone?.isValid()) return undefined;
  return withExt(describe(phone), ext);
}

/** `0086…` and `86-…` are international prefixes written without `+`. */
function withPlus(original: string, compact: string): string {
  if (compact.startsWith('00')) return `+${compact.slice(2)}`;
  if (/^86[\s-]/.test(original)) return `+${compact}`;
  return compact;
}

function defaultRegion(ctx: PhoneContext): CountryCode | undefined {
  const country = (ctx.country ?? 'CN').toUpperCase();
  return isSupportedCountry(country) ? country : undefined;
}

function describe(phone: PhoneNumber): ParsedPhone {
  const type = classify(phone.getType());
  const parsed: ParsedPhone = {
    e164: phone.number,
    countryCallingCode: phone.countryCallingCode,
    nationalNumber: phone.nationalNumber,
    type,
  };
  if (phone.country !== undefined) parsed.country = phone.country;
  if (type === 'landline' && phone.countryCallingCode === '86') {
    // The national format groups "0755 8888 8888" / "0310 234 5678": the first group is the
    // area code as libphonenumber's metadata knows it, so no area-code table lives here.
    const [areaCode, ...rest] = phone.formatNational().split(' ');
    if (areaCode?.startsWith('0') && rest.length > 0) {
      parsed.areaCode = areaCode;
      parsed.subscriber = rest.join('');
    }
  }
  return parsed;
}

function classify(type: PhoneNumberType | undefined): PhoneType {
  if (type === 'MOBILE') return 'mobile';
  if (type === 'FIXED_LINE') return 'landline';
  if (type !== undefined && SERVICE_TYPES.has(type)) return 'service';
  return 'other';
}

function withExt(parsed: ParsedPhone, ext: string | undefined): ParsedPhone {
  if (ext !== undefined) parsed.ext = ext;
  return parsed;
}
