export { parsePhone, parseVirtualNumber, virtualMain, virtualExt } from './phone.js';
export type { ParsedPhone, PhoneContext, PhoneType, VirtualNumberParts } from './phone.js';
export { parseIdNumber } from './id-number.js';
export type { IdNumberKind, ParsedIdNumber } from './id-number.js';
export { normalizeName, graphemes, isLatinName } from './name.js';
export { normalizeEmail, parseEmail, isValidEmail } from './email.js';
export type { ParsedEmail } from './email.js';
