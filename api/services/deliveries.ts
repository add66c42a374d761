// Reads delivery state from the outbox: how many messages per update are pending, sent, failed or suppressed.
import { sql } from 'drizzle-orm';
import type { Queryable } from '../../db/client.ts';
import type { DeliveryKind } from '../domain.ts';

export interface DeliveryCounts {
  pending: number;
  sent: number;
  failed: number;
  suppressed: number;
}

/**
 * Kinds queued against an update that are not its fan-out: reminders and notices to the comms lead, subscribers'
 * reminders ahead of a maintenance window — scheduled ahead and often withdrawn.
 */
const notFanOut = sql`(${sql.join((['due_reminder', 'overdue', 'alerts_resolved', 'alerts_still_firing', 'reminder'] satisfies DeliveryKind[]).map((k) => sql`${k}`), sql`, `)})`;

/** Counts per update of one incident (or maintenance), keyed by update id. */
export async function deliveryCounts(db: Queryable, subjectId: string): Promise<Map<string, DeliveryCounts>> {
  const rows = await db.all<{ update_id: string; status: keyof DeliveryCounts; n: number }>(sql`
    SELECT d.update_id, d.status, count(*) AS n FROM deliveries d
    JOIN updates u ON u.id = d.update_id
    WHERE (u.incident_id = ${subjectId} OR u.maintenance_id = ${subjectId})
      AND d.kind NOT IN ${notFanOut}
    GROUP BY d.update_id, d.status`);
  const counts = new Map<string, DeliveryCounts>();
  for (const r of rows) {
    const c = counts.get(r.update_id) ?? { pending: 0, sent: 0, failed: 0, suppressed: 0 };
    c[r.status] = Number(r.n);
    counts.set(r.update_id, c);
  }
  return counts;
}

/**
 * Delivery progress of one update's fan-out per recipient kind ("subscriber", "stakeholder", "webhook", "channel";
 * the `audience` column of deliveries), for the console's incident and maintenance pages. Reminders scheduled against
 * the update (to the comms lead and chat channels, to subscribers before a window) are not its fan-out and are left
 * out, as in deliveryCounts; scheduledReminders counts a maintenance's.
 */
export async function deliveryProgress(db: Queryable, updateId: string): Promise<Map<string, DeliveryCounts>> {
  const rows = await db.all<{ recipient_kind: string; status: keyof DeliveryCounts; n: number }>(sql`
    SELECT audience AS recipient_kind, status, count(*) AS n FROM deliveries
    WHERE update_id = ${updateId} AND kind NOT IN ${notFanOut}
    GROUP BY audience, status`);
  const progress = new Map<string, DeliveryCounts>();
  for (const r of rows) {
    const c = progress.get(r.recipient_kind) ?? { pending: 0, sent: 0, failed: 0, suppressed: 0 };
    c[r.status] = Number(r.n);
    progress.set(r.recipient_kind, c);
  }
  return progress;
}

/** The subscriber reminders an update of a maintenance scheduled, still pending: how many emails, and when the first is due. */
export async function scheduledReminders(db: Queryable, updateId: string): Promise<{ count: number; first: Date | null }> {
  const [row] = await db.all<{ n: number; first: number | null }>(sql`
    SELECT count(*) AS n, min(next_attempt_at) AS first FROM deliveries WHERE update_id = ${updateId} AND kind = 'reminder' AND status = 'pending'`);
  return { count: Number(row?.n ?? 0), first: row?.first ? new Date(Number(row.first)) : null };
}
