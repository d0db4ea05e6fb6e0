/**
 * GB 11643-1999 citizen identity number (公民身份号码): 6-digit region code (GB/T 2260), 8-digit birth date,
 * 3-digit sequence (odd = male, even = female), and an ISO 7064 MOD 11-2 check character.
 */
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = '10X98765432';

/** ISO 7064 MOD 11-2 check character for the first 17 digits. */
export function residentIdCheckChar(first17: string): string {
  if (!/^\d{17}$/.test(first17)) throw new Error('need 17 digits');
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += (first17.charCodeAt(i) - 48) * WEIGHTS[i];
  return CHECK[sum % 11];
}

/** Full-width digits and letters (０-９, Ｘ, ｘ) to ASCII, spaces removed, lowercase x upper-cased. */
export function normalizeResidentIdText(raw: string): string {
  return raw
    .replace(/[\uFF10-\uFF19\uFF38\uFF58]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/\s+/g, '')
    .toUpperCase();
}

/** True when `id` is 18 characters with a valid date and a correct check character. */
export function isValidResidentId(id: string): boolean {
  if (!/^\d{17}[\dX]$/.test(id)) return false;
  if (!isValidDate(id.slice(6, 14))) return false;
  return residentIdCheckChar(id.slice(0, 17)) === id[17];
}

/** Upgrades an old 15-digit number (6 region + 6 birth YYMMDD + 3 sequence, all 19xx) to 18 digits. */
export function upgradeResidentId15(id15: string): string | undefined {
  if (!/^\d{15}$/.test(id15)) return undefined;
  const first17 = id15.slice(0, 6) + '19' + id15.slice(6);
  if (!isValidDate(first17.slice(6, 14))) return undefined;
  return first17 + residentIdCheckChar(first17);
}

export interface ResidentIdFacts {
  id: string;
  regionCode: string;
  birthDate: string; // YYYY-MM-DD
  sex: 'male' | 'female';
}

/** Normalises and validates; returns the 18-digit id with its facts, or undefined when it is not a valid number. */
export function parseResidentId(raw: string): ResidentIdFacts | undefined {
  const text = normalizeResidentIdText(raw);
  const id = text.length === 15 ? upgradeResidentId15(text) : text;
  if (!id || !isValidResidentId(id)) return undefined;
  const d = id.slice(6, 14);
  return {
    id,
    regionCode: id.slice(0, 6),
    birthDate: `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}`,
    sex: Number(id[16]) % 2 === 1 ? 'male' : 'female',
  };
}

function isValidDate(yyyymmdd: string): boolean {
  const y = Number(yyyymmdd.slice(0, 4));
  const m = Number(yyyymmdd.slice(4, 6));
  const d = Number(yyyymmdd.slice(6, 8));
  if (y < 1880 || m < 1 || m > 12 || d < 1) return false;
  const dt = new Date(Date.UTC(y, m - 1, d));
  return dt.getUTCMonth() === m - 1 && dt.getUTCDate() === d;
}
