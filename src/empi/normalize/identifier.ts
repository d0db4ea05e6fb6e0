/**
 * Identity-document numbers: the resident ID (GB 11643, reusing src/standards) and passports / foreign permanent
 * resident cards (ICAO 9303 document numbers: letters and digits).
 */
import { isValidResidentId, normalizeResidentIdText, upgradeResidentId15 } from '../../standards/index.ts';

export interface NormalizedResidentId {
  /** 18 characters (15-digit numbers upgraded); kept even when the check character fails, for typo comparison. */
  id: string;
  valid: boolean;
}

/** Full-width digits, lowercase x, spaces and 15-digit numbers handled; anything not ID-shaped gives undefined. */
export function normalizeResidentId(raw: string | undefined | null): NormalizedResidentId | undefined {
  if (!raw) return undefined;
  const text = normalizeResidentIdText(raw.normalize('NFKC')).replace(/[-_]/g, '');
  if (/^\d{15}$/.test(text)) {
    const up = upgradeResidentId15(text);
    return up ? { id: up, valid: true } : undefined;
  }
  if (!/^\d{17}[\dX]$/.test(text)) return undefined;
  if (/^(\d)\1{16}/.test(text)) return undefined;
  return { id: text, valid: isValidResidentId(text) };
}

/** Passport / travel document number: upper-case letters and digits only, 5–20 characters. */
export function normalizePassport(raw: string | undefined | null): string | undefined {
  if (!raw) return undefined;
  const s = raw.normalize('NFKC').toUpperCase().replace(/[^A-Z0-9]/g, '');
  return s.length >= 5 && s.length <= 20 ? s : undefined;
}
