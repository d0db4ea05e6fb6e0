import { useMemo } from 'react';
import type { LabSeries } from '../../../../src/record/summary-types.ts';
import { CHART_FONT, EChart } from '../../components/EChart.tsx';
import { InstitutionBadge } from '../../components/InstitutionBadge.tsx';
import { Empty } from '../../components/States.tsx';
import { useI18n } from '../../i18n/I18nProvider.tsx';
import { formatDate } from '../../lib/dates.ts';
import { institutionColor } from '../../lib/palette.ts';
import { displayUnit, formatRange, formatValue, labFlag } from '../../lib/units.ts';

/** Lab series per standard code: a list on the left, the trend chart with the reference band and the values right. */
export function LabsPane({ labs, selected, onSelect }: { labs: LabSeries[]; selected?: string; onSelect(code: string): void }) {
  const { t } = useI18n();
  const series = labs.find((s) => s.code.code === selected) ?? labs[0];
  const option = useMemo(() => (series ? trendOption(series, t('labs.refBand')) : undefined), [series, t]);
  if (!series || !option) return <Empty />;
  const unit = displayUnit(series.unit);
  return (
    <div className="labs-layout">
      <section className="card lab-list">
        <div className="card-head"><h2>{t('labs.series')}</h2><span className="count">{labs.length}</span></div>
        <ul>
          {labs.map((s) => {
            const last = s.points[s.points.length - 1];
            const flag = last ? labFlag(last, s.referenceRange) : 'N';
            return (
              <li key={s.code.code}>
                <button className={s === series ? 'lab-item active' : 'lab-item'} onClick={() => onSelect(s.code.code)}>
                  <span className="lab-name">{s.code.display}<span className="mono muted"> {s.code.code}</span></span>
                  <span className={`lab-last flag-${flag}`}>{last ? formatValue(last.value) : '—'} <small>{displayUnit(s.unit)}</small>{flag === 'H' ? ' ↑' : flag === 'L' ? ' ↓' : ''}</span>
                  <span className="lab-meta muted">{t('labs.points', { count: s.points.length })} · {formatDate(last?.date)}</span>
                </button>
              </li>
            );
          })}
        </ul>
      </section>
      <div className="stack">
        <section className="card">
          <div className="card-head">
            <h2>{t('labs.trend', { name: series.code.display })}</h2>
            <span className="muted small">LOINC {series.code.code} · {t('col.range')} {formatRange(series.referenceRange)} {unit} · {t('labs.unitNote', { unit })}</span>
          </div>
          <EChart option={option} height={250} label={t('labs.trend', { name: series.code.display })} />
        </section>
        <section className="card">
          <table className="grid compact">
            <thead><tr><th>{t('col.date')}</th><th className="num">{t('col.value')}</th><th>{t('col.unit')}</th><th>{t('col.flag')}</th><th>{t('col.range')}</th><th>{t('col.institution')}</th></tr></thead>
            <tbody>
              {[...series.points].reverse().map((p) => {
                const flag = labFlag(p, series.referenceRange);
                return (
                  <tr key={p.ref}>
                    <td className="mono">{formatDate(p.date)}</td>
                    <td className={`num strong flag-${flag}`}>{formatValue(p.value)}</td>
                    <td>{unit}</td>
                    <td>{flag !== 'N' && <span className={`flag-pill flag-${flag}`}>{t(`flag.${flag}`)}</span>}</td>
                    <td className="mono muted">{formatRange(series.referenceRange)}</td>
                    <td><InstitutionBadge institution={p.institution} compact /></td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </section>
      </div>
    </div>
  );
}

function trendOption(s: LabSeries, bandLabel: string) {
  const r = s.referenceRange;
  const values = s.points.map((p) => p.value).concat(r?.low ?? [], r?.high ?? []);
  const min = Math.min(...values), max = Math.max(...values);
  const step = niceStep(max - min || Math.abs(max) || 1);
  const unit = displayUnit(s.unit);
  return {
    animation: false,
    textStyle: { fontFamily: CHART_FONT },
    grid: { left: 56, right: 28, top: 24, bottom: 32 },
    tooltip: {
      trigger: 'axis',
      formatter: (ps: Array<{ data: { p: LabSeries['points'][number] } }>) =>
        ps.map((x) => `${formatDate(x.data.p.date)}<br/><b>${formatValue(x.data.p.value)} ${unit}</b><br/>${x.data.p.institution.name}`).join('<br/>'),
    },
    xAxis: { type: 'time', axisLabel: { fontSize: 11, color: '#5b6b7c' }, splitLine: { show: false } },
    yAxis: {
      type: 'value',
      name: unit,
      nameTextStyle: { color: '#5b6b7c', fontSize: 11, align: 'right' },
      // Rounded to the step's decimals: 0.3 × 22 is 6.6000000000000005 in floating point, and ECharts prints it.
      min: onStep(Math.max(0, Math.floor(min / step - 0.5) * step), step),
      max: onStep(Math.ceil(max / step + 0.5) * step, step),
      axisLabel: { fontSize: 11, color: '#5b6b7c', formatter: (v: number) => formatValue(v) },
      splitLine: { lineStyle: { color: '#eef1f5' } },
    },
    series: [
      {
        type: 'line',
        name: s.code.display,
        data: s.points.map((p) => ({
          value: [p.date, p.value],
          p,
          itemStyle: { color: labFlag(p, r) === 'N' ? institutionColor(p.institution.id) : '#d14343', borderColor: '#fff', borderWidth: 1.5 },
        })),
        symbol: 'circle',
        symbolSize: 9,
        lineStyle: { color: '#4a6a8a', width: 2 },
        label: { show: true, position: 'top', fontSize: 11, color: '#1d2b3a', formatter: (x: { data: { p: { value: number } } }) => formatValue(x.data.p.value) },
        markArea: r && (r.low !== undefined || r.high !== undefined)
          ? {
              silent: true,
              itemStyle: { color: 'rgba(15, 138, 106, 0.09)' },
              label: { show: true, position: 'insideTopRight', color: '#0f8a6a', fontSize: 11, formatter: `${bandLabel} ${formatRange(r)}` },
              data: [[{ yAxis: r.low ?? 0 }, { yAxis: r.high ?? max + step }]],
            }
          : undefined,
      },
    ],
  };
}

/** A round axis step (1, 2 or 5 × 10^n) giving about five ticks over `span`. */
function niceStep(span: number): number {
  const raw = span / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

function onStep(value: number, step: number): number {
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  return Number(value.toFixed(decimals));
}
