/**
 * EMPI — master patient index (全员人口信息): which institution-level Patients are one person.
 *
 * Identifier formats:
 * - person id: `P` + 10 digits (sequence), e.g. P0000000042.
 * - electronic health card number (电子健康卡号): `HC` + 6-digit GB/T 2260 issuing region (the resident ID's region
 *   when known, else 000000) + 11-digit sequence + ISO 7064 MOD 11-2 check character over those 17 digits (the same
 *   check as GB 11643), 20 characters, e.g. HC3305230000000004217 — one per golden person, never reused.
 */
export { featuresOf, RESIDENT_ID_SYSTEM, HEALTH_CARD_SYSTEM, PERSON_ID_SYSTEM, type MatchInput, type RecordFeatures } from './features.ts';
export { matchIncoming, matchFeatures, type MatchOptions, type MatchResult } from './match-incoming.ts';
export { loadModel } from './model-store.ts';
export { matchCandidates, pixLookup, pixParameters, pdqSearch, goldenPatient, type MatchCandidate, type PixResult, type PdqParams } from './pix-pdq.ts';
export { registerEmpiOperations } from './fhir-operations.ts';
export { guardIdentity, type Disclosed, type IdentityCaller, type IdentityResult } from './identity-guard.ts';
export { FULL_VIEW, goldenPatientResource, viewPix, type IdentityView } from './identity-output.ts';
export { decideReviewItem, mergeInto, personDetail, reviewDetail, reviewQueue, undoMerge } from './stewardship.ts';
export { EmpiError } from './errors.ts';
export { batchDedupe, type BatchResult } from './batch-dedupe.ts';
export { stageRecords } from './stage.ts';
export { cryptoOf, openGolden } from './protect.ts';
export { protectLegacyEmpiRows } from './protect-legacy.ts';
export { trainModel, type TrainResult } from './train.ts';
export { patientKeysOfPerson, personOfPatient, getPerson, type PersonView } from './registry.ts';
export { mergePersons, unmergePersons, mergeByA40, applyPatientLinks, personHistory } from './merge.ts';
export { listReviews, getReview, decideReview, labelledPairs, type ReviewItem } from './review.ts';
export { evaluate, evaluateAgainst, type Evaluation } from './evaluate.ts';
export { truthFromCsv, loadTruth } from './truth.ts';
export { DEFAULT_THRESHOLDS, type Thresholds } from './decision.ts';
export { normalizeName, type NormalizedName } from './normalize/name.ts';
export { normalizePhone } from './normalize/phone.ts';
export { normalizeBirthDate } from './normalize/date.ts';
export { normalizeSex } from './normalize/sex.ts';
export { normalizeAddress } from './normalize/address.ts';
export { normalizeResidentId, normalizePassport } from './normalize/identifier.ts';
