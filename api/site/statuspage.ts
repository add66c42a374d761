// The Statuspage-compatible public JSON (/api/v2/*.json): Statuspage's field names and enums, so existing widgets work unchanged.
import { createHash } from 'node:crypto';
import type { Queryable } from '../../db/client.ts';
import { componentRank, worstStatus, type ComponentStatus, type MaintenanceStatus } from '../domain.ts';
import type { SiteFile } from './output.ts';
import {
  audiences,
  lastChange,
  loadComponents,
  loadIncidents,
  loadMaintenanceComponents,
  loadMaintenances,
  loadUpdates,
  type ComponentRecord,
  type IncidentRecord,
  type MaintenanceRecord,
  type UpdateRecord,
} from './records.ts';
import type { SiteSettings } from './view-model.ts';

/** The documents status widgets poll: a render swaps them in first, with the front page. */
export const polledDocuments = new Set(['api/v2/summary.json', 'api/v2/status.json']);

/** The list endpoints carry the 50 most recent, as Statuspage's do. */
export const listLimit = 50;

export type Indicator = 'none' | 'minor' | 'major' | 'critical';
type Impact = Indicator | 'maintenance';

export const indicatorOf: Record<ComponentStatus, Indicator> = {
  operational: 'none',
  under_maintenance: 'none',
  degraded_performance: 'minor',
  partial_outage: 'major',
  major_outage: 'critical',
};
const indicators: Indicator[] = ['none', 'minor', 'major', 'critical'];
export const descriptions: Record<Indicator, string> = {
  none: 'All Systems Operational',
  minor: 'Minor Service Outage',
  major: 'Partial System Outage',
  critical: 'Major Service Outage',
};

/** Statuspage has no "cancelled" maintenance: a cancelled window reads as completed, with the update saying why. */
const maintenanceStatusOf: Record<MaintenanceStatus, string> = {
  scheduled: 'scheduled',
  in_progress: 'in_progress',
  verifying: 'verifying',
  completed: 'completed',
  cancelled: 'completed',
};

const iso = (at: Date | null | undefined) => (at ? at.toISOString() : null);

/** A stable page id from the public URL, shaped like Statuspage's. */
export function pageId(publicUrl: string): string {
  return BigInt(`0x${createHash('sha256').update(publicUrl).digest('hex').slice(0, 15)}`).toString(36).slice(0, 12);
}

const slug = (name: string) => name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'group';

interface Context {
  page: { id: string; name: string; url: string; time_zone: string; updated_at: string };
  components: Map<string, ComponentRecord>;
  publicUrl: string;
}

function componentJson(ctx: Context, c: ComponentRecord, position: number) {
  return {
    id: c.id,
    name: c.name,
    status: c.status,
    created_at: iso(c.createdAt),
    updated_at: iso(c.updatedAt),
    position,
    description: c.description || null,
    showcase: true,
    start_date: null,
    group_id: c.group ? `group-${slug(c.group)}` : null,
    page_id: ctx.page.id,
    group: false,
    only_show_if_degraded: false,
  };
}

/** Components in order, with a group component (Statuspage's shape) before the members of each group. */
function componentsJson(ctx: Context) {
  const list = [...ctx.components.values()];
  const out: Record<string, unknown>[] = [];
  const seenGroups = new Set<string>();
  for (const c of list) {
    if (c.group && !seenGroups.has(c.group)) {
      seenGroups.add(c.group);
      const members = list.filter((m) => m.group === c.group);
      out.push({
        id: `group-${slug(c.group)}`,
        name: c.group,
        status: worstStatus(members.map((m) => m.status)),
        created_at: iso(new Date(Math.min(...members.map((m) => m.createdAt.getTime())))),
        updated_at: iso(new Date(Math.max(...members.map((m) => m.updatedAt.getTime())))),
        position: out.length + 1,
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
    out.push(componentJson(ctx, c, out.length + 1));
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
      status: u.status,
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

function impactOf(timeline: UpdateRecord[]): Indicator {
  const worst = worstStatus(timeline.flatMap((u) => u.components.map((c) => c.status as ComponentStatus)));
  return indicatorOf[worst];
}

function incidentJson(ctx: Context, i: IncidentRecord, timeline: UpdateRecord[]) {
  const touched = [...new Set(timeline.flatMap((u) => u.components.map((c) => c.id)))];
  const monitoring = timeline.find((u) => u.status === 'monitoring');
  return {
    id: i.id,
    name: i.title,
    status: i.status,
    created_at: iso(i.createdAt),
    updated_at: iso(timeline.at(-1)?.createdAt ?? i.updatedAt),
    monitoring_at: iso(monitoring?.createdAt),
    resolved_at: iso(i.resolvedAt),
    impact: impactOf(timeline) as Impact,
    shortlink: `${ctx.publicUrl}/incidents/${i.id}/`,
    started_at: iso(i.startedAt),
    page_id: ctx.page.id,
    incident_updates: updatesJson(i.id, timeline),
    components: touched.flatMap((id) => {
      const c = ctx.components.get(id);
      return c ? [componentJson(ctx, c, [...ctx.components.keys()].indexOf(id) + 1)] : [];
    }),
  };
}

function maintenanceJson(ctx: Context, m: MaintenanceRecord, timeline: UpdateRecord[], covered: { id: string }[]) {
  return {
    id: m.id,
    name: m.title,
    status: maintenanceStatusOf[m.status],
    created_at: iso(m.createdAt),
    updated_at: iso(timeline.at(-1)?.createdAt ?? m.updatedAt),
    monitoring_at: null,
    resolved_at: iso(m.completedAt),
    impact: 'maintenance' as Impact,
    shortlink: `${ctx.publicUrl}/maintenances/${m.id}/`,
    started_at: iso(m.startedAt ?? m.scheduledFor),
    page_id: ctx.page.id,
    incident_updates: updatesJson(m.id, timeline),
    components: covered.flatMap(({ id }) => {
      const c = ctx.components.get(id);
      return c ? [componentJson(ctx, c, [...ctx.components.keys()].indexOf(id) + 1)] : [];
    }),
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

/** Every /api/v2 document, read through the public audience only: external wording, SEV1/SEV2 incidents. */
export async function statuspageFiles(db: Queryable, settings: SiteSettings, now: Date): Promise<SiteFile[]> {
  const a = audiences.public;
  const [components, recent, unresolved, windows, upcoming, active, changed] = await Promise.all([
    loadComponents(db, a),
    loadIncidents(db, a, { limit: listLimit }),
    loadIncidents(db, a, { active: true }),
    loadMaintenances(db, a, { limit: listLimit }),
    loadMaintenances(db, a, { statuses: ['scheduled'] }),
    loadMaintenances(db, a, { statuses: ['in_progress', 'verifying'] }),
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
    publicUrl: settings.publicUrl,
  };
  const incident = (i: IncidentRecord) => incidentJson(ctx, i, timelines.get(i.id) ?? []);
  const maintenance = (m: MaintenanceRecord) => maintenanceJson(ctx, m, timelines.get(m.id) ?? [], covered.get(m.id) ?? []);

  const componentIndicator = indicatorOf[worstStatus(components.map((c) => c.status))];
  const indicator = [componentIndicator, ...unresolved.map((i) => impactOf(timelines.get(i.id) ?? []))].reduce((w, x) =>
    indicators.indexOf(x) > indicators.indexOf(w) ? x : w,
  );
  const maintaining = indicator === 'none' && components.some((c) => componentRank(c.status) === componentRank('under_maintenance'));
  const status = { indicator, description: maintaining ? 'Service Under Maintenance' : descriptions[indicator] };
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
  return Object.entries(documents).map(([name, body]) => ({ path: `api/v2/${name}`, body: JSON.stringify(body) }));
}
