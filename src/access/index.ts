/**
 * Access rules (issue 6): who may open a person's identified record and why — care relationships, resident
 * authorizations (Consent), break-the-glass, self-access — decided in the domain, plus identifier masking.
 */
export { accessOutcome, decideRecordAccess, DEFAULT_ACCESS_OPTIONS, type AccessAsk, type AccessDecision, type AccessOptions, type DenialCode } from './decide.ts';
export { decide, mayModify, roleOf, tooBroad, USER_MAX_COUNT, type AccessQuestion, type Denial, type Grant, type RequestDecision, type RequestDenialCode } from './decide-request.ts';
export { personOfKey, personsOfKeys, resolvePerson, residentPersonId, type PersonKeys } from './identity.ts';
export { relationshipsOf, type Relationships } from './relationship.ts';
export { consentResource, grantConsent, listConsents, revokeConsent, type ConsentGrant } from './consent.ts';
export { maskHealthCard, maskPatient, maskPhone, maskResidentId } from './mask.ts';
export {
  decideIdentityOperation, identityOutcome, identityRole, type IdentityDecision, type IdentityDenialCode, type IdentityOperation, type IdentityOutput,
} from './identity-operations.ts';
