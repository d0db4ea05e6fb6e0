/**
 * Administrative sex from GB/T 2261.1-2003 codes (0 未知的性别, 1 男, 2 女, 9 未说明的性别), FHIR
 * AdministrativeGender (male/female/other/unknown), HL7 v2 table 0001 (M/F/O/U/A/N) and Chinese words.
 * Only male and female are evidence for matching; everything else is "not known" (null), never a disagreement.
 */
export function normalizeSex(raw: string | undefined | null): 'M' | 'F' | undefined {
  if (raw === undefined || raw === null) return undefined;
  const s = String(raw).normalize('NFKC').trim().toLowerCase();
  if (s === '1' || s === 'm' || s === 'male' || s === '男' || s === '男性') return 'M';
  if (s === '2' || s === 'f' || s === 'female' || s === '女' || s === '女性') return 'F';
  return undefined;
}
