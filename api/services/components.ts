// The component catalogue and its groups; a component's status is derived (api/status.ts), never stored.
import { and, eq, inArray, isNull, notInArray } from 'drizzle-orm';
import type { Queryable, Tx } from '../../db/client.ts';
import { componentGroups, components, incidentComponents, incidents, maintenanceComponents, maintenances } from '../../db/schema.ts';
import { closedIncidentStatuses, finishedMaintenanceStatuses, type Reader, type ComponentStatus } from '../domain.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import { newId } from '../ids.ts';
import { componentStatuses, readComponents, type ComponentState } from '../status.ts';
import { recordAudit } from './audit.ts';
import { type Actor, type Services, withTransaction } from './context.ts';
import { authorize } from './use-cases.ts';

interface ComponentInput {
  id: string;
  name: string;
  description?: string | undefined;
  /** The group's name: an existing group with that name, or a new one. null or omitted: no group. */
  group?: string | null | undefined;
  /** Place within its group, smaller first. */
  order?: number | undefined;
}

/** A component as stored (its status is not: see ComponentState). */
type ComponentRow = typeof components.$inferSelect;

type ComponentDeps = Pick<Services, 'db' | 'clock' | 'hook'>;

/**
 * Live components in display order with the status `reader` sees. Anonymous callers must pass `public`
 * (the default), so an internal-only incident never shows in a public read.
 */
export async function listComponents(db: Queryable, reader: Reader = 'public'): Promise<ComponentState[]> {
  return readComponents(db, reader);
}

async function componentState(db: Queryable, id: string, reader: Reader): Promise<ComponentState> {
  const found = (await readComponents(db, reader)).find((c) => c.id === id);
  if (!found) throw new NotFoundError('component', id);
  return found;
}

/**
 * Loads the named live components, refusing unknown, archived or repeated ids (ValidationError) with the
 * offending paths. `path` names the list in the request (`components`); `items` says what it holds: bare
 * ids (`["api"]`, errors at `components.0`) or changes (`[{ id, status }]`, errors at `components.0.id`).
 */
export async function requireComponents(db: Queryable, ids: string[], path: string, items: 'ids' | 'changes'): Promise<Map<string, ComponentRow>> {
  const at = (i: number) => (items === 'ids' ? `${path}.${i}` : `${path}.${i}.id`);
  if (ids.length === 0) return new Map();
  const rows = await db
    .select()
    .from(components)
    .where(and(inArray(components.id, ids), isNull(components.archivedAt)));
  const found = new Map(rows.map((r) => [r.id, r]));
  const errors = ids.flatMap((id, i) => (found.has(id) ? [] : [{ path: at(i), message: `unknown component "${id}"` }]));
  if (errors.length > 0) {
    throw new ValidationError(`Unknown component${errors.length > 1 ? 's' : ''}: ${ids.filter((id) => !found.has(id)).join(', ')}.`, errors);
  }
  const seen = new Set<string>();
  for (const [i, id] of ids.entries()) {
    if (seen.has(id)) throw new ValidationError(`Component "${id}" is listed twice.`, [{ path: at(i), message: 'listed twice' }]);
    seen.add(id);
  }
  return found;
}

/** The id of the group with this name, creating the group (with a random id, never derived from the name) if there is none. */
async function groupIdFor(tx: Tx, name: string | null | undefined, actor: Actor, now: Date): Promise<string | null | undefined> {
  if (name === undefined || name === null) return name;
  const [existing] = await tx.select({ id: componentGroups.id }).from(componentGroups).where(eq(componentGroups.name, name));
  if (existing) return existing.id;
  // "grp_" cannot start a component id (lowercase letters, digits and dashes), so group and component ids never meet.
  const id = `grp_${newId()}`;
  await tx.insert(componentGroups).values({ id, name, createdAt: now, updatedAt: now });
  await recordAudit(tx, { at: now, actor: actor, action: 'component_group.created', subjectType: 'component_group', subjectId: id, detail: { name } });
  return id;
}

/**
 * Adds a component (or brings an archived id back, history attached), joining or creating its group by name.
 * Errors: ConflictError (409) when a live component has the id. Returns it with its internal status.
 */
export async function createComponent(deps: ComponentDeps, actor: Actor, input: ComponentInput): Promise<ComponentState> {
  authorize(actor, 'createComponent');
  const now = deps.clock.now();
  await withTransaction(deps, async (tx) => {
    const [existing] = await tx.select().from(components).where(eq(components.id, input.id));
    if (existing && !existing.archivedAt) throw new ConflictError(`A component with id "${input.id}" already exists.`);
    const values = {
      id: input.id,
      name: input.name,
      description: input.description ?? '',
      groupId: (await groupIdFor(tx, input.group, actor, now)) ?? null,
      order: input.order ?? 0,
      updatedAt: now,
      archivedAt: null,
    };
    // An archived id comes back to life: its history stays attached, and so does its creation time.
    await tx
      .insert(components)
      .values({ ...values, createdAt: now })
      .onConflictDoUpdate({ target: components.id, set: values });
    await recordAudit(tx, { at: now, actor: actor, action: 'component.created', subjectType: 'component', subjectId: input.id, detail: { name: input.name } });
  });
  deps.hook.emit({ kind: 'component', subjectId: input.id, public: true, at: now });
  return componentState(deps.db, input.id, 'internal');
}

/**
 * Renames, describes, regroups (a group name; null leaves every group) or reorders a live component; a patch
 * that changes nothing writes nothing (its updated_at stays). Errors: NotFoundError (404) for an unknown or
 * archived id. Returns it with its internal status.
 */
export async function updateComponent(
  deps: ComponentDeps,
  actor: Actor,
  id: string,
  patch: Partial<Omit<ComponentInput, 'id'>>,
): Promise<ComponentState> {
  authorize(actor, 'updateComponent');
  const now = deps.clock.now();
  const changed = await withTransaction(deps, async (tx) => {
    const [current] = await tx.select().from(components).where(and(eq(components.id, id), isNull(components.archivedAt)));
    if (!current) throw new NotFoundError('component', id);
    const { group, ...rest } = patch;
    const set: Partial<typeof components.$inferInsert> = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
    const groupId = await groupIdFor(tx, group, actor, now);
    if (groupId !== undefined) set.groupId = groupId;
    // Only what differs is written: an empty or same-valued patch changes nothing, so updated_at stays where it was.
    const differs = Object.entries(set).filter(([k, v]) => current[k as keyof typeof current] !== v);
    if (differs.length === 0) return false;
    await tx
      .update(components)
      .set({ ...Object.fromEntries(differs), updatedAt: now })
      .where(eq(components.id, id));
    await recordAudit(tx, { at: now, actor: actor, action: 'component.updated', subjectType: 'component', subjectId: id, detail: patch });
    return true;
  });
  if (changed) deps.hook.emit({ kind: 'component', subjectId: id, public: true, at: now });
  return componentState(deps.db, id, 'internal');
}

/**
 * Archives rather than deletes, so past incidents keep naming it. Refused (409) while anything still to come names
 * it: an incident not yet resolved, or a maintenance window not completed or cancelled (scheduled ones included,
 * since their page and reminder will name the component). A subscriber's component filter does not block it: the
 * filter keeps the id and works again if the id is ever restored.
 */
export async function archiveComponent(deps: ComponentDeps, actor: Actor, id: string): Promise<void> {
  authorize(actor, 'archiveComponent');
  const now = deps.clock.now();
  await withTransaction(deps, async (tx) => {
    const [row] = await tx.select().from(components).where(and(eq(components.id, id), isNull(components.archivedAt)));
    if (!row) throw new NotFoundError('component', id);
    const [incident] = await tx
      .select({ id: incidents.id, title: incidents.title, status: incidents.status })
      .from(incidentComponents)
      .innerJoin(incidents, eq(incidents.id, incidentComponents.incidentId))
      .where(and(eq(incidentComponents.componentId, id), notInArray(incidents.status, [...closedIncidentStatuses])))
      .limit(1);
    const [maintenance] = await tx
      .select({ id: maintenances.id, title: maintenances.title, status: maintenances.status })
      .from(maintenanceComponents)
      .innerJoin(maintenances, eq(maintenances.id, maintenanceComponents.maintenanceId))
      .where(and(eq(maintenanceComponents.componentId, id), notInArray(maintenances.status, [...finishedMaintenanceStatuses])))
      .limit(1);
    const blocker = incident ? { kind: 'incident', ...incident } : maintenance ? { kind: 'maintenance', ...maintenance } : null;
    if (blocker) {
      throw new ConflictError(
        `Component "${id}" is named by the ${blocker.status.replace('_', ' ')} ${blocker.kind} "${blocker.title}" (${blocker.id}); resolve, complete or cancel it first.`,
      );
    }
    await tx.update(components).set({ archivedAt: now, updatedAt: now }).where(eq(components.id, id));
    await recordAudit(tx, { at: now, actor: actor, action: 'component.archived', subjectType: 'component', subjectId: id });
  });
  deps.hook.emit({ kind: 'component', subjectId: id, public: true, at: now });
}

interface ComponentGroupView {
  id: string;
  name: string;
  components: string[];
}

/** Every group that has live components, with their ids in display order. */
export async function listComponentGroups(db: Queryable): Promise<ComponentGroupView[]> {
  const groups = new Map<string, ComponentGroupView>();
  for (const c of await readComponents(db, 'public')) {
    if (c.groupId === null) continue;
    const g = groups.get(c.groupId) ?? { id: c.groupId, name: c.group ?? '', components: [] };
    g.components.push(c.id);
    groups.set(c.groupId, g);
  }
  return [...groups.values()];
}

/** Renames a group; its id stays, so Statuspage clients keep following it. Refused with 409 when another group has the name. */
export async function renameComponentGroup(deps: ComponentDeps, actor: Actor, id: string, name: string): Promise<ComponentGroupView> {
  authorize(actor, 'renameComponentGroup');
  const now = deps.clock.now();
  const renamed = await withTransaction(deps, async (tx) => {
    const [row] = await tx.select().from(componentGroups).where(eq(componentGroups.id, id));
    if (!row) throw new NotFoundError('component group', id);
    const [taken] = await tx.select({ id: componentGroups.id }).from(componentGroups).where(eq(componentGroups.name, name));
    if (taken && taken.id !== id) throw new ConflictError(`Another group is already named "${name}".`);
    // The same name again changes nothing: no write, no audit row, no render.
    if (row.name === name) return false;
    await tx.update(componentGroups).set({ name, updatedAt: now }).where(eq(componentGroups.id, id));
    await recordAudit(tx, { at: now, actor: actor, action: 'component_group.renamed', subjectType: 'component_group', subjectId: id, detail: { from: row.name, to: name } });
    return true;
  });
  if (renamed) deps.hook.emit({ kind: 'component', subjectId: id, public: true, at: now });
  const [row] = await deps.db.select().from(componentGroups).where(eq(componentGroups.id, id));
  const members = (await listComponentGroups(deps.db)).find((g) => g.id === id);
  return { id, name: row!.name, components: members?.components ?? [] };
}

/**
 * Moves `updated_at` of every component whose public status differs from `before`: call it in the transaction
 * that changed an incident or a maintenance, with the statuses read at its start. Only the public status counts,
 * so an internal-only incident leaves no trace in public timestamps.
 */
export async function touchChangedComponents(db: Queryable, before: Map<string, ComponentStatus>, now: Date): Promise<void> {
  const after = await componentStatuses(db, 'public');
  const changed = [...new Set([...before.keys(), ...after.keys()])].filter((id) => (before.get(id) ?? 'operational') !== (after.get(id) ?? 'operational'));
  if (changed.length > 0) await db.update(components).set({ updatedAt: now }).where(inArray(components.id, changed));
}
