// What each reader may read, as facts: the one place that picks external or internal wording and keeps SEV3/SEV4 out of public outputs.
import { and, asc, desc, eq, gte, inArray, isNull, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import type { Queryable } from '../../db/client.ts';
import {
  components,
  incidents,
  maintenanceComponents,
  maintenances,
  postmortems,
  updates,
  type ActionItem,
  type ComponentImpact,
  type Roles,
} from '../../db/schema.ts';
import {
  activeIncidentStatuses,
  componentStatuses,
  type IncidentStatus,
  type MaintenanceStatus,
  type ReachFlags,
  type Reader,
  type Severity,
  type UpdateStatusValue,
} from '../domain.ts';
import { readerRoot } from '../links.ts';
import { incidentVisibleTo, readComponents, type ComponentState } from '../status.ts';

/** Facts insiders read about an incident beyond its wording; the view-model puts them in words. */
export interface IncidentInsight {
  severity: Severity;
  status: IncidentStatus;
  audiences: ReachFlags;
  roles: Roles;
  startedAt: Date;
  acknowledgedAt: Date;
  mitigatedAt: Date | null;
  resolvedAt: Date | null;
  nextUpdateAt: Date | null;
  /** Made from an alert and not yet published. */
  draft: boolean;
  /** Statuses of the alert groups behind the incident, comma-separated; null when it came from no alert. */
  alerts: string | null;
}

/** The other wording of an update (the external one, for insiders), and whether customers were given it. */
interface OtherWording {
  published: boolean;
  body: string;
}

export interface IncidentRecord {
  id: string;
  title: string;
  status: IncidentStatus;
  /** Public incidents are SEV1 or SEV2; it gives the impact of one that impairs no component. */
  severity: Severity;
  startedAt: Date;
  resolvedAt: Date | null;
  /** When the next update is promised (customers read it as "next update by"); null when none is. */
  nextUpdateAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface UpdateRecord {
  id: string;
  incidentId: string | null;
  maintenanceId: string | null;
  status: UpdateStatusValue;
  body: string;
  components: ComponentImpact[];
  createdAt: Date;
}

export interface MaintenanceRecord {
  id: string;
  title: string;
  status: MaintenanceStatus;
  scheduledFor: Date;
  scheduledUntil: Date;
  startedAt: Date | null;
  completedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface PostmortemRecord {
  incidentId: string;
  body: string;
  publishedAt: Date;
  updatedAt: Date;
}

export interface ReaderPolicy {
  name: Reader;
  /** URL prefix of this reader's pages. */
  base: '' | '/internal';
  /** Whether this reader's pages carry a marker (the internal page does; the public site does not). */
  marked: boolean;
  /** Which incidents and updates this reader sees. */
  seesIncident: SQL;
  seesUpdate: SQL;
  /** The wording this reader reads. */
  wording: { incident: SQL<string>; maintenance: SQL<string>; update: SQL<string>; postmortem: SQL<string> };
  /** What else this reader knows about incidents (severity, roles, cadence, milestones), by incident id. */
  incidentInsights(db: Queryable, ids: string[]): Promise<Map<string, IncidentInsight>>;
  /** The other wording of each update, by update id. */
  otherWordings(db: Queryable, ids: string[]): Promise<Map<string, OtherWording>>;
  /** Postmortem action items, by incident id. */
  actionItems(db: Queryable, incidentIds: string[]): Promise<Map<string, ActionItem[]>>;
}

const nothing = async <T>() => new Map<string, T>();

const publicReader: ReaderPolicy = {
  name: 'public',
  base: readerRoot.public,
  marked: false,
  seesIncident: incidentVisibleTo('public'),
  seesUpdate: sql`json_extract(${updates.audiences}, '$.public') = 1`,
  wording: {
    incident: sql<string>`${incidents.title}`,
    maintenance: sql<string>`${maintenances.title}`,
    update: sql<string>`${updates.externalBody}`,
    postmortem: sql<string>`${postmortems.externalSummary}`,
  },
  // Customers get the external wording and nothing else.
  incidentInsights: nothing,
  otherWordings: nothing,
  actionItems: nothing,
};

const internalReader: ReaderPolicy = {
  name: 'internal',
  base: readerRoot.internal,
  marked: true,
  seesIncident: incidentVisibleTo('internal'),
  seesUpdate: sql`1 = 1`,
  wording: {
    incident: sql<string>`${incidents.internalTitle}`,
    maintenance: sql<string>`${maintenances.internalTitle}`,
    update: sql<string>`${updates.internalBody}`,
    postmortem: sql<string>`${postmortems.internalBody}`,
  },
  async incidentInsights(db, ids) {
    if (ids.length === 0) return new Map();
    const rows = await db
      .select({
        id: incidents.id,
        severity: incidents.severity,
        status: incidents.status,
        audiences: incidents.audiences,
        roles: incidents.roles,
        startedAt: incidents.startedAt,
        acknowledgedAt: incidents.acknowledgedAt,
        mitigatedAt: incidents.mitigatedAt,
        resolvedAt: incidents.resolvedAt,
        nextUpdateAt: incidents.nextUpdateAt,
        draft: incidents.draft,
        alerts: sql<string | null>`(SELECT group_concat(alert_groups.status) FROM alert_groups WHERE alert_groups.incident_id = "incidents"."id")`,
      })
      .from(incidents)
      .where(inArray(incidents.id, ids));
    return new Map(rows.map(({ id, ...insight }) => [id, insight]));
  },
  async otherWordings(db, ids) {
    if (ids.length === 0) return new Map();
    const rows = await db
      .select({ id: updates.id, body: updates.externalBody, audiences: updates.audiences })
      .from(updates)
      .where(inArray(updates.id, ids));
    return new Map(rows.map((r) => [r.id, { published: r.audiences.public, body: r.body }]));
  },
  async actionItems(db, incidentIds) {
    if (incidentIds.length === 0) return new Map();
    const rows = await db
      .select({ id: postmortems.incidentId, items: postmortems.actionItems })
      .from(postmortems)
      .where(inArray(postmortems.incidentId, incidentIds));
    return new Map(rows.map((r) => [r.id, r.items]));
  },
};

export const readers: Record<Reader, ReaderPolicy> = { public: publicReader, internal: internalReader };

// ---- reading, through a reader ----

/** Each live component in display order, with the status this reader sees (api/status.ts: the one derivation). */
export async function loadComponents(db: Queryable, a: ReaderPolicy): Promise<ComponentState[]> {
  return readComponents(db, a.name);
}

interface IncidentQuery {
  ids?: string[] | undefined;
  active?: boolean | undefined;
  /** Incidents whose impact overlaps [from, to]: started by `to` and not resolved before `from`. */
  overlapping?: { from: Date; to: Date } | undefined;
  startedIn?: { from: Date; to: Date } | undefined;
  limit?: number | undefined;
}

export async function loadIncidents(db: Queryable, a: ReaderPolicy, q: IncidentQuery = {}): Promise<IncidentRecord[]> {
  if (q.ids?.length === 0) return [];
  const filters: (SQL | undefined)[] = [a.seesIncident];
  if (q.ids) filters.push(inArray(incidents.id, q.ids));
  if (q.active) filters.push(inArray(incidents.status, activeIncidentStatuses));
  if (q.overlapping) {
    filters.push(lte(incidents.startedAt, q.overlapping.to), or(isNull(incidents.resolvedAt), gte(incidents.resolvedAt, q.overlapping.from)));
  }
  if (q.startedIn) filters.push(gte(incidents.startedAt, q.startedIn.from), lt(incidents.startedAt, q.startedIn.to));
  const query = db
    .select({
      id: incidents.id,
      title: a.wording.incident,
      status: incidents.status,
      severity: incidents.severity,
      startedAt: incidents.startedAt,
      resolvedAt: incidents.resolvedAt,
      nextUpdateAt: incidents.nextUpdateAt,
      createdAt: incidents.createdAt,
      updatedAt: incidents.updatedAt,
    })
    .from(incidents)
    .where(and(...filters))
    .orderBy(desc(incidents.startedAt), asc(incidents.id));
  return q.limit ? query.limit(q.limit) : query;
}

interface UpdateQuery {
  incidentIds?: string[] | undefined;
  maintenanceIds?: string[] | undefined;
  /** The newest updates of incidents and maintenances this reader sees, e.g. for a feed. */
  newest?: number | undefined;
}

/** Ids are random: within one millisecond only the insertion order tells which update came last. */
const insertion = sql`"updates"."rowid"`;

const updateColumns = (a: ReaderPolicy) => ({
  id: updates.id,
  incidentId: updates.incidentId,
  maintenanceId: updates.maintenanceId,
  status: updates.status,
  body: a.wording.update,
  components: updates.components,
  createdAt: updates.createdAt,
});

/** Updates this reader sees (of incidents it sees, and of maintenance), oldest first. */
async function loadUpdatesWhere(db: Queryable, a: ReaderPolicy, where: SQL): Promise<UpdateRecord[]> {
  return db
    .select(updateColumns(a))
    .from(updates)
    .leftJoin(incidents, eq(incidents.id, updates.incidentId))
    .where(and(a.seesUpdate, or(isNull(updates.incidentId), a.seesIncident), where))
    .orderBy(asc(updates.createdAt), asc(insertion));
}

/** Updates oldest first, except `newest`, which is newest first. */
export async function loadUpdates(db: Queryable, a: ReaderPolicy, q: UpdateQuery): Promise<UpdateRecord[]> {
  if (q.newest !== undefined) {
    return db
      .select(updateColumns(a))
      .from(updates)
      .leftJoin(incidents, eq(incidents.id, updates.incidentId))
      .where(and(a.seesUpdate, or(isNull(updates.incidentId), a.seesIncident)))
      .orderBy(desc(updates.createdAt), desc(insertion))
      .limit(q.newest);
  }
  const subjects: SQL[] = [];
  if (q.incidentIds?.length) subjects.push(sql`${updates.incidentId} IN (SELECT value FROM json_each(${JSON.stringify(q.incidentIds)}))`);
  if (q.maintenanceIds?.length) subjects.push(sql`${updates.maintenanceId} IN (SELECT value FROM json_each(${JSON.stringify(q.maintenanceIds)}))`);
  if (subjects.length === 0) return [];
  return loadUpdatesWhere(db, a, or(...subjects)!);
}

/** The worst impact each incident had on each component, from what its updates recorded, by incident id. */
export async function loadImpacts(db: Queryable, a: ReaderPolicy, incidentIds: string[]): Promise<Map<string, ComponentImpact[]>> {
  const byIncident = new Map<string, ComponentImpact[]>();
  if (incidentIds.length === 0) return byIncident;
  // Ranked in SQL so thousands of incidents cost one aggregate, not every update parsed here.
  const rank = sql.raw(`CASE json_extract(j.value, '$.status') ${componentStatuses.map((s, i) => `WHEN '${s}' THEN ${i}`).join(' ')} ELSE 0 END`);
  const rows = await db.all<{ incident: string; id: string; name: string; rank: number }>(sql`
    SELECT ${updates.incidentId} AS incident, json_extract(j.value, '$.id') AS id, json_extract(j.value, '$.name') AS name, max(${rank}) AS rank
    FROM ${updates}, json_each(${updates.components}) AS j
    WHERE ${updates.incidentId} IN (SELECT value FROM json_each(${JSON.stringify(incidentIds)})) AND ${a.seesUpdate}
    GROUP BY ${updates.incidentId}, json_extract(j.value, '$.id')`);
  for (const r of rows) {
    const list = byIncident.get(r.incident) ?? [];
    list.push({ id: r.id, name: r.name, status: componentStatuses[Number(r.rank)]! });
    byIncident.set(r.incident, list);
  }
  return byIncident;
}

/** The newest update of each incident or maintenance this reader sees, by the incident's or maintenance's id. */
export async function loadLatestUpdates(db: Queryable, a: ReaderPolicy, subjectIds: string[]): Promise<Map<string, UpdateRecord>> {
  if (subjectIds.length === 0) return new Map();
  const ids = JSON.stringify(subjectIds);
  // The inner "updates" shadows the outer one, so the reader's condition applies to the rows being ranked.
  const newest = sql`${updates.id} IN (
    SELECT id FROM (
      SELECT ${updates.id} AS id, row_number() OVER (
        PARTITION BY coalesce(${updates.incidentId}, ${updates.maintenanceId}) ORDER BY ${updates.createdAt} DESC, ${insertion} DESC) AS n
      FROM ${updates}
      WHERE (${updates.incidentId} IN (SELECT value FROM json_each(${ids})) OR ${updates.maintenanceId} IN (SELECT value FROM json_each(${ids})))
        AND ${a.seesUpdate})
    WHERE n = 1)`;
  const rows = await loadUpdatesWhere(db, a, newest);
  return new Map(rows.map((u) => [u.incidentId ?? u.maintenanceId!, u]));
}

interface MaintenanceQuery {
  ids?: string[] | undefined;
  statuses?: MaintenanceStatus[] | undefined;
  overlapping?: { from: Date; to: Date } | undefined;
  scheduledIn?: { from: Date; to: Date } | undefined;
  /** Windows scheduled to start at or before this moment. */
  before?: Date | undefined;
  limit?: number | undefined;
}

/** Maintenance is public by nature: both audiences see every window, each in its own wording. Newest window first. */
export async function loadMaintenances(db: Queryable, a: ReaderPolicy, q: MaintenanceQuery = {}): Promise<MaintenanceRecord[]> {
  if (q.ids?.length === 0) return [];
  const filters: (SQL | undefined)[] = [];
  if (q.ids) filters.push(inArray(maintenances.id, q.ids));
  if (q.statuses) filters.push(inArray(maintenances.status, q.statuses));
  if (q.overlapping) {
    filters.push(
      lte(sql`coalesce(${maintenances.startedAt}, ${maintenances.scheduledFor})`, q.overlapping.to.getTime()),
      or(isNull(maintenances.completedAt), gte(maintenances.completedAt, q.overlapping.from)),
    );
  }
  if (q.scheduledIn) filters.push(gte(maintenances.scheduledFor, q.scheduledIn.from), lt(maintenances.scheduledFor, q.scheduledIn.to));
  if (q.before) filters.push(lte(maintenances.scheduledFor, q.before));
  const query = db
    .select({
      id: maintenances.id,
      title: a.wording.maintenance,
      status: maintenances.status,
      scheduledFor: maintenances.scheduledFor,
      scheduledUntil: maintenances.scheduledUntil,
      startedAt: maintenances.startedAt,
      completedAt: maintenances.completedAt,
      createdAt: maintenances.createdAt,
      updatedAt: maintenances.updatedAt,
    })
    .from(maintenances)
    .where(and(...filters))
    .orderBy(desc(maintenances.scheduledFor), asc(maintenances.id));
  return q.limit ? query.limit(q.limit) : query;
}

/** The components each maintenance window covers, by maintenance id. */
export async function loadMaintenanceComponents(db: Queryable, ids: string[]): Promise<Map<string, { id: string; name: string }[]>> {
  const byMaintenance = new Map<string, { id: string; name: string }[]>();
  if (ids.length === 0) return byMaintenance;
  const rows = await db
    .select({ maintenanceId: maintenanceComponents.maintenanceId, id: components.id, name: components.name })
    .from(maintenanceComponents)
    .innerJoin(components, eq(components.id, maintenanceComponents.componentId))
    .where(inArray(maintenanceComponents.maintenanceId, ids))
    .orderBy(asc(components.order), asc(components.name));
  for (const r of rows) byMaintenance.set(r.maintenanceId, [...(byMaintenance.get(r.maintenanceId) ?? []), { id: r.id, name: r.name }]);
  return byMaintenance;
}

export async function loadPostmortems(db: Queryable, a: ReaderPolicy, incidentIds: string[]): Promise<Map<string, PostmortemRecord>> {
  if (incidentIds.length === 0) return new Map();
  const rows = await db
    .select({ incidentId: postmortems.incidentId, body: a.wording.postmortem, publishedAt: postmortems.publishedAt, updatedAt: postmortems.updatedAt })
    .from(postmortems)
    .innerJoin(incidents, eq(incidents.id, postmortems.incidentId))
    .where(and(inArray(postmortems.incidentId, incidentIds), a.seesIncident));
  return new Map(rows.map((r) => [r.incidentId, r]));
}

/** When the history this reader sees begins: the first incident or maintenance window. */
export async function historyStart(db: Queryable, a: ReaderPolicy): Promise<Date | null> {
  // ORDER BY ... LIMIT 1 walks the index from its end and stops at the first row this reader sees.
  const [[incident], [maintenance]] = await Promise.all([
    db.select({ at: incidents.startedAt }).from(incidents).where(a.seesIncident).orderBy(asc(incidents.startedAt)).limit(1),
    db.select({ at: maintenances.scheduledFor }).from(maintenances).orderBy(asc(maintenances.scheduledFor)).limit(1),
  ]);
  const times = [incident?.at, maintenance?.at].filter((t): t is Date => t instanceof Date);
  return times.length ? new Date(Math.min(...times.map((t) => t.getTime()))) : null;
}

/** The moment anything this reader sees last changed: the newest update or component change. */
export async function lastChange(db: Queryable, a: ReaderPolicy): Promise<Date | null> {
  const [[update], [component], [maintenance]] = await Promise.all([
    db
      .select({ at: updates.createdAt })
      .from(updates)
      .leftJoin(incidents, eq(incidents.id, updates.incidentId))
      .where(and(a.seesUpdate, or(isNull(updates.incidentId), a.seesIncident)))
      .orderBy(desc(updates.createdAt))
      .limit(1),
    db.select({ at: sql<number>`max(${components.updatedAt})` }).from(components),
    db.select({ at: sql<number>`max(${maintenances.updatedAt})` }).from(maintenances),
  ]);
  const times = [update?.at?.getTime(), component?.at, maintenance?.at].filter((t): t is number => typeof t === 'number');
  return times.length ? new Date(Math.max(...times)) : null;
}

/** Which month page an incident or maintenance sits on: when it started, or is scheduled to. */
export async function subjectStart(db: Queryable, a: ReaderPolicy, kind: 'incident' | 'maintenance', id: string): Promise<Date | null> {
  if (kind === 'incident') {
    const [row] = await db.select({ at: incidents.startedAt }).from(incidents).where(and(eq(incidents.id, id), a.seesIncident));
    return row?.at ?? null;
  }
  const [row] = await db.select({ at: maintenances.scheduledFor }).from(maintenances).where(eq(maintenances.id, id));
  return row?.at ?? null;
}
