// Turns what an audience may read into what each page shows; pages hold markup only, and never ask who is reading.
import type { Queryable } from '../../db/client.ts';
import type { ComponentImpact } from '../../db/schema.ts';
import {
  componentStatusLabel,
  incidentStatusLabel,
  isActiveIncident,
  maintenanceStatusLabel,
  worstStatus,
  type ComponentStatus,
  type IncidentStatus,
  type MaintenanceStatus,
} from '../domain.ts';
import { joinNames } from '../services/wording.ts';
import {
  addDays,
  addMonths,
  dayLabel,
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
import {
  historyStart,
  loadComponents,
  loadImpacts,
  loadIncidents,
  loadLatestUpdates,
  loadMaintenanceComponents,
  loadMaintenances,
  loadPostmortems,
  loadUpdates,
  type Audience,
  type AudienceName,
  type ComponentRecord,
  type Fact,
  type IncidentRecord,
  type MaintenanceRecord,
  type UpdateRecord,
} from './records.ts';

export type { Fact, TimeView, AudienceName };

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
  /** The subscribe form; `components` are the filter choices, listed on the front page only (null elsewhere). */
  subscribe?: { action: string; components: { id: string; name: string }[] | null } | undefined;
  signOut?: { action: string } | undefined;
  /** The comms console around an internal page: its navigation, and a panel (HTML the console rendered) above the content. */
  console?: { nav: LinkView[]; panel?: string | undefined } | undefined;
  /** Pages of the public site may be indexed; the internal page may not. */
  indexable: boolean;
  generatedAt: TimeView;
}

export interface UpdateView {
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
  latest?: UpdateView | undefined;
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
  latest?: UpdateView | undefined;
}

export interface DayView {
  day: Day;
  label: string;
  status: StatusView;
  /** What happened that day, in words: the bar's accessible text. */
  summary: string;
  href?: string | undefined;
}

export interface ComponentRow {
  id: string;
  name: string;
  description: string;
  status: StatusView;
  days: DayView[];
  /** "No incidents in the last 90 days" or "Incidents on 3 of the last 90 days". */
  daysSummary: string;
}

export interface IndexPage {
  kind: 'index';
  frame: FrameView;
  banner: { status: StatusView; text: string; detail: string };
  groups: { name: string | null; components: ComponentRow[] }[];
  incidents: IncidentCard[];
  /** Resolved in the last week, newest first: what a customer who missed it wants to know. */
  recentlyResolved: IncidentCard[];
  activeMaintenances: MaintenanceCard[];
  upcomingMaintenances: MaintenanceCard[];
  historyDays: number;
}

export interface IncidentPage {
  kind: 'incident';
  frame: FrameView;
  incident: IncidentCard;
  affected: { name: string; status: StatusView }[];
  /** Newest first. */
  timeline: UpdateView[];
  postmortem?: { publishedAt: TimeView; paragraphs: string[]; actionItems: { title: string; owner: string; due: string }[] } | undefined;
}

export interface MaintenancePage {
  kind: 'maintenance';
  frame: FrameView;
  maintenance: MaintenanceCard;
  timeline: UpdateView[];
}

export interface HistoryPage {
  kind: 'history';
  frame: FrameView;
  /** Newest first. */
  months: LinkView[];
}

export interface HistoryMonthPage {
  kind: 'history-month';
  frame: FrameView;
  month: Month;
  label: string;
  /** Newest first; only days with something on them. */
  days: { day: Day; anchor: string; label: string; incidents: IncidentCard[]; maintenances: MaintenanceCard[] }[];
  older?: LinkView | undefined;
  newer?: LinkView | undefined;
}

export interface SignInPage {
  kind: 'sign-in';
  frame: FrameView;
  action: string;
  error?: string | undefined;
}

export interface NotFoundPage {
  kind: 'not-found';
  frame: FrameView;
}

/** A console screen: the frame is the site's, the body is HTML the console rendered (api/console). */
export interface ConsolePage {
  kind: 'console';
  frame: FrameView;
  body: string;
}

export type PageView = IndexPage | IncidentPage | MaintenancePage | HistoryPage | HistoryMonthPage | SignInPage | NotFoundPage | ConsolePage;
export type PageKind = PageView['kind'];

// ---- building them ----

export interface SiteSettings {
  pageName: string;
  publicUrl: string;
  timeZone: string;
}

/** One audience's reading of the database at one moment, with the catalogue loaded once for every page. */
export interface SiteReading {
  db: Queryable;
  audience: Audience;
  settings: SiteSettings;
  now: Date;
  components: ComponentRecord[];
}

export const historyDays = 90;
const recentlyResolvedLimit = 10;

export async function readSite(db: Queryable, audience: Audience, settings: SiteSettings, now: Date): Promise<SiteReading> {
  return { db, audience, settings, now, components: await loadComponents(db, audience) };
}

const links = {
  incident: (a: Audience, id: string) => `${a.base}/incidents/${id}/`,
  maintenance: (a: Audience, id: string) => `${a.base}/maintenances/${id}/`,
  history: (a: Audience) => `${a.base}/history/`,
  month: (a: Audience, month: Month) => `${a.base}/history/${month}/`,
  day: (a: Audience, day: Day) => `${a.base}/history/${day.slice(0, 7)}/#day-${day}`,
};

/**
 * What each audience's pages offer around the content: customers subscribe and follow the feed; insiders sign out.
 * Only the front page lists components in its subscribe form, so a catalogue change re-renders the front page alone.
 */
const frameParts: Record<AudienceName, (r: SiteReading, front: boolean) => Partial<FrameView>> = {
  public: (r, front) => ({
    feedHref: '/feed.xml',
    subscribe: { action: '/api/v1/subscribers', components: front ? r.components.map((c) => ({ id: c.id, name: c.name })) : null },
    indexable: true,
  }),
  internal: () => ({ signOut: { action: '/internal/sign-out' }, indexable: false }),
};

function frame(r: SiteReading, title: string | null, description: string, front = false): FrameView {
  const { audience: a, settings } = r;
  const name = a.badge ? `${settings.pageName} (${a.badge.toLowerCase()})` : settings.pageName;
  return {
    pageName: settings.pageName,
    title: title ? `${title} · ${name}` : name,
    description,
    badge: a.badge,
    homeHref: `${a.base}/`,
    historyHref: links.history(a),
    indexable: false,
    generatedAt: timeView(r.now),
    ...frameParts[a.name](r, front),
  };
}

const status = (value: ComponentStatus): StatusView => ({ value, label: componentStatusLabel[value] });

export function paragraphs(text: string): string[] {
  return text
    .split(/\r?\n\s*\r?\n/)
    .map((p) => p.trim())
    .filter(Boolean);
}

const updateStatusLabel = (s: string) =>
  incidentStatusLabel[s as IncidentStatus] ?? maintenanceStatusLabel[s as MaintenanceStatus] ?? s;

async function updateViews(r: SiteReading, rows: UpdateRecord[]): Promise<Map<string, UpdateView>> {
  const asides = await r.audience.updateAsides(r.db, rows.map((u) => u.id));
  return new Map(
    rows.map((u) => {
      const aside = asides.get(u.id);
      return [
        u.id,
        {
          id: u.id,
          anchor: `update-${u.id}`,
          statusLabel: updateStatusLabel(u.status),
          at: timeView(u.createdAt),
          paragraphs: paragraphs(u.body),
          aside: aside ? { label: aside.label, paragraphs: paragraphs(aside.body) } : undefined,
        },
      ];
    }),
  );
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
export function impactsOf(timeline: { components: ComponentImpact[] }[]): ComponentImpact[] {
  const worst = new Map<string, ComponentImpact>();
  for (const u of timeline) {
    for (const c of u.components) {
      const seen = worst.get(c.id);
      worst.set(c.id, { ...c, status: seen ? worstStatus([seen.status as ComponentStatus, c.status as ComponentStatus]) : c.status });
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
  const [impacts, latestRows, facts] = await Promise.all([
    known.impacts ?? loadImpacts(r.db, r.audience, ids),
    known.latest === 'load' ? loadLatestUpdates(r.db, r.audience, ids) : (known.latest ?? new Map<string, UpdateRecord>()),
    r.audience.incidentFacts(r.db, ids, r.now),
  ]);
  const latest = await updateViews(r, [...latestRows.values()]);
  return rows.map((i) => {
    const impacted = (impacts.get(i.id) ?? []).filter((c) => c.status !== 'operational');
    const last = latestRows.get(i.id);
    return {
      id: i.id,
      href: links.incident(r.audience, i.id),
      title: i.title,
      statusLabel: incidentStatusLabel[i.status],
      active: isActiveIncident(i.status),
      impact: status(worstStatus(impacted.map((c) => c.status as ComponentStatus))),
      components: joinNames(impacted.map((c) => c.name)),
      startedAt: timeView(i.startedAt),
      resolvedAt: i.resolvedAt ? timeView(i.resolvedAt) : undefined,
      latest: last ? latest.get(last.id) : undefined,
      facts: facts.get(i.id) ?? [],
    };
  });
}

async function maintenanceCards(r: SiteReading, rows: MaintenanceRecord[], withLatest: boolean): Promise<MaintenanceCard[]> {
  const ids = rows.map((m) => m.id);
  const [covered, latestRows] = await Promise.all([
    loadMaintenanceComponents(r.db, ids),
    withLatest ? loadLatestUpdates(r.db, r.audience, ids) : new Map<string, UpdateRecord>(),
  ]);
  const latest = await updateViews(r, [...latestRows.values()]);
  return rows.map((m) => {
    const last = latestRows.get(m.id);
    return {
      id: m.id,
      href: links.maintenance(r.audience, m.id),
      title: m.title,
      statusLabel: maintenanceStatusLabel[m.status],
      from: timeView(m.startedAt ?? m.scheduledFor),
      until: timeView(m.completedAt ?? m.scheduledUntil),
      components: joinNames((covered.get(m.id) ?? []).map((c) => c.name)),
      latest: last ? latest.get(last.id) : undefined,
    };
  });
}

// ---- the index ----

const bannerText: Record<ComponentStatus, string> = {
  operational: 'All systems operational',
  under_maintenance: 'Scheduled maintenance in progress',
  degraded_performance: 'Some systems are degraded',
  partial_outage: 'Partial outage',
  major_outage: 'Major outage',
};

interface DayEvent {
  status: ComponentStatus;
  title: string;
}

/** Marks every day an incident or maintenance window touched, per component, in the page's time zone. */
function dailyEvents(
  r: SiteReading,
  window: Day[],
  incidents: IncidentRecord[],
  impacts: Map<string, ComponentImpact[]>,
  maintenances: MaintenanceRecord[],
  covered: Map<string, { id: string; name: string }[]>,
): Map<string, Map<Day, DayEvent[]>> {
  const tz = r.settings.timeZone;
  const first = window[0]!;
  const last = window.at(-1)!;
  const events = new Map<string, Map<Day, DayEvent[]>>();
  const mark = (componentId: string, from: Day, to: Day, event: DayEvent) => {
    const days = events.get(componentId) ?? new Map<Day, DayEvent[]>();
    events.set(componentId, days);
    for (let d = from < first ? first : from; d <= to && d <= last; d = addDays(d, 1)) days.set(d, [...(days.get(d) ?? []), event]);
  };
  for (const i of incidents) {
    const [from, to] = [dayOf(i.startedAt, tz), dayOf(i.resolvedAt ?? r.now, tz)];
    for (const c of impacts.get(i.id) ?? []) {
      if (c.status !== 'operational') mark(c.id, from, to, { status: c.status as ComponentStatus, title: i.title });
    }
  }
  for (const m of maintenances) {
    if (!m.startedAt) continue;
    const [from, to] = [dayOf(m.startedAt, tz), dayOf(m.completedAt ?? r.now, tz)];
    for (const c of covered.get(m.id) ?? []) mark(c.id, from, to, { status: 'under_maintenance', title: m.title });
  }
  return events;
}

function dayViews(r: SiteReading, window: Day[], events: Map<Day, DayEvent[]> | undefined): DayView[] {
  return window.map((day) => {
    const list = events?.get(day) ?? [];
    const worst = worstStatus(list.map((e) => e.status));
    const titles = [...new Set(list.map((e) => e.title))];
    return {
      day,
      label: shortDayLabel(day),
      status: status(worst),
      summary: list.length === 0 ? 'No incidents' : `${componentStatusLabel[worst]}: ${titles.join('; ')}`,
      href: list.length === 0 ? undefined : links.day(r.audience, day),
    };
  });
}

export async function indexPage(r: SiteReading): Promise<IndexPage> {
  const tz = r.settings.timeZone;
  const today = dayOf(r.now, tz);
  const window = Array.from({ length: historyDays }, (_, i) => addDays(today, i - historyDays + 1));
  const span = { from: startOfDay(window[0]!, tz), to: r.now };
  const [recent, windows, upcomingRows] = await Promise.all([
    loadIncidents(r.db, r.audience, { overlapping: span }),
    loadMaintenances(r.db, r.audience, { overlapping: span, statuses: ['in_progress', 'verifying', 'completed'] }),
    loadMaintenances(r.db, r.audience, { statuses: ['scheduled'] }),
  ]);
  // Active incidents that started long before the window are in `recent` too: overlapping includes unresolved ones.
  const active = recent.filter((i) => isActiveIncident(i.status));
  const weekAgo = r.now.getTime() - 7 * 24 * 60 * 60 * 1000;
  const resolved = recent.filter((i) => i.resolvedAt && i.resolvedAt.getTime() >= weekAgo).slice(0, recentlyResolvedLimit);
  const impacts = await loadImpacts(r.db, r.audience, recent.map((i) => i.id));
  const [activeCards, resolvedCards, covered, activeMaintenance, upcoming] = await Promise.all([
    incidentCards(r, active, { impacts, latest: 'load' }),
    incidentCards(r, resolved, { impacts }),
    loadMaintenanceComponents(r.db, windows.map((m) => m.id)),
    maintenanceCards(r, windows.filter((m) => m.status === 'in_progress' || m.status === 'verifying'), true),
    maintenanceCards(r, [...upcomingRows].reverse(), true),
  ]);
  const events = dailyEvents(r, window, recent, impacts, windows, covered);
  const groups = new Map<string | null, ComponentRow[]>();
  for (const c of r.components) {
    const days = dayViews(r, window, events.get(c.id));
    const bad = days.filter((d) => d.href).length;
    const row: ComponentRow = {
      id: c.id,
      name: c.name,
      description: c.description,
      status: status(c.status),
      days,
      daysSummary: bad === 0 ? `No incidents in the last ${historyDays} days` : `Incidents on ${bad} of the last ${historyDays} days`,
    };
    groups.set(c.group, [...(groups.get(c.group) ?? []), row]);
  }
  const worst = worstStatus(r.components.map((c) => c.status));
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  const detail = [
    activeCards.length ? count(activeCards.length, 'active incident') : '',
    activeMaintenance.length ? `${count(activeMaintenance.length, 'maintenance window')} in progress` : '',
  ].filter(Boolean);
  return {
    kind: 'index',
    frame: frame(r, null, `Current status, incidents and maintenance for ${r.settings.pageName}.`, true),
    banner: { status: status(worst), text: bannerText[worst], detail: detail.length ? detail.join(', ') : 'No active incidents' },
    groups: [...groups].map(([name, components]) => ({ name, components })),
    incidents: activeCards,
    recentlyResolved: resolvedCards,
    activeMaintenances: activeMaintenance,
    upcomingMaintenances: upcoming,
    historyDays,
  };
}

// ---- incident and maintenance pages ----

/** Incident pages for the given ids, or for every incident this audience sees. */
export async function incidentPages(r: SiteReading, ids?: string[]): Promise<IncidentPage[]> {
  const rows = await loadIncidents(r.db, r.audience, { ids });
  const everything = rows.map((i) => i.id);
  const [timeline, postmortems, actionItems] = await Promise.all([
    loadUpdates(r.db, r.audience, { incidentIds: everything }),
    loadPostmortems(r.db, r.audience, everything),
    r.audience.actionItems(r.db, everything),
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
      affected: (own.at(-1)?.components ?? []).map((c) => ({ name: c.name, status: status(c.status as ComponentStatus) })),
      timeline: own.map((u) => views.get(u.id)!).reverse(),
      postmortem: pm
        ? {
            publishedAt: timeView(pm.publishedAt),
            paragraphs: paragraphs(pm.body),
            actionItems: (actionItems.get(incident.id) ?? []).map((a) => ({ title: a.title, owner: a.owner, due: a.dueDate })),
          }
        : undefined,
    };
  });
}

export async function maintenancePages(r: SiteReading, ids?: string[]): Promise<MaintenancePage[]> {
  const rows = await loadMaintenances(r.db, r.audience, { ids });
  const timeline = await loadUpdates(r.db, r.audience, { maintenanceIds: rows.map((m) => m.id) });
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
  const start = await historyStart(r.db, r.audience);
  const first = start ? monthOf(start, r.settings.timeZone) : current;
  return monthsBetween(first < current ? first : current, current);
}

export function historyPage(r: SiteReading, months: Month[]): HistoryPage {
  return {
    kind: 'history',
    frame: frame(r, 'Incident history', `Past incidents and maintenance for ${r.settings.pageName}, month by month.`),
    months: [...months].reverse().map((m) => ({ href: links.month(r.audience, m), text: monthLabel(m) })),
  };
}

export async function historyMonthPage(r: SiteReading, month: Month, months: Month[]): Promise<HistoryMonthPage> {
  const tz = r.settings.timeZone;
  const range = { from: startOfMonth(month, tz), to: startOfMonth(addMonths(month, 1), tz) };
  const [incidentRows, maintenanceRows] = await Promise.all([
    loadIncidents(r.db, r.audience, { startedIn: range }),
    loadMaintenances(r.db, r.audience, { scheduledIn: range }),
  ]);
  const [incidents, windows] = await Promise.all([incidentCards(r, incidentRows), maintenanceCards(r, maintenanceRows, false)]);
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
      .map(([day, e]) => ({ day, anchor: `day-${day}`, label: dayLabel(day), ...e })),
    older: at > 0 ? { href: links.month(r.audience, months[at - 1]!), text: monthLabel(months[at - 1]!) } : undefined,
    newer: at >= 0 && at < months.length - 1 ? { href: links.month(r.audience, months[at + 1]!), text: monthLabel(months[at + 1]!) } : undefined,
  };
}

// ---- the rest ----

export function signInPage(r: SiteReading, error?: string): SignInPage {
  const f = frame(r, 'Sign in', 'Sign in to the internal status page.');
  return { kind: 'sign-in', frame: { ...f, signOut: undefined }, action: '/internal/sign-in', error };
}

export function consolePage(r: SiteReading, title: string, body: string): ConsolePage {
  return { kind: 'console', frame: frame(r, title, `${title}: the comms console.`), body };
}

export function notFoundPage(r: SiteReading): NotFoundPage {
  return { kind: 'not-found', frame: frame(r, 'Page not found', 'There is nothing at this address.') };
}
