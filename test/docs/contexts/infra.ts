/** ts-context `infra`: what the deployment provides (database, HSM PIN, secrets for an HSM keyring). */
import type pg from 'pg';
import type { Keyring } from 'waybill-seal';

export declare const connectionString: string;
export declare const pool: pg.Pool;
/** The HSM user PIN (from the environment or a secret manager). */
export declare const pin: string;
/** Blind-index, audit and integrity secrets for a keyring that holds KEKs only (HSM, Vault, KMS). */
export declare const secrets: Keyring;
