/**
 * Phone parsing with libphonenumber-js's `max` metadata (types: mobile, fixed line, toll free …).
 * Importing this module installs it as the default parser (phone-core.ts); `waybill-seal` and
 * `waybill-seal/phone` do, `waybill-seal/mask` does not.
 * @module
 */
import { isSupportedCountry, Metadata, parsePhoneNumberFromString, type PhoneNumberType } from 'libphonenumber-js/max';
import { createPhoneParser, installDefaultPhoneParser, type PhoneMetadata, type PhoneParser } from './phone-core.js';

export { parseVirtualNumber, virtualMain, virtualExt } from './phone-core.js';
export type { ParsedPhone, PhoneContext, PhoneType, VirtualNumberParts, PhoneMetadata, PhoneParser } from './phone-core.js';

/** The types libphonenumber's getNumberType tries after FIXED_LINE, in its order. */
const NON_FIXED_LINE_TYPES: readonly PhoneNumberType[] = ['MOBILE', 'PREMIUM_RATE', 'TOLL_FREE', 'SHARED_COST', 'VOIP', 'PERSONAL_NUMBER', 'PAGER', 'UAN', 'VOICEMAIL'];

/** The parts of libphonenumber's (untyped) metadata classes the shortcut reads. */
interface PlanType {
  pattern(): string;
  possibleLengths(): number[] | undefined;
}
interface Plan {
  selectNumberingPlan(country: string): void;
  getCountryCodesForCallingCode(code: string): string[] | undefined;
  hasTypes(): boolean;
  nationalNumberPattern(): string;
  nationalPrefixForParsing(): string | undefined;
  type(t: PhoneNumberType): PlanType | undefined;
}

/**
 * libphonenumber's getNumberType (helpers/getNumberType.js) for CN national numbers with the
 * metadata's regular expressions compiled once (libphonenumber compiles them on every call), for
 * inputs its parser takes unchanged: +86 is CN's only country and CN's national prefix pattern does
 * not match. Returns undefined where the metadata does not fit these assumptions.
 */
function mainlandTyper(): ((national: string) => PhoneNumberType | undefined | null) | undefined {
  const m = new Metadata() as unknown as Plan;
  const countries = m.getCountryCodesForCallingCode('86');
  if (countries?.length !== 1 || countries[0] !== 'CN') return undefined;
  m.selectNumberingPlan('CN');
  if (!m.hasTypes()) return undefined;
  const whole = (p: string) => new RegExp(`^(?:${p})$`);
  const npfp = m.nationalPrefixForParsing();
  const prefix = npfp ? new RegExp(`^(?:${npfp})`) : undefined;
  const general = whole(m.nationalNumberPattern());
  const compile = (t: PhoneNumberType) => {
    const def = m.type(t);
    if (!def || !def.pattern()) return undefined;
    return { pattern: whole(def.pattern()), lengths: def.possibleLengths() };
  };
  const fixed = compile('FIXED_LINE');
  const mobile = m.type('MOBILE');
  const mobileEmpty = mobile !== undefined && mobile.pattern() === '';
  const others = NON_FIXED_LINE_TYPES.map((t) => [t, compile(t)] as const);
  const is = (n: string, c: ReturnType<typeof compile>) => c !== undefined && (c.lengths === undefined || c.lengths.includes(n.length)) && c.pattern.test(n);
  return (n) => {
    // libphonenumber would strip a national prefix or carrier code here: not the shortcut's case.
    if (prefix?.test(n)) return null;
    if (!general.test(n)) return undefined;
    if (is(n, fixed)) {
      if (mobileEmpty || mobile === undefined) return 'FIXED_LINE_OR_MOBILE';
      return is(n, others[0]![1]) ? 'FIXED_LINE_OR_MOBILE' : 'FIXED_LINE';
    }
    for (const [t, c] of others) if (is(n, c)) return t;
    return undefined;
  };
}

/** The shortcut, if it agrees with libphonenumber on numbers across every 1xx prefix; else none. */
function checkedMainlandTyper(): PhoneMetadata['mainlandType'] {
  try {
    const typer = mainlandTyper();
    if (typer === undefined) return undefined;
    for (let p = 100; p < 200; p++) {
      for (const tail of ['00000000', '12345678', '99999999', '55501234']) {
        const n = `${p}${tail}`;
        const fast = typer(n);
        if (fast === null) continue;
        const parsed = parsePhoneNumberFromString(n, { defaultCountry: 'CN' });
        const slow = parsed?.nationalNumber === n && parsed.country === 'CN' ? parsed.getType() : null;
        if (slow === null || fast !== slow) return undefined;
      }
    }
    return typer;
  } catch {
    return undefined;
  }
}

/** libphonenumber-js with its `max` metadata, in the shape `usePhoneMetadata` takes. */
export const phoneMetadata: PhoneMetadata = (() => {
  const mainlandType = checkedMainlandTyper();
  return mainlandType === undefined ? { parsePhoneNumberFromString, isSupportedCountry } : { parsePhoneNumberFromString, isSupportedCountry, mainlandType };
})();

/**
 * Parses a phone number as it arrives on real orders (full-width digits, `+86`/`0086`/`86-`,
 * `(010)`, extensions written `转123`). Returns undefined for anything that is not a valid number:
 * callers must never guess.
 */
export const parsePhone: PhoneParser = createPhoneParser(phoneMetadata);

installDefaultPhoneParser(parsePhone);
