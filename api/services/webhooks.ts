// Webhook subscribers (public): subscribe with a URL, get a signing secret; each update and each public component status change becomes Statuspage's webhook envelope, external wording only.
import { randomBytes } from 'node:crypto';
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Queryable } from '../../db/client.ts';
import { auditEvents, components as componentRows, deliveries, webhookSubscribers } from '../../db/schema.ts';
import { pageStatus, worstStatus, type ComponentStatus } from '../domain.ts';
import { ValidationError } from '../errors.ts';
import { newId, newSecret } from '../ids.ts';
import { absolute, paths, unsubscribeUrl } from '../links.ts';
import { componentStatuses } from '../status.ts';
import { targetProblem } from '../outbox/http.ts';
import { loadComponents, loadIncidents, loadMaintenances, loadUpdates, readers, type UpdateRecord } from '../site/records.ts';
import { pageId } from '../site/statuspage.ts';
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

const iso = (at: Date | null | undefined) => (at ? at.toISOString() : null);
/** An incident's impact in Statuspage's enum, from the worst status its updates gave a component. */
const impactOf: Record<ComponentStatus, 'none' | 'minor' | 'major' | 'critical'> = {
  operational: 'none',
  under_maintenance: 'none',
  degraded_performance: 'minor',
  partial_outage: 'major',
  major_outage: 'critical',
};

/** Each update with the component changes it made relative to the one before; newest first, as Statuspage lists them. */
function incidentUpdates(subjectId: string, timeline: UpdateRecord[]) {
  const last = new Map<string, string>();
  return timeline
    .map((u) => {
      const affected = u.components
        .filter((c) => last.get(c.id) !== c.status)
        .map((c) => ({ code: c.id, name: c.name, old_status: last.get(c.id) ?? 'operational', new_status: c.status }));
      for (const c of u.components) last.set(c.id, c.status);
      const at = iso(u.createdAt);
      return { id: u.id, incident_id: subjectId, status: u.status, body: u.body, created_at: at, updated_at: at, display_at: at, affected_components: affected };
    })
    .reverse();
}

/**
 * Statuspage's webhook envelope for one update, without `meta` (which is per subscriber): `page` with the status
 * indicator, and `incident` with its `incident_updates`, newest first. Everything is read through the public
 * audience, so only external wording and public incidents can appear; null when the update is not public.
 * Shape: Atlassian Statuspage, "Enable webhook notifications" (incident updates).
 */
export async function webhookEnvelope(db: Queryable, publicUrl: string, updateId: string): Promise<Record<string, unknown> | null> {
  const a = readers.public;
  const [update] = await db.query.updates.findMany({ where: (u, { eq }) => eq(u.id, updateId), columns: { incidentId: true, maintenanceId: true, audiences: true } });
  if (!update || !update.audiences.public) return null;
  const components = await loadComponents(db, a);
  const status = pageStatus(components.map((c) => c.status));
  const page = { id: pageId(publicUrl), status_indicator: status.indicator, status_description: status.description };
  const subjectId = update.incidentId ?? update.maintenanceId!;
  const timeline = await loadUpdates(db, a, update.incidentId ? { incidentIds: [subjectId] } : { maintenanceIds: [subjectId] });
  if (!timeline.some((u) => u.id === updateId)) return null;
  const byId = new Map(components.map((c) => [c.id, c]));
  const touched = [...new Set(timeline.flatMap((u) => u.components.map((c) => c.id)))].flatMap((id) => {
    const c = byId.get(id);
    return c ? [{ id: c.id, name: c.name, status: c.status, created_at: iso(c.createdAt), updated_at: iso(c.updatedAt), description: c.description || null, page_id: page.id }] : [];
  });
  const common = {
    created_at: null as string | null,
    updated_at: iso(timeline.at(-1)?.createdAt),
    page_id: page.id,
    incident_updates: incidentUpdates(subjectId, timeline),
    components: touched,
  };
  if (update.incidentId) {
    const [incident] = await loadIncidents(db, a, { ids: [subjectId] });
    if (!incident) return null;
    const worst = worstStatus(timeline.flatMap((u) => u.components.map((c) => c.status as ComponentStatus)));
    return {
      page,
      incident: {
        id: incident.id,
        name: incident.title,
        status: incident.status,
        impact: impactOf[worst],
        ...common,
        created_at: iso(incident.createdAt),
        monitoring_at: iso(timeline.find((u) => u.status === 'monitoring')?.createdAt),
        resolved_at: iso(incident.resolvedAt),
        started_at: iso(incident.startedAt),
        shortlink: absolute(publicUrl, paths.incident('public', incident.id)),
      },
    };
  }
  const [m] = await loadMaintenances(db, a, { ids: [subjectId] });
  if (!m) return null;
  return {
    page,
    incident: {
      id: m.id,
      name: m.title,
      status: m.status === 'cancelled' ? 'completed' : m.status,
      impact: 'maintenance',
      ...common,
      created_at: iso(m.createdAt),
      monitoring_at: null,
      resolved_at: iso(m.completedAt),
      started_at: iso(m.startedAt ?? m.scheduledFor),
      scheduled_for: iso(m.scheduledFor),
      scheduled_until: iso(m.scheduledUntil),
      shortlink: absolute(publicUrl, paths.maintenance('public', m.id)),
    },
  };
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
  const ids = [...new Set([...changes.values()].map((c) => c.componentId))];
  const [rows, live] = await Promise.all([
    ids.length ? db.select().from(componentRows).where(inArray(componentRows.id, ids)) : [],
    loadComponents(db, readers.public),
  ]);
  const byId = new Map(rows.map((r) => [r.id, r]));
  // The page's status as it is when sent, like the incident envelope's.
  const status = pageStatus(live.map((c) => c.status));
  const page = { id: pageId(publicUrl), status_indicator: status.indicator, status_description: status.description };
  for (const [seq, change] of changes) {
    const c = byId.get(change.componentId);
    if (!c) continue;
    const at = change.at.toISOString();
    out.set(seq, {
      page,
      component_update: {
        id: change.componentUpdateId,
        component_id: c.id,
        component_type: 'Component',
        old_status: change.from,
        new_status: change.to,
        created_at: at,
      },
      component: {
        id: c.id,
        name: c.name,
        status: change.to,
        description: c.description || null,
        position: c.order,
        group_id: c.groupId,
        showcase: true,
        page_id: page.id,
        created_at: iso(c.createdAt),
        updated_at: at,
      },
    });
  }
  return out;
}
