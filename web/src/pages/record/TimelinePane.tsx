import { useMemo } from 'react';
import type { Encounter, EncounterClass } from '../../../../src/record/summary-types.ts';
import { CHART_FONT, EChart } from '../../components/EChart.tsx';
import { InstitutionBadge } from '../../components/InstitutionBadge.tsx';
import { useI18n } from '../../i18n/I18nProvider.tsx';
import { formatDate, formatDateTime } from '../../lib/dates.ts';

const CLASS_COLORS: Record<EncounterClass, string> = { outpatient: '#1f6fb2', inpatient: '#b0306a', emergency: '#d14343', home: '#0f8a6a', 'public-health': '#8a6d12' };
const CLASSES = Object.keys(CLASS_COLORS) as EncounterClass[];

/** Encounters across institutions: a swim-lane chart (one lane per institution) above the encounter list. */
export function TimelinePane({ encounters }: { encounters: Encounter[] }) {
  const { t } = useI18n();
  const option = useMemo(() => {
    const lanes = [...new Set(encounters.map((e) => e.institution.name))];
    const present = CLASSES.filter((c) => encounters.some((e) => e.class === c));
    const times = encounters.map((e) => new Date(e.date).getTime());
    const month = 30 * 86_400_000;
    return {
      animation: false,
      textStyle: { fontFamily: CHART_FONT },
      grid: { left: 170, right: 24, top: 36, bottom: 36 },
      legend: { top: 4, right: 16, itemWidth: 10, itemHeight: 10, textStyle: { fontSize: 12 } },
      tooltip: {
        trigger: 'item',
        formatter: (p: { data: { e: Encounter } }) =>
          `${formatDateTime(p.data.e.date)}<br/>${p.data.e.institution.name} · ${p.data.e.department ?? ''}<br/><b>${p.data.e.diagnosis?.display ?? ''}</b>`,
      },
      xAxis: { type: 'time', min: Math.min(...times) - month, max: Math.max(...times) + month, axisLabel: { fontSize: 11, color: '#5b6b7c' }, splitLine: { show: true, lineStyle: { color: '#eef1f5' } } },
      yAxis: { type: 'category', data: lanes, axisLabel: { fontSize: 12, color: '#1d2b3a' }, axisTick: { show: false }, splitLine: { show: true, lineStyle: { color: '#eef1f5' } } },
      series: present.map((c) => ({
        name: t(`class.${c}`),
        type: 'scatter',
        symbol: c === 'inpatient' ? 'rect' : c === 'emergency' ? 'diamond' : 'circle',
        symbolSize: c === 'outpatient' ? 11 : 15,
        itemStyle: { color: CLASS_COLORS[c] },
        data: encounters.filter((e) => e.class === c).map((e) => ({ value: [e.date, e.institution.name], e })),
      })),
    };
  }, [encounters, t]);
  return (
    <div className="stack">
      <section className="card">
        <div className="card-head"><h2>{t('timeline.chartTitle')}</h2></div>
        <EChart option={option} height={Math.max(170, 60 + 46 * new Set(encounters.map((e) => e.institution.id)).size)} label={t('timeline.chartTitle')} />
      </section>
      <section className="card">
        <div className="card-head"><h2>{t('timeline.list')}</h2><span className="count">{encounters.length}</span></div>
        <table className="grid compact">
          <thead><tr><th>{t('col.date')}</th><th>{t('col.class')}</th><th>{t('col.department')}</th><th>{t('col.diagnosis')}</th><th>{t('col.code')}</th><th>{t('col.practitioner')}</th><th>{t('col.institution')}</th></tr></thead>
          <tbody>
            {encounters.map((e) => (
              <tr key={e.ref}>
                <td className="mono">{formatDateTime(e.date)}{e.end && <span className="muted"> {t('timeline.to')} {formatDate(e.end)}</span>}</td>
                <td><span className={`enc-class enc-${e.class}`}>{t(`class.${e.class}`)}</span></td>
                <td>{e.department}</td>
                <td className="strong wrap">{e.diagnosis?.display}</td>
                <td className="mono">{e.diagnosis?.code}</td>
                <td>{e.practitioner}</td>
                <td><InstitutionBadge institution={e.institution} compact /></td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </div>
  );
}
