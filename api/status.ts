// The one status derivation: each component's status for a reader (public or internal), read by every output.
import { asc, eq, inArray, isNull, sql, type SQL } from 'drizzle-orm';
import type { Queryable } from '../db/client.ts';
import { componentGroups, components, incidentComponents, incidents, maintenanceComponents, maintenances } from '../db/schema.ts';
import {
  activeIncidentStatuses,
  activeMaintenanceStatuses,
  pageStatus,
  worstStatus,
  type ActiveIncidentImpact,
  type ComponentStatus,
  type PageStatus,
  type Reader,
} from './domain.ts';

/**
 * Which incidents a reader sees: the public sees those its severity policy made public (SEV1/SEV2 by default)
 * and that are not drafts; insiders see every one. Every public output filters incidents through this one condition.
 */
export function incidentVisibleTo(reader: Reader): SQL {
  // A draft (made from an alert) is public only once an update publishes it.
  return reader === 'public' ? sql`json_extract(${incidents.audiences}, '$.public') = 1 AND ${incidents.draft} = 0` : sql`1 = 1`;
}

/**
 * Each component's status for a reader, by component id; components with nothing in force are absent (operational).
 * Rule (SPEC "Domain"): the worst impact among the reader's active incidents and the in-progress maintenance
 * that affect it. A resolved incident affects nothing, whatever impact it recorded.
 */
export async function componentStatuses(db: Queryable, reader: Reader): Promise<Map<string, ComponentStatus>> {
  const [impacts, maintained] = await Promise.all([
    db
      .select({ id: incidentComponents.componentId, impact: incidentComponents.impact })
      .from(incidentComponents)
      .innerJoin(incidents, eq(incidents.id, incidentComponents.incidentId))
      .where(sql`${inArray(incidents.status, activeIncidentStatuses)} AND ${incidentVisibleTo(reader)}`),
    db
      .select({ id: maintenanceComponents.componentId })
      .from(maintenanceComponents)
      .innerJoin(maintenances, eq(maintenances.id, maintenanceComponents.maintenanceId))
      .where(inArray(maintenances.status, activeMaintenanceStatuses)),
  ]);
  const byComponent = new Map<string, ComponentStatus[]>();
  const add = (id: string, status: ComponentStatus) => byComponent.set(id, [...(byComponent.get(id) ?? []), status]);
  for (const r of impacts) add(r.id, r.impact);
  for (const r of maintained) add(r.id, 'under_maintenance');
  return new Map([...byComponent].map(([id, list]) => [id, worstStatus(list)]));
}

/** A live component with its group and the status one reader sees. */
export interface ComponentState {
  id: string;
  name: string;
  description: string;
  groupId: string | null;
  group: string | null;
  /** Place within its group (or among ungrouped components and groups at the top), smaller first. */
  order: number;
  status: ComponentStatus;
  createdAt: Date;
  /** When the component or its public status last changed; never before createdAt. */
  updatedAt: Date;
}

/**
 * Display order, the same on the page, in the JSON and in the API: top-level items (ungrouped components and groups)
 * by order then name, a group placed by its first member; members by order then name within their group.
 */
function displayOrder<T extends Pick<ComponentState, 'name' | 'groupId' | 'group' | 'order'>>(rows: T[]): T[] {
  const groupPlace = new Map<string, { order: number; name: string }>();
  for (const r of rows) {
    if (r.groupId === null) continue;
    const seen = groupPlace.get(r.groupId);
    if (!seen || r.order < seen.order) groupPlace.set(r.groupId, { order: r.order, name: r.group ?? '' });
  }
  const place = (r: T) => (r.groupId === null ? { order: r.order, name: r.name } : groupPlace.get(r.groupId)!);
  const byPlaceThenName = (a: { order: number; name: string }, b: { order: number; name: string }) =>
    a.order - b.order || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return [...rows].sort((a, b) => {
    const top = byPlaceThenName(place(a), place(b));
    if (top !== 0 || a.groupId === b.groupId) return top || byPlaceThenName(a, b);
    // Two groups at the same place and name: keep each group's members together.
    return (a.groupId ?? '') < (b.groupId ?? '') ? -1 : 1;
  });
}

/** Every live component in display order, with the status this reader sees. */
export async function readComponents(db: Queryable, reader: Reader): Promise<ComponentState[]> {
  const [rows, statuses] = await Promise.all([
    db
      .select({
        id: components.id,
        name: components.name,
        description: components.description,
        groupId: components.groupId,
        group: componentGroups.name,
        order: components.order,
        createdAt: components.createdAt,
        updatedAt: components.updatedAt,
      })
      .from(components)
      .leftJoin(componentGroups, eq(componentGroups.id, components.groupId))
      .where(isNull(components.archivedAt))
      .orderBy(asc(components.order), asc(components.name)),
    componentStatuses(db, reader),
  ]);
  return displayOrder(
    rows.map((r) => ({
      ...r,
      status: statuses.get(r.id) ?? 'operational',
      updatedAt: r.updatedAt.getTime() < r.createdAt.getTime() ? r.createdAt : r.updatedAt,
    })),
  );
}

/**
 * The page's status for a reader (SPEC "One door": never "All Systems Operational" while an active incident the
 * reader sees is listed): domain.ts `pageStatus` over every live component's status and the reader's active
 * incidents, each with the impacts in force on the live components it names. The banner, `status.json`'s indicator,
 * webhook envelopes and badges all read this one function. Pass `components` when already read (readComponents),
 * so the page status and the component list come from the same reading.
 */
export async function readPageStatus(db: Queryable, reader: Reader, components?: readonly ComponentState[]): Promise<PageStatus> {
  const [live, active] = await Promise.all([components ?? readComponents(db, reader), activeIncidentImpacts(db, reader)]);
  return pageStatus(live.map((c) => c.status), active);
}

/** The reader's active incidents, each with its severity and the impacts recorded on the live components it names. */
async function activeIncidentImpacts(db: Queryable, reader: Reader): Promise<ActiveIncidentImpact[]> {
  const rows = await db
    .select({ id: incidents.id, severity: incidents.severity, impact: incidentComponents.impact, live: components.id })
    .from(incidents)
    .leftJoin(incidentComponents, eq(incidentComponents.incidentId, incidents.id))
    .leftJoin(components, sql`${components.id} = ${incidentComponents.componentId} AND ${components.archivedAt} IS NULL`)
    .where(sql`${inArray(incidents.status, activeIncidentStatuses)} AND ${incidentVisibleTo(reader)}`);
  const byIncident = new Map<string, ActiveIncidentImpact & { impacts: ComponentStatus[] }>();
  for (const r of rows) {
    const entry = byIncident.get(r.id) ?? { severity: r.severity, impacts: [] };
    byIncident.set(r.id, entry);
    if (r.impact && r.live) entry.impacts.push(r.impact);
  }
  return [...byIncident.values()];
}
