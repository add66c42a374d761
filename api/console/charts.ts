// Draws the reliability report's figures as SVG charts on the server with Apache ECharts (server-side rendering: no browser, no canvas).
import * as echarts from 'echarts';

/** One chart: categories along the x axis (months), one series per line or bar. */
export interface ChartSpec {
  kind: 'bar' | 'stacked-bar' | 'line';
  categories: string[];
  series: { name: string; values: (number | null)[] }[];
  /** The value axis' name, with its unit: "minutes", "%". */
  unit: string;
  /** Optional fixed range of the value axis, e.g. [0, 100] for percentages. */
  range?: [number, number] | undefined;
}

/** Distinct in hue and lightness, readable on white; each series is named in the legend and in the table beside the chart, never by colour alone. */
const palette = ['#1f5fbf', '#c2410c', '#15803d', '#7e22ce', '#a16207', '#0f766e', '#be123c', '#4d7c0f'];

/**
 * The chart as a standalone SVG document (width × height px), with a white background so it reads in both themes.
 * Animations and hover effects are off: the image is static, and ECharts adds no <style> or script for them.
 */
export function chartSvg(spec: ChartSpec, size = { width: 720, height: 320 }): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: size.width, height: size.height });
  try {
    chart.setOption({
      animation: false,
      backgroundColor: '#ffffff',
      color: palette,
      textStyle: { color: '#1c1d1f', fontSize: 13 },
      grid: { left: 64, right: 24, top: 48, bottom: 40 },
      legend: { top: 8, textStyle: { color: '#1c1d1f' } },
      xAxis: { type: 'category', data: spec.categories, axisLabel: { color: '#1c1d1f' } },
      yAxis: { type: 'value', name: spec.unit, min: spec.range?.[0], max: spec.range?.[1], axisLabel: { color: '#1c1d1f' }, nameTextStyle: { color: '#1c1d1f' } },
      series: spec.series.map((s) => ({
        type: spec.kind === 'line' ? 'line' : 'bar',
        name: s.name,
        data: s.values,
        silent: true,
        emphasis: { disabled: true },
        ...(spec.kind === 'stacked-bar' ? { stack: 'all' } : {}),
        ...(spec.kind === 'line' ? { symbolSize: 7, connectNulls: false } : {}),
      })),
    });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

/** The chart as an image source: a data: URL, which the internal pages' policy allows (img-src data:) where inline SVG styles would not be. */
export function chartDataUrl(spec: ChartSpec): string {
  return `data:image/svg+xml;base64,${Buffer.from(chartSvg(spec)).toString('base64')}`;
}
