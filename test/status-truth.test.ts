// One status truth on every output, and Statuspage's values: each input here once broke an output (issue 7).
import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { auditEvents, incidents, updates } from '../db/schema.ts';
import { briefingEmail, mailSettings } from '../api/mail/compose.ts';
import { seedDemo } from '../api/seed.ts';
import { declare, examples, makeSiteFixture, postUpdate, type SiteFixture } from './site-fixture.ts';

let f: SiteFixture;
afterEach(() => f?.close());

const text = async (path: string, headers: Record<string, string> = {}) => (await f.get(path, headers)).text();
const json = async (name: string) => (await f.get(`/api/v2/${name}`)).json();
const statusOf = (list: { id: string; status: string }[], id: string) => list.find((c) => c.id === id)?.status;
const bannerOf = (html: string) => ({
  indicator: /data-indicator="([a-z]+)"/.exec(html)?.[1],
  banner: /<section class="banner ([a-z_]+)"/.exec(html)?.[1],
  heading: /<h1 id="banner-heading">([^<]*)<\/h1>/.exec(html)?.[1],
});

async function schedule(title: string, components: string[], fromNow = 24 * 3600_000) {
  const from = f.clock.now().getTime() + fromNow;
  const res = await f.call('POST', '/api/v1/maintenances', {
    token: 'comms',
    body: {
      title,
      scheduledFor: new Date(from).toISOString(),
      scheduledUntil: new Date(from + 2 * 3600_000).toISOString(),
      components,
      variables: examples(f, 'maintenance-scheduled'),
    },
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

async function moveMaintenance(id: string, status: string, template: string) {
  const res = await f.call('POST', `/api/v1/maintenances/${id}/updates`, { token: 'comms', body: { status, template, variables: examples(f, template) } });
  expect(res.status, await res.clone().text()).toBe(201);
}

describe('one derivation, every output', () => {
  beforeEach(async () => {
    f = await makeSiteFixture();
  });

  it('an open incident that set its component back to operational: banner and status.json take its severity, never "All Systems Operational"', async () => {
    const incident = await declare(f, { severity: 'SEV2', components: [{ id: 'api', status: 'major_outage' }] });
    await postUpdate(f, incident.id, 'identified', { components: [{ id: 'api', status: 'operational' }] });
    await f.rendered();
    const status = await json('status.json');
    // SPEC "One door": an active public incident that impairs no component reads as its severity (SEV2 major).
    expect(status.status).toEqual({ indicator: 'major', description: 'Partial System Outage' });
    expect(bannerOf(await text('/'))).toMatchObject({ indicator: 'major', banner: 'partial_outage' });
    // The incident is still open and listed, impairing no component now.
    expect((await json('incidents/unresolved.json')).incidents.map((i: { id: string }) => i.id)).toEqual([incident.id]);
  });

  it('a critical alert whose component label names no component: banner, status.json, summary.json and /internal/ say Major System Outage, not "All Systems Operational"', async () => {
    // Issue 16's input: the SEV1 was published and listed while every output said all was well.
    const res = await f.call('POST', '/api/v1/alerts/alertmanager', {
      token: 'comms',
      body: {
        version: '4',
        groupKey: '{}:{alertname="CheckoutDown"}',
        status: 'firing',
        groupLabels: { alertname: 'CheckoutDown' },
        commonLabels: { alertname: 'CheckoutDown', severity: 'critical', component: 'checkout-svc' },
        commonAnnotations: { summary: 'Checkout is down' },
        alerts: [{ status: 'firing', labels: { alertname: 'CheckoutDown', severity: 'critical', component: 'checkout-svc' }, annotations: {}, startsAt: f.clock.now().toISOString() }],
      },
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ outcome: 'declared', severity: 'SEV1', unknownComponents: ['checkout-svc'] });
    await f.rendered();
    const critical = { indicator: 'critical', description: 'Major System Outage' };
    expect((await json('status.json')).status).toEqual(critical);
    const summary = await json('summary.json');
    expect(summary.status).toEqual(critical);
    expect(summary.incidents).toEqual([expect.objectContaining({ impact: 'critical', components: [] })]);
    // Every component is still operational: the incident names none, its severity speaks for it.
    expect(summary.components.map((c: { status: string }) => c.status)).toEqual(summary.components.map(() => 'operational'));
    expect(bannerOf(await text('/'))).toMatchObject({ indicator: 'critical', banner: 'major_outage' });
    expect(bannerOf(await text('/internal/', { authorization: `Bearer ${f.tokens.viewer}` }))).toMatchObject({ indicator: 'critical', banner: 'major_outage' });
    // The incident's card reads as its severity's impact too, not "Operational".
    const card = /<article class="card">[\s\S]*?<\/article>/.exec(await text('/'))![0];
    expect(card).toContain('Service disruption');
    expect(card).toMatch(/<span class="status major_outage">/);
  });

  it('resolving without naming components leaves no impact on the incident page, in the JSON or in the resolve briefing', async () => {
    const incident = await declare(f, { severity: 'SEV1', components: [{ id: 'api', status: 'major_outage' }] });
    await postUpdate(f, incident.id, 'resolved');
    await f.rendered();
    const page = await text(`/incidents/${incident.id}/`);
    expect(page).not.toContain('Affected components');
    // It still says which components were hit, without a status that is no longer in force.
    expect(page).toMatch(/Components that were affected<\/h2>\s*<p[^>]*>Api<\/p>/);
    const { incidents: list } = await json('incidents.json');
    const resolve = list[0].incident_updates[0];
    expect(resolve.affected_components).toEqual([{ code: 'api', name: 'Api', old_status: 'major_outage', new_status: 'operational' }]);
    // The executive briefing is built from the stored update: the one derivation put "operational" there.
    const [last] = (await f.services.db.select().from(updates).where(eq(updates.incidentId, incident.id))).filter((u) => u.status === 'resolved');
    const mail = briefingEmail(
      mailSettings(f.config),
      last!,
      { internalTitle: 'x', severity: 'SEV1', startedAt: f.clock.now(), mitigatedAt: null, resolvedAt: f.clock.now(), ic: undefined },
      { id: 's', email: 'exec@example.com', name: 'Exec' },
    );
    expect(mail.text).toContain('Impact: Operational');
    expect(mail.text).not.toContain('Major outage');
  });

  it('an internal-only SEV3 or SEV4 never shows at the anonymous /api/v1/components; a token sees it', async () => {
    await declare(f, { severity: 'SEV3', components: [{ id: 'api', status: 'major_outage' }] });
    await declare(f, { severity: 'SEV4', components: [{ id: 'webhooks', status: 'partial_outage' }] });
    const anonymous = (await (await f.call('GET', '/api/v1/components', { token: null })).json()).components;
    expect(statusOf(anonymous, 'api')).toBe('operational');
    expect(statusOf(anonymous, 'webhooks')).toBe('operational');
    const viewer = (await (await f.call('GET', '/api/v1/components', { token: 'viewer' })).json()).components;
    expect(statusOf(viewer, 'api')).toBe('major_outage');
    expect(statusOf(viewer, 'webhooks')).toBe('partial_outage');
  });

  it('shows a completed maintenance as maintenance in the day bars, not as an incident day', async () => {
    const id = await schedule('Database upgrade', ['dashboard'], 3600_000);
    await moveMaintenance(id, 'in_progress', 'maintenance-started');
    f.clock.advance(3600_000);
    await moveMaintenance(id, 'completed', 'maintenance-completed');
    await f.rendered();
    const html = await text('/');
    const dashboard = /data-component="dashboard"[\s\S]*?<\/li>\s*<\/ul>|data-component="dashboard"[\s\S]*?class="bars-legend"[\s\S]*?<\/p>/.exec(html)![0];
    expect(dashboard).toContain('No incidents in the last 90 days; maintenance on 1');
    expect(dashboard).toContain('Maintenance: \u2068Database upgrade\u2069');
    expect(dashboard).not.toContain('Incidents on');
  });

  it('every anonymous read, /api/v1 included, is free of internal wording (canary crawl)', async () => {
    const canary = 'ZQXTRUTHCANARY';
    const planted = (key: string) =>
      Object.fromEntries(f.services.templates.get(key)!.variables.map((v) => [v.name, v.audience === 'internal' ? `${canary} ${v.name}` : v.example]));
    const sev1 = await declare(f, { severity: 'SEV1', internalTitle: `${canary} title`, variables: planted('investigating') });
    await declare(f, { severity: 'SEV3', title: `${canary} sev3 title`, internalTitle: `${canary} sev3`, components: [{ id: 'dashboard', status: 'major_outage' }] });
    await postUpdate(f, sev1.id, 'identified', { variables: planted('identified') });
    await f.rendered();
    const spec = (await (await f.get('/api/v1/openapi.json')).json()) as { paths: Record<string, Record<string, { security?: unknown[] }>> };
    const anonymousGets = Object.entries(spec.paths)
      .filter(([, ops]) => ops.get && !ops.get.security?.length)
      .map(([path]) => `/api/v1${path.replace(/\{id\}/g, sev1.id).replace(/\{key\}/g, 'investigating')}`);
    expect(anonymousGets).toContain('/api/v1/components');
    // The SEV3 took the dashboard down; no anonymous read may say so, in words or in a status.
    const statusesOf = (value: unknown): string[] =>
      Array.isArray(value)
        ? value.flatMap(statusesOf)
        : value && typeof value === 'object'
          ? [
              ...((value as { id?: unknown }).id === 'dashboard' && typeof (value as { status?: unknown }).status === 'string' ? [(value as { status: string }).status] : []),
              ...Object.values(value).flatMap(statusesOf),
            ]
          : [];
    for (const path of [...anonymousGets, '/', `/incidents/${sev1.id}/`, '/feed.xml', '/api/v2/summary.json', '/api/v2/components.json', '/api/v2/incidents.json', '/history/']) {
      const body = await text(path);
      expect(body, path).not.toContain(canary);
      if (body.startsWith('{')) expect(statusesOf(JSON.parse(body)).filter((st) => st !== 'operational'), path).toEqual([]);
    }
  });
});

describe('Statuspage values', () => {
  beforeEach(async () => {
    f = await makeSiteFixture();
  });

  it('reports indicator "maintenance" while maintenance is in progress and nothing is worse', async () => {
    const id = await schedule('Network change', ['api'], 60_000);
    await moveMaintenance(id, 'in_progress', 'maintenance-started');
    await f.rendered();
    expect((await json('status.json')).status).toEqual({ indicator: 'maintenance', description: 'Service Under Maintenance' });
    expect(bannerOf(await text('/')).indicator).toBe('maintenance');
  });

  it('blends like Statuspage: one of many in major outage is "major", all of them "critical"', async () => {
    const one = await declare(f, { severity: 'SEV1', components: [{ id: 'api', status: 'major_outage' }] });
    await f.rendered();
    expect((await json('status.json')).status).toEqual({ indicator: 'major', description: 'Partial System Outage' });
    expect(bannerOf(await text('/')).indicator).toBe('major');
    await postUpdate(f, one.id, 'identified', {
      components: ['api', 'dashboard', 'webhooks'].map((id) => ({ id, status: 'major_outage' })),
    });
    await f.rendered();
    expect((await json('status.json')).status).toEqual({ indicator: 'critical', description: 'Major System Outage' });
    await postUpdate(f, one.id, 'monitoring', {
      components: [
        { id: 'api', status: 'degraded_performance' },
        { id: 'dashboard', status: 'operational' },
        { id: 'webhooks', status: 'operational' },
      ],
    });
    await f.rendered();
    expect((await json('status.json')).status).toEqual({ indicator: 'minor', description: 'Partially Degraded Service' });
  });

  it('gives groups unique ids that are not derived from names and survive a rename', async () => {
    await f.call('PATCH', '/api/v1/components/api', { body: { group: '数据库' } });
    await f.call('PATCH', '/api/v1/components/webhooks', { body: { group: '网络' } });
    const created = await f.call('POST', '/api/v1/components', { body: { id: 'group-platform', name: 'group-platform', group: 'Platform' } });
    expect(created.status).toBe(201);
    await f.rendered();
    const before = (await json('components.json')).components as { id: string; name: string; group: boolean; group_id: string | null }[];
    const groups = before.filter((c) => c.group);
    expect(groups.map((g) => g.name).sort()).toEqual(['Platform', '数据库', '网络']);
    const ids = before.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    const database = groups.find((g) => g.name === '数据库')!;
    expect(before.find((c) => c.id === 'api')!.group_id).toBe(database.id);

    const renamed = await f.call('PATCH', `/api/v1/component-groups/${database.id}`, { body: { name: 'Databases' } });
    expect(renamed.status).toBe(200);
    await f.rendered();
    const after = (await json('components.json')).components as { id: string; name: string; group: boolean; group_id: string | null }[];
    expect(after.find((c) => c.id === database.id)).toMatchObject({ name: 'Databases', group: true });
    expect(after.find((c) => c.id === 'api')!.group_id).toBe(database.id);
    // A second group cannot take a name already in use.
    const clash = await f.call('PATCH', `/api/v1/component-groups/${database.id}`, { body: { name: '网络' } });
    expect(clash.status).toBe(409);
  });

  it('moves a component\'s updated_at when its derived status changes, never before created_at', async () => {
    await f.rendered();
    const at = async (id: string) => (await json('components.json')).components.find((c: { id: string }) => c.id === id);
    const before = await at('api');
    expect(before.updated_at >= before.created_at).toBe(true);
    f.clock.advance(5 * 60_000);
    const incident = await declare(f, { severity: 'SEV1', components: [{ id: 'api', status: 'major_outage' }] });
    await f.rendered();
    const during = await at('api');
    expect(during.updated_at).toBe(f.clock.now().toISOString());
    f.clock.advance(5 * 60_000);
    await postUpdate(f, incident.id, 'resolved');
    await f.rendered();
    expect((await at('api')).updated_at).toBe(f.clock.now().toISOString());
    // An internal-only incident leaves no trace in public timestamps.
    f.clock.advance(5 * 60_000);
    const quiet = (await at('dashboard')).updated_at;
    await declare(f, { severity: 'SEV3', components: [{ id: 'dashboard', status: 'major_outage' }] });
    await declare(f, { severity: 'SEV1', components: [{ id: 'webhooks', status: 'degraded_performance' }] });
    await f.rendered();
    expect((await at('dashboard')).updated_at).toBe(quiet);
  });

  it('keeps incident updated_at at or after created_at, for back-dated and seeded incidents', async () => {
    await f.close();
    f = await makeSiteFixture({}, { components: false });
    await seedDemo(f.services);
    await declare(f, { severity: 'SEV1', startedAt: new Date(f.clock.now().getTime() - 3 * 3600_000).toISOString() });
    f.site.renderer.renderAll();
    await f.rendered();
    const { incidents: list } = await json('incidents.json');
    expect(list.length).toBeGreaterThanOrEqual(2);
    for (const i of list) expect(i.updated_at >= i.created_at, `${i.name}: ${i.updated_at} < ${i.created_at}`).toBe(true);
    const rows = await f.services.db.select({ c: incidents.createdAt, u: incidents.updatedAt }).from(incidents);
    for (const r of rows) expect(r.u.getTime()).toBeGreaterThanOrEqual(r.c.getTime());
  });

  it('maps a cancelled maintenance into Statuspage\'s enum, and started_at never follows resolved_at nor lies in the future', async () => {
    const upcoming = await schedule('Later', ['api'], 48 * 3600_000);
    const cancelled = await schedule('Called off', ['dashboard'], 24 * 3600_000);
    f.clock.advance(60_000);
    await moveMaintenance(cancelled, 'cancelled', 'maintenance-cancelled');
    await f.rendered();
    const { scheduled_maintenances: all } = await json('scheduled-maintenances.json');
    const off = all.find((m: { id: string }) => m.id === cancelled);
    expect(off.status).toBe('completed');
    expect(off.incident_updates.map((u: { status: string }) => u.status)).toEqual(['completed', 'scheduled']);
    expect(off.started_at <= off.resolved_at).toBe(true);
    const soon = all.find((m: { id: string }) => m.id === upcoming);
    // Statuspage's upcoming windows carry the announcement time in started_at, not the future start.
    expect(soon.started_at).toBe(soon.created_at);
    expect(soon.started_at < soon.scheduled_for).toBe(true);
  });

  it('numbers positions within each group, sorts by them, and uses the same position inside incidents', async () => {
    await f.call('PATCH', '/api/v1/components/api', { body: { group: 'Platform', order: 2 } });
    await f.call('PATCH', '/api/v1/components/webhooks', { body: { group: 'Platform', order: 1 } });
    await f.call('PATCH', '/api/v1/components/dashboard', { body: { order: 5 } });
    await declare(f, { severity: 'SEV1', components: [{ id: 'api', status: 'partial_outage' }] });
    await f.rendered();
    const { components } = await json('components.json');
    const shape = components.map((c: { name: string; position: number; group: boolean }) => [c.name, c.position]);
    expect(shape).toEqual([
      ['Platform', 1],
      ['Webhooks', 1],
      ['Api', 2],
      ['Dashboard', 2],
    ]);
    const { incidents: list } = await json('incidents.json');
    expect(list[0].components.map((c: { id: string; position: number }) => [c.id, c.position])).toEqual([['api', 2]]);
  });

  it('archiving a component is audited as component.archived', async () => {
    expect((await f.call('DELETE', '/api/v1/components/webhooks')).status).toBe(204);
    const rows = await f.services.db.select().from(auditEvents).where(eq(auditEvents.subjectId, 'webhooks'));
    expect(rows.map((r) => r.action)).toContain('component.archived');
    expect(rows.map((r) => r.action)).not.toContain('component.deleted');
  });
});

describe('the page names the zone its times are shown in', () => {
  it('shows times in TIME_ZONE without JavaScript, with the zone named, and keeps <time datetime> in UTC', async () => {
    f = await makeSiteFixture({ TIME_ZONE: 'Europe/Berlin' });
    const html = await text('/');
    expect(html).toContain('Times are in Europe/Berlin time.');
    // The fixture's clock is 12:00 UTC on 23 November: 13:00 in Berlin (CET).
    expect(html).toMatch(/<time datetime="2026-11-23T12:00:00.000Z">23 Nov 2026, 13:00 CET<\/time>/);
  });

  it('says only UTC when the days are in UTC too', async () => {
    f = await makeSiteFixture();
    const html = await text('/');
    expect(html).toContain('Times are in UTC.');
    expect(html).not.toContain('days are grouped in');
  });
});
