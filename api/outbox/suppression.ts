// Suppression: repeated hard bounces (email) or given-up deliveries (webhooks) stop a recipient from receiving more.
import { eq, sql } from 'drizzle-orm';
import type { Queryable } from '../../db/client.ts';
import { stakeholders, subscribers, webhookSubscribers } from '../../db/schema.ts';

/** The recipients that can be suppressed, each with its counter and its "suppressed since" column. */
const suppressible = {
  subscriber: { table: subscribers, id: subscribers.id, count: subscribers.hardBounces, since: subscribers.suppressedAt },
  stakeholder: { table: stakeholders, id: stakeholders.id, count: stakeholders.hardBounces, since: stakeholders.suppressedAt },
  webhook: { table: webhookSubscribers, id: webhookSubscribers.id, count: webhookSubscribers.failures, since: webhookSubscribers.disabledAt },
} as const;

export type SuppressibleRecipientKind = keyof typeof suppressible;

export function isSuppressible(audience: string): audience is SuppressibleRecipientKind {
  return audience in suppressible;
}

/**
 * Counts one more consecutive failure for a recipient; at `limit` it is suppressed from `now` on.
 * Returns true when this failure suppressed it (so the caller can log it once).
 */
export async function recordFailure(db: Queryable, audience: SuppressibleRecipientKind, recipientId: string, limit: number, now: Date): Promise<boolean> {
  const t = suppressible[audience];
  const [row] = await db
    .update(t.table)
    .set({
      [audience === 'webhook' ? 'failures' : 'hardBounces']: sql`${t.count} + 1`,
      [audience === 'webhook' ? 'disabledAt' : 'suppressedAt']: sql`CASE WHEN ${t.count} + 1 >= ${limit} AND ${t.since} IS NULL THEN ${now.getTime()} ELSE ${t.since} END`,
    })
    .where(eq(t.id, recipientId))
    .returning({ count: t.count, since: t.since });
  return row !== undefined && row.since !== null && row.count === limit;
}

/** Only consecutive failures count: a recipient that works again starts from zero. */
export async function clearFailures(db: Queryable, audience: SuppressibleRecipientKind, recipientId: string): Promise<void> {
  const t = suppressible[audience];
  await db
    .update(t.table)
    .set({ [audience === 'webhook' ? 'failures' : 'hardBounces']: 0 })
    .where(eq(t.id, recipientId));
}
