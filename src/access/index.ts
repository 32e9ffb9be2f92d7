/** Access control: policies, quotas, audit, redacted values, crypto-shredding (pure, no Node built-ins). */
export { Redacted, REDACTED } from './redacted.js';
export {
  parsePolicy,
  checkPolicy,
  definePolicy,
  POLICY_FORMAT,
  type AccessPolicy,
  type PurposeRule,
  type PolicyPath,
  type ScopeMatch,
  type QuotaRule,
  DEFAULT_SEARCH_QUOTAS,
} from './policy.js';
export { waybillPolicy } from './waybill-policy.js';
export { MemoryQuotaStore, type QuotaStore, type QuotaCounter, type QuotaOutcome, type QuotaState } from './quota.js';
export {
  MemoryAuditSink,
  AuditChain,
  AuditVerifier,
  verifyAuditLog,
  parseAuditLine,
  checkAuditLine,
  auditKey,
  deriveAuditKey,
  GENESIS,
  type AuditSink,
  type AuditEvent,
  type AccessEvent,
  type AlertEvent,
  type ShredEvent,
  type RetireEvent,
  type AccessOutcome,
  type SearchEvent,
  type SearchOutcome,
  type Withheld,
  type ChainHead,
  type AuditLine,
  type AuditVerification,
  type AuditFailureReason,
  type VerifyOptions,
} from './audit.js';
export {
  MemoryCheckpointSink,
  signCheckpoint,
  checkCheckpoint,
  checkpointLine,
  deriveCheckpointKey,
  newestCheckpoint,
  CHECKPOINT_VERSION,
  type AuditCheckpoint,
  type CheckpointSink,
  type CheckpointSelection,
} from './checkpoint.js';
export { createAccessGuard, type AccessGuard, type AccessGuardOptions, type ExportGrant, type GrantLookup, type ScopeCondition, type SearchAuthorization } from './guard.js';
export { shred, shredBefore, shredRetiredIndexKeys, retentionCutoff, type Retention, type ShredOptions, type ShredBeforeOptions, type ShredReport, type ShredRetiredOptions, type ReindexProgress } from './shred.js';
