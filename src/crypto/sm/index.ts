/**
 * Chinese national (ShangMi) algorithms in pure TypeScript, written from the standards:
 * SM4 (GB/T 32907-2016), SM3 (GB/T 32905-2016), HMAC-SM3 and SM4-GCM (RFC 8998).
 *
 * Constant-time caveat: SM4 uses an S-box, implemented as table lookups indexed by secret data
 * (and noble's GHASH uses key-dependent tables). This is the same class of cache-timing caveat as
 * table-based AES, and OpenSSL's portable SM4 has it too. It is acceptable for server-side
 * at-rest encryption with per-scope data keys. There are no secret-dependent branches.
 * @module
 */
export { hmacSm3 } from './hmac-sm3.js';
export { sm3 } from './sm3.js';
export { sm4DecryptBlock, sm4EncryptBlock, sm4Expand } from './sm4.js';
export { type Sm4GcmCipher, sm4gcm } from './sm4gcm.js';
