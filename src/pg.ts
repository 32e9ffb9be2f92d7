/** `waybill-seal/pg`: the key store on PostgreSQL (a `pg` Pool/Client, or PGlite). `pg` is an optional peer. */
export { PgKeyStore, type PgKeyStoreOptions, type SqlClient } from './stores/pg.js';
