// Webhook subscribers (public): subscribe with a URL, get a signing secret; each update and each public component status change becomes Statuspage's webhook envelope, external wording only.
import { randomBytes } from 'node:crypto';
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Queryable } from '../../db/client.ts';
import { auditEvents, components as componentRows, deliveries, webhookSubscribers } from '../../db/schema.ts';
import { componentStatusEnum, type ComponentStatus } from '../domain.ts';
import { ValidationError } from '../errors.ts';
import { newId, newSecret } from '../ids.ts';
import { unsubscribeUrl } from '../links.ts';
import { componentStatuses, readPageStatus } from '../status.ts';
import { targetProblem } from '../outbox/http.ts';
import { loadComponents, loadIncidents, loadMaintenanceComponents, loadMaintenances, loadPostmortems, loadUpdates, readers } from '../site/records.ts';
import { componentJson, incidentJson, maintenanceJson, statuspageCatalog, webhookPage } from '../statuspage.ts';
import { recordAudit } from './audit.ts';
import { requireComponents } from './components.ts';
import { type Actor, type Services, withTransaction } from './context.ts';

/** Unsubscribe tokens of webhook subscribers start with this, so the one unsubscribe link tells them from email subscribers. */
export const webhookTokenPrefix = 'whu_';

interface WebhookInput {
  webhook: string;
  components?: string[] | null | undefined;
}

interface WebhookSubscription {
  id: string;
  webhook: string;
  components: string[] | null;
  /** The Standard Webhooks signing secret, `whsec_` and base64 of 24 random bytes: shown once, here. */
  secret: string;
  unsubscribe: string;
}

/**
 * Subscribes a URL, active at once (the URL's owner proves control by verifying signatures, not by clicking a link).
 * Refused with 422 on `webhook` when the URL is not https, or resolves to a private, loopback or link-local
 * address, unless WEBHOOK_ALLOW_PRIVATE=true.
 */
export async function subscribeWebhook(s: Pick<Services, 'db' | 'clock' | 'publicUrl' | 'webhookAllowPrivate'>, input: WebhookInput): Promise<WebhookSubscription> {
  const problem = await targetProblem(input.webhook, s.webhookAllowPrivate);
  if (problem) throw new ValidationError(`The webhook URL ${problem}.`, [{ path: 'webhook', message: problem }]);
  const now = s.clock.now();
  const components = input.components && input.components.length > 0 ? [...new Set(input.components)] : null;
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const unsubscribeToken = `${webhookTokenPrefix}${newSecret()}`;
  const id = newId();
  await withTransaction(s, async (tx) => {
    if (components) await requireComponents(tx, components, 'components', 'ids');
    await tx.insert(webhookSubscribers).values({ id, url: input.webhook, components, secret, unsubscribeToken, createdAt: now });
    await recordAudit(tx, { at: now, actor: 'subscriber', action: 'webhook_subscriber.subscribed', subjectType: 'webhook_subscriber', subjectId: id, detail: { components } });
  });
  return { id, webhook: input.webhook, components, secret, unsubscribe: unsubscribeUrl(s, unsubscribeToken) };
}

/** The webhook subscriber an unsubscribe token names, for the unsubscribe page; null when unknown (or already unsubscribed). */
export async function webhookByToken(s: Pick<Services, 'db'>, token: string): Promise<{ id: string; webhook: string } | null> {
  const [row] = await s.db.select({ id: webhookSubscribers.id, url: webhookSubscribers.url }).from(webhookSubscribers).where(eq(webhookSubscribers.unsubscribeToken, token));
  return row ? { id: row.id, webhook: row.url } : null;
}

/** Removes a webhook subscriber by its unsubscribe token; queued deliveries are suppressed. False when unknown. */
export async function unsubscribeWebhook(s: Pick<Services, 'db' | 'clock'>, token: string): Promise<boolean> {
  const now = s.clock.now();
  return withTransaction(s, async (tx) => {
    const [row] = await tx.delete(webhookSubscribers).where(eq(webhookSubscribers.unsubscribeToken, token)).returning({ id: webhookSubscribers.id });
    if (!row) return false;
    await tx
      .update(deliveries)
      .set({ status: 'suppressed', lastError: 'unsubscribed', leaseOwner: null, leaseUntil: null })
      .where(and(eq(deliveries.audience, 'webhook'), eq(deliveries.recipientId, row.id), eq(deliveries.status, 'pending')));
    await recordAudit(tx, { at: now, actor: 'subscriber', action: 'webhook_subscriber.unsubscribed', subjectType: 'webhook_subscriber', subjectId: row.id });
    return true;
  });
}

/**
 * Statuspage's webhook envelope for one update, without `meta` (which is per subscriber): `page` with the status
 * indicator, and `incident` in the one Statuspage shape (api/statuspage.ts) that /api/v2 also serves, so the two
 * agree key for key. Everything is read through the public reader, so only external wording and public incidents can
 * appear; null when the update is not public.
 * Shape: Atlassian Statuspage, "Enable webhook notifications" (incident updates).
 */
export async function webhookEnvelope(db: Queryable, publicUrl: string, updateId: string): Promise<Record<string, unknown> | null> {
  const a = readers.public;
  const [update] = await db.query.updates.findMany({ where: (u, { eq }) => eq(u.id, updateId), columns: { incidentId: true, maintenanceId: true, audiences: true } });
  if (!update || !update.audiences.public) return null;
  const components = await loadComponents(db, a);
  const cat = statuspageCatalog(publicUrl, components);
  const page = webhookPage(cat, await readPageStatus(db, 'public', components));
  const subjectId = update.incidentId ?? update.maintenanceId!;
  const timeline = await loadUpdates(db, a, update.incidentId ? { incidentIds: [subjectId] } : { maintenanceIds: [subjectId] });
  if (!timeline.some((u) => u.id === updateId)) return null;
  if (update.incidentId) {
    const [[incident], postmortems] = await Promise.all([loadIncidents(db, a, { ids: [subjectId] }), loadPostmortems(db, a, [subjectId])]);
    return incident ? { page, incident: incidentJson(cat, incident, timeline, postmortems.get(subjectId)) } : null;
  }
  const [[m], covered] = await Promise.all([loadMaintenances(db, a, { ids: [subjectId] }), loadMaintenanceComponents(db, [subjectId])]);
  return m ? { page, incident: maintenanceJson(cat, m, timeline, covered.get(subjectId) ?? []) } : null;
}

/** The audit action that records a component's public status change; its row id is the key of the component_update deliveries. */
export const componentStatusChanged = 'component.status_changed';

export interface ComponentUpdatesInput {
  /** Public statuses read at the start of the publishing transaction (componentStatuses(tx, 'public')). */
  before: Map<string, ComponentStatus>;
  /** The update the publish stored: the deliveries hang on it, so they show in its delivery state. */
  updateId: string;
  /** Who published: the audit row names them. */
  actor: Actor;
  now: Date;
}

/**
 * Call in the publishing transaction, after the update is stored: compares each live component's public status
 * (api/status.ts, the one derivation) with `before`, and for each change writes one audit row
 * `component.status_changed` (detail: componentUpdateId, from, to, updateId) and enqueues one `component_update`
 * delivery per enabled webhook subscriber whose component filter names the component (or who has none), keyed by
 * (update, kind, subscriber, seq = the audit row's id). Only the public status counts, so an internal-only or draft
 * incident sends nothing. Returns the number of components whose public status changed.
 * Shape sent: Statuspage's component webhook (support.atlassian.com/statuspage, "Enable webhook notifications").
 */
export async function enqueueComponentUpdates(tx: Queryable, input: ComponentUpdatesInput): Promise<number> {
  const after = await componentStatuses(tx, 'public');
  const ids = [...new Set([...input.before.keys(), ...after.keys()])].sort();
  const changed = ids.filter((id) => (input.before.get(id) ?? 'operational') !== (after.get(id) ?? 'operational'));
  if (changed.length === 0) return 0;
  const live = new Set(
    (await tx.select({ id: componentRows.id }).from(componentRows).where(inArray(componentRows.id, changed))).map((r) => r.id),
  );
  const at = input.now.getTime();
  let count = 0;
  for (const id of changed) {
    if (!live.has(id)) continue;
    const from = input.before.get(id) ?? 'operational';
    const to = after.get(id) ?? 'operational';
    const seq = await recordAudit(tx, {
      at: input.now,
      actor: input.actor,
      action: componentStatusChanged,
      subjectType: 'component',
      subjectId: id,
      detail: { componentUpdateId: newId(), from, to, updateId: input.updateId },
    });
    await tx.run(sql`
      INSERT INTO deliveries (update_id, kind, audience, recipient_id, email, seq, status, next_attempt_at, created_at)
      SELECT ${input.updateId}, 'component_update', 'webhook', w.id, w.url, ${seq}, 'pending', ${at}, ${at}
      FROM webhook_subscribers w
      WHERE w.disabled_at IS NULL
        AND (w.components IS NULL OR EXISTS (SELECT 1 FROM json_each(w.components) f WHERE f.value = ${id}))
      ON CONFLICT DO NOTHING`);
    count++;
  }
  return count;
}

/** One component_update delivery's facts, read back from its audit row. */
interface ComponentChange {
  componentUpdateId: string;
  componentId: string;
  from: ComponentStatus;
  to: ComponentStatus;
  at: Date;
}

/**
 * Statuspage's component webhook envelope, without `meta`, for each audit row id given (a delivery's `seq`):
 * `page` (status now), `component_update` (`id`, `component_id`, `component_type`, `old_status`, `new_status`,
 * `created_at`) and `component` (its status as of the change). Ids that name no status change, or a component
 * since deleted, are absent from the result.
 */
export async function componentUpdateEnvelopes(db: Queryable, publicUrl: string, seqs: number[]): Promise<Map<number, Record<string, unknown>>> {
  const out = new Map<number, Record<string, unknown>>();
  if (seqs.length === 0) return out;
  const events = await db
    .select()
    .from(auditEvents)
    .where(and(inArray(auditEvents.id, seqs), eq(auditEvents.action, componentStatusChanged)));
  const changes = new Map<number, ComponentChange>(
    events.map((e) => {
      const d = e.detail as { componentUpdateId: string; from: ComponentStatus; to: ComponentStatus };
      return [e.id, { componentUpdateId: d.componentUpdateId, componentId: e.subjectId, from: d.from, to: d.to, at: e.at }];
    }),
  );
  const live = await loadComponents(db, readers.public);
  const cat = statuspageCatalog(publicUrl, live);
  const byId = new Map(live.map((c) => [c.id, c]));
  // The page's status as it is when sent, like the incident envelope's.
  const page = webhookPage(cat, await readPageStatus(db, 'public', live));
  for (const [seq, change] of changes) {
    const c = byId.get(change.componentId);
    if (!c) continue;
    out.set(seq, {
      page,
      component_update: {
        id: change.componentUpdateId,
        component_id: c.id,
        component_type: 'Component',
        old_status: componentStatusEnum[change.from].statuspage,
        new_status: componentStatusEnum[change.to].statuspage,
        created_at: change.at.toISOString(),
      },
      // The component in components.json's shape (its position among them too), with its status as of the change.
      component: componentJson(cat, c, { status: change.to, at: change.at }),
    });
  }
  return out;
}
