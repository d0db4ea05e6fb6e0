import type { ExamReport, FollowUp, Immunization, Medication } from '../../../../src/record/summary-types.ts';
import { InstitutionBadge } from '../../components/InstitutionBadge.tsx';
import { Empty } from '../../components/States.tsx';
import { useI18n } from '../../i18n/I18nProvider.tsx';
import { formatDate, formatDateTime } from '../../lib/dates.ts';

export function MedicationsPane({ medications }: { medications: Medication[] }) {
  const { t, tx } = useI18n();
  if (medications.length === 0) return <Empty />;
  return (
    <section className="card">
      <table className="grid">
        <thead><tr><th>{t('col.medication')}</th><th>{t('col.dosage')}</th><th>{t('col.status')}</th><th>{t('col.date')}</th><th>{t('col.end')}</th><th>{t('col.institution')}</th></tr></thead>
        <tbody>
          {medications.map((m) => (
            <tr key={m.ref} className={m.status === 'active' ? '' : 'dim'}>
              <td className="strong wrap">{m.medication.display}</td>
              <td>{m.dosage}</td>
              <td><span className={`status status-${m.status}`}>{tx(`status.${m.status}`, m.status)}</span></td>
              <td className="mono">{formatDate(m.date)}</td>
              <td className="mono">{formatDate(m.end) || '—'}</td>
              <td><InstitutionBadge institution={m.institution} compact /></td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function ExamsPane({ exams }: { exams: ExamReport[] }) {
  const { t } = useI18n();
  if (exams.length === 0) return <Empty />;
  return (
    <div className="stack">
      {exams.map((x) => (
        <article key={x.ref} className="card report">
          <header className="report-head">
            <span className="modality">{x.modality}</span>
            <h2>{x.title}</h2>
            <span className="mono muted">{formatDateTime(x.date)}</span>
            <InstitutionBadge institution={x.institution} compact />
          </header>
          <div className="report-body">
            <div><h3>{t('exam.findings')}</h3><p>{x.findings}</p></div>
            <div><h3>{t('exam.conclusion')}</h3><p className="strong">{x.conclusion}</p></div>
          </div>
        </article>
      ))}
    </div>
  );
}

export function ImmunizationsPane({ immunizations }: { immunizations: Immunization[] }) {
  const { t } = useI18n();
  if (immunizations.length === 0) return <Empty />;
  return (
    <section className="card">
      <table className="grid">
        <thead><tr><th>{t('col.date')}</th><th>{t('col.vaccine')}</th><th className="num">{t('col.dose')}</th><th>{t('col.lot')}</th><th>{t('col.institution')}</th></tr></thead>
        <tbody>
          {immunizations.map((i) => (
            <tr key={i.ref}>
              <td className="mono">{formatDate(i.date)}</td>
              <td className="strong">{i.vaccine.display}</td>
              <td className="num">{i.doseNumber ?? '—'}</td>
              <td className="mono">{i.lotNumber ?? '—'}</td>
              <td><InstitutionBadge institution={i.institution} compact /></td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function FollowUpsPane({ followUps }: { followUps: FollowUp[] }) {
  const { t } = useI18n();
  if (followUps.length === 0) return <Empty />;
  return (
    <section className="card">
      <table className="grid">
        <thead><tr><th>{t('col.date')}</th><th>{t('col.programme')}</th><th>{t('col.method')}</th><th>{t('col.assessment')}</th><th>{t('col.note')}</th><th>{t('col.nextDue')}</th><th>{t('col.practitioner')}</th><th>{t('col.institution')}</th></tr></thead>
        <tbody>
          {followUps.map((f) => (
            <tr key={f.ref}>
              <td className="mono">{formatDate(f.date)}</td>
              <td className="strong">{f.programme}</td>
              <td>{f.method ? t(`method.${f.method}`) : '—'}</td>
              <td>{f.assessment && <span className={`status assess-${f.assessment}`}>{t(`assessment.${f.assessment}`)}</span>}</td>
              <td className="wrap">{f.note}</td>
              <td className="mono">{formatDate(f.nextDue)}</td>
              <td>{f.practitioner}</td>
              <td><InstitutionBadge institution={f.institution} compact /></td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
