/**
 * ts-context `service`: what a back-end service has set up before the docs' fragments run (its keys,
 * key store, audit sink, quota store, access policy and guard, and a sealer made of them).
 */
import type { AccessGuard, AccessPolicy, AuditSink, ExportGrant, Keyring, KeyStore, QuotaStore, Sealer } from 'waybill-seal';

export declare const keyring: Keyring;
export declare const keyStore: KeyStore;
export declare const audit: AuditSink;
export declare const quotaStore: QuotaStore;
export declare const policy: AccessPolicy;
export declare const guard: AccessGuard;
export declare const sealer: Sealer;
/** Export grants from the approval workflow, by approval id. */
export declare const approvals: Map<string, ExportGrant>;
