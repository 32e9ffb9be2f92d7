/** `waybill-seal/pkcs11`: KEKs in a PKCS#11 token (HSM, SoftHSM2). Needs the optional peer `pkcs11js`. */
export { Pkcs11Keyring, type Pkcs11KeyringOptions, type Pkcs11KekInfo } from './keyrings/pkcs11.js';
