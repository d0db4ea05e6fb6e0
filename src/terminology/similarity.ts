import * as OpenCC from 'opencc-js';
import { pinyin } from 'pinyin-pro';

/**
 * Name similarity for suggesting standard codes for local ones (Chinese clinical names with local synonyms, typos,
 * homophones 同音字 and traditional characters). A name is reduced to a normal form, then compared by
 * Tversky similarity over character unigrams+bigrams and over toneless pinyin syllable unigrams+bigrams; the pinyin
 * part is what lets 糖尿并 find 糖尿病.
 */
const toSimplified: (s: string) => string = OpenCC.Converter({ from: 't', to: 'cn' });

/** NFKC (full-width → half-width), traditional → simplified, lower case, punctuation and spaces removed, Ⅱ → 2. */
export function normalizeName(raw: string): string {
  return toSimplified(raw.normalize('NFKC'))
    .toLowerCase()
    .replace(/ⅱ|ii型/g, (m: string) => (m === 'ⅱ' ? '2' : '2型'))
    .replace(/ⅰ/g, '1')
    .replace(/[\s()（）[\]【】,，、.。:：;；'"“”‘’/\\_\-—]+/g, '');
}

export interface NameFeatures {
  norm: string;
  chars: Set<string>;
  pinyin: Set<string>;
}

function grams(tokens: string[]): Set<string> {
  const out = new Set<string>(tokens);
  for (let i = 0; i + 1 < tokens.length; i++) out.add(tokens[i] + '\u0001' + tokens[i + 1]);
  return out;
}

/** Precomputes what `nameSimilarity` compares (the standard side is computed once per concept). */
export function nameFeatures(raw: string): NameFeatures {
  const norm = normalizeName(raw);
  const chars = [...norm];
  const py = /[\u4e00-\u9fff]/.test(norm) ? pinyin(norm, { toneType: 'none', type: 'array', nonZh: 'consecutive' }) : chars;
  return { norm, chars: grams(chars), pinyin: grams(py.map((s) => s.toLowerCase())) };
}

/**
 * Tversky index: |A∩B| / (|A∩B| + α|A−B| + β|B−A|). With α > β, what the local name says but the standard name does
 * not is penalised more than the standard name's extra qualifiers — so 高血压性心脏病伴心衰 prefers
 * 高血压性心脏病伴有（充血性）心力衰竭 to the bare category 高血压性心脏病.
 */
function tversky(a: Set<string>, b: Set<string>, alpha = 0.8, beta = 0.2): number {
  if (a.size === 0 || b.size === 0) return 0;
  let inter = 0;
  for (const x of a) if (b.has(x)) inter++;
  return inter / (inter + alpha * (a.size - inter) + beta * (b.size - inter));
}

/**
 * Similarity of a local name `a` to a standard name `b`: 1 for the same normal form; otherwise
 * 0.6 × character Tversky + 0.4 × pinyin Tversky over unigrams+bigrams, in [0, 0.99].
 */
export function nameSimilarity(a: NameFeatures, b: NameFeatures): number {
  if (a.norm === b.norm && a.norm !== '') return 1;
  return Math.min(0.99, 0.6 * tversky(a.chars, b.chars) + 0.4 * tversky(a.pinyin, b.pinyin));
}

/** Normal form of a code: upper case, spaces removed, ICD's "x" placeholders and trailing extension digits kept. */
export function normalizeCode(raw: string): string {
  return raw.normalize('NFKC').replace(/\s+/g, '').toUpperCase();
}

/**
 * How much a local code supports a standard code: local diagnosis codes are often ICD-10 variants (I10.x00,
 * E11.900, E119) — the longest standard code that prefixes the local one scores by its length.
 */
export function codeSupport(localCode: string, standardCode: string): number {
  const lc = normalizeCode(localCode);
  const sc = normalizeCode(standardCode);
  const l = lc.replace(/\./g, '');
  const s = sc.replace(/\./g, '');
  if (!l || !s) return 0;
  if (l === s) return 1;
  if (l.startsWith(s) && /^[A-Z]\d\d/.test(s)) return s.length >= 4 ? 0.8 : 0.6;
  // ICD-9-CM-3 operation codes with a local extension (74.103 → 74.1, 13.4101 → 13.41).
  if (/^\d{2}\.\d{1,2}$/.test(sc) && /^\d{2}\.\d+$/.test(lc) && l.startsWith(s)) return s.length >= 4 ? 0.8 : 0.6;
  return 0;
}
