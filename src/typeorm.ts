/**
 * `waybill-seal/typeorm`: TypeORM 1.x integration. A subscriber that seals the sealed column on every
 * insert and update, and repository reads that mask, serve equality on token columns as audited
 * searches, and open only through the guard. `typeorm` is an optional peer.
 */
export { typeormSeal, type SealedRepository, type TypeormSeal, type TypeormSealOptions, type SealedModel } from './orm/typeorm.js';
export { UnsupportedQueryError } from './errors.js';
