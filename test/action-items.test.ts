// Action items as records: added on their own and from a postmortem, changed, listed by state, refused when bad, and their owners reminded through the outbox.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ownerReminderTimes } from '../api/services/action-items.ts';
import { declare, examples, makeFixture, seedComponents, type Fixture } from './fixture.ts';
import { manualOutbox } from './fanout-support.ts';
import { startSmtpSink } from './smtp-sink.ts';

let f: Fixture;
beforeEach(async () => {
  f = await makeFixture();
  await seedComponents(f);
});
afterEach(() => f.close());

const count = async (table: string) => Number((await f.services.db.$client.execute(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);
const item = (over: Record<string, unknown> = {}) => ({ title: 'Alert on certificate expiry', owner: 'sam@example.com', dueOn: '2026-12-01', priority: 'P2', ...over });

async function resolve(id: string) {
  const res = await f.call('POST', `/api/v1/incidents/${id}/updates`, { token: 'comms', body: { status: 'resolved', template: 'resolved', variables: examples(f, 'resolved') } });
  expect(res.status).toBe(201);
}

describe('action items', () => {
  it('adds one to an incident, lists it by state, and marks it done', async () => {
    const incident = await declare(f);
    const res = await f.call('POST', `/api/v1/incidents/${incident.id}/action-items`, { token: 'comms', body: item() });
    expect(res.status).toBe(201);
    const created = await res.json();
    expect(created).toMatchObject({ title: 'Alert on certificate expiry', owner: 'sam@example.com', dueOn: '2026-12-01', priority: 'P2', status: 'open', overdue: false, incidentId: incident.id });

    const open = await (await f.call('GET', '/api/v1/action-items?status=open', { token: 'viewer' })).json();
    expect(open.actionItems.map((a: { id: string }) => a.id)).toEqual([created.id]);
    expect((await (await f.call('GET', '/api/v1/action-items?status=overdue', { token: 'viewer' })).json()).actionItems).toEqual([]);

    // The clock passes the due day: the item is overdue from the next day, UTC.
    f.clock.set('2026-12-01T23:59:00Z');
    expect((await (await f.call('GET', '/api/v1/action-items?status=overdue', { token: 'viewer' })).json()).actionItems).toEqual([]);
    f.clock.set('2026-12-02T00:00:00Z');
    expect((await (await f.call('GET', '/api/v1/action-items?status=overdue', { token: 'viewer' })).json()).actionItems).toHaveLength(1);

    const done = await f.call('PATCH', `/api/v1/action-items/${created.id}`, { token: 'comms', body: { status: 'done' }, headers: { 'if-match': `"${created.version}"` } });
    expect(done.status).toBe(200);
    expect(await done.json()).toMatchObject({ status: 'done', overdue: false, closedAt: '2026-12-02T00:00:00.000Z' });
    expect((await (await f.call('GET', '/api/v1/action-items?status=done', { token: 'viewer' })).json()).actionItems).toHaveLength(1);
    expect((await (await f.call('GET', `/api/v1/incidents/${incident.id}/action-items`, { token: 'viewer' })).json()).actionItems[0].status).toBe('done');
    const audit = await f.services.db.$client.execute(`SELECT action FROM audit_events WHERE subject_type = 'action_item' ORDER BY id`);
    expect(audit.rows.map((r) => r.action)).toEqual(['action_item.created', 'action_item.done']);
  });

  it('refuses bad input with 422 naming each field, and stores nothing', async () => {
    const incident = await declare(f);
    const res = await f.call('POST', `/api/v1/incidents/${incident.id}/action-items`, {
      token: 'comms',
      body: item({ owner: 'Payments team', dueOn: '1926-12-01', priority: 'P9', url: 'javascript:alert(1)' }),
    });
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const paths = (await res.json()).errors.map((e: { path: string }) => e.path).sort();
    expect(paths).toEqual(['dueOn', 'owner', 'priority', 'url']);
    expect(await count('action_items')).toBe(0);
    const patch = await f.call('PATCH', '/api/v1/action-items/nope', { token: 'comms', body: { status: 'done' } });
    expect(patch.status).toBe(404);
    expect((await f.call('POST', '/api/v1/incidents/nope/action-items', { token: 'comms', body: item() })).status).toBe(404);
  });

  it('lets a viewer read but not add or change (403), and nobody without a token (401)', async () => {
    const incident = await declare(f);
    expect((await f.call('POST', `/api/v1/incidents/${incident.id}/action-items`, { token: 'viewer', body: item() })).status).toBe(403);
    expect((await f.call('GET', '/api/v1/action-items', { token: null })).status).toBe(401);
    expect((await f.call('GET', '/api/v1/action-items', { token: 'viewer' })).status).toBe(200);
    expect(await count('action_items')).toBe(0);
  });

  it('answers 409 to a stale If-Match and keeps the item as it was', async () => {
    const incident = await declare(f);
    const created = await (await f.call('POST', `/api/v1/incidents/${incident.id}/action-items`, { token: 'comms', body: item() })).json();
    await f.call('PATCH', `/api/v1/action-items/${created.id}`, { token: 'comms', body: { priority: 'P1' } });
    const stale = await f.call('PATCH', `/api/v1/action-items/${created.id}`, { token: 'comms', body: { status: 'done' }, headers: { 'if-match': `"${created.version}"` } });
    expect(stale.status).toBe(409);
    expect((await (await f.call('GET', `/api/v1/incidents/${incident.id}/action-items`)).json()).actionItems[0]).toMatchObject({ status: 'open', priority: 'P1' });
  });

  it('stores a postmortem’s action items as records, and a revision updates them by title without reopening a done one', async () => {
    const incident = await declare(f);
    await resolve(incident.id);
    const body = (items: unknown[]) => ({ externalSummary: 'A certificate expired.', internalBody: 'Timeline.', actionItems: items, variables: { action_items: 'Two items.' } });
    const first = await f.call('PUT', `/api/v1/incidents/${incident.id}/postmortem`, { token: 'comms', body: body([item(), item({ title: 'Rotate certificates automatically', dueOn: '2026-12-20' })]) });
    expect(first.status).toBe(200);
    const view = await first.json();
    expect(view.postmortem.actionItems.map((a: { title: string }) => a.title)).toEqual(['Alert on certificate expiry', 'Rotate certificates automatically']);
    const [alert] = view.postmortem.actionItems;
    await f.call('PATCH', `/api/v1/action-items/${alert.id}`, { token: 'comms', body: { status: 'done' } });

    const revised = await f.call('PUT', `/api/v1/incidents/${incident.id}/postmortem`, { token: 'comms', body: body([item({ dueOn: '2026-12-03' })]) });
    expect(revised.status).toBe(200);
    const items = (await revised.json()).postmortem.actionItems;
    expect(items).toHaveLength(2);
    expect(items.find((a: { id: string }) => a.id === alert.id)).toMatchObject({ status: 'done', dueOn: '2026-12-03' });

    const bad = await f.call('PUT', `/api/v1/incidents/${incident.id}/postmortem`, { token: 'comms', body: body([item({ owner: 'not an email' })]) });
    expect(bad.status).toBe(422);
    expect((await bad.json()).errors.map((e: { path: string }) => e.path)).toEqual(['actionItems.0.owner']);
  });

  it('reminds the owner the day before the due day and weekly while overdue, and stops once done', async () => {
    const incident = await declare(f);
    const created = await (await f.call('POST', `/api/v1/incidents/${incident.id}/action-items`, { token: 'comms', body: item({ dueOn: '2026-11-26' }) })).json();
    const rows = await f.services.db.$client.execute(`SELECT kind, seq, next_attempt_at AS at, email FROM deliveries WHERE audience = 'owner' ORDER BY next_attempt_at`);
    expect(rows.rows[0]).toMatchObject({ kind: 'action_item_due', seq: 0, email: 'sam@example.com' });
    expect(new Date(Number(rows.rows[0]!.at)).toISOString()).toBe('2026-11-25T09:00:00.000Z');
    expect(new Date(Number(rows.rows[1]!.at)).toISOString()).toBe('2026-11-27T09:00:00.000Z');
    expect(new Date(Number(rows.rows[2]!.at)).toISOString()).toBe('2026-12-04T09:00:00.000Z');

    const sink = await startSmtpSink();
    const outbox = manualOutbox(f, sink);
    try {
    f.clock.set('2026-11-25T09:00:00Z');
    expect((await outbox.drain()).sent).toBe(1);
    f.clock.set('2026-11-27T09:00:00Z');
    expect((await outbox.drain()).sent).toBe(1);
    const mails = await sink.parsed();
    expect(mails.map((m) => m.envelopeTo)).toEqual([['sam@example.com'], ['sam@example.com']]);
    expect(mails[0]!.subject).toContain('Due tomorrow');
    expect(mails[1]!.subject).toContain('Overdue');
    expect(mails[1]!.text).toContain('Alert on certificate expiry');
    expect(mails[1]!.text).toContain(`/internal/incidents/${incident.id}/`);

    await f.call('PATCH', `/api/v1/action-items/${created.id}`, { token: 'comms', body: { status: 'done' } });
    f.clock.set('2026-12-04T09:00:00Z');
    expect((await outbox.drain()).sent).toBe(0);
    expect(await count(`deliveries WHERE audience = 'owner' AND status = 'pending'`)).toBe(0);
    } finally {
      await outbox.close();
      await sink.close();
    }
  });

  it('schedules no burst for an item added already overdue: one notice now, then weekly', () => {
    const times = ownerReminderTimes('2026-11-01', new Date('2026-11-23T12:00:00Z'));
    expect(times[0]).toMatchObject({ kind: 'action_item_overdue', at: Date.parse('2026-11-23T12:00:00Z') });
    expect(new Date(times[1]!.at).toISOString()).toBe('2026-11-30T09:00:00.000Z');
    expect(times.every((t, k) => k === 0 || t.at > times[k - 1]!.at)).toBe(true);
  });
});
