// Moves a maintenance window (PATCH /api/v1/maintenances/{id}): a new start or end, announced to subscribers, with their reminders following it.
import { authorize } from './use-cases.ts';
import { and, eq } from 'drizzle-orm';
import { maintenances } from '../../db/schema.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import { recordAudit } from './audit.ts';
import type { Actor, Services } from './context.ts';
import { planMaintenanceNotices } from './maintenance-notices.ts';
import { checkWindow, getMaintenance, publish, type MaintenanceView } from './maintenances.ts';
import { pickTemplate } from './wording.ts';

export interface WindowChange {
  scheduledFor?: Date | undefined;
  scheduledUntil?: Date | undefined;
}

/**
 * Gives a window a new start and/or end. A window not yet started may move either; one in progress (or verifying)
 * only its end, since its start has happened; a completed or cancelled one cannot move (409). The new window obeys
 * `windowBounds` (422, field named). A change is a new `maintenance-rescheduled` update to everyone the announcement
 * reached, the version (and so the calendar's SEQUENCE) goes up, and pending reminders are replaced by ones for the
 * new start. Giving the window it already has changes nothing and posts nothing. `ifMatch` is the version expected.
 */
export async function moveMaintenanceWindow(s: Services, actor: Actor, id: string, change: WindowChange, ifMatch?: number): Promise<MaintenanceView> {
  authorize(actor, 'moveMaintenanceWindow');
  if (!change.scheduledFor && !change.scheduledUntil) {
    throw new ValidationError('Give a new scheduledFor, a new scheduledUntil, or both.', [{ path: 'scheduledFor', message: 'give scheduledFor or scheduledUntil' }]);
  }
  const now = s.clock.now();
  const { template } = pickTemplate(s.templates, 'maintenance-rescheduled', 'maintenance', undefined);
  const moved = await s.db.transaction(async (tx) => {
    const [current] = await tx.select().from(maintenances).where(eq(maintenances.id, id));
    if (!current) throw new NotFoundError('maintenance', id);
    if (ifMatch !== undefined && ifMatch !== current.version) {
      throw new ConflictError(`The maintenance is at version ${current.version}, not ${ifMatch}; reload it and try again.`);
    }
    if (current.status === 'completed' || current.status === 'cancelled') throw new ConflictError(`A ${current.status} maintenance window cannot move.`);
    const started = current.status !== 'scheduled';
    if (started && change.scheduledFor && change.scheduledFor.getTime() !== current.scheduledFor.getTime()) {
      throw new ConflictError('This maintenance has started: only its end (scheduledUntil) can move.');
    }
    const scheduledFor = change.scheduledFor ?? current.scheduledFor;
    const scheduledUntil = change.scheduledUntil ?? current.scheduledUntil;
    if (scheduledFor.getTime() === current.scheduledFor.getTime() && scheduledUntil.getTime() === current.scheduledUntil.getTime()) return null;
    checkWindow(scheduledFor, scheduledUntil, started ? null : now);
    if (started && scheduledUntil.getTime() <= now.getTime()) {
      throw new ValidationError('A window in progress ends in the future; to finish it now, post a completed update.', [
        { path: 'scheduledUntil', message: 'must be in the future' },
      ]);
    }
    const [row] = await tx
      .update(maintenances)
      .set({ scheduledFor, scheduledUntil, version: current.version + 1, updatedAt: now })
      .where(and(eq(maintenances.id, id), eq(maintenances.version, current.version)))
      .returning();
    if (!row) throw new ConflictError('The maintenance changed while its window was being moved; reload it and try again.');
    await recordAudit(tx, {
      at: now,
      actor,
      action: 'maintenance.rescheduled',
      subjectType: 'maintenance',
      subjectId: id,
      detail: {
        from: { scheduledFor: current.scheduledFor.toISOString(), scheduledUntil: current.scheduledUntil.toISOString() },
        to: { scheduledFor: scheduledFor.toISOString(), scheduledUntil: scheduledUntil.toISOString() },
      },
    });
    const update = await publish(s, tx, actor, row, template, {}, now, row.audiences.subscribers);
    await planMaintenanceNotices(tx, s.maintenanceReminderHours, row, update, now);
    return update;
  });
  if (moved) s.hook.emit({ kind: 'maintenance', subjectId: id, updateId: moved.id, public: true, at: moved.createdAt });
  return getMaintenance(s, id);
}
