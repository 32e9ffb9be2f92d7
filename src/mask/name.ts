import { graphemes, isLatinName, normalizeName } from '../normalize/name.js';
import { maskAll, stars, STAR } from './stars.js';
import type { MaskOptions, MaskProfile } from './types.js';

/** Long names still print in a fixed width: 欧阳娜娜 → 欧***, 阿沛·阿旺晋美 → 阿***. */
const MAX_NAME_STARS = 3;
const LETTER = /\p{L}/u;

export function maskName(value: string, profile: MaskProfile, options: MaskOptions): string {
  const name = normalizeName(value);
  return maskNormalized(value, name, name !== '' && isLatinName(name), profile, options);
}

/** Both built-in masks, the name normalised once: only a Latin name's label and screen masks differ. */
export function maskNameProfiles(value: string, options: MaskOptions): Record<MaskProfile, string> {
  const name = normalizeName(value);
  const latin = name !== '' && isLatinName(name);
  const label = maskNormalized(value, name, latin, 'label', options);
  return { label, screen: latin ? maskNormalized(value, name, latin, 'screen', options) : label };
}

function maskNormalized(value: string, name: string, latin: boolean, profile: MaskProfile, options: MaskOptions): string {
  if (name === '') return maskAll(value);
  if (latin) return maskLatinName(name, profile);
  // Spaces typed inside a Chinese name (张 三) are not characters of the name.
  const chars = graphemes(name).filter((g) => g.trim() !== '');
  return options.nameStyle === 'keepFirstLast' ? keepFirstLast(chars) : keepFirst(chars);
}

export function checkName(value: string): string | undefined {
  return normalizeName(value) === '' ? 'empty' : undefined;
}

function keepFirst(chars: readonly string[]): string {
  if (chars.length <= 1) return STAR;
  return chars[0] + stars(Math.min(chars.length - 1, MAX_NAME_STARS));
}

/** 王小四 → 王*四, 李四 → *四, 李 → *. */
function keepFirstLast(chars: readonly string[]): string {
  if (chars.length <= 1) return STAR;
  const last = chars[chars.length - 1] ?? '';
  if (chars.length === 2) return STAR + last;
  return chars[0] + stars(Math.min(chars.length - 2, MAX_NAME_STARS)) + last;
}

/**
 * label: first letter of the first word + `***` (John Smith → J***).
 * screen: each word keeps its first letter, its other letters are starred (J*** S****).
 * A name of a single letter, or one where the screen form would hide nothing (A B), is all `*`.
 */
function maskLatinName(name: string, profile: MaskProfile): string {
  const letters = graphemes(name).filter((g) => LETTER.test(g));
  if (letters.length <= 1) return STAR;
  const label = (letters[0] ?? '') + stars(MAX_NAME_STARS);
  if (profile === 'label') return label;
  const screen = name.split(' ').map(maskLatinWord).join(' ');
  return screen.includes(STAR) ? screen : label;
}

/** Keeps the word's first letter and its punctuation (O'Brien → O'*****, Mary-Jane → M***-****). */
function maskLatinWord(word: string): string {
  let seenLetter = false;
  return graphemes(word)
    .map((g) => {
      if (!LETTER.test(g)) return g;
      if (seenLetter) return STAR;
      seenLetter = true;
      return g;
    })
    .join('');
}
