import type { InstitutionRef } from '../../../src/record/summary-types.ts';
import { institutionColor } from '../lib/palette.ts';

/** The source-institution badge every clinical item carries. */
export function InstitutionBadge({ institution, compact }: { institution: InstitutionRef; compact?: boolean }) {
  const color = institutionColor(institution.id);
  return (
    <span className={compact ? 'src-badge compact' : 'src-badge'} style={{ borderColor: color, color }} title={institution.name}>
      <i style={{ background: color }} />
      {institution.name}
    </span>
  );
}
