import { BarChart, LineChart, ScatterChart } from 'echarts/charts';
import { DataZoomComponent, GridComponent, LegendComponent, MarkAreaComponent, MarkLineComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'react';
import { useI18n } from '../i18n/I18nProvider.tsx';

echarts.use([BarChart, LineChart, ScatterChart, GridComponent, TooltipComponent, LegendComponent, MarkAreaComponent, MarkLineComponent, DataZoomComponent, CanvasRenderer]);

/** A tiny ECharts wrapper: one chart per element, option replaced on change, resized with its box. */
export function EChart({ option, height, label }: { option: echarts.EChartsCoreOption; height: number; label: string }) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);
  const { lang } = useI18n();
  useEffect(() => {
    if (!el.current) return;
    // Month and date labels follow the console's language (ECharts ships ZH and EN).
    const c = echarts.init(el.current, undefined, { renderer: 'canvas', locale: lang === 'zh' ? 'ZH' : 'EN' });
    c.setOption(optionRef.current, { notMerge: true });
    chart.current = c;
    const ro = new ResizeObserver(() => c.resize());
    ro.observe(el.current);
    return () => {
      ro.disconnect();
      c.dispose();
      chart.current = null;
    };
  }, [lang]);
  const optionRef = useRef(option);
  optionRef.current = option;
  useEffect(() => {
    chart.current?.setOption(option, { notMerge: true });
  }, [option]);
  return <div ref={el} className="echart" role="img" aria-label={label} data-chart={label} style={{ height }} />;
}

/** Shared chart text style: the console's CJK font stack and muted axis colours. */
export const CHART_FONT = '"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", sans-serif';
