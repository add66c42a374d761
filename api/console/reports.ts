// The Reports screen (/internal/reports/): the reliability report month by month, each figure as a chart and as a table, and the incidents behind it as CSV.
import { Hono, type Context } from 'hono';
import { html } from 'hono/html';
import type { AuthEnv } from '../auth.ts';
import { severities } from '../domain.ts';
import { ValidationError } from '../errors.ts';
import { reliabilityReport, reportIncidentsCsv, type MonthFigures, type ReliabilityReport, type Spread } from '../services/reliability.ts';
import { chartDataUrl, type ChartSpec } from './charts.ts';
import { input } from './form.ts';
import { actorOf, screen, type ConsoleDeps } from './screen.ts';

export const reportLinks = {
  reports: '/internal/reports/',
  csv: (from: string, to: string) => `/internal/reports/incidents.csv?from=${from}&to=${to}`,
};

/** The last twelve calendar months, this one included: the period a first visit shows. */
function defaultPeriod(now: Date): { from: string; to: string } {
  const first = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 11, 1));
  return { from: first.toISOString().slice(0, 10), to: now.toISOString().slice(0, 10) };
}

const minutes = (seconds: number | null) => (seconds === null ? null : Math.round(seconds / 6) / 10);
const percent = (share: number | null) => (share === null ? null : Math.round(share * 1000) / 10);
const cell = (v: number | null, unit = '') => (v === null ? '—' : `${v.toLocaleString('en-US')}${unit}`);

interface Figure {
  id: string;
  title: string;
  /** What the chart shows, for the image's text alternative. */
  alt: string;
  chart: ChartSpec;
}

/** The five figures of the report, each a chart spec over the months. */
function figures(report: ReliabilityReport): Figure[] {
  const months = report.months.map((m) => m.month);
  const series = (name: string, pick: (m: MonthFigures) => number | null) => ({ name, values: report.months.map(pick) });
  const spreadSeries = (name: string, pick: (m: MonthFigures) => Spread) => series(`${name} (median)`, (m) => minutes(pick(m).median));
  return [
    {
      id: 'incidents',
      title: 'Incidents by severity',
      alt: 'Stacked bar chart of incidents per month by severity.',
      chart: { kind: 'stacked-bar', categories: months, unit: 'incidents', series: severities.map((s) => series(s, (m) => m.incidents[s])) },
    },
    {
      id: 'response',
      title: 'Response times (median, minutes)',
      alt: 'Line chart of median minutes to acknowledge, to the first public update, to mitigate and to resolve, per month.',
      chart: {
        kind: 'line',
        categories: months,
        unit: 'minutes',
        series: [
          spreadSeries('Acknowledge', (m) => m.timeToAcknowledge),
          spreadSeries('First public update', (m) => m.timeToFirstPublicUpdate),
          spreadSeries('Mitigate', (m) => m.timeToMitigate),
          spreadSeries('Resolve', (m) => m.timeToResolve),
        ],
      },
    },
    {
      id: 'cadence',
      title: 'Cadence kept',
      alt: 'Bar chart of the share of updates whose next update came on time, per month, in percent.',
      chart: { kind: 'bar', categories: months, unit: '%', range: [0, 100], series: [series('Cadence kept', (m) => percent(m.cadenceKept))] },
    },
    {
      id: 'action-items',
      title: 'Action items',
      alt: 'Bar chart of action items opened, done, done on time and overdue, per month.',
      chart: {
        kind: 'bar',
        categories: months,
        unit: 'items',
        series: [
          series('Opened', (m) => m.actionItems.opened),
          series('Done', (m) => m.actionItems.done),
          series('Done on time', (m) => m.actionItems.doneOnTime),
          series('Overdue', (m) => m.actionItems.overdue),
        ],
      },
    },
    {
      id: 'uptime',
      title: 'Uptime by component',
      alt: 'Line chart of each component’s uptime per month, in percent.',
      chart: { kind: 'line', categories: months, unit: '%', series: report.components.map((c) => series(c.name, (m) => m.uptime[c.id] ?? null)) },
    },
  ];
}

/** The figure's data as a table: one row per month, one column per series (what the chart draws, for screen readers and for reading exact values). */
function dataTable(f: Figure, extra?: { header: string; values: string[] }[]) {
  const unit = f.chart.unit === '%' ? ' %' : '';
  return html`<div class="table-scroll"><table class="admin-table report-table"><caption>${f.title}: the figures</caption>
<thead><tr><th scope="col">Month</th>${f.chart.series.map((s) => html`<th scope="col">${s.name}</th>`)}${(extra ?? []).map((e) => html`<th scope="col">${e.header}</th>`)}</tr></thead>
<tbody>${f.chart.categories.map(
    (month, k) =>
      html`<tr><th scope="row">${month}</th>${f.chart.series.map((s) => html`<td>${cell(s.values[k] ?? null, unit)}</td>`)}${(extra ?? []).map((e) => html`<td>${e.values[k]}</td>`)}</tr>`,
  )}</tbody></table></div>`;
}

/** p90 columns for the response-time table: the chart shows medians, the table both. */
function p90Columns(report: ReliabilityReport) {
  const p90 = (name: string, pick: (m: MonthFigures) => Spread) => ({ header: `${name} (p90)`, values: report.months.map((m) => cell(minutes(pick(m).p90))) });
  return [
    p90('Acknowledge', (m) => m.timeToAcknowledge),
    p90('First public update', (m) => m.timeToFirstPublicUpdate),
    p90('Mitigate', (m) => m.timeToMitigate),
    p90('Resolve', (m) => m.timeToResolve),
  ];
}

async function reportsScreen(d: ConsoleDeps, c: Context) {
  const fallback = defaultPeriod(d.services.clock.now());
  const period = { from: c.req.query('from') || fallback.from, to: c.req.query('to') || fallback.to };
  const form = (errors: Map<string, string>) => html`<form method="get" action="${reportLinks.reports}" class="inline-form">
${input({ id: 'from', label: 'From', value: period.from, errors, type: 'date' })}
${input({ id: 'to', label: 'To', value: period.to, errors, type: 'date' })}
<div class="actions"><button type="submit">Show</button></div>
</form>`;
  let report: ReliabilityReport;
  try {
    report = await reliabilityReport(d.services, actorOf(c), period);
  } catch (e) {
    if (!(e instanceof ValidationError)) throw e;
    const errors = new Map((e.errors ?? []).map((x) => [x.path, x.message]));
    return screen(d, c, 'Reliability report', html`<p role="alert">${e.message}</p>${form(errors)}`, 422);
  }
  const none = new Map<string, string>();
  const body = html`<p>Per calendar month (UTC), from ${report.from} to ${report.to}: incidents, how fast the team responded, whether updates came when promised, what was learnt, and how long each component was up (public incidents: a major outage counts fully, a partial outage at 30 %).</p>
${form(none)}
<p><a href="${reportLinks.csv(report.from, report.to)}" download>Download the incidents behind these figures (CSV)</a></p>
${figures(report).map(
    (f) => html`<section aria-labelledby="fig-${f.id}" class="report-figure">
<h2 id="fig-${f.id}">${f.title}</h2>
<img src="${chartDataUrl(f.chart)}" alt="${f.alt} The table below has the same figures." width="720" height="320" class="chart" />
${dataTable(f, f.id === 'response' ? p90Columns(report) : undefined)}
</section>`,
  )}`;
  return screen(d, c, 'Reliability report', body);
}

async function csvExport(d: ConsoleDeps, c: Context) {
  const period = { from: c.req.query('from') ?? '', to: c.req.query('to') ?? '' };
  try {
    const csv = await reportIncidentsCsv(d.services, actorOf(c), period);
    return c.body(csv, 200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="incidents-${period.from}-${period.to}.csv"`,
      'cache-control': 'private, no-store',
    });
  } catch (e) {
    if (e instanceof ValidationError) return screen(d, c, 'Reliability report', html`<p role="alert">${e.message}</p><p><a href="${reportLinks.reports}">Back to the report</a></p>`, 422);
    throw e;
  }
}

/** GET /internal/reports/ and its CSV: every signed-in role may read them (viewer). */
export function reportRoutes(d: ConsoleDeps) {
  const app = new Hono<AuthEnv>();
  app.get('/internal/reports', (c) => c.redirect(reportLinks.reports, 301));
  app.get(reportLinks.reports, (c) => reportsScreen(d, c));
  app.get('/internal/reports/incidents.csv', (c) => csvExport(d, c));
  return app;
}
