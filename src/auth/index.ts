// Authentication and the access hook: who is asking (tokens → Actor) and may they (policies).
export { ADMIN_CLIENT_ID, adminCredentialPath, loadOrCreateAdminCredential, readAdminCredential, type AdminCredential } from './admin-credential.ts';
export { authenticateAssertion, JWT_BEARER_ASSERTION } from './client-assertion.ts';
export { AuthError, authOutcome } from './errors.ts';
export {
  createInstitution,
  findInstitution,
  INSTITUTION_SCOPES,
  InstitutionError,
  listInstitutions,
  rotateClientSecret,
  type Institution,
  type NewInstitution,
} from './institutions.ts';
export { generateSigningKeys, loadOrCreateSigningKeys, type SigningKeys } from './keys.ts';
export { accessNeeds, authorize, defaultPolicies, scopePolicy, type AccessNeed, type AccessPolicy } from './policy.ts';
export { isPersonRole, OPERATOR_ROLES, PERSON_ROLES, ROLE_SCOPES, scopeAllows, type PersonRole } from './scopes.ts';
export { createAuthService, TOKEN_AUDIENCE, TOKEN_ISSUER, type AuthService, type PersonTokenRequest } from './service.ts';
export { signToken, verifyToken, type TokenClaims, type TokenResponse } from './tokens.ts';
