// One-time sign-in links for members and stakeholders: asked for by email (or printed at the shell for a member), spent once for a session.
import { and, eq, gt, inArray, isNotNull, isNull } from 'drizzle-orm';
import { html } from 'hono/html';
import type { Queryable } from '../../db/client.ts';
import { members, signInLinks, stakeholders } from '../../db/schema.ts';
import { type Actor, actorKey, systemActor, withTransaction } from './context.ts';
import { safeNext, signInDeliveryKind, signInLinkLifetimeMs } from './sign-in-links.ts';
import { addMember, hasAdminMember, memberActor } from './members.ts';
import { openSession, type SessionHolder } from './sessions.ts';
import type { Role } from './tokens.ts';
import { newId, newSecret, sha256 } from '../ids.ts';
import { signInLinkUrl } from '../links.ts';
import type { MailMessage } from '../mail/transport.ts';
import { formatIn } from '../text.ts';
import { recordAudit } from './audit.ts';
import type { Services } from './context.ts';

export { requestSignInLink, safeNext, signInDeliveryKind, signInLinkLifetimeMs, signInLinksPerHour } from './sign-in-links.ts';

/** The mail settings a sign-in email needs (the same fields as compose.ts's MailSettings). */
interface MailSettings {
  from: string;
  publicUrl: string;
  pageName: string;
  /** TIME_ZONE, for the link's expiry time (UTC when absent). */
  timeZone?: string | undefined;
}

/**
 * Mints a member's one-time sign-in link at once, for a person at the server's shell (`npm run member`): nothing is
 * emailed, the URL is returned to print. Works once, for 15 minutes. Audited as `actor`.
 */
export async function issueMemberSignInLink(
  s: Pick<Services, 'db' | 'clock' | 'tx' | 'publicUrl'>,
  actor: Actor,
  memberId: string,
  next?: string,
): Promise<{ url: string; expiresAt: Date }> {
  return mintLink(s, actor, memberId, next);
}

/**
 * The first run's link (SPEC "People"): while no admin member exists, start-up prints a one-time link whose page asks
 * for a name and an address and makes that person the first admin. Works once, for 15 minutes; null once an admin exists.
 */
export async function issueFirstAdminLink(s: Pick<Services, 'db' | 'clock' | 'tx' | 'publicUrl'>): Promise<{ url: string; expiresAt: Date } | null> {
  if (await hasAdminMember(s.db)) return null;
  return mintLink(s, systemActor('start-up'), null);
}

async function mintLink(s: Pick<Services, 'db' | 'clock' | 'tx' | 'publicUrl'>, actor: Actor, memberId: string | null, next?: string) {
  const now = s.clock.now();
  const secret = newSecret();
  const expiresAt = new Date(now.getTime() + signInLinkLifetimeMs);
  await withTransaction(s, async (tx) => {
    const id = newId();
    await tx.insert(signInLinks).values({ id, memberId, deliveryId: null, hash: sha256(secret), next: safeNext(next), expiresAt, createdAt: now });
    await recordAudit(tx, {
      at: now,
      actor,
      action: memberId ? 'member.sign_in_link_issued' : 'member.first_admin_link_issued',
      subjectType: 'member',
      subjectId: memberId ?? 'first-admin',
      detail: { link: id, by: actorKey(actor) },
    });
  });
  return { url: signInLinkUrl(s.publicUrl, secret), expiresAt };
}

/** What an admin reading the outbox sees in place of a sign-in link's secret. */
export const redactedSecret = 'REDACTED-one-time-secret';

/** A claimed outbox row, as far as a sign-in email needs it (the outbox's Claimed has these fields). */
interface SignInDelivery {
  id: number;
  kind: string;
  audience: string;
  recipientId: string;
  email: string;
}

/** What the outbox does with one sign-in delivery; the same shape as the outbox's Prepared. */
type PreparedSignIn = { message: MailMessage; audience: 'stakeholder' | 'member'; bounced: boolean } | { skip: string };

/**
 * Composes the outbox's sign-in emails. The secret is minted here, at send time, and only its hash is stored, so
 * no usable link sits in the database; a retried send mints a new one and the previous one stops working.
 * Returns a Prepared per delivery id, for the outbox's prepare step.
 */
export async function prepareSignInEmails(
  db: Queryable,
  settings: MailSettings,
  rows: SignInDelivery[],
  now: Date,
  /** `mint: false` composes the email for an admin to read: the link shows a placeholder and nothing is written. */
  options: { mint?: boolean } = {},
): Promise<Map<number, PreparedSignIn>> {
  const out = new Map<number, PreparedSignIn>();
  const wanted = rows.filter((r) => r.kind === signInDeliveryKind);
  if (wanted.length === 0) return out;
  const rowsFound = await db
    .select({ link: signInLinks, stakeholder: stakeholders, member: members })
    .from(signInLinks)
    .leftJoin(stakeholders, eq(stakeholders.id, signInLinks.stakeholderId))
    .leftJoin(members, eq(members.id, signInLinks.memberId))
    .where(inArray(signInLinks.deliveryId, wanted.map((r) => r.id)));
  const links = rowsFound.map((l) => ({
    link: l.link,
    name: l.member?.name ?? l.stakeholder?.name ?? null,
    suppressedAt: l.stakeholder?.suppressedAt ?? null,
    hardBounces: l.stakeholder?.hardBounces ?? 0,
  }));
  const byDelivery = new Map(links.map((l) => [l.link.deliveryId, l]));
  for (const row of wanted) {
    const found = byDelivery.get(row.id);
    if (!found || found.name === null) out.set(row.id, { skip: row.audience === 'member' ? 'no longer a member' : 'no longer a stakeholder' });
    else if (found.suppressedAt) out.set(row.id, { skip: 'address suppressed after repeated hard bounces' });
    else if (options.mint !== false && (found.link.usedAt || found.link.expiresAt.getTime() <= now.getTime())) out.set(row.id, { skip: 'the sign-in link expired before it could be sent' });
    else {
      const secret = options.mint === false ? redactedSecret : newSecret();
      if (options.mint !== false) await db.update(signInLinks).set({ hash: sha256(secret) }).where(eq(signInLinks.id, found.link.id));
      const message = signInEmail(settings, { id: row.recipientId, email: row.email, name: found.name }, signInLinkUrl(settings.publicUrl, secret), found.link.expiresAt, row.id, now);
      out.set(row.id, { message, audience: row.audience === 'member' ? 'member' : 'stakeholder', bounced: (found.hardBounces ?? 0) > 0 });
    }
  }
  return out;
}

function signInEmail(s: MailSettings, to: { id: string; email: string; name: string }, link: string, expiresAt: Date, deliveryId: number, now: Date): MailMessage {
  const subject = `Your sign-in link for the ${s.pageName} internal page`.replace(/[\s\x00-\x1f\x7f]+/g, ' ');
  const until = formatIn(expiresAt, now, s.timeZone);
  const text = [
    `Hello ${to.name},`,
    `Open this link and press "Sign in" to read the internal status page:\n${link}`,
    `It works once, until ${until}. If you did not ask for it, ignore this email: nobody can sign in without it.`,
  ].join('\n\n');
  const body = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="color-scheme" content="light dark"><title>${subject}</title></head>
<body style="margin:0;padding:24px 16px;font:16px/1.5 -apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif"><div style="max-width:600px;margin:0 auto">
<p style="margin:0 0 14px">Hello ${to.name},</p>
<p style="margin:0 0 14px"><a href="${link}" style="display:inline-block;padding:10px 18px;border-radius:6px;background:#1f6feb;color:#fff;text-decoration:none">Open the sign-in page</a></p>
<p style="margin:0 0 14px">Or paste this link into your browser: ${link}</p>
<p style="margin:0 0 14px;font-size:13px;opacity:.8">It works once, until ${until}. If you did not ask for it, ignore this email: nobody can sign in without it.</p>
</div></body></html>`;
  return {
    from: s.from,
    to: to.email,
    subject,
    text,
    html: body.toString(),
    messageId: `<sign-in.${deliveryId}.${to.id}@${new URL(s.publicUrl).hostname}>`,
    headers: { 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'OOF, AutoReply' },
  };
}

export type LinkState = 'valid' | 'used' | 'expired' | 'unknown';

/** Reads a link without spending it (what a mail scanner's GET may do): its state and, when valid, who it is for. */
export async function peekSignInLink(s: Pick<Services, 'db' | 'clock'>, secret: string): Promise<{ state: LinkState; name?: string; firstAdmin?: boolean }> {
  const [row] = await s.db
    .select({ link: signInLinks, stakeholder: stakeholders.name, member: members.name })
    .from(signInLinks)
    .leftJoin(stakeholders, eq(stakeholders.id, signInLinks.stakeholderId))
    .leftJoin(members, eq(members.id, signInLinks.memberId))
    .where(and(isNotNull(signInLinks.hash), eq(signInLinks.hash, sha256(secret))));
  if (!row) return { state: 'unknown' };
  const firstAdmin = !row.link.memberId && !row.link.stakeholderId;
  const name = row.member ?? row.stakeholder;
  if (!name && !firstAdmin) return { state: 'unknown' };
  if (row.link.usedAt || (firstAdmin && (await hasAdminMember(s.db)))) return { state: 'used' };
  if (row.link.expiresAt.getTime() <= s.clock.now().getTime()) return { state: 'expired' };
  return firstAdmin ? { state: 'valid', firstAdmin } : { state: 'valid', name: name! };
}

/**
 * Spends a link: marks it used (once, even under concurrent posts) and opens a session for its member (their role)
 * or stakeholder (a viewer).
 * Returns the session cookie's secret, its expiry and where to land, or the reason the link does not work.
 */
export async function redeemSignInLink(
  s: Pick<Services, 'db' | 'clock'>,
  secret: string,
  /** The first admin's `{ email, name }`, for the first run's link (validated as addMember does: 422 naming the field). */
  firstAdmin?: { email: string; name: string },
): Promise<{ state: 'signed-in'; session: { secret: string; expiresAt: Date }; next: string; actor: SessionHolder } | { state: Exclude<LinkState, 'valid'> }> {
  const now = s.clock.now();
  const hash = sha256(secret);
  const outcome = await withTransaction(s, async (tx) => {
    const [link] = await tx
      .update(signInLinks)
      .set({ usedAt: now })
      .where(and(eq(signInLinks.hash, hash), isNull(signInLinks.usedAt), gt(signInLinks.expiresAt, now)))
      .returning();
    if (!link) return null;
    let holder = await linkHolder(tx, link);
    if (!link.memberId && !link.stakeholderId) {
      // The first run's link: spent only while no admin exists; it makes the person who spends it the first admin.
      if (await hasAdminMember(tx)) return null;
      const added = await addMember({ ...s, tx }, systemActor('first run'), { ...firstAdmin, role: 'admin' }, { signInLink: false });
      holder = memberActor(added);
    }
    if (!holder) return null;
    const session = await openSession(tx, now, holder);
    if (holder.kind === 'member') await tx.update(members).set({ lastSignedInAt: now }).where(eq(members.id, holder.id));
    await recordAudit(tx, { at: now, actor: holder.name, action: `${holder.kind}.signed_in`, subjectType: holder.kind, subjectId: holder.id, detail: { link: link.id, by: actorKey(holder) } });
    return { state: 'signed-in' as const, session, next: link.next, actor: holder };
  });
  if (outcome) return outcome;
  const peeked = await peekSignInLink(s, secret);
  return { state: peeked.state === 'valid' ? 'unknown' : peeked.state };
}

/** The actor a spent link signs in: the member (with their role now) or the stakeholder (a viewer); null when gone. */
async function linkHolder(tx: Queryable, link: { memberId: string | null; stakeholderId: string | null }): Promise<SessionHolder | null> {
  if (link.memberId) {
    const [m] = await tx.select().from(members).where(eq(members.id, link.memberId));
    return m ? { kind: 'member', id: m.id, name: m.name, email: m.email, role: m.role as Role } : null;
  }
  const [p] = link.stakeholderId ? await tx.select().from(stakeholders).where(eq(stakeholders.id, link.stakeholderId)) : [];
  return p ? { kind: 'stakeholder', id: p.id, name: p.name, email: p.email, role: 'viewer' } : null;
}
