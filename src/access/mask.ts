/**
 * Masking of identifiers in lists (脱敏, GB/T 35273-2020 Annex; the convention of Chinese health portals): a resident
 * ID keeps its region (6) and last 4 characters, a phone its first 3 and last 4 digits, a health card its prefix and
 * last 4.
 */
export function maskResidentId(id: string | undefined | null): string | undefined {
  if (!id) return undefined;
  return id.length > 10 ? id.slice(0, 6) + '*'.repeat(id.length - 10) + id.slice(-4) : '*'.repeat(id.length);
}

export function maskPhone(phone: string | undefined | null): string | undefined {
  if (!phone) return undefined;
  return phone.length >= 7 ? phone.slice(0, 3) + '*'.repeat(phone.length - 7) + phone.slice(-4) : '*'.repeat(phone.length);
}

export function maskHealthCard(card: string | undefined | null): string | undefined {
  if (!card) return undefined;
  return card.length > 12 ? card.slice(0, 8) + '*'.repeat(card.length - 12) + card.slice(-4) : '*'.repeat(card.length);
}
