// What a subscriber does: subscribe (double opt-in), confirm, choose components, unsubscribe. Mail goes through the outbox.
import { createHmac } from 'node:crypto';
import { and, eq, gt, inArray, or, sql } from 'drizzle-orm';
import type { Tx } from '../../db/client.ts';
import { deliveries, subscribers } from '../../db/schema.ts';
import { newId, newSecret, sha256 } from '../ids.ts';
import { recordAudit } from './audit.ts';
import { requireComponents } from './components.ts';
import { type Actor, type Services, withTransaction } from './context.ts';
import { authorize } from './use-cases.ts';

/** How long a confirmation link works. */
export const confirmationLifetimeMs = 48 * 60 * 60 * 1000;
/** At most this many confirmation emails per address per hour, whoever asks for them. */
const confirmationsPerHour = 3;

type SubscriberRow = typeof subscribers.$inferSelect;
const actor = 'subscriber';

/**
 * The confirmation token is derived, not stored: an HMAC keyed with the subscriber's own secret over its expiry.
 * Only its hash is kept for the lookup, and the outbox worker can rebuild the link when it sends the email,
 * so no secret sits in the outbox. A new expiry gives a new token and retires the old link.
 */
export function confirmationToken(row: Pick<SubscriberRow, 'id' | 'unsubscribeToken'>, expiresAt: Date): string {
  return createHmac('sha256', row.unsubscribeToken).update(`confirm:${row.id}:${expiresAt.getTime()}`).digest('base64url');
}

interface SubscribeInput {
  email: string;
  /** Component ids to hear about; omitted, null or empty means every component. */
  components?: string[] | null | undefined;
}

/** The emails a subscribe request can queue: a confirmation link for a new or pending address, the manage link for a confirmed one. */
const linkKinds = ['confirmation', 'manage_link'] as const;

/**
 * Starts a double opt-in, or for an address already confirmed, sends its manage link. The caller learns nothing about
 * whether the address was known: the answer is the same, and so is the work done before it (the same statements in
 * the same order, whatever the address's state: one upsert, one link refresh, one count, one delivery row), so the
 * time taken does not tell either. At most `confirmationsPerHour` such emails per address per hour, whoever asks.
 * A new component choice applies to a pending address; a confirmed address keeps its choice, since this request
 * carries no proof that it comes from the address's owner: the manage link it receives is where the owner changes it.
 */
export async function subscribe(s: Pick<Services, 'db' | 'clock'>, input: SubscribeInput): Promise<void> {
  const now = s.clock.now();
  const email = input.email.trim().toLowerCase();
  const components = input.components && input.components.length > 0 ? [...input.components] : null;
  await withTransaction(s, async (tx) => {
    if (components) await requireComponents(tx, components, 'components', 'ids');
    const row = await upsertSubscriber(tx, email, components, now);
    await queueLinkEmail(tx, row, now);
  });
}

/**
 * The row for an address, created or updated by the same two statements whatever its state. A pending address takes
 * the new component choice; an expired (or never issued) confirmation link is replaced, an unexpired one stays valid
 * so the first email still works; a confirmed or suppressed address is left as it was.
 */
async function upsertSubscriber(tx: Tx, email: string, components: string[] | null, now: Date): Promise<SubscriberRow> {
  const [row] = await tx
    .insert(subscribers)
    .values({ id: newId(), email, components, unsubscribeToken: newSecret(), createdAt: now })
    .onConflictDoUpdate({
      target: subscribers.email,
      set: { components: sql`case when ${subscribers.confirmedAt} is null then excluded.components else ${subscribers.components} end` },
    })
    .returning();
  const expiresAt = new Date(now.getTime() + confirmationLifetimeMs);
  // The row is written whatever its state, with its own values where nothing changes, so the write costs the same.
  const stale = sql`(${subscribers.confirmedAt} is null and (${subscribers.confirmExpiresAt} is null or ${subscribers.confirmExpiresAt} <= ${now.getTime()}))`;
  const [refreshed] = await tx
    .update(subscribers)
    .set({
      confirmExpiresAt: sql`case when ${stale} then ${expiresAt.getTime()} else ${subscribers.confirmExpiresAt} end`,
      confirmTokenHash: sql`case when ${stale} then ${sha256(confirmationToken(row!, expiresAt))} else ${subscribers.confirmTokenHash} end`,
    })
    .where(eq(subscribers.id, row!.id))
    .returning();
  return refreshed!;
}

/**
 * One link email in the outbox per request (a confirmation, or the manage link for a confirmed address), unless one
 * is still waiting to go or the hourly allowance is spent. A suppressed address gets its row too, already suppressed,
 * so that its request costs what any other does.
 */
async function queueLinkEmail(tx: Tx, row: SubscriberRow, now: Date) {
  const hourAgo = new Date(now.getTime() - 60 * 60 * 1000);
  const [recent] = await tx
    .select({ total: sql<number>`count(*)`, waiting: sql<number>`coalesce(sum(${deliveries.status} = 'pending'), 0)` })
    .from(deliveries)
    .where(
      and(
        inArray(deliveries.kind, [...linkKinds]),
        eq(deliveries.recipientId, row.id),
        or(eq(deliveries.status, 'pending'), gt(deliveries.createdAt, hourAgo)),
      ),
    );
  if (Number(recent?.waiting ?? 0) > 0 || Number(recent?.total ?? 0) >= confirmationsPerHour) return;
  await tx.insert(deliveries).values({
    updateId: null,
    kind: row.confirmedAt ? 'manage_link' : 'confirmation',
    audience: 'subscriber',
    recipientId: row.id,
    email: row.email,
    status: row.suppressedAt ? 'suppressed' : 'pending',
    lastError: row.suppressedAt ? 'address suppressed after repeated hard bounces' : null,
    nextAttemptAt: now,
    createdAt: now,
  });
}

/** What a confirmation link can find: a pending subscription, or a dead link (expired, or unknown: never issued, replaced or used). */
type ConfirmationState = { state: 'pending'; email: string } | { state: 'expired' | 'invalid' };

/** Looks a confirmation link up without using it: what a GET of the link shows (a button, or why there is none). */
export async function confirmationState(s: Pick<Services, 'db' | 'clock'>, token: string): Promise<ConfirmationState> {
  const [row] = await s.db.select().from(subscribers).where(eq(subscribers.confirmTokenHash, sha256(token)));
  return linkState(row, s.clock.now());
}

function linkState(row: SubscriberRow | undefined, now: Date): ConfirmationState {
  if (!row || row.confirmedAt) return { state: 'invalid' };
  if (!row.confirmExpiresAt || row.confirmExpiresAt.getTime() <= now.getTime()) return { state: 'expired' };
  return { state: 'pending', email: row.email };
}

type ConfirmOutcome = { outcome: 'confirmed'; manageToken: string } | { outcome: 'expired' | 'invalid' };

/**
 * Confirms the subscription a link names, once: the link's hash is cleared as it is used, so a second use, like an
 * unknown link, is 'invalid'; a link past its expiry is 'expired' and confirms nothing. Called on POST only (the
 * button on the link's page): mail scanners that follow links with GET must not confirm anyone.
 */
export async function confirmSubscription(s: Pick<Services, 'db' | 'clock'>, token: string): Promise<ConfirmOutcome> {
  const now = s.clock.now();
  return withTransaction(s, async (tx) => {
    const [row] = await tx.select().from(subscribers).where(eq(subscribers.confirmTokenHash, sha256(token)));
    const found = linkState(row, now);
    if (found.state !== 'pending') return { outcome: found.state };
    await tx.update(subscribers).set({ confirmedAt: now, confirmTokenHash: null, confirmExpiresAt: null }).where(eq(subscribers.id, row!.id));
    await recordAudit(tx, { at: now, actor, action: 'subscriber.confirmed', subjectType: 'subscriber', subjectId: row!.id });
    return { outcome: 'confirmed', manageToken: row!.unsubscribeToken };
  });
}

/**
 * Removes the subscriber and everything still queued for them, so one click stops all mail.
 * The address is deleted rather than flagged: we keep no list of people who left.
 */
export async function unsubscribe(s: Pick<Services, 'db' | 'clock'>, token: string): Promise<boolean> {
  const now = s.clock.now();
  return withTransaction(s, async (tx) => {
    const [row] = await tx.delete(subscribers).where(eq(subscribers.unsubscribeToken, token)).returning({ id: subscribers.id });
    if (!row) return false;
    await tx
      .update(deliveries)
      .set({ status: 'suppressed', lastError: 'unsubscribed', leaseOwner: null, leaseUntil: null })
      .where(and(eq(deliveries.audience, 'subscriber'), eq(deliveries.recipientId, row.id), eq(deliveries.status, 'pending')));
    await recordAudit(tx, { at: now, actor, action: 'subscriber.unsubscribed', subjectType: 'subscriber', subjectId: row.id });
    return true;
  });
}

interface Subscription {
  email: string;
  confirmed: boolean;
  /** null: every component. */
  components: string[] | null;
}

/** What the manage page shows; the token in every email is the capability. */
export async function getSubscription(s: Pick<Services, 'db'>, token: string): Promise<Subscription | null> {
  const [row] = await s.db.select().from(subscribers).where(eq(subscribers.unsubscribeToken, token));
  return row ? { email: row.email, confirmed: row.confirmedAt !== null, components: row.components } : null;
}

/** Changes which components a subscriber hears about; an empty choice means all of them. */
export async function chooseComponents(s: Pick<Services, 'db' | 'clock'>, token: string, components: string[]): Promise<Subscription | null> {
  const now = s.clock.now();
  const chosen = components.length > 0 ? [...new Set(components)] : null;
  return withTransaction(s, async (tx) => {
    if (chosen) await requireComponents(tx, chosen, 'components', 'ids');
    const [row] = await tx.update(subscribers).set({ components: chosen }).where(eq(subscribers.unsubscribeToken, token)).returning();
    if (!row) return null;
    await recordAudit(tx, { at: now, actor, action: 'subscriber.components_changed', subjectType: 'subscriber', subjectId: row.id, detail: { components: chosen } });
    return { email: row.email, confirmed: row.confirmedAt !== null, components: row.components };
  });
}

// ---- what an admin does with the list ----

interface SubscriberCounts {
  confirmed: number;
  pending: number;
}

export async function countSubscribers(s: Pick<Services, 'db'>): Promise<SubscriberCounts> {
  const [row] = await s.db.all<{ confirmed: number; pending: number }>(sql`
    SELECT count(confirmed_at) AS confirmed, count(*) - count(confirmed_at) AS pending FROM subscribers`);
  return { confirmed: Number(row?.confirmed ?? 0), pending: Number(row?.pending ?? 0) };
}

/** Subscribers whose address contains `search` (case-insensitive), newest first; at most `limit`, or all for an export. */
export async function findSubscribers(s: Pick<Services, 'db'>, query: { search?: string | undefined; limit?: number | undefined }) {
  const needle = `%${(query.search ?? '').trim().toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return s.db
    .select({ id: subscribers.id, email: subscribers.email, components: subscribers.components, confirmedAt: subscribers.confirmedAt, suppressedAt: subscribers.suppressedAt, createdAt: subscribers.createdAt })
    .from(subscribers)
    .where(sql`${subscribers.email} LIKE ${needle} ESCAPE '\\'`)
    .orderBy(sql`${subscribers.createdAt} DESC`, subscribers.email)
    .limit(query.limit ?? -1);
}

/** An admin removes a subscriber: the same as their own unsubscribe, recorded with the admin as actor. */
export async function removeSubscriber(s: Pick<Services, 'db' | 'clock'>, admin: Actor, id: string): Promise<boolean> {
  authorize(admin, 'removeSubscriber');
  const now = s.clock.now();
  return withTransaction(s, async (tx) => {
    const [row] = await tx.delete(subscribers).where(eq(subscribers.id, id)).returning({ id: subscribers.id });
    if (!row) return false;
    await tx
      .update(deliveries)
      .set({ status: 'suppressed', lastError: 'removed by an admin', leaseOwner: null, leaseUntil: null })
      .where(and(eq(deliveries.audience, 'subscriber'), eq(deliveries.recipientId, row.id), eq(deliveries.status, 'pending')));
    await recordAudit(tx, { at: now, actor: admin, action: 'subscriber.removed', subjectType: 'subscriber', subjectId: row.id });
    return true;
  });
}
