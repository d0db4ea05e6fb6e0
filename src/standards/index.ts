export {
  isValidResidentId,
  normalizeResidentIdText,
  parseResidentId,
  residentIdCheckChar,
  upgradeResidentId15,
  type ResidentIdFacts,
} from './gb11643.ts';
