/**
 * Commercial cryptography at rest (密评, GB/T 39786-2021): the key ring in the data directory, SM4 field encryption,
 * HMAC-SM3 blind indexes, sealed bytes, the audit key and SM2 signatures. A low module: the store attaches one
 * `FieldCrypto` to every open database (`db.crypto`), so every module that reads or writes protected values has it.
 */
export { BLIND_PREFIX, CIPHER_PREFIX, FieldCrypto, isCiphertext, isSealed, verifySm2, type BlindKind } from './field-crypto.ts';
export { generateKeyRing, KEY_FILE, keyFilePath, loadOrCreateKeyRing, retireFieldKeys, rotateFieldKey, type FieldKey, type KeyRing } from './keyring.ts';
