/**
 * `waybill-seal/sm`: the Chinese national (ShangMi) primitives the `sm4-gcm` suite is built from,
 * shaped like noble's. Pure TypeScript, no Node built-ins.
 *
 * - `sm4gcm(key, nonce, aad?)` → `{ encrypt(plaintext), decrypt(ciphertextWithTag) }` (RFC 8998;
 *   16-byte key, 12-byte nonce recommended, 16-byte tag appended; decrypt throws on a bad tag)
 * - `sm3(data)` → 32-byte digest (GB/T 32905-2016); `sm3.create()` for streaming
 * - `hmacSm3(key, data)` → 32-byte HMAC-SM3
 *
 * Timing: SM4 (GB/T 32907-2016) uses an S-box implemented as table lookups indexed by secret data,
 * and GHASH uses key-dependent tables, the same cache-timing caveat noble documents for its AES.
 * There are no secret-dependent branches. Fine for server-side at-rest encryption; do not use
 * where an attacker shares the CPU cache and can time many operations under one key.
 * @module
 */
export { hmacSm3, sm3, sm4gcm, type Sm4GcmCipher } from './crypto/sm/index.js';
