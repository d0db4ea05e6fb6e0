/**
 * String similarity used by comparison levels. Each has a twin SQL function in migration 0401 (same name with an
 * `empi_` prefix); `comparisons.test.ts` checks that the two agree on every pair it tries.
 */

/** Same length and exactly one position differs (a mistyped digit of a resident ID or date). */
export function hamming1(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length && diff < 2; i++) if (a[i] !== b[i]) diff++;
  return diff === 1;
}

/** Same length and the only difference is two adjacent characters swapped. */
export function transposed(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  if (i >= a.length - 1) return false;
  if (a[i] !== b[i + 1] || a[i + 1] !== b[i] || a[i] === a[i + 1]) return false;
  return a.slice(i + 2) === b.slice(i + 2);
}

/**
 * Levenshtein distance ≤ 1 on code points, where `?` (a rare character the clerk could not type) matches any one
 * character. Chinese names are 2–4 characters, so one edit is already a big change: the model weighs it.
 */
export function edit1(a: string, b: string): boolean {
  const x = [...a];
  const y = [...b];
  const eq = (p: string, q: string) => p === q || p === '?' || q === '?';
  if (Math.abs(x.length - y.length) > 1) return false;
  let i = 0;
  let j = 0;
  let edits = 0;
  while (i < x.length && j < y.length) {
    if (eq(x[i], y[j])) {
      i++;
      j++;
      continue;
    }
    if (++edits > 1) return false;
    if (x.length > y.length) i++;
    else if (y.length > x.length) j++;
    else {
      i++;
      j++;
    }
  }
  edits += x.length - i + (y.length - j);
  return edits <= 1;
}

/** Jaro–Winkler similarity (Winkler 1990; prefix scale 0.1, prefix up to 4) — used on toneless pinyin. */
export function jaroWinkler(a: string, b: string): number {
  if (a === b) return a.length ? 1 : 0;
  if (!a.length || !b.length) return 0;
  const range = Math.max(0, Math.floor(Math.max(a.length, b.length) / 2) - 1);
  const am = new Array<boolean>(a.length).fill(false);
  const bm = new Array<boolean>(b.length).fill(false);
  let matches = 0;
  for (let i = 0; i < a.length; i++) {
    const lo = Math.max(0, i - range);
    const hi = Math.min(b.length - 1, i + range);
    for (let j = lo; j <= hi; j++) {
      if (!bm[j] && a[i] === b[j]) {
        am[i] = true;
        bm[j] = true;
        matches++;
        break;
      }
    }
  }
  if (!matches) return 0;
  let t = 0;
  let k = 0;
  for (let i = 0; i < a.length; i++) {
    if (!am[i]) continue;
    while (!bm[k]) k++;
    if (a[i] !== b[k]) t++;
    k++;
  }
  const jaro = (matches / a.length + matches / b.length + (matches - t / 2) / matches) / 3;
  let prefix = 0;
  while (prefix < 4 && prefix < a.length && prefix < b.length && a[prefix] === b[prefix]) prefix++;
  return jaro + prefix * 0.1 * (1 - jaro);
}
