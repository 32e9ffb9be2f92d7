import { parseIdNumber } from '../normalize/id-number.js';
import { maskAll, stars } from './stars.js';
import type { MaskProfile } from './types.js';

/** Never on the label (every character starred); the screen keeps the first and last character. */
export function maskIdNumber(value: string, profile: MaskProfile): string {
  const id = parseIdNumber(value);
  if (id === undefined) return maskAll(value);
  const chars = id.normalized;
  if (profile === 'label') return stars(chars.length);
  return chars.charAt(0) + stars(chars.length - 2) + chars.charAt(chars.length - 1);
}

export function checkIdNumber(value: string): string | undefined {
  return parseIdNumber(value) === undefined ? 'invalid_id_number' : undefined;
}
