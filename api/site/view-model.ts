// Turns what a reader may read into what each page shows; pages hold markup only, and never ask who is reading.
import type { Queryable } from '../../db/client.ts';
import type { ComponentImpact } from '../../db/schema.ts';
import {
  activeMaintenanceStatuses,
  actionItemStatusLabel,
  componentStatusLabel,
  incidentStatusLabel,
  isActiveIncident,
  isActiveMaintenance,
  maintenanceStatusLabel,
  startedMaintenanceStatuses,
  upcomingMaintenanceStatuses,
  worstStatus,
  incidentImpactStatus,
  type Reader,
  type ComponentStatus,
  type Indicator,
  type PageStatus,
} from '../domain.ts';
import { dayAnchor, paths, updateAnchor } from '../links.ts';
import { readPageStatus, type ComponentState } from '../status.ts';
import { describeReach, humanDuration, joinNames, paragraphs, plural, updateStatusLabel } from '../text.ts';
import {
  addDays,
  addMonths,
  dayLabel,
  dayNumber,
  dayNumberOf,
  dayOf,
  monthLabel,
  monthOf,
  monthsBetween,
  shortDayLabel,
  startOfDay,
  startOfMonth,
  timeView,
  type Day,
  type Month,
  type TimeView,
} from './calendar.ts';
import type { Brand } from '../brand.ts';
import { barIncidents } from './bars.ts';
import { brandView } from './brand-files.ts';
import { downtimeByWindow, downtimeMs, impactSpans, uptimePercent, uptimeText, type ImpactSpan } from '../uptime.ts';
import {
  historyStart,
  loadComponents,
  loadImpacts,
  loadIncidents,
  loadLatestUpdates,
  loadMaintenanceComponents,
  loadMaintenances,
  loadPostmortems,
  loadPublicImpactTimelines,
  loadUpdates,
  readers,
  type ActionItemRecord,
  type ReaderPolicy,
  type IncidentInsight,
  type IncidentRecord,
  type MaintenanceRecord,
  type UpdateRecord,
} from './records.ts';

export type { TimeView };

/** A labelled thing a reader knows beyond the wording: severity, roles, when the next update is due. */
export interface Fact {
  label: string;
  text: string;
  time?: TimeView | undefined;
  /** Shown as a warning next to the value, e.g. "Overdue". */
  warning?: string | undefined;
}

// ---- what pages receive ----

export interface StatusView {
  value: ComponentStatus;
  label: string;
}

export interface LinkView {
  href: string;
  text: string;
}

export interface FrameView {
  pageName: string;
  /** The document title. */
  title: string;
  description: string;
  badge?: string | undefined;
  homeHref: string;
  historyHref: string;
  feedHref?: string | undefined;
  /** The same feed as Atom and JSON Feed, and the maintenance calendar (public pages only). */
  alternates?: { type: string; text: string; href: string }[] | undefined;
  calendarHref?: string | undefined;
  /** The subscribe form; `components` are the filter choices, listed on the front page only (null elsewhere). */
  subscribe?: { action: string; components: { id: string; name: string }[] | null } | undefined;
  signOut?: { action: string } | undefined;
  /** The comms console around an internal page: its navigation, and a panel (HTML the console rendered) above the content. */
  console?: { nav: LinkView[]; panel?: string | undefined } | undefined;
  /** Pages of the public site may be indexed; the internal page may not. */
  indexable: boolean;
  /** The brand around every page: logo, favicon, accent stylesheet, support and home links (api/site/brand-files.ts). */
  brand: ReturnType<typeof brandView>;
  generatedAt: TimeView;
  /** "Times are in Europe/Berlin time." (TIME_ZONE); with JavaScript, local-time.js names the reader's zone instead. */
  timeNote: string;
}

/** One update as a page shows it, in its timeline or as an incident's latest. */
export interface TimelineEntry {
  id: string;
  /** The fragment id of this update on its incident page. */
  anchor: string;
  statusLabel: string;
  at: TimeView;
  paragraphs: string[];
  aside?: { label: string; paragraphs: string[] } | undefined;
}

export interface IncidentCard {
  id: string;
  href: string;
  title: string;
  statusLabel: string;
  active: boolean;
  /** The worst impact the incident had on any component. */
  impact: StatusView;
  components: string;
  startedAt: TimeView;
  resolvedAt?: TimeView | undefined;
  /** While active: when the next update is promised, shown in the reader's zone by local-time.js. */
  nextUpdateBy?: TimeView | undefined;
  latest?: TimelineEntry | undefined;
  facts: Fact[];
}

export interface MaintenanceCard {
  id: string;
  href: string;
  title: string;
  statusLabel: string;
  from: TimeView;
  until: TimeView;
  components: string;
  latest?: TimelineEntry | undefined;
}

interface DayView {
  day: Day;
  label: string;
  status: StatusView;
  /** What happened that day, in words: the bar's accessible text. */
  summary: string;
  href?: string | undefined;
}

/** One component's line on the front page: its status and its day bars. */
export interface ComponentLine {
  id: string;
  name: string;
  description: string;
  status: StatusView;
  days: DayView[];
  /** "No incidents in the last 90 days", "Incidents on 3 of the last 90 days; maintenance on 1". */
  daysSummary: string;
  /** "99.95 % uptime" over the last 90 days, from public incidents' impact (api/uptime.ts). */
  uptime: string;
}

export interface IndexPage {
  kind: 'index';
  frame: FrameView;
  /** The page status: the same as status.json's indicator (api/status.ts `readPageStatus`). */
  banner: { status: StatusView; indicator: Indicator; text: string; detail: string };
  groups: { name: string | null; components: ComponentLine[] }[];
  incidents: IncidentCard[];
  /** Resolved in the last week, newest first: what a customer who missed it wants to know. */
  recentlyResolved: IncidentCard[];
  activeMaintenances: MaintenanceCard[];
  upcomingMaintenances: MaintenanceCard[];
  historyDays: number;
}

interface IncidentPage {
  kind: 'incident';
  frame: FrameView;
  incident: IncidentCard;
  /** What the incident impairs now, with the impact in force; empty once it is resolved. */
  affected: { name: string; status: StatusView }[];
  /** Once the incident is over: the components it impaired, by name ("API and Dashboard"); no status, since none is in force. */
  wasAffected?: string | undefined;
  /** Newest first. */
  timeline: TimelineEntry[];
  postmortem?: { publishedAt: TimeView; paragraphs: string[] } | undefined;
  /** The follow-ups and their state, for insiders; empty for customers. */
  actionItems: { title: string; owner: string; due: string; priority: string; status: string; overdue: boolean; url: string | null }[];
}

interface MaintenancePage {
  kind: 'maintenance';
  frame: FrameView;
  maintenance: MaintenanceCard;
  timeline: TimelineEntry[];
}

interface HistoryPage {
  kind: 'history';
  frame: FrameView;
  /** The newest past incidents and maintenance windows, inline, newest first (never a window still to come). */
  recent: ({ kind: 'incident'; incident: IncidentCard } | { kind: 'maintenance'; maintenance: MaintenanceCard })[];
  /** The next page: the month of the oldest entry shown, whose page links on to older months. */
  older?: LinkView | undefined;
  /** Every month, newest first: the pages of the history. */
  months: LinkView[];
}

interface HistoryMonthPage {
  kind: 'history-month';
  frame: FrameView;
  month: Month;
  label: string;
  /** Newest first; only days with something on them. */
  days: { day: Day; anchor: string; label: string; incidents: IncidentCard[]; maintenances: MaintenanceCard[] }[];
  older?: LinkView | undefined;
  newer?: LinkView | undefined;
  /** Each component's uptime over the month (up to now for the current one), from public incidents' impact. */
  uptime: { name: string; text: string }[];
  /** "Uptime in November 2026", or "Uptime in December 2026 so far" for the month in progress. */
  uptimeHeading: string;
}

interface SignInPage {
  kind: 'sign-in';
  frame: FrameView;
  action: string;
  error?: string | undefined;
  /** The /internal/ path the person asked for; signing in lands there. */
  next?: string | undefined;
  /** Whether single sign-on is configured (OIDC_ISSUER): the page offers Sign in with SSO. */
  sso?: boolean | undefined;
}

interface NotFoundPage {
  kind: 'not-found';
  frame: FrameView;
}

/** A console screen: the frame is the site's, the body is HTML the console rendered (api/console). */
interface ConsolePage {
  kind: 'console';
  frame: FrameView;
  body: string;
}

/** The compact page for an iframe on a customer's site (`/embed/`): the page status and what is going on now. */
interface EmbedPage {
  kind: 'embed';
  frame: FrameView;
  status: StatusView;
  /** Statuspage's wording of the blended status, as summary.json and the badge give it. */
  description: string;
  /** Where the full page is, absolute: the embed opens it in a new tab. */
  pageUrl: string;
  /** Active incidents, then maintenance in progress, each linking to its page (absolute). */
  items: { href: string; title: string; statusLabel: string }[];
}

export type PageView = IndexPage | IncidentPage | MaintenancePage | HistoryPage | HistoryMonthPage | SignInPage | NotFoundPage | ConsolePage | EmbedPage;
export type PageKind = PageView['kind'];

// ---- building them ----

export interface SiteSettings {
  pageName: string;
  publicUrl: string;
  timeZone: string;
  /** Logo, accent, favicon, support and home links (api/brand.ts); none when absent. */
  brand?: Brand | undefined;
}

/** One reader's reading of the database at one moment, with the catalogue loaded once for every page. */
export interface SiteReading {
  db: Queryable;
  reader: ReaderPolicy;
  settings: SiteSettings;
  now: Date;
  components: ComponentState[];
  /** The page status from these components (api/status.ts `readPageStatus`), read once per reading however many outputs show it. */
  pageStatus(): Promise<PageStatus>;
}

const historyDays = 90;
const recentlyResolvedLimit = 10;

export async function readSite(db: Queryable, reader: ReaderPolicy, settings: SiteSettings, now: Date): Promise<SiteReading> {
  const components = await loadComponents(db, reader);
  let status: Promise<PageStatus> | undefined;
  return { db, reader, settings, now, components, pageStatus: () => (status ??= readPageStatus(db, reader.name, components)) };
}

/** "Times are in Europe/Berlin time.": the zone times are shown in without JavaScript, which also groups the days. */
function timeNote(timeZone: string): string {
  return timeZone === 'UTC' || timeZone === 'Etc/UTC' ? 'Times are in UTC.' : `Times are in ${timeZone} time.`;
}

/**
 * What each reader's pages offer around the content: customers subscribe and follow the feed; insiders sign out.
 * Only the front page lists components in its subscribe form, so a catalogue change re-renders the front page alone.
 */
const frameParts: Record<Reader, (r: SiteReading, front: boolean) => Partial<FrameView>> = {
  public: (r, front) => ({
    feedHref: paths.feed(),
    alternates: [
      { type: 'application/atom+xml', text: 'Atom feed', href: paths.atomFeed() },
      { type: 'application/feed+json', text: 'JSON Feed', href: paths.jsonFeed() },
    ],
    calendarHref: paths.maintenanceCalendar(),
    subscribe: { action: paths.subscribe(), components: front ? r.components.map((c) => ({ id: c.id, name: c.name })) : null },
    indexable: true,
  }),
  internal: () => ({ signOut: { action: paths.signOut() }, indexable: false }),
};

function frame(r: SiteReading, title: string | null, description: string, front = false): FrameView {
  const { reader: a, settings } = r;
  const badge = a.marked ? 'Internal' : undefined;
  const name = badge ? `${settings.pageName} (${badge.toLowerCase()})` : settings.pageName;
  return {
    pageName: settings.pageName,
    title: title ? `${title} · ${name}` : name,
    description,
    badge,
    homeHref: paths.home(a.name),
    historyHref: paths.history(a.name),
    indexable: false,
    brand: brandView(settings.brand),
    generatedAt: timeView(r.now, r.settings.timeZone),
    timeNote: timeNote(settings.timeZone),
    ...frameParts[a.name](r, front),
  };
}

const status = (value: ComponentStatus): StatusView => ({ value, label: componentStatusLabel[value] });

async function updateViews(r: SiteReading, rows: UpdateRecord[]): Promise<Map<string, TimelineEntry>> {
  const others = await r.reader.otherWordings(r.db, rows.map((u) => u.id));
  return new Map(
    rows.map((u) => {
      const other = others.get(u.id);
      return [
        u.id,
        {
          id: u.id,
          anchor: updateAnchor(u.id),
          statusLabel: updateStatusLabel(u.status),
          at: timeView(u.createdAt, r.settings.timeZone),
          paragraphs: paragraphs(u.body),
          aside: other
            ? { label: other.published ? 'What customers were told' : 'External wording (not published)', paragraphs: paragraphs(other.body) }
            : undefined,
        },
      ];
    }),
  );
}

/** What insiders read about an incident beside its wording, in words. */
function incidentFacts(i: IncidentInsight, now: Date, timeZone: string): Fact[] {
  const facts: Fact[] = [
    { label: 'Severity', text: i.severity },
    { label: 'Audience', text: describeReach(i.audiences) },
    { label: 'Incident commander', text: i.roles.ic || 'Not assigned' },
    { label: 'Comms lead', text: i.roles.comms || 'Not assigned' },
  ];
  if (i.roles.smes?.length) facts.push({ label: 'Subject-matter experts', text: i.roles.smes.join(', ') });
  if (i.draft) facts.push({ label: 'Draft', text: 'Not published', warning: 'Made from an alert: no public output shows it until an update is posted' });
  if (i.alerts) facts.push({ label: 'Alerts', text: i.alerts.split(',').every((a) => a === 'resolved') ? 'Alerts resolved' : 'Alerts firing' });
  if (isActiveIncident(i.status)) {
    if (i.nextUpdateAt) {
      const late = now.getTime() - i.nextUpdateAt.getTime();
      facts.push({ label: 'Next update due', text: '', time: timeView(i.nextUpdateAt, timeZone), warning: late > 0 ? `Overdue by ${humanDuration(late)}` : undefined });
    } else {
      facts.push({ label: 'Next update due', text: 'No time set' });
    }
  }
  const since = (at: Date | null) => (at ? humanDuration(at.getTime() - i.startedAt.getTime()) : 'Not yet');
  facts.push({ label: 'Time to acknowledge', text: since(i.acknowledgedAt) });
  facts.push({ label: 'Time to mitigate', text: since(i.mitigatedAt) });
  facts.push({ label: 'Time to resolve', text: since(i.resolvedAt) });
  return facts;
}

function groupBy<T>(rows: T[], key: (row: T) => string | null): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const row of rows) {
    const k = key(row);
    if (k === null) continue;
    const list = map.get(k);
    if (list) list.push(row);
    else map.set(k, [row]);
  }
  return map;
}

/** The worst impact each component had during an incident, from what its updates recorded. */
function impactsOf(timeline: { components: ComponentImpact[] }[]): ComponentImpact[] {
  const worst = new Map<string, ComponentImpact>();
  for (const u of timeline) {
    for (const c of u.components) {
      const seen = worst.get(c.id);
      worst.set(c.id, { ...c, status: seen ? worstStatus([seen.status, c.status]) : c.status });
    }
  }
  return [...worst.values()];
}

/** Incident cards in a fixed number of queries however many there are: impacts, facts and (optionally) latest updates. */
async function incidentCards(
  r: SiteReading,
  rows: IncidentRecord[],
  known: { impacts?: Map<string, ComponentImpact[]>; latest?: Map<string, UpdateRecord> | 'load' } = {},
): Promise<IncidentCard[]> {
  const ids = rows.map((i) => i.id);
  const [impacts, latestRows, insights] = await Promise.all([
    known.impacts ?? loadImpacts(r.db, r.reader, ids),
    known.latest === 'load' ? loadLatestUpdates(r.db, r.reader, ids) : (known.latest ?? new Map<string, UpdateRecord>()),
    r.reader.incidentInsights(r.db, ids),
  ]);
  const latest = await updateViews(r, [...latestRows.values()]);
  return rows.map((i) => {
    const impacted = (impacts.get(i.id) ?? []).filter((c) => c.status !== 'operational');
    const last = latestRows.get(i.id);
    const worst = worstStatus(impacted.map((c) => c.status));
    // An incident that is over reads as resolved (a postmortem is a section, not a status); its impact is history, in words.
    const over = !isActiveIncident(i.status);
    return {
      id: i.id,
      href: paths.incident(r.reader.name, i.id),
      title: i.title,
      statusLabel: over ? (worst === 'operational' ? 'Over' : `Impact was ${componentStatusLabel[worst].toLowerCase()}`) : incidentStatusLabel[i.status],
      active: isActiveIncident(i.status),
      impact: over ? { value: 'operational', label: incidentStatusLabel.resolved } : status(incidentImpactStatus(i.severity, impacted.map((c) => c.status), isActiveIncident(i.status))),
      components: joinNames(impacted.map((c) => c.name)),
      startedAt: timeView(i.startedAt, r.settings.timeZone),
      resolvedAt: i.resolvedAt ? timeView(i.resolvedAt, r.settings.timeZone) : undefined,
      nextUpdateBy: isActiveIncident(i.status) && i.nextUpdateAt ? timeView(i.nextUpdateAt, r.settings.timeZone) : undefined,
      latest: last ? latest.get(last.id) : undefined,
      facts: insights.has(i.id) ? incidentFacts(insights.get(i.id)!, r.now, r.settings.timeZone) : [],
    };
  });
}

async function maintenanceCards(r: SiteReading, rows: MaintenanceRecord[], withLatest: boolean): Promise<MaintenanceCard[]> {
  const ids = rows.map((m) => m.id);
  const [covered, latestRows] = await Promise.all([
    loadMaintenanceComponents(r.db, ids),
    withLatest ? loadLatestUpdates(r.db, r.reader, ids) : new Map<string, UpdateRecord>(),
  ]);
  const latest = await updateViews(r, [...latestRows.values()]);
  return rows.map((m) => {
    const last = latestRows.get(m.id);
    return {
      id: m.id,
      href: paths.maintenance(r.reader.name, m.id),
      title: m.title,
      statusLabel: maintenanceStatusLabel[m.status],
      from: timeView(m.startedAt ?? m.scheduledFor, r.settings.timeZone),
      until: timeView(m.completedAt ?? m.scheduledUntil, r.settings.timeZone),
      components: joinNames((covered.get(m.id) ?? []).map((c) => c.name)),
      latest: last ? latest.get(last.id) : undefined,
    };
  });
}

// ---- the index ----

/** The banner's words for the page status (api/status.ts `readPageStatus`, the same as status.json). */
const bannerText: Record<ComponentStatus, Record<PageStatus['scope'], string>> = {
  operational: { all: 'All systems operational', some: 'All systems operational' },
  under_maintenance: { all: 'Scheduled maintenance in progress', some: 'Scheduled maintenance in progress' },
  degraded_performance: { all: 'All systems are degraded', some: 'Some systems are degraded' },
  partial_outage: { all: 'Partial outage on all systems', some: 'Partial outage on some systems' },
  major_outage: { all: 'Major outage', some: 'Major outage on some systems' },
};

interface DayEvent {
  kind: 'incident' | 'maintenance';
  status: ComponentStatus;
  title: string;
}

/** Marks every day an incident or a started maintenance window touched, per component, in the page's time zone. */
function dailyEvents(
  r: SiteReading,
  window: Day[],
  incidents: IncidentRecord[],
  impacts: Map<string, ComponentImpact[]>,
  maintenances: MaintenanceRecord[],
  covered: Map<string, { id: string; name: string }[]>,
): Map<string, Map<Day, DayEvent[]>> {
  const tz = r.settings.timeZone;
  // Days as numbers: thousands of incidents on a busy page, each marked without making a date string.
  const first = dayNumber(window[0]!);
  const events = new Map<string, Map<Day, DayEvent[]>>();
  const mark = (componentId: string, from: Date, to: Date, event: DayEvent) => {
    let days = events.get(componentId);
    if (!days) events.set(componentId, (days = new Map<Day, DayEvent[]>()));
    const last = Math.min(dayNumberOf(to, tz) - first, window.length - 1);
    for (let k = Math.max(dayNumberOf(from, tz) - first, 0); k <= last; k++) {
      const list = days.get(window[k]!);
      if (list) list.push(event);
      else days.set(window[k]!, [event]);
    }
  };
  for (const i of incidents) {
    for (const c of impacts.get(i.id) ?? []) {
      if (c.status !== 'operational') mark(c.id, i.startedAt, i.resolvedAt ?? r.now, { kind: 'incident', status: c.status, title: i.title });
    }
  }
  for (const m of maintenances) {
    if (!m.startedAt) continue;
    for (const c of covered.get(m.id) ?? []) mark(c.id, m.startedAt, m.completedAt ?? r.now, { kind: 'maintenance', status: 'under_maintenance', title: m.title });
  }
  return events;
}

/** One day's bar: its colour is the worst incident impact that day, else maintenance; its words name both. */
function dayViews(r: SiteReading, window: Day[], labels: string[], events: Map<Day, DayEvent[]> | undefined, downtime: number[]): DayView[] {
  return window.map((day, k) => {
    const list = events?.get(day) ?? [];
    const incidents = list.filter((e) => e.kind === 'incident');
    const maintenance = list.filter((e) => e.kind === 'maintenance');
    // Each title isolated (U+2068 … U+2069), so a right-to-left title cannot reorder the words after it.
    const titles = (es: DayEvent[]) => [...new Set(es.map((e) => `\u2068${e.title}\u2069`))].join('; ');
    const worst = worstStatus(list.map((e) => e.status));
    const parts = [
      incidents.length ? `${componentStatusLabel[worstStatus(incidents.map((e) => e.status))]}: ${titles(incidents)}` : '',
      maintenance.length ? `Maintenance: ${titles(maintenance)}` : '',
    ].filter(Boolean);
    return {
      day,
      label: labels[k]!,
      status: status(worst),
      summary: `${parts.length ? parts.join('. ') : 'No incidents'}. ${downtimeWords(downtime[k] ?? 0)}`,
      href: list.length === 0 ? undefined : paths.day(r.reader.name, day),
    };
  });
}

/** "No downtime", "Downtime 1 hour 12 minutes" (weighted: a partial outage counts at 30 %). */
function downtimeWords(ms: number): string {
  return ms <= 0 ? 'No downtime' : `Downtime ${ms < 60_000 ? 'under a minute' : humanDuration(ms)}`;
}

/** The public impact spans of these incidents by component id (api/uptime.ts), for uptime and each day's downtime. */
function spansByComponent(incidents: IncidentRecord[], timelines: Map<string, { createdAt: Date; components: ComponentImpact[] }[]>, now: Date): Map<string, ImpactSpan[]> {
  const out = new Map<string, ImpactSpan[]>();
  for (const i of incidents) {
    for (const span of impactSpans(i, timelines.get(i.id) ?? [], now)) {
      const list = out.get(span.componentId);
      if (list) list.push(span);
      else out.set(span.componentId, [span]);
    }
  }
  return out;
}

/** Uptime of a component over [from, to): downtime before it existed cannot happen, so those days count as up. */
function uptimeOver(spans: ImpactSpan[] | undefined, c: { id: string; createdAt: Date }, from: number, to: number): number {
  return uptimePercent(spans ? downtimeMs(spans, c.id, Math.max(from, c.createdAt.getTime()), to) : 0, to - from);
}

/** "No incidents in the last 90 days", "Incidents on 3 of the last 90 days; maintenance on 1". */
function daysSummary(events: Map<Day, DayEvent[]> | undefined, window: Day[]): string {
  const on = (kind: DayEvent['kind']) => window.filter((d) => events?.get(d)?.some((e) => e.kind === kind)).length;
  const [incidentDays, maintenanceDays] = [on('incident'), on('maintenance')];
  const incidents = incidentDays === 0 ? `No incidents in the last ${historyDays} days` : `Incidents on ${incidentDays} of the last ${historyDays} days`;
  return maintenanceDays === 0 ? incidents : `${incidents}; maintenance on ${maintenanceDays}`;
}

export async function indexPage(r: SiteReading): Promise<IndexPage> {
  const tz = r.settings.timeZone;
  const today = dayOf(r.now, tz);
  const window = Array.from({ length: historyDays }, (_, i) => addDays(today, i - historyDays + 1));
  const span = { from: startOfDay(window[0]!, tz), to: r.now };
  const [{ recent, impacts, timelines }, windows, upcomingRows] = await Promise.all([
    barIncidents(r.db, r.reader, span),
    loadMaintenances(r.db, r.reader, { overlapping: span, statuses: [...startedMaintenanceStatuses] }),
    loadMaintenances(r.db, r.reader, { statuses: [...upcomingMaintenanceStatuses] }),
  ]);
  // Active incidents that started long before the window are in `recent` too: overlapping includes unresolved ones.
  const active = recent.filter((i) => isActiveIncident(i.status));
  const weekAgo = r.now.getTime() - 7 * 24 * 60 * 60 * 1000;
  const resolved = recent.filter((i) => i.resolvedAt && i.resolvedAt.getTime() >= weekAgo).slice(0, recentlyResolvedLimit);
  const [activeCards, resolvedCards, covered, activeMaintenance, upcoming] = await Promise.all([
    incidentCards(r, active, { impacts, latest: 'load' }),
    incidentCards(r, resolved, { impacts }),
    loadMaintenanceComponents(r.db, windows.map((m) => m.id)),
    maintenanceCards(r, windows.filter((m) => isActiveMaintenance(m.status)), true),
    maintenanceCards(r, [...upcomingRows].reverse(), true),
  ]);
  const events = dailyEvents(r, window, recent, impacts, windows, covered);
  const spans = spansByComponent(recent, timelines, r.now);
  const dayStarts = [...window.map((d) => startOfDay(d, tz).getTime()), r.now.getTime()];
  const labels = window.map(shortDayLabel);
  const groups = new Map<string | null, ComponentLine[]>();
  for (const c of r.components) {
    const own = spans.get(c.id);
    const downtime = own ? downtimeByWindow(own, c.id, dayStarts) : [];
    const line: ComponentLine = {
      id: c.id,
      name: c.name,
      description: c.description,
      status: status(c.status),
      days: dayViews(r, window, labels, events.get(c.id), downtime),
      daysSummary: daysSummary(events.get(c.id), window),
      uptime: uptimeText(uptimeOver(own, c, span.from.getTime(), r.now.getTime())),
    };
    groups.set(c.group, [...(groups.get(c.group) ?? []), line]);
  }
  const overall = await r.pageStatus();
  const count = (n: number, what: string) => `${n} ${plural(n, what)}`;
  const detail = [
    activeCards.length ? count(activeCards.length, 'active incident') : '',
    activeMaintenance.length ? `${count(activeMaintenance.length, 'maintenance window')} in progress` : '',
  ].filter(Boolean);
  return {
    kind: 'index',
    frame: frame(r, null, `Current status, incidents and maintenance for ${r.settings.pageName}.`, true),
    banner: { status: status(overall.worst), indicator: overall.indicator, text: bannerText[overall.worst][overall.scope], detail: detail.length ? detail.join(', ') : 'No active incidents' },
    groups: [...groups].map(([name, components]) => ({ name, components })),
    incidents: activeCards,
    recentlyResolved: resolvedCards,
    activeMaintenances: activeMaintenance,
    upcomingMaintenances: upcoming,
    historyDays,
  };
}

// ---- incident and maintenance pages ----

/** Incident pages for the given ids, or for every incident this reader sees. */
export async function incidentPages(r: SiteReading, ids?: string[]): Promise<IncidentPage[]> {
  const rows = await loadIncidents(r.db, r.reader, { ids });
  const everything = rows.map((i) => i.id);
  const [timeline, postmortems, actionItems] = await Promise.all([
    loadUpdates(r.db, r.reader, { incidentIds: everything }),
    loadPostmortems(r.db, r.reader, everything),
    r.reader.actionItems(r.db, everything, r.now),
  ]);
  const byIncident = groupBy(timeline, (u) => u.incidentId);
  const impacts = new Map(rows.map((i) => [i.id, impactsOf(byIncident.get(i.id) ?? [])]));
  const latest = new Map(rows.flatMap((i) => byIncident.get(i.id)?.slice(-1).map((u) => [i.id, u] as const) ?? []));
  const [cards, views] = await Promise.all([incidentCards(r, rows, { impacts, latest }), updateViews(r, timeline)]);
  return cards.map((incident) => {
    const own = byIncident.get(incident.id) ?? [];
    const pm = postmortems.get(incident.id);
    return {
      kind: 'incident',
      frame: frame(r, incident.title, `${incident.statusLabel}: ${incident.title}`),
      incident,
      // What the latest update left in force: nothing once the incident is resolved.
      affected: (own.at(-1)?.components ?? []).filter((c) => c.status !== 'operational').map((c) => ({ name: c.name, status: status(c.status) })),
      wasAffected: !incident.active && incident.components ? incident.components : undefined,
      timeline: own.map((u) => views.get(u.id)!).reverse(),
      postmortem: pm ? { publishedAt: timeView(pm.publishedAt, r.settings.timeZone), paragraphs: paragraphs(pm.body) } : undefined,
      actionItems: (actionItems.get(incident.id) ?? []).map((a: ActionItemRecord) => ({
        title: a.title,
        owner: a.owner,
        due: a.dueOn,
        priority: a.priority,
        status: actionItemStatusLabel[a.status],
        overdue: a.overdue,
        url: a.url,
      })),
    };
  });
}

export async function maintenancePages(r: SiteReading, ids?: string[]): Promise<MaintenancePage[]> {
  const rows = await loadMaintenances(r.db, r.reader, { ids });
  const timeline = await loadUpdates(r.db, r.reader, { maintenanceIds: rows.map((m) => m.id) });
  const byMaintenance = groupBy(timeline, (u) => u.maintenanceId);
  const [cards, views] = await Promise.all([maintenanceCards(r, rows, false), updateViews(r, timeline)]);
  return cards.map((maintenance) => ({
    kind: 'maintenance',
    frame: frame(r, maintenance.title, `${maintenance.statusLabel}: ${maintenance.title}`),
    maintenance,
    timeline: (byMaintenance.get(maintenance.id) ?? []).map((u) => views.get(u.id)!).reverse(),
  }));
}

// ---- history ----

/** The months the history covers, oldest first: from the first incident or window to this month. */
export async function historyMonths(r: SiteReading): Promise<Month[]> {
  const current = monthOf(r.now, r.settings.timeZone);
  const start = await historyStart(r.db, r.reader);
  const first = start ? monthOf(start, r.settings.timeZone) : current;
  return monthsBetween(first < current ? first : current, current);
}

/** How many entries the history's first page shows inline; the month pages hold the rest. */
const historyPageSize = 25;

/** Whether a window belongs in the history: it started, or its start has passed (a cancelled one). Never one to come. */
const isPastWindow = (m: MaintenanceRecord, now: Date) => m.status !== 'scheduled' && m.scheduledFor.getTime() <= now.getTime();

/**
 * The history's first page: the newest `historyPageSize` incidents and past maintenance windows inline, newest first
 * (by when they started), then a link on to the month of the oldest shown and the list of every month.
 */
export async function historyPage(r: SiteReading, months: Month[]): Promise<HistoryPage> {
  const [incidentRows, windowRows] = await Promise.all([
    loadIncidents(r.db, r.reader, { limit: historyPageSize }),
    loadMaintenances(r.db, r.reader, { statuses: [...startedMaintenanceStatuses, 'cancelled'], before: r.now, limit: historyPageSize }),
  ]);
  const windows = windowRows.filter((m) => isPastWindow(m, r.now));
  const startOf = (e: { at: Date }) => e.at.getTime();
  const entries = [
    ...incidentRows.map((i) => ({ kind: 'incident' as const, at: i.startedAt, row: i })),
    ...windows.map((m) => ({ kind: 'maintenance' as const, at: m.startedAt ?? m.scheduledFor, row: m })),
  ]
    .sort((a, b) => startOf(b) - startOf(a))
    .slice(0, historyPageSize);
  const [incidents, maintenances] = await Promise.all([
    incidentCards(r, entries.flatMap((e) => (e.kind === 'incident' ? [e.row as IncidentRecord] : []))),
    maintenanceCards(r, entries.flatMap((e) => (e.kind === 'maintenance' ? [e.row as MaintenanceRecord] : [])), false),
  ]);
  const incidentCard = new Map(incidents.map((c) => [c.id, c]));
  const maintenanceCard = new Map(maintenances.map((c) => [c.id, c]));
  const oldest = entries.at(-1);
  const olderMonth = oldest && entries.length === historyPageSize ? monthOf(oldest.at, r.settings.timeZone) : undefined;
  return {
    kind: 'history',
    frame: frame(r, 'Incident history', `Past incidents and maintenance for ${r.settings.pageName}, newest first.`),
    recent: entries.map((e) =>
      e.kind === 'incident' ? { kind: 'incident', incident: incidentCard.get(e.row.id)! } : { kind: 'maintenance', maintenance: maintenanceCard.get(e.row.id)! },
    ),
    older: olderMonth ? { href: paths.month(r.reader.name, olderMonth), text: `Older: ${monthLabel(olderMonth)}` } : undefined,
    months: [...months].reverse().map((m) => ({ href: paths.month(r.reader.name, m), text: monthLabel(m) })),
  };
}

export async function historyMonthPage(r: SiteReading, month: Month, months: Month[]): Promise<HistoryMonthPage> {
  const tz = r.settings.timeZone;
  const range = { from: startOfMonth(month, tz), to: startOfMonth(addMonths(month, 1), tz) };
  const [incidentRows, scheduledRows] = await Promise.all([
    loadIncidents(r.db, r.reader, { startedIn: range }),
    loadMaintenances(r.db, r.reader, { scheduledIn: range }),
  ]);
  // The current month's page is history too: a window still to come belongs on the front page, not here.
  const maintenanceRows = scheduledRows.filter((m) => isPastWindow(m, r.now));
  const [incidents, windows, uptime] = await Promise.all([incidentCards(r, incidentRows), maintenanceCards(r, maintenanceRows, false), monthUptime(r, range)]);
  const byDay = new Map<Day, { incidents: IncidentCard[]; maintenances: MaintenanceCard[] }>();
  const entry = (day: Day) => byDay.get(day) ?? byDay.set(day, { incidents: [], maintenances: [] }).get(day)!;
  for (const [i, card] of incidents.entries()) entry(dayOf(incidentRows[i]!.startedAt, tz)).incidents.push(card);
  for (const [i, card] of windows.entries()) entry(dayOf(maintenanceRows[i]!.scheduledFor, tz)).maintenances.push(card);
  const at = months.indexOf(month);
  const label = monthLabel(month);
  return {
    kind: 'history-month',
    frame: frame(r, `Incident history: ${label}`, `Incidents and maintenance for ${r.settings.pageName} in ${label}.`),
    month,
    label,
    days: [...byDay]
      .sort(([a], [b]) => (a < b ? 1 : -1))
      .map(([day, e]) => ({ day, anchor: dayAnchor(day), label: dayLabel(day), ...e })),
    older: at > 0 ? { href: paths.month(r.reader.name, months[at - 1]!), text: monthLabel(months[at - 1]!) } : undefined,
    newer: at >= 0 && at < months.length - 1 ? { href: paths.month(r.reader.name, months[at + 1]!), text: monthLabel(months[at + 1]!) } : undefined,
    uptime,
    uptimeHeading: `Uptime in ${label}${range.to.getTime() > r.now.getTime() ? ' so far' : ''}`,
  };
}

/** Each component's uptime over a month (up to now, for the month in progress), from the public incidents that overlap it. */
async function monthUptime(r: SiteReading, range: { from: Date; to: Date }): Promise<{ name: string; text: string }[]> {
  const to = Math.min(range.to.getTime(), r.now.getTime());
  if (to <= range.from.getTime()) return [];
  const overlapping = await loadIncidents(r.db, readers.public, { overlapping: { from: range.from, to: new Date(to) } });
  const spans = spansByComponent(overlapping, await loadPublicImpactTimelines(r.db, overlapping.map((i) => i.id)), r.now);
  return r.components.map((c) => ({ name: c.name, text: uptimeText(uptimeOver(spans.get(c.id), c, range.from.getTime(), to)) }));
}

// ---- the rest ----

export function signInPage(r: SiteReading, error?: string, next?: string, sso?: boolean): SignInPage {
  const f = frame(r, 'Sign in', 'Sign in to the internal status page.');
  return { kind: 'sign-in', frame: { ...f, signOut: undefined }, action: paths.signIn(), error, next, sso };
}

export function consolePage(r: SiteReading, title: string, body: string): ConsolePage {
  return { kind: 'console', frame: frame(r, title, `${title}: the comms console.`), body };
}

export function notFoundPage(r: SiteReading): NotFoundPage {
  return { kind: 'not-found', frame: frame(r, 'Page not found', 'There is nothing at this address.') };
}

/** The embed page: the page status in Statuspage's words and colour, and the active incidents and maintenance. */
export async function embedPage(r: SiteReading): Promise<EmbedPage> {
  const [active, windows] = await Promise.all([
    loadIncidents(r.db, r.reader, { active: true }),
    loadMaintenances(r.db, r.reader, { statuses: [...activeMaintenanceStatuses] }),
  ]);
  const overall = await r.pageStatus();
  const url = (path: string) => `${r.settings.publicUrl}${path}`;
  return {
    kind: 'embed',
    frame: frame(r, 'Status', `The current status of ${r.settings.pageName}.`),
    status: status(overall.worst),
    description: overall.description,
    pageUrl: url(paths.home(r.reader.name)),
    items: [
      ...active.map((i) => ({ href: url(paths.incident(r.reader.name, i.id)), title: i.title, statusLabel: incidentStatusLabel[i.status] })),
      ...windows.map((m) => ({ href: url(paths.maintenance(r.reader.name, m.id)), title: m.title, statusLabel: `Maintenance: ${maintenanceStatusLabel[m.status]}` })),
    ],
  };
}
