// Emailed one-time sign-in links, the asking half: queues a link for a member's or a stakeholder's address through the outbox.
import { and, count, eq, gt, isNull } from 'drizzle-orm';
import type { Queryable } from '../../db/client.ts';
import { deliveries, members, signInLinks, stakeholders } from '../../db/schema.ts';
import { newId } from '../ids.ts';
import { recordAudit } from './audit.ts';
import { withTransaction, type Services } from './context.ts';

/** A link works for 15 minutes: long enough to find the email, short enough that a forwarded one is soon dead. */
export const signInLinkLifetimeMs = 15 * 60 * 1000;
/** At most this many emailed links per member or stakeholder per hour, whoever asks: the form cannot be used to flood an inbox. */
export const signInLinksPerHour = 5;
/** The outbox kind of the email that carries a link. */
export const signInDeliveryKind = 'sign-in';

/** A path under /internal/ to land on, from an untrusted value; anything else (another host, "//x", "/api") becomes /internal/. */
export function safeNext(next: string | null | undefined): string {
  if (!next) return '/internal/';
  try {
    const url = new URL(next, 'http://internal.invalid');
    if (url.origin !== 'http://internal.invalid' || !url.pathname.startsWith('/internal/') || next.includes('\\')) return '/internal/';
    return url.pathname + url.search;
  } catch {
    return '/internal/';
  }
}

/** Who a sign-in link is for: a team member (their own role) or a stakeholder (always a viewer). */
export type LinkHolder = { kind: 'member'; id: string; name: string; email: string } | { kind: 'stakeholder'; id: string; name: string; email: string };

export const holderColumn = (h: Pick<LinkHolder, 'kind' | 'id'>) => (h.kind === 'member' ? { memberId: h.id } : { stakeholderId: h.id });
export const linksOf = (h: Pick<LinkHolder, 'kind' | 'id'>) => (h.kind === 'member' ? eq(signInLinks.memberId, h.id) : eq(signInLinks.stakeholderId, h.id));

/** The member, else the (unsuppressed) stakeholder, with this address; a member wins when a person is both. */
export async function holderByEmail(tx: Queryable, email: string): Promise<LinkHolder | null> {
  const [member] = await tx.select().from(members).where(eq(members.email, email));
  if (member) return { kind: 'member', id: member.id, name: member.name, email: member.email };
  const [person] = await tx.select().from(stakeholders).where(and(eq(stakeholders.email, email), isNull(stakeholders.suppressedAt)));
  return person ? { kind: 'stakeholder', id: person.id, name: person.name, email: person.email } : null;
}

/**
 * Queues a sign-in email for a member's or a stakeholder's address. Says nothing about whether the address is
 * known: unknown and suppressed addresses, and addresses over the hourly limit, are silently ignored.
 * Returns whether a link was queued, for tests and the audit trail only; callers must not show it.
 */
export async function requestSignInLink(s: Pick<Services, 'db' | 'clock' | 'tx'>, input: { email: string; next?: string | null | undefined }): Promise<boolean> {
  const now = s.clock.now();
  const email = input.email.trim().toLowerCase();
  return withTransaction(s, async (tx) => {
    const holder = await holderByEmail(tx, email);
    if (!holder) return false;
    const [recent] = await tx
      .select({ n: count() })
      .from(signInLinks)
      .where(and(linksOf(holder), gt(signInLinks.createdAt, new Date(now.getTime() - 60 * 60 * 1000))));
    if ((recent?.n ?? 0) >= signInLinksPerHour) return false;
    const [delivery] = await tx
      .insert(deliveries)
      .values({ updateId: null, kind: signInDeliveryKind, audience: holder.kind, recipientId: holder.id, email: holder.email, nextAttemptAt: now, createdAt: now })
      .returning({ id: deliveries.id });
    const id = newId();
    await tx.insert(signInLinks).values({
      id,
      ...holderColumn(holder),
      deliveryId: delivery!.id,
      next: safeNext(input.next),
      expiresAt: new Date(now.getTime() + signInLinkLifetimeMs),
      createdAt: now,
    });
    await recordAudit(tx, { at: now, actor: holder.name, action: `${holder.kind}.sign_in_link_requested`, subjectType: holder.kind, subjectId: holder.id, detail: { link: id, by: `${holder.kind}:${holder.id}` } });
    return true;
  });
}

