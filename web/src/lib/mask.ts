/**
 * Display masking of personal identifiers (脱敏) for lists. The server masks before sending; the viewer masks again
 * whatever reaches it whole, so a list never shows a full resident ID or phone number by accident.
 */

/** GB 11643 resident ID: first 6 (division) and last 4 kept: 330523198001011234 → 330523********1234. */
export function maskResidentId(id: string | undefined): string {
  if (!id) return '';
  const s = id.trim();
  if (s.includes('*')) return s;
  if (s.length <= 10) return s.slice(0, 2) + '*'.repeat(Math.max(0, s.length - 4)) + s.slice(-2);
  return s.slice(0, 6) + '*'.repeat(s.length - 10) + s.slice(-4);
}

/** Mainland mobile number: 13812345678 → 138****5678; other numbers keep their first 3 and last 4. */
export function maskPhone(phone: string | undefined): string {
  if (!phone) return '';
  const s = phone.replace(/[\s-]/g, '');
  if (s.includes('*')) return s;
  if (s.length < 8) return '*'.repeat(s.length);
  return s.slice(0, 3) + '*'.repeat(s.length - 7) + s.slice(-4);
}

/** Health-card or other card number: first 4 and last 4 kept. */
export function maskCard(card: string | undefined): string {
  if (!card) return '';
  const s = card.trim();
  if (s.includes('*')) return s;
  if (s.length <= 8) return s.slice(0, 2) + '*'.repeat(Math.max(0, s.length - 2));
  return s.slice(0, 4) + '*'.repeat(s.length - 8) + s.slice(-4);
}
