/**
 * `waybill-seal/prisma`: a Prisma 7 client extension that seals on write, masks on read, serves
 * equality filters on token columns as audited searches, and opens only through the guard.
 * Prisma is not imported: pass `prismaSeal(options).extension` to your client's `$extends`.
 */
export { prismaSeal, OrmQueryError, type PrismaSeal, type PrismaSealOptions, type SealedModel } from './orm/prisma.js';
export { UnsupportedQueryError } from './errors.js';
