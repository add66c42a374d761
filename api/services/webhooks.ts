// Webhook subscribers (public): subscribe with a URL, get a signing secret; each update becomes Statuspage's webhook envelope, external wording only.
import { randomBytes } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import type { Queryable } from '../../db/client.ts';
import { deliveries, webhookSubscribers } from '../../db/schema.ts';
import { pageStatus, worstStatus, type ComponentStatus } from '../domain.ts';
import { ValidationError } from '../errors.ts';
import { newId, newSecret } from '../ids.ts';
import { absolute, paths, unsubscribeUrl } from '../links.ts';
import { targetProblem } from '../outbox/http.ts';
import { audiences, loadComponents, loadIncidents, loadMaintenances, loadUpdates, type UpdateRecord } from '../site/records.ts';
import { pageId } from '../site/statuspage.ts';
import { recordAudit } from './audit.ts';
import { requireComponents } from './components.ts';
import type { Services } from './context.ts';

/** Unsubscribe tokens of webhook subscribers start with this, so the one unsubscribe link tells them from email subscribers. */
export const webhookTokenPrefix = 'whu_';

export interface WebhookInput {
  webhook: string;
  components?: string[] | null | undefined;
}

export interface WebhookSubscription {
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
  await s.db.transaction(async (tx) => {
    if (components) await requireComponents(tx, components, 'components', 'ids');
    await tx.insert(webhookSubscribers).values({ id, url: input.webhook, components, secret, unsubscribeToken, createdAt: now });
    await recordAudit(tx, { at: now, actor: 'subscriber', action: 'webhook_subscriber.subscribed', subjectType: 'webhook_subscriber', subjectId: id, detail: { components } });
  });
  return { id, webhook: input.webhook, components, secret, unsubscribe: unsubscribeUrl(s, unsubscribeToken) };
}

/** Removes a webhook subscriber by its unsubscribe token; queued deliveries are suppressed. False when unknown. */
export async function unsubscribeWebhook(s: Pick<Services, 'db' | 'clock'>, token: string): Promise<boolean> {
  const now = s.clock.now();
  return s.db.transaction(async (tx) => {
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
  const a = audiences.public;
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
