// Writes the audit timeline: every state change and publish, with its time and actor.
import { auditEvents } from '../../db/schema.ts';
import type { Queryable } from '../../db/client.ts';

interface AuditEntry {
  at: Date;
  actor: string;
  action: string;
  subjectType: 'incident' | 'maintenance' | 'component' | 'component_group' | 'stakeholder' | 'subscriber' | 'token' | 'member' | 'postmortem' | 'channel' | 'webhook_subscriber' | 'action_item' | 'report';
  subjectId: string;
  detail?: Record<string, unknown>;
}

/** Appends one audit row; returns its id (a component's public status change is kept by that id, see webhooks.ts). */
export async function recordAudit(db: Queryable, entry: AuditEntry): Promise<number> {
  const [row] = await db.insert(auditEvents).values({ ...entry, detail: entry.detail ?? {} }).returning({ id: auditEvents.id });
  return row!.id;
}
