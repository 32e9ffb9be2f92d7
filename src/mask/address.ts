import { PLACEHOLDER, stars } from './stars.js';
import type { MaskProfile } from './types.js';

interface UnitRoomRule {
  /** What every match needs (its context word, the dash): a value without it cannot match, and the rule is skipped. */
  needs: RegExp;
  pattern: RegExp;
  mask: (match: string) => string;
}

/*
 * Linear time: every pattern's repetitions are bounded ({1,8}, \s{0,4}) and a number starts only
 * where no digit (numeral) stands before it, so each position of a value is looked at a bounded
 * number of times whatever its length (a `\d+` or `\s*` tried from every position of a long run is
 * quadratic). A number or gap longer than the bound is simply not recognised: the value then gets the
 * placeholder, or keeps that (implausible) part.
 */
/** A unit or room number: digits with an optional letter (A501, 501B), or Chinese numerals (二单元). */
const NUMBER = String.raw`(?:(?<!\d)[A-Za-z]?\d{1,8}[A-Za-z]?|(?<![零〇一二三四五六七八九十百])[零〇一二三四五六七八九十百]{1,8})`;

const starEach = (match: string): string => stars(Array.from(match).length);

/** 5-2-301 → 5-*-***: the first part is the building and stays. */
const starAfterBuilding = (match: string): string => {
  const [building = '', ...rest] = match.split('-');
  return [building, ...rest.map(starEach)].join('-');
};

/**
 * GB/T 41833 asks the label to hide the unit and room; the building (栋/幢/号楼), street and street
 * number stay so the parcel can still be sorted. Each rule matches only the number it hides (context
 * in lookarounds), one star per character; a starred number has no digit left, so later rules skip it.
 */
const UNIT_ROOM_RULES: readonly UnitRoomRule[] = [
  // building-unit-room or building-room; not a street-number range such as 1-3号.
  {
    needs: /-/,
    pattern: /(?<![\d-])\d{1,8}-[A-Za-z]?\d{1,8}[A-Za-z]?(?:-[A-Za-z]?\d{1,8}[A-Za-z]?)?(?![\d-]|号(?!房)|[栋幢楼层座弄巷])/g,
    mask: starAfterBuilding,
  },
  // 2单元, 二单元
  { needs: /单元/, pattern: new RegExp(String.raw`${NUMBER}(?=\s{0,4}单元)`, 'g'), mask: starEach },
  // 501室, 3户, 1801号房
  { needs: /室|户|号房/, pattern: new RegExp(String.raw`${NUMBER}(?=\s{0,4}(?:室|户|号房))`, 'g'), mask: starEach },
  // a room written straight after a floor, building or unit: 18楼1801, 3栋501, 2单元301, B座1203
  { needs: /(?:[楼层栋幢座]|单元)\s{0,4}[A-Za-z]?\d{3}/, pattern: /(?<=(?:楼|层|栋|幢|座|单元)\s{0,4})[A-Za-z]?\d{3,4}[A-Za-z]?(?![\d号栋幢楼层座单])/g, mask: starEach },
];

export function maskAddressDetail(value: string, profile: MaskProfile): string {
  if (profile === 'screen') return PLACEHOLDER;
  let found = false;
  let masked = value.normalize('NFKC');
  for (const rule of UNIT_ROOM_RULES) {
    // A replace scans the whole value even when it cannot match; the context test is much cheaper.
    if (!rule.needs.test(masked)) continue;
    masked = masked.replace(rule.pattern, (match) => {
      found = true;
      return rule.mask(match);
    });
  }
  // Without a recognisable unit or room there is no safe partial form.
  return found ? masked : PLACEHOLDER;
}

export function checkAddressDetail(value: string): string | undefined {
  return value.trim() === '' ? 'empty' : undefined;
}
