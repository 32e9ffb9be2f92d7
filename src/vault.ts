/** `waybill-seal/vault`: KEKs in HashiCorp Vault / OpenBao Transit (plain `fetch`, no SDK). */
export { VaultTransitKeyring, VaultError, type VaultTransitKeyringOptions } from './keyrings/vault.js';
