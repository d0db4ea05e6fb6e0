import type { RecordSummary } from '../../../../src/record/summary-types.ts';
import { InstitutionBadge } from '../../components/InstitutionBadge.tsx';
import { Empty } from '../../components/States.tsx';
import { useI18n } from '../../i18n/I18nProvider.tsx';
import { formatDate } from '../../lib/dates.ts';
import { displayUnit, formatRange, formatValue, labFlag } from '../../lib/units.ts';

/** The first tab: problems, allergies, active medications, recent encounters and recent abnormal labs. */
export function SummaryPane({ summary, onOpenLab }: { summary: RecordSummary; onOpenLab(code: string): void }) {
  const { t, tx } = useI18n();
  const activeMeds = summary.medications.filter((m) => m.status === 'active');
  const abnormal = summary.labs
    .map((s) => ({ s, p: s.points[s.points.length - 1] }))
    .filter((x) => x.p && labFlag(x.p, x.s.referenceRange) !== 'N');
  return (
    <div className="pane-grid">
      <section className="card">
        <div className="card-head"><h2>{t('pane.problems')}</h2><span className="count">{summary.problems.length}</span></div>
        {summary.problems.length === 0 ? <Empty /> : (
          <table className="grid compact">
            <thead><tr><th>{t('col.diagnosis')}</th><th>{t('col.code')}</th><th>{t('col.status')}</th><th>{t('col.date')}</th><th>{t('col.institution')}</th></tr></thead>
            <tbody>
              {summary.problems.map((p) => (
                <tr key={p.ref} className={p.clinicalStatus === 'resolved' ? 'dim' : ''}>
                  <td className="strong wrap">{p.code.display}{p.chronic && <span className="tag tag-info">{t('chronic')}</span>}</td>
                  <td className="mono">{p.code.code}</td>
                  <td><span className={`status status-${p.clinicalStatus}`}>{tx(`status.${p.clinicalStatus}`, p.clinicalStatus)}</span></td>
                  <td className="mono">{formatDate(p.date)}</td>
                  <td><InstitutionBadge institution={p.institution} compact /></td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section className="card">
        <div className="card-head"><h2>{t('pane.activeMeds')}</h2><span className="count">{activeMeds.length}</span></div>
        {activeMeds.length === 0 ? <Empty /> : (
          <table className="grid compact">
            <thead><tr><th>{t('col.medication')}</th><th>{t('col.dosage')}</th><th>{t('col.date')}</th><th>{t('col.institution')}</th></tr></thead>
            <tbody>
              {activeMeds.map((m) => (
                <tr key={m.ref}>
                  <td className="strong wrap">{m.medication.display}</td>
                  <td className="wrap" style={{ minWidth: 132 }}>{m.dosage}</td>
                  <td className="mono">{formatDate(m.date)}</td>
                  <td><InstitutionBadge institution={m.institution} compact /></td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section className="card">
        <div className="card-head"><h2>{t('pane.allergies')}</h2><span className="count">{summary.allergies.length}</span></div>
        {summary.allergies.length === 0 ? <div className="state state-empty">{t('record.noAllergy')}</div> : (
          <table className="grid compact">
            <thead><tr><th>{t('col.substance')}</th><th>{t('col.reaction')}</th><th>{t('col.criticality')}</th><th>{t('col.date')}</th><th>{t('col.institution')}</th></tr></thead>
            <tbody>
              {summary.allergies.map((a) => (
                <tr key={a.ref}>
                  <td className="strong flag-H">{a.substance.display}</td>
                  <td className="wrap">{a.reaction ?? '—'}</td>
                  <td>{a.criticality ? <span className={a.criticality === 'high' ? 'flag-pill flag-H' : ''}>{t(`criticality.${a.criticality}`)}</span> : '—'}</td>
                  <td className="mono">{formatDate(a.date)}</td>
                  <td><InstitutionBadge institution={a.institution} compact /></td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section className="card">
        <div className="card-head"><h2>{t('pane.recentLabs')}</h2><span className="count">{abnormal.length}</span></div>
        {abnormal.length === 0 ? <Empty /> : (
          <table className="grid compact">
            <thead><tr><th>{t('col.test')}</th><th className="num">{t('col.value')}</th><th>{t('col.range')}</th><th>{t('col.date')}</th><th>{t('col.institution')}</th></tr></thead>
            <tbody>
              {abnormal.map(({ s, p }) => {
                const flag = labFlag(p!, s.referenceRange);
                return (
                  <tr key={s.code.code} className="clickable" onClick={() => onOpenLab(s.code.code)}>
                    <td className="strong wrap">{s.code.display}</td>
                    <td className={`num flag-${flag}`}>{formatValue(p!.value)} {displayUnit(s.unit)} {flag === 'H' ? '↑' : flag === 'L' ? '↓' : ''}</td>
                    <td className="mono muted">{formatRange(s.referenceRange)}</td>
                    <td className="mono">{formatDate(p!.date)}</td>
                    <td><InstitutionBadge institution={p!.institution} compact /></td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </section>
      <section className="card span-2">
        <div className="card-head"><h2>{t('pane.recentEncounters')}</h2><span className="count">{summary.encounters.length}</span></div>
        <table className="grid compact">
          <thead><tr><th>{t('col.date')}</th><th>{t('col.class')}</th><th>{t('col.department')}</th><th>{t('col.diagnosis')}</th><th>{t('col.institution')}</th></tr></thead>
          <tbody>
            {summary.encounters.slice(0, 5).map((e) => (
              <tr key={e.ref}>
                <td className="mono">{formatDate(e.date)}</td>
                <td><span className={`enc-class enc-${e.class}`}>{t(`class.${e.class}`)}</span></td>
                <td>{e.department}</td>
                <td className="wrap">{e.diagnosis?.display}</td>
                <td><InstitutionBadge institution={e.institution} compact /></td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </div>
  );
}
