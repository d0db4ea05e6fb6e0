/** Distinct, print-safe colours for institutions, stable per id so a hospital keeps its colour on every page. */
export const INSTITUTION_COLORS = ['#1f6fb2', '#0f8a6a', '#b35c00', '#7a4bb0', '#b0306a', '#4b6b1f', '#2d7f95', '#8a6d12'];

export function institutionColor(id: string): string {
  let h = 0;
  for (const ch of id) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return INSTITUTION_COLORS[h % INSTITUTION_COLORS.length]!;
}

/** Channel colours of the overview chart. */
export const CHANNEL_COLORS = { fhir: '#1f6fb2', hl7v2: '#0f8a6a', csv: '#c98a1b' } as const;
