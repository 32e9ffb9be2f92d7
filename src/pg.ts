/**
 * `waybill-seal/pg`: the key store, quota counters and audit chain on PostgreSQL, shared by every
 * instance (a `pg` Pool/Client, or PGlite). `pg` is an optional peer.
 */
export { PgKeyStore, type PgKeyStoreOptions } from './stores/pg.js';
export { PgQuotaStore, type PgQuotaStoreOptions } from './stores/pg-quota.js';
export { PgAuditSink, PgCheckpointSink, type PgAuditSinkOptions } from './stores/pg-audit.js';
export type { SqlClient } from './stores/sql.js';
export {
  planMigration,
  runMigrationWorker,
  migrationStatus,
  sealRows,
  resealRows,
  type RowTransform,
  type MigrationPlanOptions,
  type MigrationWorkerOptions,
  type MigrationStatus,
  type ChunkStatus,
} from './stores/pg-migrate.js';
