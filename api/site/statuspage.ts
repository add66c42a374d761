// The Statuspage-compatible public JSON (/api/v2/*.json): Statuspage's field names and enums, so existing widgets work unchanged.
import { createHash } from 'node:crypto';
import type { Queryable } from '../../db/client.ts';
import { xmlSafeJson } from '../characters.ts';
import {
  activeMaintenanceStatuses,
  pageStatus,
  upcomingMaintenanceStatuses,
  worstStatus,
  type ComponentStatus,
  type MaintenanceStatus,
  type UpdateStatusValue,
} from '../domain.ts';
import { absolute, paths } from '../links.ts';
import type { ComponentState } from '../status.ts';
import type { SiteFile } from './output.ts';
import {
  readers,
  lastChange,
  loadComponents,
  loadIncidents,
  loadMaintenanceComponents,
  loadMaintenances,
  loadUpdates,
  type IncidentRecord,
  type MaintenanceRecord,
  type UpdateRecord,
} from './records.ts';
import type { SiteSettings } from './view-model.ts';

/** The documents status widgets poll: a render swaps them in first, with the front page. */
export const polledDocuments = new Set(['api/v2/summary.json', 'api/v2/status.json']);

/** The list endpoints carry the 50 most recent, as Statuspage's do. */
const listLimit = 50;

/** An incident's impact: Statuspage's enum for incidents (maintenance has its own, `maintenance`). */
type IncidentImpact = 'none' | 'minor' | 'major' | 'critical';

const impactOfStatus: Record<ComponentStatus, IncidentImpact> = {
  operational: 'none',
  under_maintenance: 'none',
  degraded_performance: 'minor',
  partial_outage: 'major',
  major_outage: 'critical',
};

/** Statuspage has no "cancelled" maintenance: a cancelled window reads as completed, with the update saying why. */
const maintenanceStatusOf: Record<MaintenanceStatus, 'scheduled' | 'in_progress' | 'verifying' | 'completed'> = {
  scheduled: 'scheduled',
  in_progress: 'in_progress',
  verifying: 'verifying',
  completed: 'completed',
  cancelled: 'completed',
};

/** An update's status in Statuspage's enums: incident statuses as they are, maintenance ones mapped as above. */
const updateStatusOf = (status: UpdateStatusValue) => (status in maintenanceStatusOf ? maintenanceStatusOf[status as MaintenanceStatus] : status);

const iso = (at: Date | null | undefined) => (at ? at.toISOString() : null);
const latest = (...times: (Date | null | undefined)[]) => new Date(Math.max(...times.flatMap((t) => (t ? [t.getTime()] : []))));

/** A stable page id from the public URL, shaped like Statuspage's. */
export function pageId(publicUrl: string): string {
  return BigInt(`0x${createHash('sha256').update(publicUrl).digest('hex').slice(0, 15)}`).toString(36).slice(0, 12);
}

interface Context {
  page: { id: string; name: string; url: string; time_zone: string; updated_at: string };
  components: Map<string, ComponentState>;
  /** Each component's (and group's) position: top-level items from 1, members of a group from 1 within it. */
  positions: Map<string, number>;
  publicUrl: string;
}

/** Positions as Statuspage numbers them: groups and ungrouped components share the top level; members restart in their group. */
function positionsOf(components: ComponentState[]): Map<string, number> {
  const positions = new Map<string, number>();
  const inGroup = new Map<string, number>();
  let top = 0;
  for (const c of components) {
    if (c.groupId === null) positions.set(c.id, ++top);
    else {
      if (!positions.has(c.groupId)) positions.set(c.groupId, ++top);
      const n = (inGroup.get(c.groupId) ?? 0) + 1;
      inGroup.set(c.groupId, n);
      positions.set(c.id, n);
    }
  }
  return positions;
}

function componentJson(ctx: Context, c: ComponentState) {
  return {
    id: c.id,
    name: c.name,
    status: c.status,
    created_at: iso(c.createdAt),
    updated_at: iso(c.updatedAt),
    position: ctx.positions.get(c.id)!,
    description: c.description || null,
    showcase: true,
    start_date: null,
    group_id: c.groupId,
    page_id: ctx.page.id,
    group: false,
    only_show_if_degraded: false,
  };
}

/** Components in display order, with a group component (Statuspage's shape) before the members of each group. */
function componentsJson(ctx: Context) {
  const list = [...ctx.components.values()];
  const out: Record<string, unknown>[] = [];
  const seenGroups = new Set<string>();
  for (const c of list) {
    if (c.groupId !== null && !seenGroups.has(c.groupId)) {
      seenGroups.add(c.groupId);
      const members = list.filter((m) => m.groupId === c.groupId);
      out.push({
        id: c.groupId,
        name: c.group,
        status: worstStatus(members.map((m) => m.status)),
        created_at: iso(new Date(Math.min(...members.map((m) => m.createdAt.getTime())))),
        updated_at: iso(latest(...members.map((m) => m.updatedAt))),
        position: ctx.positions.get(c.groupId)!,
        description: null,
        showcase: false,
        start_date: null,
        group_id: null,
        page_id: ctx.page.id,
        group: true,
        only_show_if_degraded: false,
        components: members.map((m) => m.id),
      });
    }
    out.push(componentJson(ctx, c));
  }
  return out;
}

/** Each update with the component changes it made relative to the one before it. Newest first, as Statuspage lists them. */
function updatesJson(subjectId: string, timeline: UpdateRecord[]) {
  const last = new Map<string, string>();
  const out = timeline.map((u) => {
    const affected = u.components
      .filter((c) => last.get(c.id) !== c.status)
      .map((c) => ({ code: c.id, name: c.name, old_status: last.get(c.id) ?? 'operational', new_status: c.status }));
    for (const c of u.components) last.set(c.id, c.status);
    return {
      id: u.id,
      status: updateStatusOf(u.status),
      body: u.body,
      incident_id: subjectId,
      created_at: iso(u.createdAt),
      updated_at: iso(u.createdAt),
      display_at: iso(u.createdAt),
      affected_components: affected,
      deliver_notifications: true,
      custom_tweet: null,
      tweet_id: null,
    };
  });
  return out.reverse();
}

/** The worst impact the incident had on any component, over its whole timeline (it stays after resolution). */
function impactOf(timeline: UpdateRecord[]): IncidentImpact {
  return impactOfStatus[worstStatus(timeline.flatMap((u) => u.components.map((c) => c.status)))];
}

/** The subject's components as they stand now, in display order; archived ones are left out. */
function componentsOf(ctx: Context, ids: Iterable<string>) {
  const wanted = new Set(ids);
  return [...ctx.components.values()].filter((c) => wanted.has(c.id)).map((c) => componentJson(ctx, c));
}

function incidentJson(ctx: Context, i: IncidentRecord, timeline: UpdateRecord[]) {
  const touched = timeline.flatMap((u) => u.components.map((c) => c.id));
  const monitoring = timeline.find((u) => u.status === 'monitoring');
  return {
    id: i.id,
    name: i.title,
    status: i.status,
    created_at: iso(i.createdAt),
    // Never before created_at, even for incidents whose updates were back-dated.
    updated_at: iso(latest(i.createdAt, i.updatedAt, timeline.at(-1)?.createdAt)),
    monitoring_at: iso(monitoring?.createdAt),
    resolved_at: iso(i.resolvedAt),
    impact: impactOf(timeline),
    shortlink: absolute(ctx.publicUrl, paths.incident('public', i.id)),
    started_at: iso(i.startedAt),
    page_id: ctx.page.id,
    incident_updates: updatesJson(i.id, timeline),
    components: componentsOf(ctx, touched),
  };
}

/**
 * A maintenance in Statuspage's shape. `started_at` is when the work began, or, before it begins (or when it was
 * called off), when the window was announced: Statuspage's own upcoming windows carry their creation time there,
 * never the future start, and `started_at` never follows `resolved_at`.
 */
function maintenanceJson(ctx: Context, m: MaintenanceRecord, timeline: UpdateRecord[], covered: { id: string }[]) {
  const started = m.startedAt ?? m.createdAt;
  return {
    id: m.id,
    name: m.title,
    status: maintenanceStatusOf[m.status],
    created_at: iso(m.createdAt),
    updated_at: iso(latest(m.createdAt, m.updatedAt, timeline.at(-1)?.createdAt)),
    monitoring_at: null,
    resolved_at: iso(m.completedAt),
    impact: 'maintenance' as const,
    shortlink: absolute(ctx.publicUrl, paths.maintenance('public', m.id)),
    started_at: iso(m.completedAt && m.completedAt < started ? m.completedAt : started),
    page_id: ctx.page.id,
    incident_updates: updatesJson(m.id, timeline),
    components: componentsOf(ctx, covered.map((c) => c.id)),
    scheduled_for: iso(m.scheduledFor),
    scheduled_until: iso(m.scheduledUntil),
  };
}

function byId<T extends { incidentId: string | null; maintenanceId: string | null }>(rows: T[]) {
  const map = new Map<string, T[]>();
  for (const r of rows) {
    const id = r.incidentId ?? r.maintenanceId!;
    map.set(id, [...(map.get(id) ?? []), r]);
  }
  return map;
}

/** Every /api/v2 document, read through the public reader only: external wording, SEV1/SEV2 incidents. */
export async function statuspageFiles(db: Queryable, settings: SiteSettings, now: Date): Promise<SiteFile[]> {
  const a = readers.public;
  const [components, recent, unresolved, windows, upcoming, active, changed] = await Promise.all([
    loadComponents(db, a),
    loadIncidents(db, a, { limit: listLimit }),
    loadIncidents(db, a, { active: true }),
    loadMaintenances(db, a, { limit: listLimit }),
    loadMaintenances(db, a, { statuses: [...upcomingMaintenanceStatuses] }),
    loadMaintenances(db, a, { statuses: [...activeMaintenanceStatuses] }),
    lastChange(db, a),
  ]);
  const incidentIds = [...new Set([...recent, ...unresolved].map((i) => i.id))];
  const maintenanceIds = [...new Set([...windows, ...upcoming, ...active].map((m) => m.id))];
  const [incidentUpdates, maintenanceUpdates, covered] = await Promise.all([
    loadUpdates(db, a, { incidentIds }),
    loadUpdates(db, a, { maintenanceIds }),
    loadMaintenanceComponents(db, maintenanceIds),
  ]);
  const timelines = byId([...incidentUpdates, ...maintenanceUpdates]);
  const ctx: Context = {
    page: { id: pageId(settings.publicUrl), name: settings.pageName, url: settings.publicUrl, time_zone: settings.timeZone, updated_at: iso(changed ?? now)! },
    components: new Map(components.map((c) => [c.id, c])),
    positions: positionsOf(components),
    publicUrl: settings.publicUrl,
  };
  const incident = (i: IncidentRecord) => incidentJson(ctx, i, timelines.get(i.id) ?? []);
  const maintenance = (m: MaintenanceRecord) => maintenanceJson(ctx, m, timelines.get(m.id) ?? [], covered.get(m.id) ?? []);

  // The same blend of the same component statuses as the page's banner (SPEC "Agreement: one status truth").
  const { indicator, description } = pageStatus(components.map((c) => c.status));
  const status = { indicator, description };
  const soonestFirst = [...upcoming].reverse();
  const page = ctx.page;
  const documents: Record<string, unknown> = {
    'summary.json': {
      page,
      components: componentsJson(ctx),
      incidents: unresolved.map(incident),
      scheduled_maintenances: [...active, ...soonestFirst].map(maintenance),
      status,
    },
    'status.json': { page, status },
    'components.json': { page, components: componentsJson(ctx) },
    'incidents.json': { page, incidents: recent.map(incident) },
    'incidents/unresolved.json': { page, incidents: unresolved.map(incident) },
    'scheduled-maintenances.json': { page, scheduled_maintenances: windows.map(maintenance) },
    'scheduled-maintenances/upcoming.json': { page, scheduled_maintenances: soonestFirst.map(maintenance) },
    'scheduled-maintenances/active.json': { page, scheduled_maintenances: active.map(maintenance) },
  };
  return Object.entries(documents).map(([name, body]) => ({ path: `api/v2/${name}`, body: JSON.stringify(body, xmlSafeJson) }));
}
