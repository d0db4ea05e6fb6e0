import { useMemo } from 'react';
import type { IngestChannel, RegionOverview } from '../../../src/record/summary-types.ts';
import type { Api } from '../api/client.ts';
import { CHART_FONT, EChart } from '../components/EChart.tsx';
import { ErrorBox, Loading } from '../components/States.tsx';
import { useI18n } from '../i18n/I18nProvider.tsx';
import { formatDateTime } from '../lib/dates.ts';
import { feedStatus } from '../lib/feed-status.ts';
import { CHANNEL_COLORS } from '../lib/palette.ts';
import { errorMessage, useAsync } from '../lib/use-async.ts';

const CHANNELS: IngestChannel[] = ['fhir', 'hl7v2', 'csv'];
const nf = new Intl.NumberFormat('en-US');

export function OverviewPage({ api }: { api: Api }) {
  const { t } = useI18n();
  const [state, reload] = useAsync(() => api.overview(), [api]);
  const option = useMemo(() => (state.status === 'ok' ? dailyOption(state.data, (c) => t(`channel.${c}`)) : undefined), [state, t]);
  if (state.status === 'loading') return <Loading />;
  if (state.status === 'error') return <ErrorBox message={errorMessage(state.error)} onRetry={reload} />;
  const o = state.data;
  const now = new Date(o.generated);
  const kpis: Array<[string, number, string?]> = [
    [t('overview.institutions'), o.totals.institutions],
    [t('overview.persons'), o.totals.persons],
    [t('overview.resources'), o.totals.resources],
    [t('overview.quarantined'), o.totals.quarantined, o.totals.quarantined > 0 ? 'warn' : undefined],
  ];
  return (
    <div className="page">
      <div className="page-head row">
        <h1>{t('overview.title')}</h1>
        <span className="muted small">{t('record.generated', { time: formatDateTime(o.generated) })}</span>
      </div>
      <div className="kpis">
        {kpis.map(([label, value, tone]) => (
          <div key={label} className={`kpi card ${tone ?? ''}`}>
            <div className="kpi-label">{label}</div>
            <div className="kpi-value">{nf.format(value)}</div>
          </div>
        ))}
      </div>
      <section className="card">
        <div className="card-head"><h2>{t('overview.daily')}</h2></div>
        {option && <EChart option={option} height={220} label={t('overview.daily')} />}
      </section>
      <section className="card">
        <div className="card-head"><h2>{t('overview.byInstitution')}</h2></div>
        <table className="grid">
          <thead>
            <tr>
              <th>{t('overview.col.institution')}</th>
              <th>{t('overview.col.kind')}</th>
              <th className="num">{t('overview.col.fhir')}</th>
              <th className="num">{t('overview.col.hl7v2')}</th>
              <th className="num">{t('overview.col.csv')}</th>
              <th className="num">{t('overview.col.total')}</th>
              <th className="num">{t('overview.col.quarantined')}</th>
              <th className="num">{t('overview.col.pending')}</th>
              <th>{t('overview.col.lastReceived')}</th>
              <th>{t('overview.col.status')}</th>
            </tr>
          </thead>
          <tbody>
            {o.institutions.map((i) => {
              const total = CHANNELS.reduce((n, c) => n + i.received[c], 0);
              const status = feedStatus(i.lastReceived, now);
              return (
                <tr key={i.institution.id}>
                  <td className="strong">{i.institution.name}</td>
                  <td>{t(`kind.${i.kind}`)}</td>
                  {CHANNELS.map((c) => <td key={c} className="num">{i.received[c] ? nf.format(i.received[c]) : <span className="muted">—</span>}</td>)}
                  <td className="num strong">{nf.format(total)}</td>
                  <td className={i.quarantined > 20 ? 'num warn-text strong' : 'num'}>{nf.format(i.quarantined)}</td>
                  <td className="num">{i.pending ? nf.format(i.pending) : <span className="muted">—</span>}</td>
                  <td className="mono">{i.lastReceived ? formatDateTime(i.lastReceived) : t('overview.never')}</td>
                  <td><span className={`dot-status ${status}`}>{t(`overview.status.${status}`)}</span></td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </section>
    </div>
  );
}

function dailyOption(o: RegionOverview, label: (c: IngestChannel) => string) {
  return {
    animation: false,
    textStyle: { fontFamily: CHART_FONT },
    grid: { left: 56, right: 20, top: 36, bottom: 28 },
    legend: { top: 4, right: 12, itemWidth: 12, itemHeight: 10 },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    xAxis: { type: 'category', data: o.daily.map((d) => d.day.slice(5)), axisLabel: { fontSize: 11, color: '#5b6b7c' }, axisTick: { show: false } },
    yAxis: { type: 'value', axisLabel: { fontSize: 11, color: '#5b6b7c' }, splitLine: { lineStyle: { color: '#eef1f5' } } },
    series: CHANNELS.map((c) => ({
      name: label(c),
      type: 'bar',
      stack: 'all',
      barMaxWidth: 28,
      itemStyle: { color: CHANNEL_COLORS[c] },
      data: o.daily.map((d) => d[c]),
    })),
  };
}
