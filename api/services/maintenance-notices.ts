// Tells subscribers of a maintenance window ahead of time: reminders MAINTENANCE_REMINDER_HOURS before it starts, queued in the outbox by the transaction that sets the window, withdrawn when it moves, starts or ends.
import type { Tx } from '../../db/client.ts';
import type { maintenances } from '../../db/schema.ts';
import type { UpdateRow } from './updates.ts';
import { enqueueDeliveries, suppressPending } from './outbox.ts';

const hourMs = 60 * 60 * 1000;

/**
 * When subscribers are reminded of a window that starts at `startsAt`, as planned at `now`: `hours` before the start
 * (MAINTENANCE_REMINDER_HOURS), each moment that is still ahead of `now`, even by a minute (SPEC "Customers' reach").
 * A window announced 23 hours ahead gets no 24-hour reminder; one announced 25 hours ahead gets it an hour later.
 */
export function reminderMoments(hours: readonly number[], startsAt: Date, now: Date): { hours: number; at: Date }[] {
  return hours.map((h) => ({ hours: h, at: new Date(startsAt.getTime() - h * hourMs) })).filter((r) => r.at.getTime() > now.getTime());
}

/** Suppresses the window's reminders still waiting in the outbox, with `reason` as their last error. */
async function withdrawReminders(tx: Tx, maintenanceId: string, reason: string): Promise<void> {
  await suppressPending(tx, { maintenanceId }, ['reminder'], reason);
}

type MaintenanceRow = typeof maintenances.$inferSelect;

/**
 * Inside the transaction that stored a maintenance update (announcement, change of window, start, completion,
 * cancellation): withdraws the window's pending reminders, then, while the window is still scheduled and the update
 * went to subscribers, queues one reminder per subscriber (the same component filter as the update) for each
 * moment of `reminderMoments`. A reminder carries the wording of the update that planned it, so it names the window
 * as it then stood; its seq is its hours ahead, so a 24-hour and a 1-hour reminder are two rows.
 * The start, completion and cancellation notices themselves are the updates: subscribers get each of those anyway.
 */
export async function planMaintenanceNotices(tx: Tx, hours: readonly number[], row: MaintenanceRow, update: UpdateRow, now: Date): Promise<void> {
  await withdrawReminders(tx, row.id, row.status === 'scheduled' ? 'the window was announced again' : `the window is ${row.status.replace('_', ' ')}`);
  if (row.status !== 'scheduled' || !update.audiences.subscribers) return;
  const componentIds = update.components.map((c) => c.id);
  for (const r of reminderMoments(hours, row.scheduledFor, now)) {
    await enqueueDeliveries(tx, { updateId: update.id, componentIds, subscribers: true, stakeholders: false, now, subscriberKind: 'reminder', dueAt: r.at, seq: r.hours });
  }
}
