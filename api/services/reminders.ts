// Keeps the rhythm of updates: schedules reminders and overdue notices as outbox rows with the update that sets the due time.
import { and, asc, desc, eq, inArray, ne, sql } from 'drizzle-orm';
import type { Queryable, Tx } from '../../db/client.ts';
import { channels, deliveries, incidents, updates, type Roles } from '../../db/schema.ts';
import { isActiveIncident, type Severity } from '../domain.ts';
import type { CadenceSettings } from '../config.ts';
import type { Claimed } from '../outbox/leases.ts';
import { actorEmail, type Actor } from './context.ts';
import { absolute, paths } from '../links.ts';
import { suppressPending } from './outbox.ts';
import { formatIn, humanDuration } from '../text.ts';

/** Delivery kinds that remind the comms lead; an update posted to the incident cancels those still pending. */
const cadenceKinds = ['due_reminder', 'overdue'] as const;
/** Notices about an incident's alert group, sent whatever the incident's status: its alerts resolved, or kept firing after a person resolved it. */
export const alertNoticeKinds = ['alerts_resolved', 'alerts_still_firing'] as const;
type NoticeKind = (typeof cadenceKinds)[number] | (typeof alertNoticeKinds)[number];

/**
 * How long overdue notices nag, per update: at the cadence for the first day past due (a SEV1 left open overnight
 * keeps nagging every 15 minutes, which a cap of 48 notices used to silence after 12 hours), then once a day for a
 * week. Past that the incident is abandoned rather than late, and a daily notice is all that it gets; the next
 * update, or resolving, starts a new round. At-cadence notices are capped at 288 (a 5-minute cadence's day), so a
 * CADENCE of a minute or two cannot schedule thousands of rows per recipient; such a cadence nags for fewer hours
 * before going daily.
 */
export const overdueRule = { cadenceForMs: 24 * 60 * 60_000, maxAtCadence: 288, dailyFor: 7 } as const;
const dayMs = 24 * 60 * 60_000;

/**
 * Due times (epoch ms) of the overdue notices for one update, first at `due`: every `intervalMinutes` for
 * overdueRule.cadenceForMs (at most maxAtCadence of them), then daily after the last of those for dailyFor days.
 * With no interval (a severity whose cadence is 0 and no chosen interval), one notice at `due`, then the daily ones.
 */
export function overdueTimes(due: number, intervalMinutes: number | null): number[] {
  const step = intervalMinutes ? intervalMinutes * 60_000 : 0;
  const repeats = step ? Math.min(overdueRule.maxAtCadence, Math.max(1, Math.ceil(overdueRule.cadenceForMs / step))) : 1;
  const times = Array.from({ length: repeats }, (_, k) => due + k * step);
  const last = times.at(-1)!;
  for (let d = 1; d <= overdueRule.dailyFor; d++) times.push(last + d * dayMs);
  return times;
}

/** Where the comms lead posts the next update: `/internal/incidents/{id}/post-update`, the incident page scrolled to Post update. */
function postUpdateUrl(publicUrl: string, incidentId: string): string {
  return absolute(publicUrl, `${paths.incident('internal', incidentId)}post-update`);
}

const emailPattern = /[^\s<>@,;"]+@[^\s<>@,;"]+\.[^\s<>@,;"]+/;

/** The address in a role such as "Casey Comms <casey@example.com>" or "casey@example.com"; null when it has none. */
export function roleEmail(role: string | undefined): string | null {
  if (!role) return null;
  const angled = /<([^>]+)>/.exec(role)?.[1] ?? role;
  return emailPattern.exec(angled)?.[0]?.toLowerCase() ?? null;
}

/** Who is reminded: the incident's comms lead (an email in roles.comms), else the last publisher (a member's email, or the `email` of its API token: `npm run token -- create --email`), else COMMS_EMAIL. */
export function commsRecipient(roles: Roles, publisher: Actor, fallback: string | undefined): string | null {
  return roleEmail(roles.comms) ?? actorEmail(publisher) ?? fallback ?? null;
}

/**
 * Who the update's reminders were scheduled for (the comms lead, else that update's publisher, else COMMS_EMAIL, as
 * decided when it was posted), whether or not they were sent; null when it scheduled none.
 */
export async function scheduledCommsRecipient(db: Queryable, updateId: string): Promise<string | null> {
  const [row] = await db
    .select({ email: deliveries.email })
    .from(deliveries)
    .where(and(eq(deliveries.updateId, updateId), eq(deliveries.audience, 'comms'), inArray(deliveries.kind, [...cadenceKinds])))
    .limit(1);
  return row?.email ?? null;
}

/** Minutes between overdue notices: the interval the comms lead chose for this update (nextUpdateInMinutes overrides the cadence per update), else the severity's cadence. */
function overdueIntervalMinutes(settings: CadenceSettings, severity: Severity, chosen: number | null | undefined): number | null {
  if (chosen && chosen > 0) return chosen;
  const cadence = settings.minutes[severity];
  return cadence > 0 ? cadence : null;
}

interface CadenceStep {
  incidentId: string;
  severity: Severity;
  roles: Roles;
  draft: boolean;
  /** The update just stored: reminders name it as what was last said. */
  updateId: string;
  nextUpdateAt: Date | null;
  /** nextUpdateInMinutes as given with the update, if any. */
  chosenMinutes: number | null | undefined;
  actor: Actor;
  now: Date;
}

/** Inside the publishing transaction: cancels the incident's pending reminders, then schedules the next round (a reminder before due, then overdueTimes). */
export async function scheduleCadence(tx: Tx, settings: CadenceSettings, step: CadenceStep): Promise<void> {
  await suppressPending(tx, { incidentId: step.incidentId }, cadenceKinds, 'an update was posted');
  if (!step.nextUpdateAt || step.draft) return;
  const due = step.nextUpdateAt.getTime();
  const interval = overdueIntervalMinutes(settings, step.severity, step.chosenMinutes);
  const person = commsRecipient(step.roles, step.actor, settings.commsEmail);
  const targets = [
    ...(person ? [{ audience: 'comms' as const, recipientId: person, email: person }] : []),
    ...(await tx.select({ id: channels.id, url: channels.url }).from(channels)).map((c) => ({ audience: 'channel' as const, recipientId: c.id, email: c.url })),
  ];
  const times: { kind: (typeof cadenceKinds)[number]; seq: number; at: number }[] = [];
  const remindAt = due - settings.leadMinutes * 60_000;
  if (settings.leadMinutes > 0 && remindAt > step.now.getTime()) times.push({ kind: 'due_reminder', seq: 0, at: remindAt });
  for (const [k, at] of overdueTimes(due, interval).entries()) times.push({ kind: 'overdue', seq: k + 1, at });
  const values = targets.flatMap((t) =>
    times.map((w) => ({ updateId: step.updateId, kind: w.kind, seq: w.seq, ...t, status: 'pending', nextAttemptAt: new Date(w.at), createdAt: step.now })),
  );
  if (values.length > 0) await tx.insert(deliveries).values(values).onConflictDoNothing();
}

export interface CadenceDelivery {
  kind: NoticeKind;
  /** The nth overdue notice, from 1; 0 otherwise. */
  seq: number;
  /** comms (an email address) or channel (a channel id). */
  recipientKind: string;
  recipient: string;
  status: string;
  dueAt: Date;
  sentAt: Date | null;
  lastError: string | null;
}

/** The incident's reminders that were not cancelled, by due time (at most 100): queryable delivery state. */
export async function cadenceDeliveries(db: Queryable, incidentId: string): Promise<CadenceDelivery[]> {
  const rows = await db
    .select({
      kind: deliveries.kind,
      seq: deliveries.seq,
      recipientKind: deliveries.audience,
      recipient: deliveries.recipientId,
      status: deliveries.status,
      dueAt: deliveries.nextAttemptAt,
      sentAt: deliveries.sentAt,
      lastError: deliveries.lastError,
    })
    .from(deliveries)
    .innerJoin(updates, eq(updates.id, deliveries.updateId))
    .where(and(eq(updates.incidentId, incidentId), inArray(deliveries.kind, [...cadenceKinds, 'alerts_resolved']), ne(deliveries.status, 'suppressed')))
    .orderBy(asc(deliveries.nextAttemptAt), asc(deliveries.id))
    .limit(100);
  return rows.map((r) => ({ ...r, kind: r.kind as NoticeKind }));
}

/** What a reminder, an overdue notice or an "alerts resolved" notice says, whatever carries it (email or chat). */
export interface Notice {
  kind: NoticeKind;
  incidentId: string;
  title: string;
  internalTitle: string;
  severity: string;
  status: string;
  nextUpdateAt: Date | null;
  /** The nth overdue notice, from 1; 0 otherwise. */
  seq: number;
  lastUpdate: { status: string; externalSubject: string; externalBody: string; author: string; createdAt: Date };
  /** The console's Post update for this incident. */
  postUpdateUrl: string;
}

/**
 * Describes each claimed notice row, or says why it should not be sent: the incident is gone or closed, or an
 * update was posted after the one the row was scheduled with (the posting transaction also cancels them; this
 * covers a row claimed just before it committed).
 */
export async function loadNotices(db: Queryable, rows: Claimed[], publicUrl: string, now: Date): Promise<Map<number, Notice | { skip: string }>> {
  const out = new Map<number, Notice | { skip: string }>();
  const updateIds = [...new Set(rows.map((r) => r.updateId).filter((id): id is string => id !== null))];
  if (updateIds.length === 0) return out;
  const scheduled = await db.select({ id: updates.id, incidentId: updates.incidentId }).from(updates).where(inArray(updates.id, updateIds));
  const incidentOf = new Map(scheduled.map((u) => [u.id, u.incidentId]));
  const incidentIds = [...new Set(scheduled.map((u) => u.incidentId).filter((id): id is string => id !== null))];
  const facts = new Map<string, { incident: typeof incidents.$inferSelect; latest: typeof updates.$inferSelect }>();
  for (const id of incidentIds) {
    const [incident] = await db.select().from(incidents).where(eq(incidents.id, id));
    const [latest] = await db.select().from(updates).where(eq(updates.incidentId, id)).orderBy(desc(updates.createdAt), desc(sql`rowid`)).limit(1);
    if (incident && latest) facts.set(id, { incident, latest });
  }
  for (const row of rows) {
    const incidentId = row.updateId ? incidentOf.get(row.updateId) : undefined;
    const f = incidentId ? facts.get(incidentId) : undefined;
    if (!f) {
      out.set(row.id, { skip: 'the incident no longer exists' });
      continue;
    }
    const { incident, latest } = f;
    if (!(alertNoticeKinds as readonly string[]).includes(row.kind)) {
      if (!isActiveIncident(incident.status)) {
        out.set(row.id, { skip: `the incident is ${incident.status}` });
        continue;
      }
      if (latest.id !== row.updateId || !incident.nextUpdateAt) {
        out.set(row.id, { skip: 'an update was posted' });
        continue;
      }
      if (row.kind === 'due_reminder' && incident.nextUpdateAt.getTime() <= now.getTime()) {
        out.set(row.id, { skip: 'already due: the overdue notice says so' });
        continue;
      }
    }
    out.set(row.id, {
      kind: row.kind as NoticeKind,
      incidentId: incident.id,
      title: incident.title,
      internalTitle: incident.internalTitle,
      severity: incident.severity,
      status: incident.status,
      nextUpdateAt: incident.nextUpdateAt,
      seq: row.seq ?? 0,
      lastUpdate: { status: latest.status, externalSubject: latest.externalSubject, externalBody: latest.externalBody, author: latest.author, createdAt: latest.createdAt },
      postUpdateUrl: postUpdateUrl(publicUrl, incident.id),
    });
  }
  return out;
}

/** The words of a notice, shared by the email and every chat format: a headline, facts, and what was last said. */
export function describeNotice(n: Notice, now: Date, timeZone = 'UTC'): { headline: string; intro: string; facts: [string, string][] } {
  const due = n.nextUpdateAt ? formatIn(n.nextUpdateAt, now, timeZone) : 'no time set';
  const late = n.nextUpdateAt ? humanDuration(Math.max(0, now.getTime() - n.nextUpdateAt.getTime())) : '';
  const headline =
    n.kind === 'due_reminder'
      ? `Update due at ${due}: ${n.internalTitle}`
      : n.kind === 'overdue'
        ? `Overdue${n.seq > 1 ? ` (notice ${n.seq})` : ''}: ${n.internalTitle}, update was due at ${due}`
        : n.kind === 'alerts_resolved'
          ? `Alerts resolved: ${n.internalTitle}`
          : `Alerts still firing after resolve: ${n.internalTitle}`;
  const intro =
    n.kind === 'due_reminder'
      ? `The next update for this incident is due at ${due}. Post it from the console before then.`
      : n.kind === 'overdue'
        ? `The next update for this incident was due at ${due}, ${late} ago, and none has been posted. Customers are waiting: post an update now.`
        : n.kind === 'alerts_resolved'
          ? 'The monitoring alerts behind this incident have resolved. The incident stays open until someone resolves it: check, then post an update.'
          : 'This incident was resolved, but the monitoring alerts behind it are still firing. Nothing new was declared and no one else was told; you will not hear this again for this resolve. Check, and reopen the incident if the problem is not over.';
  return {
    headline,
    intro,
    facts: [
      ['Incident', n.title],
      ['Internal title', n.internalTitle],
      ['Severity', n.severity],
      ['Status', n.status],
      ['Next update due', due],
      ['Last update', `${formatIn(n.lastUpdate.createdAt, now, timeZone)} by ${n.lastUpdate.author}`],
      ['What customers were told', `${n.lastUpdate.externalSubject}\n${n.lastUpdate.externalBody}`],
    ],
  };
}
