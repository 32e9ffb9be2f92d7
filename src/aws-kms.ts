/** `waybill-seal/aws-kms`: KEKs in AWS KMS. Needs the optional peer `@aws-sdk/client-kms`. */
export { AwsKmsKeyring, encryptionContext, type AwsKmsKeyringOptions, type KmsClientLike } from './keyrings/aws-kms.js';
