// Webhook subscribers hear about component status changes (Statuspage's component_update envelope), public ones only, and can unsubscribe safely.
import { Webhook } from 'standardwebhooks';
import { z } from 'zod';
import { afterEach, describe, expect, it } from 'vitest';
import { declare, examples, makeFixture, seedComponents, type Fixture } from './fixture.ts';
import { countRows, rows } from './fanout-support.ts';
import { manualHttpOutbox, startHttpSink, webhookMetaShape, type HttpSink } from './cadence-support.ts';
import { statuspageComponent, webhookPageShape } from './statuspage-shapes.ts';

let f: Fixture | undefined;
let sink: HttpSink | undefined;

afterEach(async () => {
  await sink?.close();
  await f?.close();
  sink = undefined;
  f = undefined;
});

async function setup(): Promise<Fixture> {
  f = await makeFixture({ WEBHOOK_ALLOW_PRIVATE: 'true' });
  await seedComponents(f);
  sink = await startHttpSink();
  return f;
}

const iso = z.iso.datetime();
const componentStatus = z.enum(['operational', 'degraded_performance', 'partial_outage', 'major_outage', 'under_maintenance']);
/** Statuspage's component webhook (support.atlassian.com/statuspage, "Enable webhook notifications"). */
const componentEnvelope = z
  .object({
    meta: webhookMetaShape,
    page: webhookPageShape,
    component_update: z
      .object({
        id: z.string().min(1),
        component_id: z.string(),
        component_type: z.literal('Component'),
        old_status: componentStatus,
        new_status: componentStatus,
        created_at: iso,
      })
      .strict(),
    component: statuspageComponent,
  })
  .strict();

async function subscribe(path: string, components?: string[]) {
  const res = await f!.call('POST', '/api/v1/subscribers', { token: null, body: { webhook: `${sink!.url}${path}`, ...(components ? { components } : {}) } });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; secret: string; unsubscribe: string };
}

const componentPosts = () => sink!.posted.filter((p) => 'component_update' in (p.json as object));

describe('component_update envelopes', () => {
  it('sends one signed component_update per public status change to subscribers whose filter matches, enqueued with the publish', async () => {
    const f = await setup();
    const all = await subscribe('/all');
    await subscribe('/api', ['api']);
    await subscribe('/dash', ['dashboard']);
    const http = manualHttpOutbox(f);
    try {
      const incident = await declare(f, { severity: 'SEV1' }); // Api: major_outage
      // Queued in the publish's own transaction: the rows exist before any worker ran.
      expect(await countRows(f, 'deliveries', "kind = 'component_update'")).toBe(2);
      await http.drain();
      f.clock.advance(60_000);
      const resolved = await f.call('POST', `/api/v1/incidents/${incident.id}/updates`, {
        token: 'comms',
        body: { status: 'resolved', template: 'resolved', variables: examples(f, 'resolved') },
      });
      expect(resolved.status).toBe(201);
      await http.drain();
    } finally {
      http.close();
    }
    const posts = componentPosts();
    expect(posts.map((p) => p.path).sort()).toEqual(['/all', '/all', '/api', '/api']);
    const wh = new Webhook(all.secret);
    const toAll = posts.filter((p) => p.path === '/all');
    for (const p of toAll) {
      expect(() => wh.verify(p.body, p.headers as Record<string, string>)).not.toThrow();
      expect(p.headers['webhook-id']).toMatch(/^msg_\d+$/);
    }
    const [down, up] = toAll.map((p) => componentEnvelope.parse(p.json)).sort((a, b) => (a.component_update.new_status === 'major_outage' ? -1 : b.component_update.new_status === 'major_outage' ? 1 : 0));
    expect(down!.component_update).toMatchObject({ component_id: 'api', old_status: 'operational', new_status: 'major_outage', created_at: '2026-11-23T12:00:00.000Z' });
    expect(down!.component).toMatchObject({ id: 'api', name: 'Api', status: 'major_outage', position: 1 });
    expect(down!.meta.unsubscribe).toBe(all.unsubscribe);
    expect(up!.component_update).toMatchObject({ component_id: 'api', old_status: 'major_outage', new_status: 'operational', created_at: '2026-11-23T12:01:00.000Z' });
    expect(up!.component.status).toBe('operational');
    expect(up!.page).toMatchObject({ status_indicator: 'none' });
    expect(down!.component_update.id).not.toBe(up!.component_update.id);
    // The change is on the audit timeline too.
    expect(await countRows(f, 'audit_events', "action = 'component.status_changed' AND subject_id = 'api'")).toBe(2);
  });

  it('sends nothing when the status does not change, and nothing for an internal-only SEV3 (canary never leaves)', async () => {
    const f = await setup();
    await subscribe('/all');
    const http = manualHttpOutbox(f);
    try {
      await declare(f, {
        severity: 'SEV3',
        title: 'CANARY-SEV3-title',
        internalTitle: 'CANARY-SEV3-internal',
        components: [{ id: 'dashboard', status: 'major_outage' }],
      });
      await http.drain();
      expect(await countRows(f, 'deliveries', "audience = 'webhook'")).toBe(0);
      expect(await countRows(f, 'audit_events', "action = 'component.status_changed'")).toBe(0);
      // A public incident on the same component does change its public status: the sink is live and listening.
      await declare(f, { severity: 'SEV1', components: [{ id: 'dashboard', status: 'partial_outage' }] });
      // A second SEV1 on Dashboard with a milder impact leaves the worst (partial_outage) in force: no component_update.
      await declare(f, { severity: 'SEV1', components: [{ id: 'dashboard', status: 'degraded_performance' }] });
      await http.drain();
    } finally {
      http.close();
    }
    for (const p of sink!.posted) expect(p.body).not.toContain('CANARY-SEV3');
    const changes = componentPosts().map((p) => componentEnvelope.parse(p.json).component_update);
    expect(changes).toEqual([expect.objectContaining({ component_id: 'dashboard', old_status: 'operational', new_status: 'partial_outage' })]);
  });

  it('tells subscribers when a maintenance window puts components under maintenance and when it ends', async () => {
    const f = await setup();
    await subscribe('/all');
    const res = await f.call('POST', '/api/v1/maintenances', {
      token: 'comms',
      body: { title: 'Database upgrade', scheduledFor: '2026-11-23T14:00:00.000Z', scheduledUntil: '2026-11-23T16:00:00.000Z', components: ['webhooks'], variables: examples(f, 'maintenance-scheduled') },
    });
    expect(res.status).toBe(201);
    const m = (await res.json()) as { id: string };
    const http = manualHttpOutbox(f);
    try {
      await http.drain();
      expect(componentPosts()).toHaveLength(0); // scheduled is not in force
      for (const [status, template] of [
        ['in_progress', 'maintenance-started'],
        ['completed', 'maintenance-completed'],
      ] as const) {
        const step = await f.call('POST', `/api/v1/maintenances/${m.id}/updates`, { token: 'comms', body: { status, template, variables: examples(f, template) } });
        expect(step.status).toBe(201);
        await http.drain();
      }
    } finally {
      http.close();
    }
    const changes = componentPosts().map((p) => componentEnvelope.parse(p.json));
    expect(changes.map((c) => [c.component_update.old_status, c.component_update.new_status])).toEqual([
      ['operational', 'under_maintenance'],
      ['under_maintenance', 'operational'],
    ]);
    expect(changes[0]!.component.id).toBe('webhooks');
  });
});

describe('the unsubscribe link in meta', () => {
  it('answers GET with a page whose button posts, or JSON saying to POST; GET unsubscribes nobody; POST does', async () => {
    const f = await setup();
    const sub = await subscribe('/hook');
    const link = new URL(sub.unsubscribe);
    const path = link.pathname + link.search;

    const page = await f.app.request(path);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    expect(html).toMatch(/<form method="post" action="unsubscribe\?token=whu_[^"]+">/);
    expect(html).toContain(`${sink!.url}/hook`);

    const json = await f.app.request(path, { headers: { accept: 'application/json' } });
    expect(json.status).toBe(200);
    expect(await json.json()).toMatchObject({ status: 'subscribed', webhook: `${sink!.url}/hook`, detail: expect.stringContaining('POST') });
    expect(await countRows(f, 'webhook_subscribers')).toBe(1);

    const out = await f.app.request(path, { method: 'POST', headers: { accept: 'application/json' } });
    expect(out.status).toBe(200);
    expect(await out.json()).toMatchObject({ status: 'unsubscribed' });
    expect(await countRows(f, 'webhook_subscribers')).toBe(0);
    expect(await (await f.app.request(path, { method: 'POST', headers: { accept: 'application/json' } })).json()).toMatchObject({ status: 'unknown' });
    expect((await f.app.request(path)).status).toBe(404);
    expect((await f.app.request(path, { headers: { accept: 'application/json' } })).status).toBe(404);
    // Deliveries still queued for it are not sent.
    const [pending] = await rows<{ n: number }>(f, "SELECT count(*) AS n FROM deliveries WHERE audience = 'webhook' AND status = 'pending'");
    expect(Number(pending!.n)).toBe(0);
  });
});
