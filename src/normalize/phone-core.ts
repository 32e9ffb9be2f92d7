/**
 * Phone parsing without phone metadata: the rules of this package (full-width digits, `+86`/`0086`,
 * extensions written `转123`, 95xxx service numbers) over a metadata provider injected at run time,
 * so that code which never parses a phone (label printing from stored masks, most search tokens)
 * can be bundled without libphonenumber's metadata. `waybill-seal` installs `libphonenumber-js/max`
 * (normalize/phone.ts); a bundle of `waybill-seal/mask` installs it with `waybill-seal/phone` when it
 * needs phones. Types only are imported from libphonenumber-js here: no metadata code.
 * @module
 */
import type { CountryCode, PhoneNumber, PhoneNumberType } from 'libphonenumber-js/core';
import { ConfigError } from '../errors.js';

/** The two functions of `libphonenumber-js` (any metadata set with types, e.g. `/max`) this package uses. */
export interface PhoneMetadata {
  parsePhoneNumberFromString(text: string, options?: { defaultCountry?: CountryCode }): PhoneNumber | undefined;
  isSupportedCountry(country: string): boolean;
  /**
   * Optional shortcut for the commonest input, an 11-digit mainland number starting with 1 (read as
   * CN): what `parsePhoneNumberFromString(…).getType()` would answer for it (undefined: not a valid
   * number), or null when the shortcut does not apply and the full parse must run. It must agree
   * with libphonenumber; normalize/phone.ts checks its own against libphonenumber before using it.
   */
  mainlandType?(nationalNumber: string): PhoneNumberType | undefined | null;
}

/** Parses one phone number the way masks, validation and search tokens read it (undefined: not a valid number). */
export type PhoneParser = (input: string, ctx?: PhoneContext) => ParsedPhone | undefined;

/**
 * What the country's numbering plan calls the number (libphonenumber's type with `max` metadata):
 * `mobile` (MOBILE), `landline` (FIXED_LINE), `mobileOrLandline` (FIXED_LINE_OR_MOBILE: plans whose
 * mobile and fixed ranges share numbers, e.g. the US and Canada), `service` (toll-free, shared-cost,
 * premium-rate, UAN: company numbers), `other` (VoIP, personal numbers, pagers, voicemail).
 */
export type PhoneType = 'mobile' | 'landline' | 'mobileOrLandline' | 'service' | 'other';

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
/** An 11-digit mainland number starting with 1, national or with +86: see `PhoneMetadata.mainlandType`. */
const MAINLAND_DIGITS = /^(?:\+86)?(1\d{10})$/;
/** E.164 allows 15 digits; leave room for a written `+` and short inputs like 95xxx. */
const DIGITS = /^\+?\d{3,17}$/;
const MAX_INPUT_LENGTH = 64;

const SERVICE_TYPES: ReadonlySet<PhoneNumberType> = new Set(['SHARED_COST', 'TOLL_FREE', 'PREMIUM_RATE', 'UAN']);

/**
 * Parses a phone number as it arrives on real orders (full-width digits, `+86`/`0086`/`86-`,
 * `(010)`, extensions written `转123`). Returns undefined for anything that is not a valid number:
 * callers must never guess.
 */
export function createPhoneParser(meta: PhoneMetadata): PhoneParser {
  return (input, ctx = {}) => parsePhoneWith(meta, input, ctx);
}

function parsePhoneWith(meta: PhoneMetadata, input: string, ctx: PhoneContext): ParsedPhone | undefined {
  // A raw value four times the cap cannot normalise into a phone number: refused before NFKC.
  if (typeof input !== 'string' || input.length > 4 * MAX_INPUT_LENGTH) return undefined;
  const text = input.normalize('NFKC').trim();
  if (text.length === 0 || text.length > MAX_INPUT_LENGTH) return undefined;

  const marked = EXTENSION.exec(text);
  if (marked) return parseMain(meta, text.slice(0, marked.index), marked[1], ctx);

  const whole = parseMain(meta, text, undefined, ctx);
  if (whole) return whole;

  const dashed = TRAILING_DASH_EXTENSION.exec(text);
  if (!dashed) return undefined;
  const remainder = parseMain(meta, text.slice(0, dashed.index), dashed[1], ctx);
  return remainder?.type === 'landline' ? remainder : undefined;
}

/**
 * A privacy number given as `{ main, ext }` or as one string (`12345678901-1234`, `13800138000转1234`).
 * The main number must be 11 digits (an optional +86/0086 is dropped), the extension 1–6 digits.
 */
export function parseVirtualNumber(value: unknown): VirtualNumberParts | undefined {
  if (typeof value === 'string') {
    if (value.length > MAX_INPUT_LENGTH) return undefined;
    const text = value.normalize('NFKC').trim();
    // No `\s*` after the lazy main part (quadratic on long runs of spaces): the gap stays in it and is trimmed.
    const split = /^(.+?)(?:转|分机号?|ext\.?|x|#|,|-)\s*(\d{1,6})$/i.exec(text);
    const main = split?.[1]?.trimEnd();
    if (!main || split?.[2] === undefined) return undefined;
    return parseVirtualNumber({ main, ext: split[2] });
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { main: rawMain, ext: rawExt } = value as { main?: unknown; ext?: unknown };
  const main = virtualMain(rawMain);
  const ext = virtualExt(rawExt);
  return main !== undefined && ext !== undefined ? { main, ext } : undefined;
}

/** The 11-digit main number of a privacy number, or undefined. */
export function virtualMain(main: unknown): string | undefined {
  if (typeof main !== 'string' || main.length > MAX_INPUT_LENGTH) return undefined;
  const compact = main.normalize('NFKC').replace(SEPARATORS, '');
  return /^(?:\+86|0086)?(\d{11})$/.exec(compact)?.[1];
}

/** The 1–6 digit extension of a privacy number, or undefined. */
export function virtualExt(ext: unknown): string | undefined {
  if (typeof ext !== 'string' || ext.length > MAX_INPUT_LENGTH) return undefined;
  const compact = ext.normalize('NFKC').trim();
  return /^\d{1,6}$/.test(compact) ? compact : undefined;
}

function parseMain(meta: PhoneMetadata, text: string, ext: string | undefined, ctx: PhoneContext): ParsedPhone | undefined {
  const compact = withPlus(text.trim(), text.replace(SEPARATORS, ''));
  if (!DIGITS.test(compact)) return undefined;

  const region = defaultRegion(meta, ctx);
  const short = CN_SHORT_SERVICE.exec(compact);
  if (short?.[1] && (compact.startsWith('+') || region === 'CN')) {
    return withExt({ e164: `+86${short[1]}`, countryCallingCode: '86', nationalNumber: short[1], type: 'service', country: 'CN' }, ext);
  }
  const mainland = meta.mainlandType === undefined ? undefined : MAINLAND_DIGITS.exec(compact);
  if (mainland?.[1] !== undefined && (compact.startsWith('+') || region === 'CN')) {
    const national = mainland[1];
    const type = meta.mainlandType!(national);
    if (type !== null) {
      if (type === undefined) return undefined;
      return withExt({ e164: `+86${national}`, countryCallingCode: '86', nationalNumber: national, type: classify(type), country: 'CN' }, ext);
    }
  }

  // Without a + and without a usable default region a number cannot be read: no guessing.
  if (!compact.startsWith('+') && region === undefined) return undefined;
  const phone = meta.parsePhoneNumberFromString(compact, region === undefined ? {} : { defaultCountry: region });
  if (!phone) return undefined;
  // With typed metadata a number is valid exactly when it has a type (libphonenumber's isValid is
  // `getNumberType(…) !== undefined` then), so getType() alone decides the common valid case.
  const type = phone.getType();
  if (type === undefined && !phone.isValid()) return undefined;
  return withExt(describe(phone, type), ext);
}

/** `0086…` and `86-…` are international prefixes written without `+`. */
function withPlus(original: string, compact: string): string {
  if (compact.startsWith('00')) return `+${compact.slice(2)}`;
  if (/^86[\s-]/.test(original)) return `+${compact}`;
  return compact;
}

function defaultRegion(meta: PhoneMetadata, ctx: PhoneContext): CountryCode | undefined {
  const country = (ctx.country ?? 'CN').toUpperCase();
  return meta.isSupportedCountry(country) ? (country as CountryCode) : undefined;
}

function describe(phone: PhoneNumber, phoneType: PhoneNumberType | undefined): ParsedPhone {
  const type = classify(phoneType);
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
  if (type === 'FIXED_LINE_OR_MOBILE') return 'mobileOrLandline';
  if (type !== undefined && SERVICE_TYPES.has(type)) return 'service';
  return 'other';
}

function withExt(parsed: ParsedPhone, ext: string | undefined): ParsedPhone {
  if (ext !== undefined) parsed.ext = ext;
  return parsed;
}

// ---- the installed metadata ----

let installed: PhoneParser | undefined;

/**
 * Installs the phone metadata masks, validation and search tokens parse with (`phoneMetadata` from
 * `waybill-seal/phone`, or a parser). `waybill-seal` installs it itself; `waybill-seal/mask` bundles
 * start without. `undefined` uninstalls it (phones then throw ConfigError).
 */
export function usePhoneMetadata(meta: PhoneMetadata | PhoneParser | undefined): void {
  installed = meta === undefined ? undefined : typeof meta === 'function' ? meta : createPhoneParser(meta);
}

/** Installs `parser` unless one is installed already (what importing the metadata module does). */
export function installDefaultPhoneParser(parser: PhoneParser): void {
  installed ??= parser;
}

/** The installed parser; ConfigError when no phone metadata was loaded. */
export function phoneParser(): PhoneParser {
  if (installed === undefined) {
    throw new ConfigError('phone numbers need phone metadata: import { phoneMetadata } from "waybill-seal/phone" and call usePhoneMetadata(phoneMetadata)');
  }
  return installed;
}

/** `parser`, or else the installed one: the lookup happens only when a phone is actually parsed. */
export const parsePhoneWithDefault = (parser: PhoneParser | undefined, input: string, ctx?: PhoneContext): ParsedPhone | undefined =>
  (parser ?? phoneParser())(input, ctx);

/**
 * A parser that remembers its answers for the lifetime of one operation (one record): a mobile is
 * validated, masked twice and tokenised two or three times, but parsed once. Holds at most 8 values.
 */
export function memoPhoneParser(base: PhoneParser): PhoneParser {
  const inputs: string[] = [];
  const countries: (string | undefined)[] = [];
  const results: (ParsedPhone | undefined)[] = [];
  return (input, ctx = {}) => {
    for (let i = 0; i < inputs.length; i++) if (inputs[i] === input && countries[i] === ctx.country) return results[i];
    const parsed = base(input, ctx);
    if (inputs.length < 8) {
      inputs.push(input);
      countries.push(ctx.country);
      results.push(parsed);
    }
    return parsed;
  };
}
