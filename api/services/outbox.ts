// Enqueues deliveries for a committed update inside the publishing transaction, one row per recipient (person, channel, webhook).
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Queryable } from '../../db/client.ts';
import { deliveries, updates } from '../../db/schema.ts';
import type { DeliveryKind } from '../domain.ts';

interface EnqueueInput {
  updateId: string;
  /** Components the update touches: subscribers with a component filter hear only about these. */
  componentIds: string[];
  subscribers: boolean;
  stakeholders: boolean;
  now: Date;
  /** A maintenance reminder reuses the scheduled update's wording under its own kind, so it is sent once more. */
  subscriberKind?: 'update' | 'reminder';
  /** When subscribers' rows fall due (a reminder ahead of a window); now when absent. */
  dueAt?: Date;
  /** Tells apart rows of one update, kind and recipient: a reminder's hours before the start. */
  seq?: number;
}

/** Inserts with INSERT ... SELECT so 100,000 subscribers cost one statement, not 100,000 round trips. */
export async function enqueueDeliveries(db: Queryable, input: EnqueueInput): Promise<void> {
  const at = input.now.getTime();
  if (input.stakeholders) {
    await db.run(sql`
      INSERT INTO deliveries (update_id, kind, audience, recipient_id, email, status, next_attempt_at, created_at)
      SELECT ${input.updateId}, 'briefing', 'stakeholder', id, email, 'pending', ${at}, ${at}
      FROM stakeholders WHERE suppressed_at IS NULL
      ON CONFLICT DO NOTHING`);
    // Chat channels are internal: they get the briefing, in internal wording, whenever executives do.
    await db.run(sql`
      INSERT INTO deliveries (update_id, kind, audience, recipient_id, email, status, next_attempt_at, created_at)
      SELECT ${input.updateId}, 'briefing', 'channel', id, url, 'pending', ${at}, ${at} FROM channels WHERE true
      ON CONFLICT DO NOTHING`);
  }
  if (input.subscribers) {
    const ids = JSON.stringify(input.componentIds);
    const due = input.dueAt?.getTime() ?? at;
    await db.run(sql`
      INSERT INTO deliveries (update_id, kind, audience, recipient_id, email, seq, status, next_attempt_at, created_at)
      SELECT ${input.updateId}, ${input.subscriberKind ?? 'update'}, 'subscriber', s.id, s.email, ${input.seq ?? 0}, 'pending', ${due}, ${at}
      FROM subscribers s
      WHERE s.confirmed_at IS NOT NULL AND s.suppressed_at IS NULL
        AND (s.components IS NULL OR EXISTS (
          SELECT 1 FROM json_each(s.components) f WHERE f.value IN (SELECT value FROM json_each(${ids}))))
      ON CONFLICT DO NOTHING`);
    // Webhook subscribers are public: the external wording, with the same component filter; not maintenance reminders.
    if ((input.subscriberKind ?? 'update') === 'update') {
      await db.run(sql`
        INSERT INTO deliveries (update_id, kind, audience, recipient_id, email, status, next_attempt_at, created_at)
        SELECT ${input.updateId}, 'update', 'webhook', w.id, w.url, 'pending', ${at}, ${at}
        FROM webhook_subscribers w
        WHERE w.disabled_at IS NULL
          AND (w.components IS NULL OR EXISTS (
            SELECT 1 FROM json_each(w.components) f WHERE f.value IN (SELECT value FROM json_each(${ids}))))
        ON CONFLICT DO NOTHING`);
    }
  }
}

/**
 * The statement that suppresses the pending deliveries of `kinds` queued against one incident's or one maintenance's
 * updates, with `reason` as their last error (run it, or read its plan). It finds them through deliveries_once
 * (update_id, kind, …): the status is written `+status`, so SQLite cannot pick deliveries_due (status, …) instead,
 * which reads every pending delivery — 100,000 during a large fan-out — on every publish. (sqlite.org/optoverview.html,
 * "Disqualifying WHERE clause terms using unary-'+'".)
 */
export function suppressPendingQuery(db: Queryable, of: { incidentId: string } | { maintenanceId: string }, kinds: readonly DeliveryKind[], reason: string) {
  const ofUpdates = db
    .select({ id: updates.id })
    .from(updates)
    .where('incidentId' in of ? eq(updates.incidentId, of.incidentId) : eq(updates.maintenanceId, of.maintenanceId));
  return db
    .update(deliveries)
    .set({ status: 'suppressed', lastError: reason, leaseOwner: null, leaseUntil: null })
    .where(and(inArray(deliveries.updateId, ofUpdates), inArray(deliveries.kind, [...kinds]), sql`+${deliveries.status} = 'pending'`));
}

/** Runs suppressPendingQuery. */
export async function suppressPending(db: Queryable, of: { incidentId: string } | { maintenanceId: string }, kinds: readonly DeliveryKind[], reason: string): Promise<void> {
  await suppressPendingQuery(db, of, kinds, reason);
}
