export type IdNumberKind = 'resident18' | 'legacy15' | 'permit';

export interface ParsedIdNumber {
  /** Uppercase, no spaces: the form used for search tokens. */
  normalized: string;
  kind: IdNumberKind;
}

/** ISO 7064 MOD 11-2 as used by GB 11643-1999. */
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const CHECK_CHARS = '10X98765432';
/** HK, Macau and Taiwan residence permits carry these address codes and the same checksum. */
const PERMIT_PREFIX = /^8[123]0000/;

/**
 * Parses a mainland resident ID (18 characters), a legacy 15-digit ID or an HK/Macau/Taiwan
 * residence-permit number. Returns undefined when the format, birth date or checksum is wrong.
 */
export function parseIdNumber(input: string): ParsedIdNumber | undefined {
  // 18 characters plus spacing; a longer value is no ID number (and gets no further work).
  if (typeof input !== 'string' || input.length > 64) return undefined;
  const id = input.normalize('NFKC').replace(/\s+/g, '').toUpperCase();

  if (/^[1-9]\d{16}[\dX]$/.test(id)) {
    if (checkChar(id) !== id[17] || !isValidDate(id.slice(6, 14))) return undefined;
    return { normalized: id, kind: PERMIT_PREFIX.test(id) ? 'permit' : 'resident18' };
  }
  if (/^[1-9]\d{14}$/.test(id)) {
    // GB 11643-1989 numbers have a two-digit year, always 19xx, and no check character.
    if (!isValidDate(`19${id.slice(6, 12)}`)) return undefined;
    return { normalized: id, kind: 'legacy15' };
  }
  return undefined;
}

function checkChar(id: string): string {
  let sum = 0;
  WEIGHTS.forEach((weight, i) => {
    sum += weight * Number(id[i]);
  });
  return CHECK_CHARS.charAt(sum % 11);
}

/**
 * A real calendar date YYYYMMDD from 1800 on. There is deliberately no "not in the future" check:
 * that would make validation depend on the clock.
 */
function isValidDate(yyyymmdd: string): boolean {
  const year = Number(yyyymmdd.slice(0, 4));
  const month = Number(yyyymmdd.slice(4, 6));
  const day = Number(yyyymmdd.slice(6, 8));
  if (year < 1800 || month < 1 || month > 12 || day < 1) return false;
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}
