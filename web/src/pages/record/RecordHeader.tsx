import type { FieldSource, RecordSummary } from '../../../../src/record/summary-types.ts';
import { InstitutionBadge } from '../../components/InstitutionBadge.tsx';
import { useI18n } from '../../i18n/I18nProvider.tsx';
import { ageOn, formatDate } from '../../lib/dates.ts';
import { maskCard, maskPhone, maskResidentId } from '../../lib/mask.ts';
import { institutionColor } from '../../lib/palette.ts';

function Src({ source }: { source?: FieldSource }) {
  const { t } = useI18n();
  if (!source) return null;
  return <sup className="field-src" style={{ color: institutionColor(source.institution.id) }} title={t('record.sourceOf', { institution: source.institution.name, date: formatDate(source.updated) })}>{source.institution.name.slice(0, 2)}</sup>;
}

/** The patient banner: golden demographics with the source of each field, linked records, allergy alert. */
export function RecordHeader({ summary }: { summary: RecordSummary }) {
  const { t } = useI18n();
  const d = summary.demographics;
  const s = d.sources;
  const age = ageOn(d.birthDate, new Date());
  return (
    <section className="patient-banner">
      <div className="pb-main">
        <div className="pb-name">
          <span className="pb-avatar" data-sex={d.sex}>{d.name.slice(0, 1)}</span>
          <div>
            <div className="pb-title">
              <h1>{d.name}<Src source={s.name} /></h1>
              <span className="pb-meta">{t(`sex.${d.sex}`)}<Src source={s.sex} /></span>
              {age !== undefined && <span className="pb-meta">{t('age.years', { age })}</span>}
              <span className="pb-id mono">EMPI {d.personId}</span>
            </div>
            <dl className="pb-fields">
              <div><dt>{t('record.birthDate')}</dt><dd className="mono">{formatDate(d.birthDate)}<Src source={s.birthDate} /></dd></div>
              <div><dt>{t('record.residentId')}</dt><dd className="mono">{maskResidentId(d.residentIdMasked)}<Src source={s.residentId} /></dd></div>
              <div><dt>{t('record.healthCard')}</dt><dd className="mono">{maskCard(d.healthCardMasked) || '—'}<Src source={s.healthCard} /></dd></div>
              <div><dt>{t('record.phone')}</dt><dd className="mono">{maskPhone(d.phoneMasked)}<Src source={s.phone} /></dd></div>
              <div className="wide"><dt>{t('record.address')}</dt><dd>{d.address ?? '—'}<Src source={s.address} /></dd></div>
            </dl>
          </div>
        </div>
        <div className="pb-side">
          <div className="pb-side-title">{t('record.linkedRecords')}</div>
          {d.links.map((l) => (
            <div key={l.patientId} className="pb-link">
              <InstitutionBadge institution={l.institution} compact />
              <span className="mono muted">{l.mrn}</span>
            </div>
          ))}
        </div>
      </div>
      <div className="pb-alerts">
        {summary.allergies.length > 0 ? (
          summary.allergies.map((a) => (
            <span key={a.ref} className="alert-pill danger" title={t('record.sourceOf', { institution: a.institution.name, date: formatDate(a.date) })}>⚠ {t('record.allergyAlert')}：{a.substance.display}{a.reaction ? `（${a.reaction}）` : ''}</span>
          ))
        ) : (
          <span className="alert-pill neutral">{t('record.noAllergy')}</span>
        )}
        {summary.problems.filter((p) => p.chronic && p.clinicalStatus === 'active').map((p) => (
          <span key={p.ref} className="alert-pill info">{t('chronic')}：{p.code.display}</span>
        ))}
        <span className={summary.access.basis === 'break-the-glass' ? 'access-basis btg' : 'access-basis'}>{t(`record.access.${summary.access.basis}`)}</span>
      </div>
    </section>
  );
}
