export interface ParsedEmail {
  local: string;
  domain: string;
}

const DOMAIN = /^[^\s@.]+(?:\.[^\s@.]+)+$/u;
const LOCAL = /^[^\s@]+$/u;

/** NFKC, trimmed, domain lowercased (the local part is case-sensitive by RFC 5321). */
export function normalizeEmail(input: string): string {
  if (typeof input !== 'string') return '';
  const email = input.normalize('NFKC').trim();
  const at = email.lastIndexOf('@');
  return at < 0 ? email : email.slice(0, at) + email.slice(at).toLowerCase();
}

/** A light check: exactly one @, a non-empty local part, a dotted domain, no whitespace. */
export function parseEmail(input: string): ParsedEmail | undefined {
  // RFC 5321's limits (64 + 1 + 253) with room for white space and NFKC: longer is not an address.
  if (typeof input !== 'string' || input.length > 1024) return undefined;
  const email = normalizeEmail(input);
  const parts = email.split('@');
  if (parts.length !== 2) return undefined;
  const [local = '', domain = ''] = parts;
  if (!LOCAL.test(local) || local.length > 64 || !DOMAIN.test(domain) || domain.length > 253) return undefined;
  return { local, domain };
}

export function isValidEmail(input: string): boolean {
  return parseEmail(input) !== undefined;
}
