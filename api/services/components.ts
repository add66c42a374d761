// The component catalogue; a component's status is derived from active incidents and maintenance, never stored.
import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Queryable } from '../../db/client.ts';
import { components } from '../../db/schema.ts';
import { worstStatus, type ComponentStatus } from '../domain.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import { recordAudit } from './audit.ts';
import type { Services } from './context.ts';

export interface ComponentInput {
  id: string;
  name: string;
  description?: string | undefined;
  group?: string | null | undefined;
  order?: number | undefined;
}

export type ComponentRow = typeof components.$inferSelect;
export type ComponentView = Omit<ComponentRow, 'archivedAt'> & { status: ComponentStatus };

export type ComponentDeps = Pick<Services, 'db' | 'clock' | 'hook'>;

/** Impacts currently in force per component: active incidents' impacts and in-progress maintenance. */
export async function derivedStatuses(db: Queryable): Promise<Map<string, ComponentStatus>> {
  const rows = await db.all<{ component_id: string; impact: ComponentStatus }>(sql`
    SELECT ic.component_id, ic.impact FROM incident_components ic
      JOIN incidents i ON i.id = ic.incident_id
      WHERE i.status IN ('investigating', 'identified', 'monitoring')
    UNION ALL
    SELECT mc.component_id, 'under_maintenance' FROM maintenance_components mc
      JOIN maintenances m ON m.id = mc.maintenance_id
      WHERE m.status IN ('in_progress', 'verifying')`);
  const byComponent = new Map<string, ComponentStatus[]>();
  for (const r of rows) byComponent.set(r.component_id, [...(byComponent.get(r.component_id) ?? []), r.impact]);
  return new Map([...byComponent].map(([id, list]) => [id, worstStatus(list)]));
}

export async function listComponents(db: Queryable): Promise<ComponentView[]> {
  const [rows, statuses] = await Promise.all([
    db.select().from(components).where(isNull(components.archivedAt)).orderBy(asc(components.order), asc(components.name)),
    derivedStatuses(db),
  ]);
  return rows.map(({ archivedAt: _archived, ...row }) => ({ ...row, status: statuses.get(row.id) ?? 'operational' }));
}

/** Loads the named live components, refusing unknown or archived ids with the offending paths. */
export async function requireComponents(db: Queryable, ids: string[], path: string): Promise<Map<string, ComponentRow>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select()
    .from(components)
    .where(and(inArray(components.id, ids), isNull(components.archivedAt)));
  const found = new Map(rows.map((r) => [r.id, r]));
  const errors = ids.flatMap((id, i) => (found.has(id) ? [] : [{ path: `${path}.${i}.id`, message: `unknown component "${id}"` }]));
  if (errors.length > 0) {
    throw new ValidationError(`Unknown component${errors.length > 1 ? 's' : ''}: ${ids.filter((id) => !found.has(id)).join(', ')}.`, errors);
  }
  const seen = new Set<string>();
  for (const [i, id] of ids.entries()) {
    if (seen.has(id)) throw new ValidationError(`Component "${id}" is listed twice.`, [{ path: `${path}.${i}.id`, message: 'listed twice' }]);
    seen.add(id);
  }
  return found;
}

export async function createComponent(deps: ComponentDeps, actor: string, input: ComponentInput): Promise<ComponentView> {
  const now = deps.clock.now();
  const row = await deps.db.transaction(async (tx) => {
    const [existing] = await tx.select().from(components).where(eq(components.id, input.id));
    if (existing && !existing.archivedAt) throw new ConflictError(`A component with id "${input.id}" already exists.`);
    const values = {
      id: input.id,
      name: input.name,
      description: input.description ?? '',
      group: input.group ?? null,
      order: input.order ?? 0,
      updatedAt: now,
      archivedAt: null,
    };
    // An archived id comes back to life: its history stays attached.
    const [row] = await tx.insert(components).values(values).onConflictDoUpdate({ target: components.id, set: values }).returning();
    await recordAudit(tx, { at: now, actor, action: 'component.created', subjectType: 'component', subjectId: input.id, detail: { name: input.name } });
    return row!;
  });
  deps.hook.emit({ kind: 'component', subjectId: row.id, public: true, at: now });
  return { ...row, status: (await derivedStatuses(deps.db)).get(row.id) ?? 'operational' };
}

export async function updateComponent(
  deps: ComponentDeps,
  actor: string,
  id: string,
  patch: Partial<Omit<ComponentInput, 'id'>>,
): Promise<ComponentView> {
  const now = deps.clock.now();
  const set = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
  const row = await deps.db.transaction(async (tx) => {
    const [row] = await tx
      .update(components)
      .set({ ...set, updatedAt: now })
      .where(and(eq(components.id, id), isNull(components.archivedAt)))
      .returning();
    if (!row) throw new NotFoundError('component', id);
    await recordAudit(tx, { at: now, actor, action: 'component.updated', subjectType: 'component', subjectId: id, detail: set });
    return row;
  });
  deps.hook.emit({ kind: 'component', subjectId: id, public: true, at: now });
  return { ...row, status: (await derivedStatuses(deps.db)).get(id) ?? 'operational' };
}

/**
 * Archives rather than deletes, so past incidents keep naming it. Refused (409) while anything still to come names
 * it: an incident not yet resolved, or a maintenance window not completed or cancelled (scheduled ones included,
 * since their page and reminder will name the component). A subscriber's component filter does not block it: the
 * filter keeps the id and works again if the id is ever restored.
 */
export async function archiveComponent(deps: ComponentDeps, actor: string, id: string): Promise<void> {
  const now = deps.clock.now();
  await deps.db.transaction(async (tx) => {
    const [row] = await tx.select().from(components).where(and(eq(components.id, id), isNull(components.archivedAt)));
    if (!row) throw new NotFoundError('component', id);
    const [blocker] = await tx.all<{ kind: string; id: string; title: string; status: string }>(sql`
      SELECT 'incident' AS kind, i.id, i.title, i.status FROM incident_components ic JOIN incidents i ON i.id = ic.incident_id
        WHERE ic.component_id = ${id} AND i.status NOT IN ('resolved', 'postmortem')
      UNION ALL
      SELECT 'maintenance' AS kind, m.id, m.title, m.status FROM maintenance_components mc JOIN maintenances m ON m.id = mc.maintenance_id
        WHERE mc.component_id = ${id} AND m.status NOT IN ('completed', 'cancelled')
      LIMIT 1`);
    if (blocker) {
      throw new ConflictError(
        `Component "${id}" is named by the ${blocker.status.replace('_', ' ')} ${blocker.kind} "${blocker.title}" (${blocker.id}); resolve, complete or cancel it first.`,
      );
    }
    await tx.update(components).set({ archivedAt: now, updatedAt: now }).where(eq(components.id, id));
    await recordAudit(tx, { at: now, actor, action: 'component.deleted', subjectType: 'component', subjectId: id });
  });
  deps.hook.emit({ kind: 'component', subjectId: id, public: true, at: now });
}
