import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isoTime, statuspageComponent, statuspageIncident, statuspageMaintenance } from './statuspage-shapes.ts';
import { addPastIncidents, declare, examples, makeSiteFixture, postUpdate, type SiteFixture } from './site-fixture.ts';

// Statuspage's public v2 shapes, as its widgets and aggregators read them (test/statuspage-shapes.ts).
const page = z.object({ id: z.string().min(1), name: z.string(), url: z.url(), time_zone: z.string(), updated_at: isoTime }).strict();
const component = statuspageComponent;
const incident = statuspageIncident;
const maintenance = statuspageMaintenance;
const status = z.object({ indicator: z.enum(['none', 'minor', 'major', 'critical']), description: z.string().min(1) }).strict();

const documents = {
  'summary.json': z.object({ page, components: z.array(component), incidents: z.array(incident), scheduled_maintenances: z.array(maintenance), status }).strict(),
  'status.json': z.object({ page, status }).strict(),
  'components.json': z.object({ page, components: z.array(component) }).strict(),
  'incidents.json': z.object({ page, incidents: z.array(incident) }).strict(),
  'incidents/unresolved.json': z.object({ page, incidents: z.array(incident) }).strict(),
  'scheduled-maintenances.json': z.object({ page, scheduled_maintenances: z.array(maintenance) }).strict(),
  'scheduled-maintenances/upcoming.json': z.object({ page, scheduled_maintenances: z.array(maintenance) }).strict(),
  'scheduled-maintenances/active.json': z.object({ page, scheduled_maintenances: z.array(maintenance) }).strict(),
};

let f: SiteFixture;
let ids: { active: string; resolved: string; sev3: string; upcoming: string; running: string };

async function json(name: string) {
  const res = await f.get(`/api/v2/${name}`);
  expect(res.status).toBe(200);
  return res.json();
}

beforeAll(async () => {
  f = await makeSiteFixture();
  await f.call('PATCH', '/api/v1/components/api', { body: { group: 'Platform' } });
  await f.call('PATCH', '/api/v1/components/webhooks', { body: { group: 'Platform' } });
  await addPastIncidents(f, 120);
  // A minute between publishes, so "newest first" has one answer.
  const minute = () => f.clock.advance(60_000);
  const active = await declare(f, { title: 'Checkout failing', components: [{ id: 'api', status: 'major_outage' }] });
  minute();
  await postUpdate(f, active.id, 'identified', { components: [{ id: 'api', status: 'partial_outage' }] });
  minute();
  const resolved = await declare(f, { title: 'Slow webhooks', severity: 'SEV2', components: [{ id: 'webhooks', status: 'degraded_performance' }] });
  minute();
  await postUpdate(f, resolved.id, 'monitoring');
  minute();
  await postUpdate(f, resolved.id, 'resolved', { components: [{ id: 'webhooks', status: 'operational' }] });
  minute();
  const sev3 = await declare(f, { title: 'Quiet SEV3', severity: 'SEV3', components: [{ id: 'dashboard', status: 'major_outage' }] });
  const hour = 3600_000;
  const now = f.clock.now().getTime();
  const schedule = async (title: string, from: number) => {
    const res = await f.call('POST', '/api/v1/maintenances', {
      token: 'comms',
      body: {
        title,
        scheduledFor: new Date(from).toISOString(),
        scheduledUntil: new Date(from + 2 * hour).toISOString(),
        components: ['dashboard'],
        variables: examples(f, 'maintenance-scheduled'),
      },
    });
    return ((await res.json()) as { id: string }).id;
  };
  const upcoming = await schedule('Database upgrade', now + 48 * hour);
  const running = await schedule('Network change', now + hour);
  await f.call('POST', `/api/v1/maintenances/${running}/updates`, {
    token: 'comms',
    body: { status: 'in_progress', template: 'maintenance-started', variables: {} },
  });
  ids = { active: active.id, resolved: resolved.id, sev3: sev3.id, upcoming, running };
  // The SQL-written history arrived without a publish; a full render picks it up, as at start-up.
  f.site.renderer.renderAll();
  await f.rendered();
}, 120_000);
afterAll(() => f.close());

describe('Statuspage-compatible JSON', () => {
  it('matches Statuspage shapes for every document', async () => {
    for (const [name, schema] of Object.entries(documents)) {
      const result = schema.safeParse(await json(name));
      expect(result.error?.issues.slice(0, 3) ?? [], name).toEqual([]);
    }
  });

  it('names the page, and derives status from public incidents and maintenance only', async () => {
    const summary = await json('summary.json');
    expect(summary.page).toMatchObject({ name: 'Example Status', url: 'https://status.example.com', time_zone: 'UTC' });
    // One partial outage among several components blends to minor, as Statuspage's does (decision 011).
    expect(summary.status).toEqual({ indicator: 'minor', description: 'Minor Service Outage' });
    const byId = Object.fromEntries(summary.components.map((c: { id: string }) => [c.id, c]));
    expect(byId.api.status).toBe('partial_outage');
    // The SEV3 took the dashboard down, but customers see only the maintenance.
    expect(byId.dashboard.status).toBe('under_maintenance');
    const group = summary.components.find((c: { group: boolean }) => c.group);
    expect(group).toMatchObject({ name: 'Platform', group: true, components: ['api', 'webhooks'], status: 'partial_outage' });
    expect(byId.api.group_id).toBe(group.id);
    expect(summary.incidents.map((i: { id: string }) => i.id)).toEqual([ids.active]);
    expect(summary.scheduled_maintenances.map((m: { id: string }) => m.id)).toEqual([ids.running, ids.upcoming]);
  });

  it('gives each incident its updates newest first, with the component changes each made', async () => {
    const { incidents } = await json('incidents.json');
    const active = incidents.find((i: { id: string }) => i.id === ids.active);
    expect(active).toMatchObject({ name: 'Checkout failing', status: 'identified', impact: 'critical', resolved_at: null });
    expect(active.shortlink).toBe(`https://status.example.com/incidents/${ids.active}/`);
    expect(active.incident_updates.map((u: { status: string }) => u.status)).toEqual(['identified', 'investigating']);
    expect(active.incident_updates[1].affected_components).toEqual([{ code: 'api', name: 'Api', old_status: 'operational', new_status: 'major_outage' }]);
    expect(active.incident_updates[0].affected_components).toEqual([{ code: 'api', name: 'Api', old_status: 'major_outage', new_status: 'partial_outage' }]);
    const resolved = incidents.find((i: { id: string }) => i.id === ids.resolved);
    expect(resolved).toMatchObject({ status: 'resolved', impact: 'minor' });
    expect(resolved.monitoring_at).not.toBeNull();
    expect(resolved.resolved_at).not.toBeNull();
  });

  it('lists the 50 most recent public incidents and never a SEV3/SEV4', async () => {
    const { incidents } = await json('incidents.json');
    expect(incidents).toHaveLength(50);
    expect(incidents.map((i: { id: string }) => i.id)).not.toContain(ids.sev3);
    const started = incidents.map((i: { started_at: string }) => i.started_at);
    expect([...started].sort().reverse()).toEqual(started);
    const { incidents: unresolved } = await json('incidents/unresolved.json');
    expect(unresolved.map((i: { id: string }) => i.id)).toEqual([ids.active]);
  });

  it('splits maintenance into upcoming and active, with the window', async () => {
    const { scheduled_maintenances: upcoming } = await json('scheduled-maintenances/upcoming.json');
    expect(upcoming.map((m: { id: string }) => m.id)).toEqual([ids.upcoming]);
    expect(upcoming[0]).toMatchObject({ status: 'scheduled', impact: 'maintenance', name: 'Database upgrade' });
    const { scheduled_maintenances: active } = await json('scheduled-maintenances/active.json');
    expect(active.map((m: { id: string; status: string }) => [m.id, m.status])).toEqual([[ids.running, 'in_progress']]);
    const { scheduled_maintenances: all } = await json('scheduled-maintenances.json');
    expect(all).toHaveLength(2);
  });
});

describe('feed.xml', () => {
  it('is RSS 2.0 with one item per public update, a stable guid, absolute links and RFC 822 dates in UTC', async () => {
    const feed = await (await f.get('/feed.xml')).text();
    expect(feed).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?><rss [^>]*version="2.0"/);
    expect(feed).toContain('<link>https://status.example.com/</link>');
    const items = [...feed.matchAll(/<item>([\s\S]*?)<\/item>/g)].map((m) => m[1]!);
    expect(items).toHaveLength(100);
    const field = (item: string, name: string) => new RegExp(`<${name}[^>]*>([\\s\\S]*?)</${name}>`).exec(item)?.[1] ?? '';
    const guids = items.map((i) => field(i, 'guid'));
    expect(new Set(guids).size).toBe(items.length);
    for (const item of items) {
      expect(item).toMatch(/<guid isPermaLink="false">[a-z0-9]+<\/guid>/);
      expect(field(item, 'link')).toMatch(/^https:\/\/status\.example\.com\/(incidents|maintenances)\/[a-z0-9]+\/#update-[a-z0-9]+$/);
      expect(field(item, 'pubDate')).toMatch(/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    }
    // Newest first, and the guid of an update is its id: the same item on every render.
    const rows = await f.services.db.$client.execute(
      `SELECT u.id FROM updates u LEFT JOIN incidents i ON i.id = u.incident_id
       WHERE json_extract(u.audiences, '$.public') = 1 ORDER BY u.created_at DESC, u.rowid DESC LIMIT 100`,
    );
    expect(guids).toEqual(rows.rows.map((r) => r.id));
    expect(feed).not.toContain('Quiet SEV3');
  });
});
