/**
 * Reads the synthetic county's ground truth (docs/SYNTH.md: truth/mrns.csv — one row per institution-level Patient:
 * institution code, MRN, true person) as `<institution code>|<MRN>` → true person id.
 */
export { readSynthTruth as loadTruth } from './synth-feeds.ts';
