import { graphemes } from '../normalize/name.js';
import { parseEmail } from '../normalize/email.js';
import { maskAll } from './stars.js';
import type { MaskProfile } from './types.js';

/** The domain stays readable (it names a provider, not a person); the local part is hidden. */
export function maskEmail(value: string, profile: MaskProfile): string {
  const email = parseEmail(value);
  if (email === undefined) return maskAll(value);
  const local = graphemes(email.local);
  // A one-character local part would be revealed whole: show it only when something stays hidden.
  const first = profile === 'screen' && local.length > 1 ? (local[0] ?? '') : '';
  return `${first}***@${email.domain}`;
}

export function checkEmail(value: string): string | undefined {
  return parseEmail(value) === undefined ? 'invalid_email' : undefined;
}
