/**
 * Options of the generator and the error model. Every rate is a probability in [0, 1]; the defaults are the
 * realistic figures documented in docs/SYNTH.md ("Error model").
 */

/** Data-entry errors and transmission faults, with the unit each rate applies to. */
export interface ErrorRates {
  /** Per patient registration: one character replaced by a similar-looking one (形近字). */
  nameTypo: number;
  /** Per patient registration: one character replaced by a same-pinyin one (同音字). */
  homophone: number;
  /** Per patient registration: name written in traditional characters (繁体). */
  traditional: number;
  /** Per patient registration: resident ID left empty. */
  idMissing: number;
  /** Per patient registration: one digit of the resident ID mistyped (check digit then fails). */
  idOneDigit: number;
  /** Per patient registration: two adjacent digits transposed (check digit then fails). */
  idTransposed: number;
  /** Per registration of a person born before 1985: the old 15-digit number given instead. */
  id15: number;
  /** Per patient registration: resident ID typed in full-width digits (０-９). */
  idFullWidth: number;
  /** Per registration whose resident ID ends in X: written as lowercase x. */
  idLowercaseX: number;
  /** Per newborn's first registration: registered as "<mother>之子/之女" under the mother's resident ID. */
  newbornUnderMother: number;
  /** Per emergency visit: patient registered as 无名氏 (unknown) with no ID. */
  unknownEmergency: number;
  /** Per patient registration: day and month of the birth date swapped (only when both ≤ 12 and differ). */
  dayMonthSwap: number;
  /** Per patient registration: sex left empty / unknown. */
  sexMissing: number;
  /** Per patient registration: an old phone number given (the person changed numbers). */
  stalePhone: number;
  /** Per patient registration: a household member's phone given instead of the person's own. */
  sharedPhone: number;
  /** Per source record (message / bundle / row): sent twice. */
  duplicate: number;
  /** Per source record: uploaded late (7–90 days after the event). */
  late: number;
  /** Per source record: malformed (truncated HL7 message, invalid FHIR, CSV row with a broken field count). */
  malformed: number;
}

export const DEFAULT_ERROR_RATES: ErrorRates = {
  nameTypo: 0.01,
  homophone: 0.015,
  traditional: 0.003,
  idMissing: 0.04,
  idOneDigit: 0.008,
  idTransposed: 0.004,
  id15: 0.01,
  idFullWidth: 0.005,
  idLowercaseX: 0.3,
  newbornUnderMother: 0.6,
  unknownEmergency: 0.03,
  dayMonthSwap: 0.004,
  sexMissing: 0.01,
  stalePhone: 0.05,
  sharedPhone: 0.08,
  duplicate: 0.01,
  late: 0.03,
  malformed: 0.002,
};

export interface SynthOptions {
  /** Number of persons ever resident in the simulated period (default 20,000). */
  persons?: number;
  /** PRNG seed (default 1). Same options → byte-identical output. */
  seed?: number;
  /** Output directory; created, must be empty or absent. */
  outDir: string;
  /** Simulated years, 3–5 (default 3). The period ends on `endDate`. */
  years?: number;
  /** Last simulated day, ISO date (default '2025-12-31'); the generated world's "today". */
  endDate?: string;
  /** Overrides of the default error rates. */
  errorRates?: Partial<ErrorRates>;
  /** Share of foreign residents (passport instead of resident ID), default 0.003. */
  foreignShare?: number;
  /** Worker threads (default: 1 for < 50,000 persons, else 2). Output does not depend on it. */
  workers?: number;
  /** Called after each finished chunk with persons done and total. */
  onProgress?: (done: number, total: number) => void;
}
