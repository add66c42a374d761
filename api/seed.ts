// A small demo page for a first run: components, a resolved incident with a postmortem, an active one, a maintenance.
import { count } from 'drizzle-orm';
import { components, incidents } from '../db/schema.ts';
import type { Actor, Services } from './services/context.ts';
import { createComponent } from './services/components.ts';
import { declareIncident, postUpdate, publishPostmortem } from './services/incidents.ts';
import { scheduleMaintenance } from './services/maintenances.ts';
import { addStakeholder } from './services/stakeholders.ts';
import { systemActor } from './services/context.ts';

export async function isEmpty(s: Pick<Services, 'db'>): Promise<boolean> {
  const [c] = await s.db.select({ n: count() }).from(components);
  const [i] = await s.db.select({ n: count() }).from(incidents);
  return (c?.n ?? 0) === 0 && (i?.n ?? 0) === 0;
}

export async function seedDemo(services: Services): Promise<void> {
  const actor: Actor = systemActor('demo');
  const hour = 60 * 60 * 1000;
  const now = services.clock.now().getTime();
  // Each step runs at its own moment in the past, so the demo timeline reads like a real one.
  const at = (hoursAgo: number): Services => ({ ...services, clock: { now: () => new Date(now - hoursAgo * hour) } });
  const s = at(0);
  const catalogue = [
    { id: 'website', name: 'Website', group: 'Customer facing', order: 1, description: 'Marketing site and documentation' },
    { id: 'dashboard', name: 'Dashboard', group: 'Customer facing', order: 2, description: 'The web app customers sign in to' },
    { id: 'api', name: 'API', group: 'Platform', order: 3, description: 'REST API and SDKs' },
    { id: 'webhooks', name: 'Webhooks', group: 'Platform', order: 4, description: 'Outgoing event delivery' },
    { id: 'email', name: 'Email notifications', group: 'Platform', order: 5, description: 'Transactional email' },
  ];
  for (const c of catalogue) await createComponent(at(24 * 90), actor, c);
  // One executive, so a first SEV1 briefs somebody and the briefing can be read in data/mail/.
  await addStakeholder(at(24 * 90), actor, { email: 'exec@example.com', name: 'Alex Executive (demo)' });

  const past = await declareIncident(at(29.5), actor, {
    title: 'Webhook deliveries delayed',
    internalTitle: 'Webhook queue backlog after broker failover',
    severity: 'SEV2',
    template: 'investigating',
    variables: { ...exampleFor(s, 'investigating'), symptom: 'Webhook events are arriving several minutes late' },
    components: [{ id: 'webhooks', status: 'degraded_performance' }],
    startedAt: new Date(now - 30 * hour),
    notify: false,
  });
  await postUpdate(at(29.2), actor, past.id, { status: 'identified', template: 'identified', variables: exampleFor(s, 'identified'), notify: false });
  await postUpdate(at(28.9), actor, past.id, { status: 'resolved', template: 'resolved', variables: exampleFor(s, 'resolved'), notify: false });
  await publishPostmortem(at(3), actor, past.id, {
    externalSummary:
      'For about 40 minutes webhook events were delivered late. No events were lost. We have added capacity to the delivery queue and an alert that fires before a backlog can build up.',
    internalBody: 'Broker failover left consumers pinned to the old primary; backlog peaked at 180k events.',
    actionItems: [{ title: 'Alert on consumer lag above 30 s', owner: 'platform-lead@example.com', dueOn: new Date(now + 7 * 24 * hour).toISOString().slice(0, 10), priority: 'P2' }],
    variables: { action_items: 'One action item: alert on consumer lag above 30 s (platform lead, due in a week).' },
    notify: false,
  });

  await declareIncident(at(0.3), actor, {
    title: 'Slow dashboard loading',
    internalTitle: 'Dashboard p95 latency 4s: read replica lag',
    severity: 'SEV2',
    template: 'degraded-performance',
    variables: exampleFor(s, 'degraded-performance'),
    components: [{ id: 'dashboard', status: 'degraded_performance' }],
    roles: { ic: 'Dana Reyes', comms: 'Sam Okafor' },
    notify: false,
  });

  const start = new Date(Math.ceil((now + 48 * hour) / hour) * hour);
  await scheduleMaintenance(s, actor, {
    title: 'Database upgrade',
    scheduledFor: start,
    scheduledUntil: new Date(start.getTime() + 2 * hour),
    components: ['api', 'dashboard'],
    variables: exampleFor(s, 'maintenance-scheduled'),
    notify: false,
  });
}

function exampleFor(s: Services, key: string): Record<string, string> {
  return Object.fromEntries((s.templates.get(key)?.variables ?? []).map((v) => [v.name, v.example]));
}
