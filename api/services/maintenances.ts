// Scheduled maintenance: announce a window, post updates, and let the clock start and complete it on time.
import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Queryable, Tx } from '../../db/client.ts';
import { maintenanceComponents, maintenances, updates } from '../../db/schema.ts';
import {
  activeMaintenanceStatuses,
  finishedMaintenanceStatuses,
  isActiveMaintenance,
  maintenanceReachFlags,
  maintenanceTransitionError,
  upcomingMaintenanceStatuses,
  type MaintenanceStatus,
} from '../domain.ts';
import { componentStatuses } from '../status.ts';
import { touchChangedComponents } from './components.ts';
import { enqueueComponentUpdates } from './webhooks.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import { newId } from '../ids.ts';
import type { Template } from '../templates.ts';
import { recordAudit } from './audit.ts';
import { claimOnce } from './outcomes.ts';
import { requireComponents } from './components.ts';
import { type Actor, type Services, withTransaction } from './context.ts';
import { deliveryCounts } from './deliveries.ts';
import type { Notify } from './incidents.ts';
import { planMaintenanceNotices } from './maintenance-notices.ts';
import { storeUpdate, updateView, type UpdateRow, type UpdateView } from './updates.ts';
import { maintenanceBuiltins, pickTemplate } from './wording.ts';
import { systemActor } from './context.ts';
import { authorize } from './use-cases.ts';

export interface ScheduleInput {
  title: string;
  internalTitle?: string | undefined;
  scheduledFor: Date;
  scheduledUntil: Date;
  components: string[];
  template?: string | undefined;
  variables: Record<string, string>;
  autoStart?: boolean | undefined;
  autoComplete?: boolean | undefined;
  notify?: Notify | undefined;
  /** Publish once for this key (an API Idempotency-Key, a console form key): a repeat answers with what the first did. */
  idempotencyKey?: string | undefined;
}

export interface MaintenanceUpdateInput {
  status: MaintenanceStatus;
  template: string;
  variables: Record<string, string>;
  /** Move the window, e.g. when work overruns. */
  scheduledUntil?: Date | undefined;
  notify?: Notify | undefined;
  /** Publish once for this key (an API Idempotency-Key, a console form key): a repeat answers with what the first did. */
  idempotencyKey?: string | undefined;
}

type MaintenanceRow = typeof maintenances.$inferSelect;
const scheduler: Actor = systemActor('scheduler');
const hour = 60 * 60 * 1000;
const day = 24 * hour;

/**
 * The dates a window may have, relative to the clock when it is scheduled: it starts at most `pastHours` ago (a window
 * recorded just after the fact) and at most `aheadDays` ahead, and lasts at most `maxLengthDays`, extensions included.
 */
export const windowBounds = { pastHours: 24, aheadDays: 366, maxLengthDays: 31 } as const;

/** Refuses a window outside `windowBounds`, naming the field; `now` is the clock at scheduling time. */
export function checkWindow(scheduledFor: Date, scheduledUntil: Date, now: Date | null) {
  if (now && scheduledFor.getTime() < now.getTime() - windowBounds.pastHours * hour) {
    throw new ValidationError(`A window starts at most ${windowBounds.pastHours} hours in the past.`, [
      { path: 'scheduledFor', message: `must be at most ${windowBounds.pastHours} hours ago` },
    ]);
  }
  if (now && scheduledFor.getTime() > now.getTime() + windowBounds.aheadDays * day) {
    throw new ValidationError(`A window starts at most ${windowBounds.aheadDays} days ahead.`, [
      { path: 'scheduledFor', message: `must be at most ${windowBounds.aheadDays} days ahead` },
    ]);
  }
  if (scheduledUntil.getTime() <= scheduledFor.getTime()) {
    throw new ValidationError('The window must end after it starts.', [{ path: 'scheduledUntil', message: 'must be after scheduledFor' }]);
  }
  if (scheduledUntil.getTime() - scheduledFor.getTime() > windowBounds.maxLengthDays * day) {
    throw new ValidationError(`A window lasts at most ${windowBounds.maxLengthDays} days.`, [
      { path: 'scheduledUntil', message: `must be at most ${windowBounds.maxLengthDays} days after scheduledFor` },
    ]);
  }
}

/** A maintenance's reach flags: always public, never stakeholders; subscribers unless `notify` turns them off. */
export function maintenanceReach(notify: Notify | undefined) {
  const off = notify === false || (typeof notify === 'object' && notify.subscribers === false);
  return { ...maintenanceReachFlags, subscribers: maintenanceReachFlags.subscribers && !off };
}

async function maintenanceComponentRows(db: Queryable, id: string) {
  return db.all<{ id: string; name: string }>(sql`
    SELECT c.id, c.name FROM maintenance_components mc JOIN components c ON c.id = mc.component_id
    WHERE mc.maintenance_id = ${id} ORDER BY c.position, c.name`);
}

/** Stores a maintenance update for the window as `row` now stands (its builtins name the window), to `subscribers` or not. */
export async function publish(s: Services, tx: Tx, actor: Actor, row: MaintenanceRow, template: Template, variables: Record<string, string>, now: Date, subscribers: boolean) {
  const components = await maintenanceComponentRows(tx, row.id);
  const shown = isActiveMaintenance(row.status) ? 'under_maintenance' : 'operational';
  return storeUpdate(tx, actor, {
    subject: { type: 'maintenance', id: row.id },
    template,
    status: row.status,
    variables,
    builtins: maintenanceBuiltins({ ...row, nextUpdateAt: null, components }, s, now),
    components: components.map((c) => ({ ...c, status: shown })),
    audiences: { ...row.audiences, subscribers: row.audiences.subscribers && subscribers },
    brief: false,
    nextUpdateAt: null,
    now,
  });
}

export async function scheduleMaintenance(s: Services, actor: Actor, input: ScheduleInput): Promise<MaintenanceView> {
  authorize(actor, 'scheduleMaintenance');
  const now = s.clock.now();
  const { template } = pickTemplate(s.templates, input.template ?? 'maintenance-scheduled', 'maintenance', 'scheduled');
  checkWindow(input.scheduledFor, input.scheduledUntil, now);
  if (input.components.length === 0) {
    throw new ValidationError('A maintenance affects at least one component.', [{ path: 'components', message: 'name at least one component' }]);
  }
  const id = newId();
  const audiences = maintenanceReach(input.notify);
  const { idempotencyKey, ...asked } = input;
  const update = await withTransaction(s, async (tx) => {
    const earlier = await claimOnce(tx, actor, { key: idempotencyKey, useCase: 'scheduleMaintenance', input: asked }, id, now);
    if (earlier) return earlier;
    await requireComponents(tx, input.components, 'components', 'ids');
    const [row] = await tx
      .insert(maintenances)
      .values({
        id,
        title: input.title,
        internalTitle: input.internalTitle ?? input.title,
        status: 'scheduled',
        audiences: maintenanceReachFlags,
        scheduledFor: input.scheduledFor,
        scheduledUntil: input.scheduledUntil,
        autoStart: input.autoStart ?? true,
        autoComplete: input.autoComplete ?? true,
        createdBy: actor.name,
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    await tx.insert(maintenanceComponents).values(input.components.map((componentId) => ({ maintenanceId: id, componentId })));
    await recordAudit(tx, { at: now, actor, action: 'maintenance.scheduled', subjectType: 'maintenance', subjectId: id });
    const announced = await publish(s, tx, actor, row!, template, input.variables, now, audiences.subscribers);
    await planMaintenanceNotices(tx, s.maintenanceReminderHours, row!, announced, now);
    return announced;
  });
  if (typeof update === 'string') return getMaintenance(s, update);
  s.hook.emit({ kind: 'maintenance', subjectId: id, updateId: update.id, public: true, at: now });
  return getMaintenance(s, id);
}

async function transition(
  s: Services,
  actor: Actor,
  id: string,
  input: MaintenanceUpdateInput,
  ifMatch: number | undefined,
): Promise<UpdateRow | null> {
  const now = s.clock.now();
  const { template } = pickTemplate(s.templates, input.template, 'maintenance', input.status);
  const { idempotencyKey, ...asked } = input;
  return withTransaction(s, async (tx) => {
    if (await claimOnce(tx, actor, { key: idempotencyKey, useCase: 'postMaintenanceUpdate', input: { id, ...asked } }, id, now)) return null;
    const [current] = await tx.select().from(maintenances).where(eq(maintenances.id, id));
    if (!current) throw new NotFoundError('maintenance', id);
    if (ifMatch !== undefined && ifMatch !== current.version) {
      throw new ConflictError(`The maintenance is at version ${current.version}, not ${ifMatch}; reload it and try again.`);
    }
    const problem = maintenanceTransitionError(current.status, input.status);
    if (problem) throw new ConflictError(`Cannot post "${input.status}" to this maintenance: ${problem}.`);
    const until = input.scheduledUntil ?? current.scheduledUntil;
    if (input.scheduledUntil) checkWindow(current.scheduledFor, until, null);
    const started = isActiveMaintenance(input.status);
    const finished = (finishedMaintenanceStatuses as readonly MaintenanceStatus[]).includes(input.status);
    const before = await componentStatuses(tx, 'public');
    const [row] = await tx
      .update(maintenances)
      .set({
        status: input.status,
        scheduledUntil: until,
        startedAt: current.startedAt ?? (started || input.status === 'completed' ? now : null),
        completedAt: finished ? now : null,
        version: current.version + 1,
        updatedAt: now,
      })
      .where(and(eq(maintenances.id, id), eq(maintenances.version, current.version)))
      .returning();
    if (!row) throw new ConflictError('The maintenance changed while this update was being published; reload it and try again.');
    await touchChangedComponents(tx, before, now);
    if (current.status !== input.status) {
      await recordAudit(tx, {
        at: now,
        actor,
        action: 'maintenance.status_changed',
        subjectType: 'maintenance',
        subjectId: id,
        detail: { from: current.status, to: input.status },
      });
    }
    const update = await publish(s, tx, actor, row, template, input.variables, now, maintenanceReach(input.notify).subscribers);
    await planMaintenanceNotices(tx, s.maintenanceReminderHours, row, update, now);
    await enqueueComponentUpdates(tx, { before, updateId: update.id, actor, now });
    return update;
  });
}

export async function postMaintenanceUpdate(
  s: Services,
  actor: Actor,
  id: string,
  input: MaintenanceUpdateInput,
  ifMatch?: number,
): Promise<MaintenanceView> {
  authorize(actor, 'postMaintenanceUpdate');
  const update = await transition(s, actor, id, input, ifMatch);
  if (update) s.hook.emit({ kind: 'maintenance', subjectId: id, updateId: update.id, public: true, at: update.createdAt });
  return getMaintenance(s, id);
}

/**
 * The clock's part: start windows that have begun and complete windows that have ended, unless told otherwise.
 * Subscribers' reminders are already in the outbox, due at their moments (api/services/maintenance-notices.ts).
 * Safe to run from several processes.
 */
export async function advanceMaintenances(s: Services): Promise<number> {
  const now = s.clock.now();
  let moved = 0;
  const due = await s.db
    .select()
    .from(maintenances)
    .where(inArray(maintenances.status, [...upcomingMaintenanceStatuses, ...activeMaintenanceStatuses]));
  for (const m of due) {
    const step: MaintenanceStatus | null =
      m.status === 'scheduled' && m.autoStart && m.scheduledFor <= now
        ? // A window that has already ended (the server was down through it) completes, not "starts" after the fact.
          m.autoComplete && m.scheduledUntil <= now
          ? 'completed'
          : 'in_progress'
        : m.status !== 'scheduled' && m.autoComplete && m.scheduledUntil <= now
          ? 'completed'
          : null;
    if (!step) continue;
    const template = step === 'in_progress' ? 'maintenance-started' : 'maintenance-completed';
    const variables = Object.fromEntries((s.templates.get(template)?.variables ?? []).map((v) => [v.name, '']));
    try {
      await postMaintenanceUpdate(s, scheduler, m.id, { status: step, template, variables }, m.version);
      moved++;
    } catch (e) {
      // Another process moved it first, or someone posted by hand: either way it is no longer ours to move.
      if (!(e instanceof ConflictError)) throw e;
    }
  }
  return moved;
}

// ---- reading ----

export interface MaintenanceView {
  id: string;
  title: string;
  internalTitle: string;
  status: MaintenanceStatus;
  version: number;
  scheduledFor: Date;
  scheduledUntil: Date;
  startedAt: Date | null;
  completedAt: Date | null;
  autoStart: boolean;
  autoComplete: boolean;
  components: { id: string; name: string }[];
  updates: UpdateView[];
  createdAt: Date;
  updatedAt: Date;
}

export async function getMaintenance(s: Pick<Services, 'db'>, id: string): Promise<MaintenanceView> {
  const [row] = await s.db.select().from(maintenances).where(eq(maintenances.id, id));
  if (!row) throw new NotFoundError('maintenance', id);
  const [components, timeline, counts] = await Promise.all([
    maintenanceComponentRows(s.db, id),
    // Ids are random: within one millisecond only the insertion order (rowid) tells which update came last.
    s.db.select().from(updates).where(eq(updates.maintenanceId, id)).orderBy(desc(updates.createdAt), desc(sql`rowid`)),
    deliveryCounts(s.db, id),
  ]);
  return {
    id: row.id,
    title: row.title,
    internalTitle: row.internalTitle,
    status: row.status,
    version: row.version,
    scheduledFor: row.scheduledFor,
    scheduledUntil: row.scheduledUntil,
    startedAt: row.startedAt,
    completedAt: row.completedAt,
    autoStart: row.autoStart,
    autoComplete: row.autoComplete,
    components,
    updates: timeline.map((u) => updateView(u, counts)),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export async function listMaintenances(s: Pick<Services, 'db'>, query: { status?: 'upcoming' | 'active' | 'past' | undefined; limit: number }) {
  const statuses = { upcoming: upcomingMaintenanceStatuses, active: activeMaintenanceStatuses, past: finishedMaintenanceStatuses };
  const rows = await s.db
    .select({ id: maintenances.id })
    .from(maintenances)
    .where(query.status ? inArray(maintenances.status, statuses[query.status]) : undefined)
    .orderBy(desc(maintenances.scheduledFor))
    .limit(query.limit);
  return Promise.all(rows.map((r) => getMaintenance(s, r.id)));
}
