/** Shared helpers: every masker builds its output from these so the star rules live in one place. */

export const STAR = '*';
/** What a value with nothing visible left to hide turns into. */
export const PLACEHOLDER = '****';
/** GB/T 41833: a label hides at least 6 digits of a phone number. */
export const LABEL_MIN_HIDDEN_DIGITS = 6;

/** Letters and digits, each with any combining marks that ride on it. */
const MASKABLE = /[\p{L}\p{N}]\p{M}*/gu;

export function stars(n: number): string {
  return STAR.repeat(Math.max(0, n));
}

/**
 * Stars every character of `s` but the last `keep`. When that would hide fewer than `minHidden`
 * characters (short numbers), everything is starred instead of revealing more.
 */
export function starAllButLast(s: string, keep: number, minHidden = 1): string {
  const chars = Array.from(s);
  const hidden = chars.length - keep;
  if (hidden < minHidden) return stars(chars.length);
  return stars(hidden) + chars.slice(hidden).join('');
}

/**
 * Every letter and digit starred, punctuation kept: the mask for values that cannot be parsed.
 * A value with no letter or digit becomes `****`, so a mask never repeats its plaintext.
 */
export function maskAll(value: string): string {
  const text = typeof value === 'string' ? value : '';
  const masked = text.replace(MASKABLE, STAR);
  return masked === text ? PLACEHOLDER : masked;
}
