// What admins read of the outbox: every message with its recipient, state and attempts, and one message composed as its recipient sees it.
import { sql } from 'drizzle-orm';
import type { Queryable } from '../../db/client.ts';
import type { MailSettings } from '../mail/compose.ts';
import type { MailMessage } from '../mail/transport.ts';
import { createPreparer, type Claimed } from '../outbox/messages.ts';
import { prepareSignInEmails, signInDeliveryKind } from './stakeholder-sign-in.ts';

/**
 * One outbox row as an admin reads it.
 * - `kind`: update | reminder | briefing | confirmation | sign-in (and whatever else the outbox sends);
 * - `audience`: subscriber | stakeholder; `email`: the recipient's address when it was queued;
 * - `status`: pending | sent | failed | suppressed; `attempts`: sends tried so far; `lastError`: the last failure, one line;
 * - `incidentId` / `maintenanceId`: what the message is about (null for confirmations and sign-in links);
 * - `subject`: the stored update's subject in the recipient's wording (external for subscribers, internal for stakeholders).
 */
export interface OutboxEntry {
  id: number;
  kind: string;
  audience: string;
  email: string;
  status: string;
  attempts: number;
  lastError: string | null;
  updateId: string | null;
  incidentId: string | null;
  maintenanceId: string | null;
  subject: string | null;
  createdAt: Date;
  nextAttemptAt: Date;
  sentAt: Date | null;
}

export interface OutboxQuery {
  /** Only messages about this incident (its updates' subscriber emails and briefings). */
  incidentId?: string | undefined;
  /** Only messages in this state. */
  status?: 'pending' | 'sent' | 'failed' | 'suppressed' | undefined;
  /** At most this many, newest first (default 100). */
  limit?: number | undefined;
}

interface Row {
  id: number;
  kind: string;
  audience: string;
  email: string;
  status: string;
  attempts: number;
  last_error: string | null;
  update_id: string | null;
  incident_id: string | null;
  maintenance_id: string | null;
  subject: string | null;
  created_at: number;
  next_attempt_at: number;
  sent_at: number | null;
  recipient_id: string;
  lease_until: number | null;
}

async function select(db: Queryable, where: ReturnType<typeof sql>, limit: number): Promise<Row[]> {
  return db.all<Row>(sql`
    SELECT d.id, d.kind, d.audience, d.email, d.status, d.attempts, d.last_error, d.update_id, d.recipient_id, d.lease_until,
      u.incident_id, u.maintenance_id,
      CASE WHEN d.audience = 'stakeholder' THEN u.internal_subject ELSE u.external_subject END AS subject,
      d.created_at, d.next_attempt_at, d.sent_at
    FROM deliveries d LEFT JOIN updates u ON u.id = d.update_id
    WHERE ${where}
    ORDER BY d.id DESC
    LIMIT ${limit}`);
}

const date = (ms: number | null) => (ms === null ? null : new Date(Number(ms)));

function entry(r: Row): OutboxEntry {
  return {
    id: Number(r.id),
    kind: r.kind,
    audience: r.audience,
    email: r.email,
    status: r.status,
    attempts: Number(r.attempts),
    lastError: r.last_error,
    updateId: r.update_id,
    incidentId: r.incident_id,
    maintenanceId: r.maintenance_id,
    subject: r.subject,
    createdAt: date(r.created_at)!,
    nextAttemptAt: date(r.next_attempt_at)!,
    sentAt: date(r.sent_at),
  };
}

/** The newest outbox messages, filtered by incident and state; counts per state for the same incident filter. */
export async function listOutbox(db: Queryable, query: OutboxQuery = {}): Promise<{ entries: OutboxEntry[]; counts: Record<string, number> }> {
  const byIncident = query.incidentId ? sql`u.incident_id = ${query.incidentId}` : sql`1 = 1`;
  const byStatus = query.status ? sql`d.status = ${query.status}` : sql`1 = 1`;
  const rows = await select(db, sql`${byIncident} AND ${byStatus}`, Math.min(Math.max(query.limit ?? 100, 1), 1000));
  const totals = await db.all<{ status: string; n: number }>(sql`
    SELECT d.status, count(*) AS n FROM deliveries d LEFT JOIN updates u ON u.id = d.update_id WHERE ${byIncident} GROUP BY d.status`);
  const counts: Record<string, number> = { pending: 0, sent: 0, failed: 0, suppressed: 0 };
  for (const t of totals) counts[t.status] = Number(t.n);
  return { entries: rows.map(entry), counts };
}

/**
 * Composes one outbox message as its recipient sees it (subject, text and HTML parts, headers), from the stored
 * wording and the recipient's own links — the outbox's own composer, so it cannot drift from what is sent.
 * Writes nothing: a sign-in link's secret is shown as a placeholder and no new one is minted.
 * Returns null for an unknown id; `notRendered` gives the reason when the outbox would not send it now
 * (for example "already confirmed" for a spent confirmation, "unsubscribed").
 */
export async function renderOutboxMessage(
  db: Queryable,
  settings: MailSettings,
  id: number,
  now: Date,
): Promise<{ entry: OutboxEntry; message: MailMessage } | { entry: OutboxEntry; notRendered: string } | null> {
  const [row] = await select(db, sql`d.id = ${id}`, 1);
  if (!row) return null;
  const found = entry(row);
  const claimed: Claimed = {
    id: found.id,
    updateId: found.updateId,
    kind: found.kind,
    audience: found.audience,
    recipientId: row.recipient_id,
    email: found.email,
    attempts: found.attempts,
    leaseUntil: Number(row.lease_until ?? 0),
  };
  const [prepared] =
    found.kind === signInDeliveryKind
      ? [(await prepareSignInEmails(db, settings, [claimed], now, { mint: false })).get(found.id)!]
      : await createPreparer(db, settings)([claimed], now);
  if (!prepared) return { entry: found, notRendered: 'the outbox has no composer for it' };
  if ('skip' in prepared) return { entry: found, notRendered: prepared.skip };
  return { entry: found, message: 'payload' in prepared ? prepared.payload : prepared.message };
}
