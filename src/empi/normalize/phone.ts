/**
 * Telephone numbers of mainland China (YD/T 2346 numbering: 11-digit mobiles 1[3-9]xxxxxxxxx; landlines as
 * 0 + area code + 7–8 digits). Country code +86 / 0086, spaces, dashes and full-width digits are removed.
 */
export interface NormalizedPhone {
  value: string;
  kind: 'mobile' | 'landline';
}

/** Normalises a phone number; undefined when it is not a plausible Chinese number or is a placeholder (all one digit). */
export function normalizePhone(raw: string | undefined | null): NormalizedPhone | undefined {
  if (!raw) return undefined;
  let d = raw.normalize('NFKC').replace(/[^\d+]/g, '');
  d = d.replace(/^\+?0{0,2}86(?=1[3-9]\d{9}$)/, '').replace(/^\+?0{0,2}86(?=[1-9]\d{8,10}$)/, '0');
  d = d.replace(/\D/g, '');
  if (/^(\d)\1+$/.test(d) || /^1[3-9]0{9}$/.test(d) || /^(12345678|123456789|1234567890)/.test(d)) return undefined;
  if (/^1[3-9]\d{9}$/.test(d)) return { value: d, kind: 'mobile' };
  if (/^0[1-9]\d{8,10}$/.test(d)) return { value: d, kind: 'landline' };
  if (/^[2-9]\d{6,7}$/.test(d)) return { value: d, kind: 'landline' };
  return undefined;
}
