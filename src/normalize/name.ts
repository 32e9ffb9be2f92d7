/**
 * Middle-dot look-alikes found in ethnic-minority and foreign names (阿沛·阿旺晋美): bullet, Big5
 * hyphenation point, katakana and half-width katakana middle dots, full-width full stop, Greek ano
 * teleia, bullet/dot operators, word-separator middle dot. U+00B7 (GB 2312 0xA1A4) is the standard.
 */
const MIDDLE_DOT_LOOKALIKES = /[\u00B7\u0387\u2022\u2027\u2219\u22C5\u2E31\u30FB\uFF0E\uFF65]/g;
/**
 * An ASCII full stop between two Han characters is a middle dot typed on a Latin keyboard. Applied
 * after white space is collapsed, so ` ?` stands for any gap: a `\s*` tried from every position of
 * a long run of spaces would be quadratic.
 */
const HAN_FULL_STOP = /(?<=\p{Script=Han}) ?\. ?(?=\p{Script=Han})/gu;
const LATIN_NAME = /^[\p{Script=Latin}\p{M}' \u2019.-]+$/u;
const LATIN_LETTER = /\p{Script=Latin}/u;

/** NFKC, trimmed, inner whitespace collapsed, every middle-dot variant as U+00B7 without spaces around it. */
export function normalizeName(input: string): string {
  if (typeof input !== 'string') return '';
  // Mapped before NFKC too: NFKC turns U+FF0E into an ASCII full stop.
  return input
    .replace(MIDDLE_DOT_LOOKALIKES, '\u00B7')
    .normalize('NFKC')
    .replace(MIDDLE_DOT_LOOKALIKES, '\u00B7')
    .trim()
    .replace(/\s+/g, ' ')
    .replace(HAN_FULL_STOP, '\u00B7')
    .replace(/ ?\u00B7 ?/g, '\u00B7');
}

const segmenter = typeof Intl.Segmenter === 'function' ? new Intl.Segmenter(undefined, { granularity: 'grapheme' }) : undefined;

/**
 * Strings in which every code point is a grapheme of its own (UAX #29 GB999 only): printable ASCII,
 * the middle dot, CJK punctuation (not the tone marks U+302A–U+302F), CJK ideographs (BMP blocks,
 * compatibility ideographs, and plane 2 as surrogate pairs) and full-width ASCII. None of these has
 * a grapheme-break property other than Other, so no rule can join two of them; most names and
 * addresses on Chinese waybills are such strings. Anything else goes through Intl.Segmenter.
 */
const SIMPLE_GRAPHEMES = /^(?:[\x20-\x7e\u00b7\u3000-\u3029\u3030-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff01-\uff5e]|[\ud840-\ud87f][\udc00-\udfff])*$/;

/** User-perceived characters. CJK Extension B (𠮷) is a surrogate pair, so never UTF-16 units. */
export function graphemes(s: string): string[] {
  if (segmenter === undefined || SIMPLE_GRAPHEMES.test(s)) return Array.from(s);
  return Array.from(segmenter.segment(s), (part) => part.segment);
}

/** A (normalised) name written in Latin script: letters, accents, spaces, hyphens, apostrophes, full stops. */
export function isLatinName(name: string): boolean {
  return LATIN_NAME.test(name) && LATIN_LETTER.test(name);
}
