// Statuspage's shapes, built once: page, component, incident, update and maintenance, for /api/v2/* and webhooks alike.
import { createHash } from 'node:crypto';
import {
  componentStatusEnum,
  incidentStatusEnum,
  maintenanceStatusEnum,
  severityEnum,
  statuspageUpdateStatus,
  worstStatus,
  type PageStatus,
} from './domain.ts';
import { absolute, paths } from './links.ts';
import type { IncidentRecord, MaintenanceRecord, PostmortemRecord, UpdateRecord } from './site/records.ts';
import type { ComponentState } from './status.ts';

/** A stable page id from the public URL, shaped like Statuspage's. */
export function pageId(publicUrl: string): string {
  return BigInt(`0x${createHash('sha256').update(publicUrl).digest('hex').slice(0, 15)}`).toString(36).slice(0, 12);
}

const iso = (at: Date | null | undefined) => (at ? at.toISOString() : null);
const latest = (...times: (Date | null | undefined)[]) => new Date(Math.max(...times.flatMap((t) => (t ? [t.getTime()] : []))));

/**
 * What every shape is built against: the page id, links, and the live components (public reader) in display order
 * with the positions Statuspage numbers them by. Build it with `statuspageCatalog` from one reading.
 */
export interface StatuspageCatalog {
  pageId: string;
  publicUrl: string;
  components: Map<string, ComponentState>;
  /** Each component's (and group's) position: top-level items from 1, members of a group from 1 within it. */
  positions: Map<string, number>;
}

/** The catalogue for one reading of the live components (api/status.ts `readComponents`, public reader). */
export function statuspageCatalog(publicUrl: string, components: readonly ComponentState[]): StatuspageCatalog {
  return { pageId: pageId(publicUrl), publicUrl, components: new Map(components.map((c) => [c.id, c])), positions: positionsOf(components) };
}

/** Positions as Statuspage numbers them: groups and ungrouped components share the top level; members restart in their group. */
function positionsOf(components: readonly ComponentState[]): Map<string, number> {
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

/** `status` of /api/v2 (status.json, summary.json): the page status's indicator and description. */
export function statuspageStatus(page: PageStatus) {
  return { indicator: page.indicator, description: page.description };
}

/** A webhook envelope's `page` (Statuspage, "Enable webhook notifications"): id and the page status now. */
export function webhookPage(cat: StatuspageCatalog, page: PageStatus) {
  return { id: cat.pageId, status_indicator: page.indicator, status_description: page.description };
}

/**
 * One component in Statuspage's shape, as components.json, summary.json, an incident's `components` and a
 * component webhook carry it. `as` overrides the status and the time it took effect (a webhook tells of one change).
 */
export function componentJson(cat: StatuspageCatalog, c: ComponentState, as?: { status: ComponentState['status']; at: Date }) {
  return {
    id: c.id,
    name: c.name,
    status: componentStatusEnum[as?.status ?? c.status].statuspage,
    created_at: iso(c.createdAt),
    updated_at: iso(as?.at ?? c.updatedAt),
    position: cat.positions.get(c.id) ?? null,
    description: c.description || null,
    showcase: true,
    start_date: null,
    group_id: c.groupId,
    page_id: cat.pageId,
    group: false,
    only_show_if_degraded: false,
  };
}

/** Components in display order, with a group component (Statuspage's shape) before the members of each group. */
export function componentsJson(cat: StatuspageCatalog) {
  const list = [...cat.components.values()];
  const out: Record<string, unknown>[] = [];
  const seenGroups = new Set<string>();
  for (const c of list) {
    if (c.groupId !== null && !seenGroups.has(c.groupId)) {
      seenGroups.add(c.groupId);
      const members = list.filter((m) => m.groupId === c.groupId);
      out.push({
        id: c.groupId,
        name: c.group,
        status: componentStatusEnum[worstStatus(members.map((m) => m.status))].statuspage,
        created_at: iso(new Date(Math.min(...members.map((m) => m.createdAt.getTime())))),
        updated_at: iso(latest(...members.map((m) => m.updatedAt))),
        position: cat.positions.get(c.groupId)!,
        description: null,
        showcase: false,
        start_date: null,
        group_id: null,
        page_id: cat.pageId,
        group: true,
        only_show_if_degraded: false,
        components: members.map((m) => m.id),
      });
    }
    out.push(componentJson(cat, c));
  }
  return out;
}

/**
 * Each update with the component changes it made relative to the one before it, newest first, as Statuspage lists
 * them; with the keys its webhook documentation adds (`wants_twitter_update`, `twitter_updated_at`).
 */
function updatesJson(subjectId: string, timeline: UpdateRecord[]) {
  const last = new Map<string, string>();
  const out = timeline.map((u) => {
    const affected = u.components
      .filter((c) => last.get(c.id) !== c.status)
      .map((c) => ({ code: c.id, name: c.name, old_status: last.get(c.id) ?? 'operational', new_status: c.status }));
    for (const c of u.components) last.set(c.id, c.status);
    const at = iso(u.createdAt);
    return {
      id: u.id,
      status: statuspageUpdateStatus(u.status),
      body: u.body,
      incident_id: subjectId,
      created_at: at,
      updated_at: at,
      display_at: at,
      affected_components: affected,
      deliver_notifications: true,
      custom_tweet: null,
      tweet_id: null,
      wants_twitter_update: false,
      twitter_updated_at: null,
    };
  });
  return out.reverse();
}

/** The subject's components as they stand now, in display order; archived ones are left out. */
function componentsOf(cat: StatuspageCatalog, ids: Iterable<string>) {
  const wanted = new Set(ids);
  return [...cat.components.values()].filter((c) => wanted.has(c.id)).map((c) => componentJson(cat, c));
}

/**
 * The keys Statuspage's webhook documentation adds to an incident beyond /api/v2's, each as it reads where it does
 * not apply (support.atlassian.com/statuspage, "Enable webhook notifications"; a captured postmortem webhook, 2024).
 */
function webhookExtras(scheduled: { for: Date; until: Date } | null, postmortem: PostmortemRecord | undefined) {
  return {
    scheduled_for: iso(scheduled?.for),
    scheduled_until: iso(scheduled?.until),
    scheduled_remind_prior: false,
    scheduled_reminded_at: null,
    scheduled_auto_in_progress: false,
    scheduled_auto_completed: false,
    scheduled_auto_transition: false,
    impact_override: null,
    backfilled: false,
    metadata: {},
    reminder_intervals: null,
    postmortem_body: postmortem?.body ?? null,
    postmortem_body_last_updated_at: iso(postmortem?.updatedAt),
    postmortem_published_at: iso(postmortem?.publishedAt),
  };
}

/**
 * An incident in Statuspage's shape, the same for /api/v2 and webhooks; `postmortem` is its published postmortem as
 * the reader sees it (the external summary for the public), whose text is `postmortem_body`. `impact` is the worst impact it had on any
 * component over its whole timeline (it stays after resolution), or, when it impaired none, its severity's
 * (domain.ts severityEnum: SEV1 critical, SEV2 major).
 */
export function incidentJson(cat: StatuspageCatalog, i: IncidentRecord, timeline: UpdateRecord[], postmortem?: PostmortemRecord) {
  const touched = timeline.flatMap((u) => u.components.map((c) => c.id));
  const monitoring = timeline.find((u) => u.status === 'monitoring');
  const fromComponents = componentStatusEnum[worstStatus(timeline.flatMap((u) => u.components.map((c) => c.status)))].impact;
  return {
    id: i.id,
    name: i.title,
    status: incidentStatusEnum[i.status].statuspage,
    created_at: iso(i.createdAt),
    // Never before created_at, even for incidents whose updates were back-dated.
    updated_at: iso(latest(i.createdAt, i.updatedAt, timeline.at(-1)?.createdAt)),
    monitoring_at: iso(monitoring?.createdAt),
    resolved_at: iso(i.resolvedAt),
    impact: fromComponents === 'none' ? severityEnum[i.severity].impact : fromComponents,
    shortlink: absolute(cat.publicUrl, paths.incident('public', i.id)),
    started_at: iso(i.startedAt),
    page_id: cat.pageId,
    incident_updates: updatesJson(i.id, timeline),
    components: componentsOf(cat, touched),
    ...webhookExtras(null, postmortem),
  };
}

/**
 * A maintenance in Statuspage's shape. `started_at` is when the work began, or, before it begins (or when it was
 * called off), when the window was announced: Statuspage's own upcoming windows carry their creation time there,
 * never the future start, and `started_at` never follows `resolved_at`.
 */
export function maintenanceJson(cat: StatuspageCatalog, m: MaintenanceRecord, timeline: UpdateRecord[], covered: { id: string }[]) {
  const started = m.startedAt ?? m.createdAt;
  return {
    id: m.id,
    name: m.title,
    status: maintenanceStatusEnum[m.status].statuspage,
    created_at: iso(m.createdAt),
    updated_at: iso(latest(m.createdAt, m.updatedAt, timeline.at(-1)?.createdAt)),
    monitoring_at: null,
    resolved_at: iso(m.completedAt),
    impact: 'maintenance' as const,
    shortlink: absolute(cat.publicUrl, paths.maintenance('public', m.id)),
    started_at: iso(m.completedAt && m.completedAt < started ? m.completedAt : started),
    page_id: cat.pageId,
    incident_updates: updatesJson(m.id, timeline),
    components: componentsOf(cat, covered.map((c) => c.id)),
    ...webhookExtras({ for: m.scheduledFor, until: m.scheduledUntil }, undefined),
  };
}
