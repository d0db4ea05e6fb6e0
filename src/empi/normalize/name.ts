/**
 * Person-name normalisation for matching (GB 18030 / GB/T 2312 registration names, and Latin-script names of foreign
 * residents). Pure functions: no database, no I/O.
 *
 * Chinese registration data is messy in known ways: traditional or variant characters (normalised to simplified with
 * OpenCC), full-width letters and spaces (NFKC), stray spaces between characters, a rare character the HIS could not
 * type entered as `?`, newborns registered as "<mother>之子/之女" under the mother's ID, and unknown emergency patients
 * (无名氏) whose "name" is no evidence at all.
 */
import * as OpenCC from 'opencc-js';
import { pinyin } from 'pinyin-pro';

export type NameKind = 'zh' | 'latin' | 'newborn' | 'unknown';

export interface NormalizedName {
  /** Comparison key: simplified Chinese characters (with `?` wildcards), or Latin tokens upper-cased and sorted. */
  key: string;
  kind: NameKind;
  /**
   * Toneless pinyin, surname and given name in alphabetical order and joined (王建国 → `jianguowang`), so that a pinyin
   * spelling in either order (WANG Jianguo, Jianguo Wang) meets the characters; for Latin names the sorted tokens.
   */
  pinyin: string;
  /** Pinyin initials (`ww`); first letters of the Latin tokens. */
  initials: string;
  /** For a "<mother>之子/之女" newborn: the mother's name key. */
  motherName?: string;
  /** True when a rare character was typed as `?` (it then matches any one character). */
  wildcard: boolean;
}

let toSimplified: ((s: string) => string) | undefined;
/** Traditional (OpenCC `t`, Taiwan and Hong Kong variants) → mainland simplified. Built once: the dictionary is big. */
function simplified(s: string): string {
  toSimplified ??= (() => {
    const fromT = OpenCC.Converter({ from: 't', to: 'cn' });
    const fromHk = OpenCC.Converter({ from: 'hk', to: 'cn' });
    const fromTw = OpenCC.Converter({ from: 'tw', to: 'cn' });
    return (x: string) => fromTw(fromHk(fromT(x)));
  })();
  return toSimplified(s);
}

const UNKNOWN = /^(无名氏|無名氏|无名|未知|不详|匿名|待查|unknown|unk|n\/?a|无|noname|john ?doe|jane ?doe)\d*$/i;
const UNKNOWN_ANYWHERE = /无名氏|無名氏|未知姓名|不详姓名/;
const NEWBORN = /^(.{1,8}?)(?:之(?:子|女|婴|男婴|女婴|长子|长女|次子|次女)|(?:男婴|女婴|之婴))([一二三四五0-9]*)$/;
const WILDCARDS = /[?？□■*＊〇○]/g;
const CJK = /[\u3400-\u9fff\uf900-\ufaff]/;

/** NFKC (full-width → ASCII), unify middle dots of minority/foreign transliterations, collapse spaces. */
function clean(raw: string): string {
  return raw
    .normalize('NFKC')
    .replace(WILDCARDS, '?')
    .replace(/[·•・．.]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

function stripDiacritics(s: string): string {
  return s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/ß/g, 'SS').replace(/[øØ]/g, 'O');
}

/** Toneless pinyin syllables of a Chinese key; `?` contributes nothing. ü is written v, as IMEs do. */
export function pinyinSyllables(key: string): string[] {
  const chars = key.replace(/\?/g, '');
  if (!chars) return [];
  return pinyin(chars, { toneType: 'none', type: 'array', surname: 'head', nonZh: 'removed' })
    .map((p) => p.replace(/ü/g, 'v').toLowerCase())
    .filter((p) => p.length > 0);
}

/** Two-character surnames (复姓) that pinyin must keep together as one token. */
const COMPOUND_SURNAMES = new Set(
  '欧阳 司马 诸葛 上官 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 令狐 端木 独孤 南宫 西门 闻人 澹台 轩辕 太史 申屠 钟离 万俟 呼延 赫连'.split(' '),
);

/** Surname and given-name pinyin tokens, sorted and joined: the same whichever order a pinyin spelling used. */
function orderFree(key: string, syllables: string[]): string {
  const chars = [...key.replace(/\?/g, '')];
  const n = COMPOUND_SURNAMES.has(chars.slice(0, 2).join('')) ? 2 : 1;
  return [syllables.slice(0, n).join(''), syllables.slice(n).join('')].filter(Boolean).sort().join('');
}

/**
 * Normalises one name as registered. Returns undefined for an empty name.
 * Latin names are made order-free (FAMILY GIVEN and Given Family give the same key) because both orders occur.
 */
export function normalizeName(raw: string | undefined | null): NormalizedName | undefined {
  if (!raw) return undefined;
  const hit = memo.get(raw);
  if (hit !== undefined || memo.has(raw)) return hit;
  const out = compute(raw);
  // Names repeat (王伟, and every record of a person): a bounded memo saves the OpenCC and pinyin work on bulk loads.
  if (memo.size >= 200_000) memo.clear();
  memo.set(raw, out);
  return out;
}

const memo = new Map<string, NormalizedName | undefined>();

function compute(raw: string): NormalizedName | undefined {
  const text = clean(raw);
  if (!text) return undefined;
  if (UNKNOWN.test(text.replace(/\s/g, '')) || UNKNOWN_ANYWHERE.test(text)) {
    return { key: '', kind: 'unknown', pinyin: '', initials: '', wildcard: false };
  }
  if (CJK.test(text)) {
    const key = simplified(text.replace(/[\sA-Za-z0-9]/g, ''));
    const newborn = NEWBORN.exec(key);
    // "张丽之子" / "张丽女婴" is the newborn's registration name; a bare trailing 子 or 女 is not (张子 is a real name).
    const py = pinyinSyllables(key);
    const base = { key, pinyin: orderFree(key, py), initials: py.map((p) => p[0]).join(''), wildcard: key.includes('?') };
    if (newborn) return { ...base, kind: 'newborn', motherName: newborn[1] };
    return { ...base, kind: 'zh' };
  }
  const tokens = stripDiacritics(text)
    .toUpperCase()
    .replace(/['-]/g, '')
    .replace(/[^A-Z?\s,]/g, '')
    .split(/[\s,]+/)
    .filter(Boolean)
    .sort();
  if (!tokens.length) return undefined;
  return {
    key: tokens.join(' '),
    kind: 'latin',
    pinyin: tokens.join('').toLowerCase().replace(/\?/g, ''),
    initials: tokens.map((t) => t[0].toLowerCase()).join(''),
    wildcard: text.includes('?'),
  };
}
