// Turns claimed deliveries into emails: loads each update, its incident and the recipient in a few queries, then composes.
import { inArray } from 'drizzle-orm';
import type { Queryable } from '../../db/client.ts';
import { dropXmlForbidden } from '../characters.ts';
import { incidents, maintenances, stakeholders, subscribers, updates } from '../../db/schema.ts';
import { compileBulk } from '../mail/bulk.ts';
import { briefingEmail, confirmationEmail, manageLinkEmail, noticeEmail, startsIn, subscriberBulk, type MailSettings, type SubjectFacts, type UpdateFacts } from '../mail/compose.ts';
import type { MailMessage, MailTransport } from '../mail/transport.ts';
import { loadNotices } from '../services/reminders.ts';
import { loadOwnerReminders } from '../services/action-items.ts';
import { briefingRows, monthReport, type ReliabilityReport } from '../services/reliability.ts';
import { ownerReminderEmail, reliabilityBriefingEmail } from '../mail/learning.ts';
import { prepareSignInEmails } from '../services/stakeholder-sign-in.ts';
import { confirmationToken } from '../services/subscribers.ts';
import type { Claimed } from './leases.ts';

export type { Claimed } from './leases.ts';
import type { Courier, Prepared as Ready } from './courier.ts';

/** The recipient kinds that receive email. */
export const mailRecipientKinds = ['subscriber', 'stakeholder', 'member', 'comms', 'owner'] as const;

/** What to do with a claimed delivery: send this email, or mark it suppressed for the reason given. */
export type Prepared = Ready<MailMessage>;

const ready = (message: MailMessage, bounced: boolean): Prepared => ({ payload: message, messageId: message.messageId, bounced });

/** The email courier for the outbox worker: prepares with createPreparer, sends through the mail transport. */
export function mailCourier(db: Queryable, settings: MailSettings, transport: MailTransport): Courier<MailMessage> {
  const prepare = createPreparer(db, settings);
  return {
    name: 'mail server',
    recipientKinds: mailRecipientKinds,
    prepare,
    send: (message) => transport.send(message),
  };
}

type BulkRecipient = Parameters<ReturnType<typeof subscriberBulk>['personal']>[0];

/** An update's subscriber email, compiled once (api/mail/bulk.ts): returns each subscriber's copy, raw MIME included. */
async function subscriberStamper(settings: MailSettings, update: UpdateFacts, kind: 'update' | 'reminder', reminderOf?: { hoursAhead: number; startsInMs: number }) {
  const { bulk, personal, personalHeaders } = subscriberBulk(settings, update, kind, reminderOf);
  const { stamp } = await compileBulk(bulk, personalHeaders);
  return (recipient: BulkRecipient) => stamp(personal(recipient));
}

const unique = <T>(values: (T | null | undefined)[]) => [...new Set(values.filter((v): v is T => v !== null && v !== undefined))];

/**
 * Lookups and compiled emails live for one batch: an update's wording can be corrected (a revised postmortem), and
 * an email sent after the correction carries the new text.
 * Incidents change too (roles, mitigation), so they are read fresh for every batch of briefings.
 */
export function createPreparer(db: Queryable, settings: MailSettings) {
  const updateCache = new Map<string, UpdateFacts>();
  async function loadUpdates(ids: string[]) {
    const missing = ids.filter((id) => !updateCache.has(id));
    if (missing.length > 0) {
      if (updateCache.size > 200) updateCache.clear();
      const rows = await db.select().from(updates).where(inArray(updates.id, missing));
      for (const r of rows) updateCache.set(r.id, r);
    }
    return updateCache;
  }

  async function loadSubjects(briefed: UpdateFacts[]) {
    const subjects = new Map<string, SubjectFacts>();
    const incidentIds = unique(briefed.map((u) => u.incidentId));
    const maintenanceIds = unique(briefed.map((u) => (u.incidentId ? null : u.maintenanceId)));
    if (incidentIds.length > 0) {
      for (const i of await db.select().from(incidents).where(inArray(incidents.id, incidentIds))) {
        subjects.set(i.id, { internalTitle: i.internalTitle, severity: i.severity, startedAt: i.startedAt, mitigatedAt: i.mitigatedAt, resolvedAt: i.resolvedAt, ic: i.roles.ic });
      }
    }
    if (maintenanceIds.length > 0) {
      for (const m of await db.select().from(maintenances).where(inArray(maintenances.id, maintenanceIds))) {
        subjects.set(m.id, { internalTitle: m.internalTitle, severity: null, startedAt: m.startedAt, mitigatedAt: null, resolvedAt: null, ic: undefined });
      }
    }
    return subjects;
  }

  return async function prepare(rows: Claimed[], now: Date): Promise<Prepared[]> {
    updateCache.clear();
    const subscriberIds = unique(rows.map((r) => (r.audience === 'subscriber' ? r.recipientId : null)));
    const stakeholderIds = unique(rows.map((r) => (r.audience === 'stakeholder' ? r.recipientId : null)));
    const [updateMap, subscriberRows, stakeholderRows] = await Promise.all([
      loadUpdates(unique(rows.map((r) => r.updateId))),
      subscriberIds.length
        ? db
            .select({
              id: subscribers.id,
              confirmedAt: subscribers.confirmedAt,
              confirmExpiresAt: subscribers.confirmExpiresAt,
              unsubscribeToken: subscribers.unsubscribeToken,
              hardBounces: subscribers.hardBounces,
              suppressedAt: subscribers.suppressedAt,
            })
            .from(subscribers)
            .where(inArray(subscribers.id, subscriberIds))
        : [],
      stakeholderIds.length ? db.select().from(stakeholders).where(inArray(stakeholders.id, stakeholderIds)) : [],
    ]);
    const subscriberMap = new Map(subscriberRows.map((r) => [r.id, r]));
    const stakeholderMap = new Map(stakeholderRows.map((r) => [r.id, r]));
    const briefed = rows.filter((r) => r.kind === 'briefing' && r.updateId).map((r) => updateMap.get(r.updateId!)).filter((u) => u !== undefined);
    const subjects = briefed.length ? await loadSubjects(briefed) : new Map<string, SubjectFacts>();
    const noticeRows = rows.filter((r) => r.audience === 'comms');
    const notices = noticeRows.length ? await loadNotices(db, noticeRows, settings.publicUrl, now) : new Map();
    const signIns = await prepareSignInEmails(db, settings, rows, now);
    const ownerReminders = await loadOwnerReminders(db, rows, now);
    // A monthly briefing's figures are read once per month in the batch, as the scheduler reads them.
    const briefings = briefingRows(rows);
    const reports = new Map<string, ReliabilityReport>();
    for (const month of new Set(briefings.values())) reports.set(month, await monthReport({ db, clock: { now: () => now } }, month));
    // A maintenance reminder names how long is left until the window as it stands now, and is not sent once the
    // window started or stopped being scheduled (a start or a cancellation withdraws it too, in the same transaction).
    const remindedIds = unique(rows.map((r) => (r.kind === 'reminder' && r.updateId ? updateMap.get(r.updateId)?.maintenanceId : null)));
    const windows = new Map(
      remindedIds.length
        ? (await db.select({ id: maintenances.id, status: maintenances.status, scheduledFor: maintenances.scheduledFor }).from(maintenances).where(inArray(maintenances.id, remindedIds))).map((m) => [m.id, m])
        : [],
    );
    const reminderOf = (row: Claimed, update: UpdateFacts): { skip: string } | { hoursAhead: number; startsInMs: number } => {
      const window = update.maintenanceId ? windows.get(update.maintenanceId) : undefined;
      if (!window || window.status !== 'scheduled') return { skip: 'the window is no longer scheduled' };
      const startsInMs = window.scheduledFor.getTime() - now.getTime();
      if (startsInMs <= 0) return { skip: 'the window’s start has passed' };
      return { hoursAhead: row.seq ?? 0, startsInMs };
    };
    // Each update's subscriber email is composed once per batch and stamped per subscriber; each row's stamper is
    // found by its key (a reminder's by its hours ahead and its lead: a 24-hour and a 1-hour reminder are two emails).
    const stampers = new Map<string, (recipient: BulkRecipient) => MailMessage>();
    const subscriberMail = new Map<number, { skip: string } | { key: string }>();
    for (const row of rows) {
      const update = row.updateId ? updateMap.get(row.updateId) : undefined;
      if (row.audience !== 'subscriber' || (row.kind !== 'update' && row.kind !== 'reminder') || !update) continue;
      const reminder = row.kind === 'reminder' ? reminderOf(row, update) : undefined;
      if (reminder && 'skip' in reminder) {
        subscriberMail.set(row.id, reminder);
        continue;
      }
      const key = reminder ? `${update.id}:reminder:${reminder.hoursAhead}:${startsIn(reminder.startsInMs)}` : `${update.id}:${row.kind}`;
      subscriberMail.set(row.id, { key });
      if (!stampers.has(key)) stampers.set(key, await subscriberStamper(settings, update, row.kind, reminder));
    }

    return rows.map((row) => {
      const prepared = prepareOne(row);
      // A subscriber's update or reminder was made XML-safe once per update by subscriberBulk.
      return row.audience === 'subscriber' && (row.kind === 'update' || row.kind === 'reminder') ? prepared : xmlSafe(prepared);
    });

    function prepareOne(row: Claimed): Prepared {
      const signIn = signIns.get(row.id);
      if (signIn) return 'skip' in signIn ? signIn : ready(signIn.message, signIn.bounced);
      const owned = ownerReminders.get(row.id);
      if (owned) return 'skip' in owned ? owned : ready(ownerReminderEmail(settings, owned, row.id), false);
      if (row.audience === 'stakeholder' && briefings.has(row.id)) {
        const person = stakeholderMap.get(row.recipientId);
        if (!person) return { skip: 'no longer a stakeholder' };
        if (person.suppressedAt) return { skip: 'address suppressed after repeated hard bounces' };
        return ready(reliabilityBriefingEmail(settings, reports.get(briefings.get(row.id)!)!, { id: person.id, email: row.email, name: person.name }, row.id), person.hardBounces > 0);
      }
      if (row.audience === 'comms') {
        const notice = notices.get(row.id);
        if (!notice) return { skip: 'the incident no longer exists' };
        if ('skip' in notice) return notice;
        return ready(noticeEmail(settings, notice, { id: row.id, email: row.email }, now), false);
      }
      const update = row.updateId ? updateMap.get(row.updateId) : undefined;
      if (row.updateId && !update) return { skip: 'the update no longer exists' };
      if (row.audience === 'subscriber') {
        const sub = subscriberMap.get(row.recipientId);
        if (!sub) return { skip: 'unsubscribed' };
        if (sub.suppressedAt) return { skip: 'address suppressed after repeated hard bounces' };
        const recipient = { id: sub.id, email: row.email, unsubscribeToken: sub.unsubscribeToken };
        const bounced = sub.hardBounces > 0;
        if (row.kind === 'confirmation') {
          if (sub.confirmedAt) return { skip: 'already confirmed' };
          if (!sub.confirmExpiresAt || sub.confirmExpiresAt.getTime() <= now.getTime()) return { skip: 'confirmation expired before it could be sent' };
          const token = confirmationToken(sub, sub.confirmExpiresAt);
          return ready(confirmationEmail(settings, recipient, token, sub.confirmExpiresAt, row.id, now), bounced);
        }
        // Unconfirmed addresses receive nothing but the confirmation.
        if (!sub.confirmedAt) return { skip: 'not confirmed' };
        if (row.kind === 'manage_link') return ready(manageLinkEmail(settings, recipient, row.id), bounced);
        const mail = subscriberMail.get(row.id);
        if (mail) return 'skip' in mail ? mail : ready(stampers.get(mail.key)!(recipient), bounced);
      }
      if (row.audience === 'stakeholder' && row.kind === 'briefing' && update) {
        const person = stakeholderMap.get(row.recipientId);
        if (!person) return { skip: 'no longer a stakeholder' };
        if (person.suppressedAt) return { skip: 'address suppressed after repeated hard bounces' };
        const about = subjects.get(update.incidentId ?? update.maintenanceId ?? '');
        if (!about) return { skip: 'the incident no longer exists' };
        return ready(briefingEmail(settings, update, about, { id: person.id, email: row.email, name: person.name }), person.hardBounces > 0);
      }
      return { skip: `no email for a ${row.kind} to a ${row.audience}` };
    }
  };
}

/** Rows stored before input refused them may hold characters XML 1.0 forbids (api/characters.ts): no email carries one. */
function xmlSafe(p: Prepared): Prepared {
  if ('skip' in p) return p;
  const m = p.payload;
  // A precomposed copy (raw) would no longer match its cleaned fields: the transport composes this one from them.
  return { ...p, payload: { ...m, subject: dropXmlForbidden(m.subject), text: dropXmlForbidden(m.text), html: dropXmlForbidden(m.html), raw: undefined } };
}
