// The reliability report: per calendar month (UTC), how many incidents, how fast the team responded, whether it kept its cadence, what it learnt and how long components were up.
import { authorize } from './use-cases.ts';
import { z } from 'zod';
import { and, asc, eq, gte, isNull, lt, sql, type SQL } from 'drizzle-orm';
import { stringify } from 'csv-stringify/sync';
import { selectArrays, type Queryable, type Tx } from '../../db/client.ts';
import { actionItems, components, deliveries, incidents, reliabilityBriefings, stakeholders, updates, type ComponentImpact } from '../../db/schema.ts';
import { severities, type Severity } from '../domain.ts';
import { ValidationError } from '../errors.ts';
import { downtimeMs, impactSpans, uptimePercent, type ImpactSpan } from '../uptime.ts';
import { recordAudit } from './audit.ts';
import type { Clock } from '../clock.ts';
import type { Actor, Services } from './context.ts';
import { systemActor } from './context.ts';

const day = z.iso.date('must be a date, YYYY-MM-DD');
/** At most three years at once: the report is read month by month, and a century of months is a typo. */
export const maxReportMonths = 36;

/** `from` and `to` are calendar days (UTC), both included; `to` not before `from`, at most 36 months apart. */
export const reportInput = z
  .object({ from: day, to: day })
  .strict()
  .refine((r) => r.from <= r.to, { message: 'must not be before from', path: ['to'] })
  .refine((r) => monthsBetween(r.from.slice(0, 7), r.to.slice(0, 7)).length <= maxReportMonths, { message: `must be at most ${maxReportMonths} months after from`, path: ['to'] });
export type ReportInput = z.input<typeof reportInput>;

/** A duration figure in seconds: the median and the 90th percentile over the month's incidents that reached it; null when none did. */
export interface Spread {
  median: number | null;
  p90: number | null;
}

export interface MonthFigures {
  /** YYYY-MM (UTC). */
  month: string;
  /** Incidents that started in the month, by severity (drafts never published are not incidents yet). */
  incidents: Record<Severity, number> & { total: number };
  timeToAcknowledge: Spread;
  /** From the start of impact to the first update customers could read; public incidents only. */
  timeToFirstPublicUpdate: Spread;
  timeToMitigate: Spread;
  timeToResolve: Spread;
  /** Of the month's updates that named a next update time, the share (0..1) whose next update came by then; null when none is decided yet. */
  cadenceKept: number | null;
  actionItems: { opened: number; done: number; overdue: number; doneOnTime: number };
  /**
   * Percent up over the month (until now for the month in progress), by component id, from public incidents'
   * impact; null for a month that has not begun (nothing to measure yet).
   */
  uptime: Record<string, number | null>;
}

export interface ReliabilityReport {
  from: string;
  to: string;
  months: MonthFigures[];
  /** The components the uptime figures name, in display order. */
  components: { id: string; name: string }[];
}

/** One incident behind the figures, as the CSV export lists it. */
export interface ReportIncident {
  id: string;
  month: string;
  severity: Severity;
  title: string;
  internalTitle: string;
  public: boolean;
  startedAt: Date;
  acknowledgedAt: Date;
  firstPublicUpdateAt: Date | null;
  mitigatedAt: Date | null;
  resolvedAt: Date | null;
}

function parse(input: unknown): { from: string; to: string } {
  const result = reportInput.safeParse(input);
  if (result.success) return result.data;
  const errors = result.error.issues.map((i) => ({ path: i.path.map(String).join('.') || 'query', message: i.message }));
  throw new ValidationError(`The report period is invalid: check ${[...new Set(errors.map((e) => e.path))].join(', ')}.`, errors);
}

/** "2026-01" … "2026-03", both included. */
export function monthsBetween(first: string, last: string): string[] {
  const out: string[] = [];
  let [y, m] = first.split('-').map(Number) as [number, number];
  for (let guard = 0; guard < 10_000; guard++) {
    const month = `${y}-${String(m).padStart(2, '0')}`;
    if (month > last) break;
    out.push(month);
    m === 12 ? ((y += 1), (m = 1)) : (m += 1);
  }
  return out;
}

const monthStart = (month: string) => Date.parse(`${month}-01T00:00:00Z`);
const nextMonth = (month: string) => {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
};
const utcMonth = (at: Date) => at.toISOString().slice(0, 7);

/** Linear interpolation between order statistics (Hyndman and Fan's type 7, what spreadsheets use): always within the inputs' range. */
export function quantile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

const seconds = (from: Date, to: Date | null) => (to ? Math.max(0, (to.getTime() - from.getTime()) / 1000) : null);

/** The incidents that started in [from, to), with the time of each one's first public update. Drafts are left out. */
async function loadReportIncidents(db: Queryable, from: number, to: number): Promise<ReportIncident[]> {
  // The first public update of each incident is one index seek (updates_incident: incident, time) per incident.
  const rows = await db
    .select({
      id: incidents.id,
      severity: incidents.severity,
      title: incidents.title,
      internalTitle: incidents.internalTitle,
      public: sql<number>`json_extract(${incidents.audiences}, '$.public')`,
      startedAt: incidents.startedAt,
      acknowledgedAt: incidents.acknowledgedAt,
      // Written out: inside select() drizzle names a column without its table, which the subquery would read as u's own.
      firstPublicUpdateAt: sql<number | null>`(SELECT u.created_at FROM updates u WHERE u.incident_id = "incidents"."id" AND json_extract(u.audiences, '$.public') = 1 ORDER BY u.created_at LIMIT 1)`,
      mitigatedAt: incidents.mitigatedAt,
      resolvedAt: incidents.resolvedAt,
    })
    .from(incidents)
    .where(and(gte(incidents.startedAt, new Date(from)), lt(incidents.startedAt, new Date(to)), eq(incidents.draft, false)))
    .orderBy(asc(incidents.startedAt), asc(incidents.id));
  return rows.map((r) => ({
    ...r,
    severity: r.severity as Severity,
    public: Number(r.public) === 1,
    month: utcMonth(r.startedAt),
    firstPublicUpdateAt: r.firstPublicUpdateAt === null ? null : new Date(Number(r.firstPublicUpdateAt)),
  }));
}

type Metric = 'timeToAcknowledge' | 'timeToFirstPublicUpdate' | 'timeToMitigate' | 'timeToResolve';

/**
 * Per month (UTC) of the incidents that started in [from, to): the count by severity, and each duration's median and
 * p90 (quantile type 7). One row per incident, read as one JSON text (selectArrays): about 35 ms for 10,000 incidents.
 */
async function loadMonthFigures(db: Queryable, from: number, to: number) {
  const since = (at: SQL) => sql`max(0, (${at} - ${incidents.startedAt}) / 1000.0)`;
  // The first public update of each public incident is one index seek (updates_incident: incident, time).
  const firstPublic = sql`(SELECT u.created_at FROM updates u WHERE u.incident_id = ${incidents.id} AND json_extract(u.audiences, '$.public') = 1 ORDER BY u.created_at LIMIT 1)`;
  // SQLite's max(0, NULL) is NULL: a milestone not reached stays null.
  const rows = await selectArrays<[month: string, severity: Severity, acknowledge: number, firstPublicUpdate: number | null, mitigate: number | null, resolve: number | null]>(
    db,
    [
      sql`strftime('%Y-%m', ${incidents.startedAt} / 1000, 'unixepoch')`,
      sql`${incidents.severity}`,
      since(sql`${incidents.acknowledgedAt}`),
      sql`CASE WHEN json_extract(${incidents.audiences}, '$.public') = 1 THEN ${since(firstPublic)} END`,
      since(sql`${incidents.mitigatedAt}`),
      since(sql`${incidents.resolvedAt}`),
    ],
    sql`FROM ${incidents} WHERE ${incidents.startedAt} >= ${from} AND ${incidents.startedAt} < ${to} AND ${incidents.draft} = 0`,
  );
  const metrics = ['timeToAcknowledge', 'timeToFirstPublicUpdate', 'timeToMitigate', 'timeToResolve'] as const;
  const byMonth = new Map<string, { counts: Record<Severity, number>; values: Record<Metric, number[]> }>();
  for (const [month, severity, ...durations] of rows) {
    let m = byMonth.get(month);
    if (!m) byMonth.set(month, (m = { counts: Object.fromEntries(severities.map((sev) => [sev, 0])) as Record<Severity, number>, values: { timeToAcknowledge: [], timeToFirstPublicUpdate: [], timeToMitigate: [], timeToResolve: [] } }));
    m.counts[severity] += 1;
    durations.forEach((v, k) => v !== null && m.values[metrics[k]!].push(v));
  }
  for (const m of byMonth.values()) for (const list of Object.values(m.values)) list.sort((a, b) => a - b);
  const rounded = (v: number | null) => (v === null ? null : Math.round(v));
  return {
    counts: (month: string) => byMonth.get(month)?.counts ?? (Object.fromEntries(severities.map((sev) => [sev, 0])) as Record<Severity, number>),
    spread: (month: string, metric: Metric): Spread => {
      const sorted = byMonth.get(month)?.values[metric] ?? [];
      return { median: rounded(quantile(sorted, 0.5)), p90: rounded(quantile(sorted, 0.9)) };
    },
  };
}

/** Updates posted in [from, to) that named a next update time, each with when the incident's next update actually came. */
async function loadCadence(db: Queryable, from: number, to: number): Promise<{ at: number; due: number; next: number | null }[]> {
  // The next update of the same incident is one index seek (updates_incident: incident, time); equal times go by rowid.
  const next = sql`(SELECT n.created_at FROM updates n WHERE n.incident_id = u.incident_id AND (n.created_at > u.created_at OR (n.created_at = u.created_at AND n.rowid > u.rowid)) ORDER BY n.created_at, n.rowid LIMIT 1)`;
  const rows = await selectArrays<[at: number, due: number, next: number | null]>(
    db,
    [sql`u.created_at`, sql`u.next_update_at`, next],
    sql`FROM ${updates} u WHERE u.created_at >= ${from} AND u.created_at < ${to} AND u.next_update_at IS NOT NULL
      AND u.incident_id IN (SELECT ${incidents.id} FROM ${incidents} WHERE ${incidents.startedAt} < ${to} AND (${incidents.resolvedAt} IS NULL OR ${incidents.resolvedAt} >= ${from}))`,
  );
  return rows.map(([at, due, next]) => ({ at, due, next }));
}

/** Public incidents whose impact overlaps [from, to), with their public updates' impacts, as spans (api/uptime.ts). */
async function loadSpans(db: Queryable, from: number, to: number, now: Date): Promise<ImpactSpan[]> {
  // One pass over the public updates of the public incidents that overlap the period, in order within each incident.
  const rows = await selectArrays<[id: string, started: number, resolved: number | null, at: number, components: string]>(
    db,
    [sql`i.id`, sql`i.started_at`, sql`i.resolved_at`, sql`u.created_at`, sql`u.components`],
    sql`FROM ${incidents} i JOIN ${updates} u ON u.incident_id = i.id
      WHERE json_extract(i.audiences, '$.public') = 1 AND i.draft = 0 AND i.started_at < ${to} AND (i.resolved_at IS NULL OR i.resolved_at >= ${from})
        AND json_extract(u.audiences, '$.public') = 1`,
    sql`i.id, u.created_at, u.rowid`,
  );
  const spans: ImpactSpan[] = [];
  for (let k = 0; k < rows.length; ) {
    const [id, started, resolved] = rows[k]!;
    const timeline: { createdAt: Date; components: ComponentImpact[] }[] = [];
    for (; k < rows.length && rows[k]![0] === id; k++) timeline.push({ createdAt: new Date(rows[k]![3]), components: JSON.parse(rows[k]![4]) as ComponentImpact[] });
    const incident = { startedAt: new Date(started), resolvedAt: resolved === null ? null : new Date(resolved) };
    for (const span of impactSpans(incident, timeline, now)) spans.push(span);
  }
  return spans;
}

/** Every action item, as the report counts them: when added, when closed (epoch ms), its status and due day. */
async function loadActionItems(db: Queryable) {
  const rows = await selectArrays<[createdAt: number, closedAt: number | null, status: string, dueOn: string]>(
    db,
    [sql`${actionItems.createdAt}`, sql`${actionItems.closedAt}`, sql`${actionItems.status}`, sql`${actionItems.dueOn}`],
    sql`FROM ${actionItems}`,
  );
  return rows.map(([createdAt, closedAt, status, dueOn]) => ({ createdAt, closedAt, status, dueOn, dueAt: Date.parse(`${dueOn}T00:00:00Z`) }));
}

/** The day after `day` at 00:00 UTC, in epoch ms: the end of a calendar day. */
const endOfDay = (day: string) => Date.parse(`${day}T00:00:00Z`) + 24 * 60 * 60_000;

/**
 * The reliability report for the calendar days `from`..`to` (UTC, both included), one entry per month they touch
 * (SPEC "Learning from incidents"). A month cut by the period counts only its days inside it; uptime stops at now.
 * Action items: `opened` were added in the month; `done` were marked done in it, `doneOnTime` of those by the end of
 * their due day; `overdue` were due in the month (a due day already over) and not done by the end of it.
 * Errors: ValidationError (422) naming from or to; ForbiddenError (403) below viewer.
 */
export async function reliabilityReport(s: { db: Queryable; clock: Clock }, actor: Actor, input: unknown): Promise<ReliabilityReport> {
  authorize(actor, 'reliabilityReport');
  const period = parse(input);
  const now = s.clock.now();
  const from = Date.parse(`${period.from}T00:00:00Z`);
  const to = endOfDay(period.to);
  const months = monthsBetween(period.from.slice(0, 7), period.to.slice(0, 7));
  const [monthly, cadence, items, spans, catalogue] = await Promise.all([
    loadMonthFigures(s.db, from, to),
    loadCadence(s.db, from, to),
    loadActionItems(s.db),
    loadSpans(s.db, from, to, now),
    s.db.select({ id: components.id, name: components.name, createdAt: components.createdAt }).from(components).where(isNull(components.archivedAt)).orderBy(asc(components.order), asc(components.name)),
  ]);
  const spansOf = new Map<string, ImpactSpan[]>();
  for (const span of spans) {
    const list = spansOf.get(span.componentId);
    if (list) list.push(span);
    else spansOf.set(span.componentId, [span]);
  }
  const figures = months.map((month): MonthFigures => {
    const start = Math.max(from, monthStart(month));
    const end = Math.min(to, monthStart(nextMonth(month)));
    const inMonth = (t: number) => t >= start && t < end;
    const counts = monthly.counts(month);
    const decided = cadence.filter((u) => inMonth(u.at) && (u.next !== null || u.due <= now.getTime()));
    const closedIn = items.filter((i) => i.status === 'done' && i.closedAt !== null && inMonth(i.closedAt));
    const dueIn = items.filter((i) => inMonth(i.dueAt) && endOfDay(i.dueOn) <= now.getTime());
    const uptimeEnd = Math.min(end, now.getTime());
    return {
      month,
      incidents: { ...counts, total: severities.reduce((n, sev) => n + counts[sev], 0) },
      timeToAcknowledge: monthly.spread(month, 'timeToAcknowledge'),
      timeToFirstPublicUpdate: monthly.spread(month, 'timeToFirstPublicUpdate'),
      timeToMitigate: monthly.spread(month, 'timeToMitigate'),
      timeToResolve: monthly.spread(month, 'timeToResolve'),
      cadenceKept: decided.length ? decided.filter((u) => u.next !== null && u.next <= u.due).length / decided.length : null,
      actionItems: {
        opened: items.filter((i) => inMonth(i.createdAt)).length,
        done: closedIn.length,
        doneOnTime: closedIn.filter((i) => i.closedAt! < endOfDay(i.dueOn)).length,
        overdue: dueIn.filter((i) => !(i.status === 'done' && i.closedAt !== null && i.closedAt < endOfDay(i.dueOn)) && i.status !== 'wont_do').length,
      },
      uptime: Object.fromEntries(
        catalogue.map((c) => {
          if (uptimeEnd <= start) return [c.id, null];
          const down = downtimeMs(spansOf.get(c.id) ?? [], c.id, Math.max(start, c.createdAt.getTime()), uptimeEnd);
          return [c.id, Math.round(uptimePercent(down, uptimeEnd - start) * 1000) / 1000];
        }),
      ),
    };
  });
  return { from: period.from, to: period.to, months: figures, components: catalogue.map(({ id, name }) => ({ id, name })) };
}

/** The incidents behind a report's figures as CSV (RFC 4180, a header row, times in ISO 8601 UTC, durations in seconds). */
export async function reportIncidentsCsv(s: { db: Queryable; clock: Clock }, actor: Actor, input: unknown): Promise<string> {
  authorize(actor, 'reportIncidentsCsv');
  const period = parse(input);
  const rows = await loadReportIncidents(s.db, Date.parse(`${period.from}T00:00:00Z`), endOfDay(period.to));
  const iso = (d: Date | null) => (d ? d.toISOString() : '');
  const secs = (from: Date, to: Date | null) => (to ? String(Math.round(seconds(from, to)!)) : '');
  // A cell that starts like a formula is read as text by spreadsheets, not run (CSV injection).
  const cell = (v: string) => (/^[=+\-@\t\r]/.test(v) ? `'${v}` : v);
  return stringify(
    rows.map((r) => [
      r.id, r.month, r.severity, cell(r.title), cell(r.internalTitle), r.public ? 'yes' : 'no',
      iso(r.startedAt), iso(r.acknowledgedAt), iso(r.firstPublicUpdateAt), iso(r.mitigatedAt), iso(r.resolvedAt),
      secs(r.startedAt, r.acknowledgedAt), r.public ? secs(r.startedAt, r.firstPublicUpdateAt) : '', secs(r.startedAt, r.mitigatedAt), secs(r.startedAt, r.resolvedAt),
    ]),
    {
      header: true,
      columns: [
        'id', 'month', 'severity', 'title', 'internal_title', 'public', 'started_at', 'acknowledged_at', 'first_public_update_at', 'mitigated_at', 'resolved_at',
        'seconds_to_acknowledge', 'seconds_to_first_public_update', 'seconds_to_mitigate', 'seconds_to_resolve',
      ],
    },
  );
}

// ---- the monthly briefing ----

/** The month a briefing queued at `now` reports on: the one before. */
export function briefingMonth(now: Date): string {
  const [y, m] = utcMonth(now).split('-').map(Number) as [number, number];
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
}

/** The delivery `seq` that names a briefing's month (YYYYMM as a number): the outbox row carries the month it reports on. */
export const briefingSeq = (month: string) => Number(month.replace('-', ''));
export const monthOfSeq = (seq: number) => `${Math.floor(seq / 100)}-${String(seq % 100).padStart(2, '0')}`;

/**
 * The scheduler's step: on REPORT_DAY of a month (UTC), or within the week after it when no process ran that day,
 * queues last month's reliability briefing to every stakeholder not suppressed, once across every process (the
 * reliability_briefings row is the claim). `reportDay` 0 sends none. Returns the month queued, or null.
 */
export async function queueReliabilityBriefing(s: Pick<Services, 'db' | 'clock'>, reportDay: number): Promise<string | null> {
  if (reportDay === 0) return null;
  const now = s.clock.now();
  const today = now.getUTCDate();
  if (today < reportDay || today >= reportDay + 7) return null;
  const month = briefingMonth(now);
  return s.db.transaction(async (tx: Tx) => {
    const [claimed] = await tx.insert(reliabilityBriefings).values({ month, queuedAt: now }).onConflictDoNothing().returning();
    if (!claimed) return null;
    const people = await tx.select({ id: stakeholders.id, email: stakeholders.email }).from(stakeholders).where(isNull(stakeholders.suppressedAt));
    if (people.length > 0) {
      await tx.insert(deliveries).values(
        people.map((p) => ({ updateId: null, kind: 'reliability_briefing' as const, audience: 'stakeholder' as const, recipientId: p.id, email: p.email, seq: briefingSeq(month), status: 'pending', nextAttemptAt: now, createdAt: now })),
      );
    }
    await recordAudit(tx, { at: now, actor: 'scheduler', action: 'report.briefing_queued', subjectType: 'report', subjectId: month, detail: { stakeholders: people.length } });
    return month;
  });
}

/** The stakeholders' monthly briefing rows claimed by the outbox: the month each reports on, by delivery id. */
export function briefingRows(rows: { id: number; kind: string; seq?: number }[]): Map<number, string> {
  return new Map(rows.filter((r) => r.kind === 'reliability_briefing').map((r) => [r.id, monthOfSeq(r.seq ?? 0)]));
}

/** One month's report, for the briefing email: the system reads it, no person's role applies. */
export async function monthReport(s: { db: Queryable; clock: Clock }, month: string): Promise<ReliabilityReport> {
  const last = new Date(monthStart(nextMonth(month)) - 1).toISOString().slice(0, 10);
  return reliabilityReport(s, systemActor('scheduler'), { from: `${month}-01`, to: last });
}

