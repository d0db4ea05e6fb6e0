/**
 * Addresses to the division they name (GB/T 2260 county code + 3-digit township + 3-digit village = the 12-digit
 * statistical division code used for villages and communities). Matching compares villages and townships, not
 * house numbers, which are typed every which way.
 */
import * as OpenCC from 'opencc-js';

export interface AddressKeys {
  /** 12-digit village/community code when known, else `t:<township>/<village>` from the text. */
  village?: string;
  /** 9-digit township code when known, else `t:<township>`. */
  township?: string;
}

export interface AddressInput {
  text?: string;
  /** Division codes found in the record (FHIR Address.district/extension, HL7 XAD-9, CSV column). */
  codes?: string[];
  line?: string[];
  city?: string;
  district?: string;
  state?: string;
}

let t2s: ((s: string) => string) | undefined;

const TOWNSHIP = /([\u4e00-\u9fff]{1,10}?(?:镇|乡|街道))/;
const VILLAGE = /([\u4e00-\u9fff]{1,10}?(?:村委会|居委会|村|社区|居委))/;

/**
 * Extracts the village and township keys. The address text wins when it names a township, because every channel
 * sends the text while only some send the division code, and a code key never equals a text key; the codes are used
 * when the text says nothing. Village: the name after the township up to 村/社区 or the first house/group number.
 */
export function normalizeAddress(input: AddressInput | undefined | null): AddressKeys {
  if (!input) return {};
  const raw = [input.state, input.city, input.district, ...(input.line ?? []), input.text].filter(Boolean).join('');
  const memoKey = raw + '\u0000' + (input.codes ?? []).join(',');
  const hit = memo.get(memoKey);
  if (hit) return hit;
  const out = compute(input, raw);
  // Households share an address: a bounded memo saves the OpenCC work on bulk loads.
  if (memo.size >= 200_000) memo.clear();
  memo.set(memoKey, out);
  return out;
}

const memo = new Map<string, AddressKeys>();

function compute(input: AddressInput, raw: string): AddressKeys {
  if (raw) {
    const toSimplified = (t2s ??= OpenCC.Converter({ from: 't', to: 'cn' }));
    const text = toSimplified(raw.normalize('NFKC').replace(/\s+/g, ''));
    // The township is searched after the county part so that "XX县" is not taken for it.
    const afterCounty = text.replace(/^.*?(?:县|区|市)(?=[^县区市]*(?:镇|乡|街道))/, '');
    const town = TOWNSHIP.exec(afterCounty)?.[1];
    if (town) {
      const rest = afterCounty.slice(afterCounty.indexOf(town) + town.length);
      const village = VILLAGE.exec(rest)?.[1] ?? /^([\u4e00-\u9fff]{2,6}?)(?=\d|[一二三四五六七八九十]+组)/.exec(rest)?.[1];
      const name = village?.replace(/(村委会|居委会|居委|村|社区)$/, '');
      return { township: `t:${town}`, village: name ? `t:${town}/${name}` : undefined };
    }
  }
  for (const c of input.codes ?? []) {
    const code = c.normalize('NFKC').replace(/\D/g, '');
    if (code.length === 12) return { village: code, township: code.slice(0, 9) };
  }
  for (const c of input.codes ?? []) {
    const code = c.normalize('NFKC').replace(/\D/g, '');
    if (code.length === 9) return { township: code };
  }
  return {};
}
