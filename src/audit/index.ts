/**
 * Audit (issue 6): every read of personal data leaves a FHIR AuditEvent (IHE BALP), stored where the FHIR API
 * searches it, linked into a tamper-evident HMAC-SM3 chain sealed by SM2-signed checkpoints (issue 10).
 */
export { ACT_REASON, canonicalJson, PLATFORM_ROLE_SYSTEM, toAuditEvent, USER_ID_SYSTEM, type AuditEntry } from './audit-event.ts';
export { AuditLog, auditLogFor, DEFAULT_CHECKPOINT_EVENTS, DEFAULT_CHECKPOINT_SECONDS, type CheckpointPolicy } from './audit-log.ts';
export { chainHash, GENESIS, HASH_ALGORITHM, isKeyed, KEYED_GENESIS, KEYED_PREFIX, keyedLink } from './chain-link.ts';
export { checkpointFilePath, checkpointPayload, publicKeyFingerprint, readCheckpointFile, verifyCheckpoint, type Checkpoint, type CheckpointKind } from './checkpoint.ts';
export { verifyAudit, verifyAuditChain, type AuditVerification, type ChainCheck, type ChainFault, type ChainProblem, type VerifyOptions } from './verify.ts';
