// Writes the audit timeline: every state change and publish, with its time and its typed actor.
import { auditEvents } from '../../db/schema.ts';
import type { Queryable } from '../../db/client.ts';
import type { Actor } from './context.ts';

interface AuditEntry {
  at: Date;
  /** Who acted: a typed actor, or the name of someone not signed in (a subscriber through their own link). */
  actor: Actor | string;
  action: string;
  subjectType: 'incident' | 'maintenance' | 'component' | 'component_group' | 'stakeholder' | 'subscriber' | 'token' | 'member' | 'postmortem' | 'channel' | 'webhook_subscriber' | 'action_item' | 'report';
  subjectId: string;
  detail?: Record<string, unknown>;
}

/** The audit columns for an actor: the name the timeline shows, its kind and its id (the system's name for the system). */
function who(actor: Actor | string) {
  if (typeof actor === 'string') return { actor, actorKind: 'anonymous' as const, actorId: '' };
  return { actor: actor.name, actorKind: actor.kind, actorId: actor.kind === 'system' ? actor.name : actor.id };
}

/** Appends one audit row; returns its id (a component's public status change is kept by that id, see webhooks.ts). */
export async function recordAudit(db: Queryable, entry: AuditEntry): Promise<number> {
  const [row] = await db
    .insert(auditEvents)
    .values({ ...entry, ...who(entry.actor), detail: entry.detail ?? {} })
    .returning({ id: auditEvents.id });
  return row!.id;
}
