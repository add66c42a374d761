// What a stakeholder does to read the internal page without a token: ask for a one-time link by email, then spend it for a viewer session.
import { and, count, eq, gt, inArray, isNotNull, isNull } from 'drizzle-orm';
import { html } from 'hono/html';
import type { Queryable } from '../../db/client.ts';
import { deliveries, sessions, signInLinks, stakeholders } from '../../db/schema.ts';
import { type Actor, withTransaction } from './context.ts';
import { newId, newSecret, sha256 } from '../ids.ts';
import { signInLinkUrl } from '../links.ts';
import type { MailMessage } from '../mail/transport.ts';
import { formatUtc } from '../text.ts';
import { recordAudit } from './audit.ts';
import type { Services } from './context.ts';

/** The mail settings a sign-in email needs (the same fields as compose.ts's MailSettings). */
interface MailSettings {
  from: string;
  publicUrl: string;
  pageName: string;
}

/** A link works for 15 minutes: long enough to find the email, short enough that a forwarded one is soon dead. */
export const signInLinkLifetimeMs = 15 * 60 * 1000;
/** At most this many links per stakeholder per hour, whoever asks: the form cannot be used to flood an inbox. */
export const signInLinksPerHour = 5;
/** A stakeholder's session lasts as long as a token holder's. */
const stakeholderSessionLifetimeMs = 12 * 60 * 60 * 1000;
/** The outbox kind of the email that carries a link. */
export const signInDeliveryKind = 'sign-in';

const actor = 'stakeholder';

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

/**
 * Queues a sign-in email for a stakeholder's address. Says nothing about whether the address is a stakeholder:
 * unknown and suppressed addresses, and addresses over the hourly limit, are silently ignored.
 * Returns whether a link was queued, for tests and the audit trail only; callers must not show it.
 */
export async function requestSignInLink(s: Pick<Services, 'db' | 'clock'>, input: { email: string; next?: string | null | undefined }): Promise<boolean> {
  const now = s.clock.now();
  const email = input.email.trim().toLowerCase();
  return withTransaction(s, async (tx) => {
    const [person] = await tx.select().from(stakeholders).where(and(eq(stakeholders.email, email), isNull(stakeholders.suppressedAt)));
    if (!person) return false;
    const [recent] = await tx
      .select({ n: count() })
      .from(signInLinks)
      .where(and(eq(signInLinks.stakeholderId, person.id), gt(signInLinks.createdAt, new Date(now.getTime() - 60 * 60 * 1000))));
    if ((recent?.n ?? 0) >= signInLinksPerHour) return false;
    const [delivery] = await tx
      .insert(deliveries)
      .values({ updateId: null, kind: signInDeliveryKind, audience: 'stakeholder', recipientId: person.id, email: person.email, nextAttemptAt: now, createdAt: now })
      .returning({ id: deliveries.id });
    const id = newId();
    await tx.insert(signInLinks).values({
      id,
      stakeholderId: person.id,
      deliveryId: delivery!.id,
      next: safeNext(input.next),
      expiresAt: new Date(now.getTime() + signInLinkLifetimeMs),
      createdAt: now,
    });
    await recordAudit(tx, { at: now, actor, action: 'stakeholder.sign_in_link_requested', subjectType: 'stakeholder', subjectId: person.id, detail: { link: id } });
    return true;
  });
}

/** What an admin reading the outbox sees in place of a sign-in link's secret. */
export const redactedSecret = 'REDACTED-one-time-secret';

/** A claimed outbox row, as far as a sign-in email needs it (the outbox's Claimed has these fields). */
interface SignInDelivery {
  id: number;
  kind: string;
  recipientId: string;
  email: string;
}

/** What the outbox does with one sign-in delivery; the same shape as the outbox's Prepared. */
type PreparedSignIn = { message: MailMessage; audience: 'stakeholder'; bounced: boolean } | { skip: string };

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
  const links = await db
    .select({ link: signInLinks, name: stakeholders.name, suppressedAt: stakeholders.suppressedAt, hardBounces: stakeholders.hardBounces })
    .from(signInLinks)
    .leftJoin(stakeholders, eq(stakeholders.id, signInLinks.stakeholderId))
    .where(inArray(signInLinks.deliveryId, wanted.map((r) => r.id)));
  const byDelivery = new Map(links.map((l) => [l.link.deliveryId, l]));
  for (const row of wanted) {
    const found = byDelivery.get(row.id);
    if (!found || found.name === null) out.set(row.id, { skip: 'no longer a stakeholder' });
    else if (found.suppressedAt) out.set(row.id, { skip: 'address suppressed after repeated hard bounces' });
    else if (options.mint !== false && (found.link.usedAt || found.link.expiresAt.getTime() <= now.getTime())) out.set(row.id, { skip: 'the sign-in link expired before it could be sent' });
    else {
      const secret = options.mint === false ? redactedSecret : newSecret();
      if (options.mint !== false) await db.update(signInLinks).set({ hash: sha256(secret) }).where(eq(signInLinks.id, found.link.id));
      const message = signInEmail(settings, { id: row.recipientId, email: row.email, name: found.name }, signInLinkUrl(settings.publicUrl, secret), found.link.expiresAt, row.id, now);
      out.set(row.id, { message, audience: 'stakeholder', bounced: (found.hardBounces ?? 0) > 0 });
    }
  }
  return out;
}

function signInEmail(s: MailSettings, to: { id: string; email: string; name: string }, link: string, expiresAt: Date, deliveryId: number, now: Date): MailMessage {
  const subject = `Your sign-in link for the ${s.pageName} internal page`.replace(/[\s\x00-\x1f\x7f]+/g, ' ');
  const until = formatUtc(expiresAt, now);
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
export async function peekSignInLink(s: Pick<Services, 'db' | 'clock'>, secret: string): Promise<{ state: LinkState; name?: string }> {
  const [row] = await s.db
    .select({ link: signInLinks, name: stakeholders.name })
    .from(signInLinks)
    .innerJoin(stakeholders, eq(stakeholders.id, signInLinks.stakeholderId))
    .where(and(isNotNull(signInLinks.hash), eq(signInLinks.hash, sha256(secret))));
  if (!row) return { state: 'unknown' };
  if (row.link.usedAt) return { state: 'used' };
  if (row.link.expiresAt.getTime() <= s.clock.now().getTime()) return { state: 'expired' };
  return { state: 'valid', name: row.name };
}

/**
 * Spends a link: marks it used (once, even under concurrent posts) and opens a viewer session for its stakeholder.
 * Returns the session cookie's secret, its expiry and where to land, or the reason the link does not work.
 */
export async function redeemSignInLink(
  s: Pick<Services, 'db' | 'clock'>,
  secret: string,
): Promise<{ state: 'signed-in'; session: { secret: string; expiresAt: Date }; next: string } | { state: Exclude<LinkState, 'valid'> }> {
  const now = s.clock.now();
  const hash = sha256(secret);
  const outcome = await withTransaction(s, async (tx) => {
    const [link] = await tx
      .update(signInLinks)
      .set({ usedAt: now })
      .where(and(eq(signInLinks.hash, hash), isNull(signInLinks.usedAt), gt(signInLinks.expiresAt, now)))
      .returning();
    if (!link) return null;
    const [person] = await tx.select().from(stakeholders).where(eq(stakeholders.id, link.stakeholderId));
    if (!person) return null;
    const sessionSecret = newSecret();
    const expiresAt = new Date(now.getTime() + stakeholderSessionLifetimeMs);
    await tx.insert(sessions).values({ hash: sha256(sessionSecret), stakeholderId: person.id, expiresAt, createdAt: now });
    await recordAudit(tx, { at: now, actor, action: 'stakeholder.signed_in', subjectType: 'stakeholder', subjectId: person.id, detail: { link: link.id } });
    return { state: 'signed-in' as const, session: { secret: sessionSecret, expiresAt }, next: link.next };
  });
  if (outcome) return outcome;
  const peeked = await peekSignInLink(s, secret);
  return { state: peeked.state === 'valid' ? 'unknown' : peeked.state };
}

/** The reader behind a stakeholder's session cookie: always a viewer, named after the stakeholder; null when not one. */
export async function verifyStakeholderSession(db: Queryable, secret: string, now: Date): Promise<Actor | null> {
  const [row] = await db
    .select({ id: stakeholders.id, name: stakeholders.name, email: stakeholders.email })
    .from(sessions)
    .innerJoin(stakeholders, eq(stakeholders.id, sessions.stakeholderId))
    .where(and(eq(sessions.hash, sha256(secret)), gt(sessions.expiresAt, now)));
  return row ? { kind: 'stakeholder', id: row.id, name: row.name, email: row.email, role: 'viewer' } : null;
}
