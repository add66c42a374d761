// Stores one timeline update with both wordings rendered, and enqueues its deliveries, inside the caller's transaction.
import type { Tx } from '../../db/client.ts';
import type { ReachFlags, UpdateStatusValue } from '../domain.ts';
import type { DeliveryCounts } from './deliveries.ts';
import { updates, type ComponentImpact } from '../../db/schema.ts';
import { newId } from '../ids.ts';
import { renderTemplate, type Builtins, type Template } from '../templates.ts';
import { recordAudit } from './audit.ts';
import type { Actor } from './context.ts';
import { enqueueDeliveries } from './outbox.ts';

export type UpdateRow = typeof updates.$inferSelect;

/** What storeUpdate needs to publish one update (not a draft: see docs/glossary.md). */
interface NewUpdate {
  subject: { type: 'incident' | 'maintenance'; id: string };
  template: Template;
  status: UpdateStatusValue;
  variables: Record<string, string>;
  builtins: Builtins;
  /** The components the update touches, with their status at this moment. */
  components: ComponentImpact[];
  audiences: ReachFlags;
  /** Whether executives get a briefing for this one (declare, status change, resolve). */
  brief: boolean;
  nextUpdateAt: Date | null;
  now: Date;
}

export async function storeUpdate(tx: Tx, actor: Actor, input: NewUpdate): Promise<UpdateRow> {
  const rendered = renderTemplate(input.template, input.variables, input.builtins);
  const audiences = { ...input.audiences, stakeholders: input.audiences.stakeholders && input.brief };
  const [update] = await tx
    .insert(updates)
    .values({
      id: newId(),
      incidentId: input.subject.type === 'incident' ? input.subject.id : null,
      maintenanceId: input.subject.type === 'maintenance' ? input.subject.id : null,
      status: input.status,
      template: input.template.key,
      variables: input.variables,
      externalSubject: rendered.external.subject,
      externalBody: rendered.external.body,
      internalSubject: rendered.internal.subject,
      internalBody: rendered.internal.body,
      components: input.components,
      audiences,
      author: actor.name,
      nextUpdateAt: input.nextUpdateAt,
      createdAt: input.now,
    })
    .returning();
  await enqueueDeliveries(tx, {
    updateId: update!.id,
    componentIds: input.components.map((c) => c.id),
    subscribers: audiences.subscribers,
    stakeholders: audiences.stakeholders,
    now: input.now,
  });
  await recordAudit(tx, {
    at: input.now,
    actor,
    action: 'update.published',
    subjectType: input.subject.type,
    subjectId: input.subject.id,
    detail: { updateId: update!.id, status: input.status, template: input.template.key, audiences },
  });
  return update!;
}

/** How an update reads in the internal views: both wordings side by side, with its delivery counts. */
export function updateView(u: UpdateRow, counts: Map<string, DeliveryCounts>) {
  return {
    id: u.id,
    status: u.status,
    template: u.template,
    variables: u.variables,
    external: { subject: u.externalSubject, body: u.externalBody },
    internal: { subject: u.internalSubject, body: u.internalBody },
    components: u.components,
    audiences: u.audiences,
    author: u.author,
    createdAt: u.createdAt,
    nextUpdateAt: u.nextUpdateAt,
    deliveries: counts.get(u.id) ?? { pending: 0, sent: 0, failed: 0, suppressed: 0 },
  };
}

export type UpdateView = ReturnType<typeof updateView>;
