import { SYSTEMS } from './systems.ts';
import { toUcum } from './units.ts';

/**
 * The standard code systems the platform knows (issue 17): a coding in one of them is a standard code, stored as
 * sent even when the loaded tables lack it — only codes of local systems need a map. Each system comes with the
 * syntax check its publisher defines, so that a mistyped code is told apart from a code that is merely outside the
 * shipped subset. URIs are the HL7-registered ones (https://terminology.hl7.org/external_terminologies.html).
 */
export const STANDARD_URIS = {
  snomed: 'http://snomed.info/sct',
  icd10who: 'http://hl7.org/fhir/sid/icd-10',
  icd10cm: 'http://hl7.org/fhir/sid/icd-10-cm',
  rxnorm: 'http://www.nlm.nih.gov/research/umls/rxnorm',
} as const;

/** How a standard system's codes are checked: a closed table (every valid code is shipped) or a syntax rule. */
interface StandardSystem {
  name: string;
  /** Undefined: valid. Otherwise why the code cannot be one of this system. */
  check(code: string): string | undefined;
  /** Every valid code is in the shipped tables (GB/T code sets, the national vaccine list): "not in the table" = invalid. */
  closed?: boolean;
}

const ICD10 = /^[A-Z]\d[0-9A-Z](\.[0-9A-Z]{1,4})?$/;
// ICD-10 国家临床版 2.0 extends WHO codes with an x-suffix (I10.x00, E11.900, E66.900x001) and may carry †/* marks.
const ICD10CN = /^[A-Z]\d[0-9A-Z](\.[0-9A-Zx]{1,4}(x\d{3})?)?[†*+]?$/;
// ICD-9-CM-3 国家临床版 3.0: 2 digits, up to 2 decimals, optional x-extension (36.0700x001).
const ICD9CM3 = /^\d{2}(\.\d{1,2}(x\d{3})?)?$/;
const ATC = /^[A-Z](\d{2}([A-Z]([A-Z](\d{2})?)?)?)?$/;

const syntax = (re: RegExp, what: string) => (code: string) => (re.test(code) ? undefined : `not ${what}`);

const SYSTEM_LIST: Array<[string, StandardSystem]> = [
  [SYSTEMS.loinc, { name: 'LOINC', check: checkLoinc }],
  [STANDARD_URIS.snomed, { name: 'SNOMED CT', check: checkSnomed }],
  [STANDARD_URIS.icd10who, { name: 'ICD-10', check: syntax(ICD10, 'an ICD-10 code (letter, 2 characters, optional .1–4)') }],
  [STANDARD_URIS.icd10cm, { name: 'ICD-10-CM', check: syntax(ICD10, 'an ICD-10-CM code (letter, 2 characters, optional .1–4)') }],
  [SYSTEMS.icd10, { name: 'ICD-10-CN', check: syntax(ICD10CN, 'an ICD-10 国家临床版 code') }],
  [SYSTEMS.icd9cm3, { name: 'ICD-9-CM-3', check: syntax(ICD9CM3, 'an ICD-9-CM-3 code (NN[.N[N]][xNNN])') }],
  [STANDARD_URIS.rxnorm, { name: 'RxNorm', check: syntax(/^[1-9]\d{0,8}$/, 'an RxNorm RXCUI (digits)') }],
  [SYSTEMS.atc, { name: 'ATC', check: syntax(ATC, 'an ATC code (A, A01, A01B, A01BC, A01BC01)') }],
  [SYSTEMS.cvx, { name: 'CVX', check: syntax(/^\d{1,3}$/, 'a CVX code (1–3 digits)') }],
  [SYSTEMS.ucum, { name: 'UCUM', check: (c) => (toUcum(c) === c ? undefined : 'not a valid UCUM unit') }],
  [SYSTEMS.sex, { name: 'GB/T 2261.1', check: () => undefined, closed: true }],
  [SYSTEMS.marital, { name: 'GB/T 2261.2', check: () => undefined, closed: true }],
  [SYSTEMS.division, { name: 'GB/T 2260', check: syntax(/^\d{6}$/, 'a 6-digit GB/T 2260 division') }],
  [SYSTEMS.vaccine, { name: '国家免疫规划疫苗', check: () => undefined, closed: true }],
];
const BY_URI = new Map(SYSTEM_LIST);

/** The standard system of a URI, or undefined for a local (institution's own) system. */
export function standardSystem(uri: string | undefined): StandardSystem | undefined {
  if (!uri) return undefined;
  return BY_URI.get(uri) ?? (uri.startsWith(SYSTEMS.bphsPrefix) ? { name: uri.slice(SYSTEMS.bphsPrefix.length), check: () => undefined, closed: true } : undefined);
}

/** True when the URI names a standard code system (see STANDARD_URIS / SYSTEMS). */
export function isStandardSystem(uri: string | undefined): boolean {
  return standardSystem(uri) !== undefined;
}

/**
 * LOINC code syntax: up to 7 digits, a hyphen and the Mod 10 check digit (https://loinc.org/kb/users-guide/ —
 * "Calculating Mod 10 check digits"), which is Luhn's: every second digit from the right doubled, the digits summed.
 */
export function checkLoinc(code: string): string | undefined {
  const m = /^(\d{1,7})-(\d)$/.exec(code);
  if (!m) return 'not a LOINC code (digits, hyphen, check digit)';
  const expected = luhnCheckDigit(m[1]);
  return expected === Number(m[2]) ? undefined : `LOINC check digit is ${expected}, not ${m[2]}`;
}

function luhnCheckDigit(digits: string): number {
  let sum = 0;
  for (let i = digits.length - 1, double = true; i >= 0; i--, double = !double) {
    let d = Number(digits[i]) * (double ? 2 : 1);
    if (d > 9) d -= 9;
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

// Verhoeff's dihedral-group tables (SNOMED CT Technical Implementation Guide, "Check-digit computation").
const D = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5], [2, 3, 4, 0, 1, 7, 8, 9, 5, 6], [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
  [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1], [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
  [8, 7, 6, 5, 9, 3, 2, 1, 0, 4], [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
const P = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4], [5, 8, 0, 3, 7, 9, 6, 1, 4, 2], [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
  [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1], [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];

/** True when the digits (check digit last) pass Verhoeff's check. */
export function verhoeffValid(digits: string): boolean {
  let c = 0;
  for (let i = 0; i < digits.length; i++) c = D[c][P[i % 8][Number(digits[digits.length - 1 - i])]];
  return c === 0;
}

/**
 * SNOMED CT concept identifier (SCTID): 6–18 digits, no leading zero, partition identifier (the 2nd and 3rd digits
 * from the right) 00 or 10 for a concept, and a Verhoeff check digit last.
 */
export function checkSnomed(code: string): string | undefined {
  if (!/^[1-9]\d{5,17}$/.test(code)) return 'not a SNOMED CT identifier (6–18 digits, no leading zero)';
  const partition = code.slice(-3, -1);
  if (partition !== '00' && partition !== '10') return `SNOMED CT partition ${partition} is not a concept's (00, 10)`;
  return verhoeffValid(code) ? undefined : 'SNOMED CT Verhoeff check digit is wrong';
}
