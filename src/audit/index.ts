/**
 * Audit (issue 6): every read of personal data leaves a FHIR AuditEvent (IHE BALP), stored where the FHIR API
 * searches it, linked into a tamper-evident SM3 hash chain.
 */
export { ACT_REASON, canonicalJson, PLATFORM_ROLE_SYSTEM, toAuditEvent, USER_ID_SYSTEM, type AuditEntry } from './audit-event.ts';
export { AuditLog, auditLogFor, chainHash, GENESIS, HASH_ALGORITHM } from './audit-log.ts';
export { verifyAuditChain, type ChainCheck } from './verify.ts';
