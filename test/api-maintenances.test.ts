// Scheduled maintenance: announce, start, complete by hand or by the clock, and show components under maintenance meanwhile.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { advanceMaintenances } from '../api/services/maintenances.ts';
import { count, expectProblem, snapshot } from './api-support.ts';
import { examples, makeFixture, seedComponents, type Fixture } from './fixture.ts';

let f: Fixture;
beforeEach(async () => {
  f = await makeFixture();
  await seedComponents(f);
});
afterEach(() => f.close());

const hour = 60 * 60 * 1000;
// The fixture clock starts at 2026-11-23T12:00:00Z.
const window = { scheduledFor: '2026-11-23T14:00:00.000Z', scheduledUntil: '2026-11-23T16:00:00.000Z' };

async function schedule(extra: Record<string, unknown> = {}) {
  const res = await f.call('POST', '/api/v1/maintenances', {
    token: 'comms',
    body: { title: 'Database upgrade', internalTitle: 'PG 16 → 17', ...window, components: ['api', 'dashboard'], variables: examples(f, 'maintenance-scheduled'), ...extra },
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return res.json();
}

const postUpdate = (id: string, status: string, template: string, extra: Record<string, unknown> = {}) =>
  f.call('POST', `/api/v1/maintenances/${id}/updates`, { token: 'comms', body: { status, template, variables: examples(f, template), ...extra } });

async function statusOf(id: string) {
  const list = await (await f.call('GET', '/api/v1/components', { token: null })).json();
  return list.components.find((c: { id: string }) => c.id === id)?.status;
}

const get = async (id: string) => (await f.call('GET', `/api/v1/maintenances/${id}`, { token: 'viewer' })).json();

describe('maintenance lifecycle', () => {
  it('schedules a window with the scheduled template and both wordings', async () => {
    const m = await schedule();
    expect(m).toMatchObject({ status: 'scheduled', version: 1, ...window, startedAt: null, completedAt: null, autoStart: true, autoComplete: true });
    expect(m.components.map((c: { id: string }) => c.id).sort()).toEqual(['api', 'dashboard']);
    expect(m.updates).toHaveLength(1);
    expect(m.updates[0].template).toBe('maintenance-scheduled');
    expect(m.updates[0].external.subject).toContain('Database upgrade');
    expect(m.updates[0].internal.subject).toContain('PG 16 → 17');
    expect(m.updates[0].external.body).not.toContain(examples(f, 'maintenance-scheduled').rollback_plan);
    expect(m.updates[0].internal.body).toContain(examples(f, 'maintenance-scheduled').rollback_plan);
    expect(await statusOf('api')).toBe('operational');
    expect(await count(f, 'audit_events', "WHERE action = 'maintenance.scheduled'")).toBe(1);
  });

  it('moves scheduled → in_progress → completed by hand, showing under_maintenance in between', async () => {
    const m = await schedule();
    f.clock.set('2026-11-23T14:05:00Z');
    const started = await postUpdate(m.id, 'in_progress', 'maintenance-started');
    expect(started.status).toBe(201);
    expect(await started.json()).toMatchObject({ status: 'in_progress', startedAt: '2026-11-23T14:05:00.000Z', version: 2 });
    expect(await statusOf('api')).toBe('under_maintenance');
    expect(await statusOf('dashboard')).toBe('under_maintenance');
    expect(await statusOf('webhooks')).toBe('operational');

    f.clock.set('2026-11-23T15:00:00Z');
    const done = await postUpdate(m.id, 'completed', 'maintenance-completed');
    expect(done.status).toBe(201);
    expect(await done.json()).toMatchObject({ status: 'completed', completedAt: '2026-11-23T15:00:00.000Z' });
    expect(await statusOf('api')).toBe('operational');
    const changes = (await f.services.db.$client.execute("SELECT detail FROM audit_events WHERE action = 'maintenance.status_changed' ORDER BY id")).rows.map((r) =>
      JSON.parse(String(r.detail)),
    );
    expect(changes).toEqual([
      { from: 'scheduled', to: 'in_progress' },
      { from: 'in_progress', to: 'completed' },
    ]);
  });

  it('refuses completed → in_progress with 409 and stores nothing', async () => {
    const m = await schedule();
    await postUpdate(m.id, 'in_progress', 'maintenance-started');
    await postUpdate(m.id, 'completed', 'maintenance-completed');
    const before = await snapshot(f);
    await expectProblem(await postUpdate(m.id, 'in_progress', 'maintenance-started'), 409);
    expect(await snapshot(f)).toEqual(before);
    expect((await get(m.id)).status).toBe('completed');
  });

  it('refuses any change to a cancelled maintenance with 409', async () => {
    const m = await schedule();
    expect((await postUpdate(m.id, 'cancelled', 'maintenance-cancelled')).status).toBe(201);
    await expectProblem(await postUpdate(m.id, 'in_progress', 'maintenance-started'), 409);
    expect(await statusOf('api')).toBe('operational');
  });

  it('keeps components under maintenance while verifying', async () => {
    const m = await schedule();
    await postUpdate(m.id, 'in_progress', 'maintenance-started');
    expect((await postUpdate(m.id, 'verifying', 'maintenance-verifying')).status).toBe(201);
    expect(await statusOf('api')).toBe('under_maintenance');
  });

  it('lets an active incident outrank maintenance on the same component', async () => {
    const m = await schedule();
    await postUpdate(m.id, 'in_progress', 'maintenance-started');
    const res = await f.call('POST', '/api/v1/incidents', {
      token: 'comms',
      body: { title: 'Upgrade went wrong', severity: 'SEV2', template: 'investigating', variables: examples(f, 'investigating'), components: [{ id: 'api', status: 'degraded_performance' }] },
    });
    expect(res.status).toBe(201);
    expect(await statusOf('api')).toBe('degraded_performance');
    expect(await statusOf('dashboard')).toBe('under_maintenance');
    await expectProblem(await f.call('DELETE', '/api/v1/components/dashboard'), 409);
  });

  it('starts and completes a window by itself when the clock passes it', async () => {
    const m = await schedule();
    expect(await advanceMaintenances(f.services)).toBe(0);
    expect((await get(m.id)).status).toBe('scheduled');

    f.clock.set('2026-11-23T14:00:00Z');
    await advanceMaintenances(f.services);
    let v = await get(m.id);
    expect(v).toMatchObject({ status: 'in_progress', startedAt: '2026-11-23T14:00:00.000Z' });
    expect(v.updates[0]).toMatchObject({ template: 'maintenance-started', author: 'scheduler' });
    expect(await statusOf('api')).toBe('under_maintenance');

    f.clock.advance(hour);
    await advanceMaintenances(f.services);
    expect((await get(m.id)).status).toBe('in_progress');

    f.clock.set('2026-11-23T16:00:01Z');
    await advanceMaintenances(f.services);
    v = await get(m.id);
    expect(v).toMatchObject({ status: 'completed', completedAt: '2026-11-23T16:00:01.000Z' });
    expect(v.updates[0]).toMatchObject({ template: 'maintenance-completed', author: 'scheduler' });
    expect(await statusOf('api')).toBe('operational');
    expect(v.updates).toHaveLength(3);

    // Running again changes nothing.
    const before = await snapshot(f);
    await advanceMaintenances(f.services);
    expect(await snapshot(f)).toEqual(before);
  });

  it('completes a window the clock passed entirely in one step, without announcing a start after the end', async () => {
    const m = await schedule();
    f.clock.set('2026-11-23T17:00:00Z');
    await advanceMaintenances(f.services);
    const v = await get(m.id);
    expect(v.status).toBe('completed');
    expect(v.updates.map((u: { template: string }) => u.template)).toEqual(['maintenance-completed', 'maintenance-scheduled']);
  });

  it('leaves a window alone when told not to start or complete it by itself', async () => {
    const m = await schedule({ autoStart: false });
    f.clock.set('2026-11-23T15:00:00Z');
    await advanceMaintenances(f.services);
    expect((await get(m.id)).status).toBe('scheduled');

    const n = await schedule({ autoComplete: false, title: 'Cache flush' });
    await advanceMaintenances(f.services);
    expect((await get(n.id)).status).toBe('in_progress');
    f.clock.set('2026-11-23T18:00:00Z');
    await advanceMaintenances(f.services);
    expect((await get(n.id)).status).toBe('in_progress');
  });

  it('extends a window with a new end time, and completes on the new end', async () => {
    const m = await schedule();
    f.clock.set('2026-11-23T14:00:00Z');
    await advanceMaintenances(f.services);
    const extended = await postUpdate(m.id, 'in_progress', 'maintenance-extended', { scheduledUntil: '2026-11-23T17:00:00Z' });
    expect(extended.status).toBe(201);
    f.clock.set('2026-11-23T16:30:00Z');
    await advanceMaintenances(f.services);
    expect((await get(m.id)).status).toBe('in_progress');
    f.clock.set('2026-11-23T17:00:00Z');
    await advanceMaintenances(f.services);
    expect((await get(m.id)).status).toBe('completed');
  });

  it('refuses a stale If-Match on a maintenance update with 409', async () => {
    const m = await schedule();
    await postUpdate(m.id, 'in_progress', 'maintenance-started');
    const res = await f.call('POST', `/api/v1/maintenances/${m.id}/updates`, {
      token: 'comms',
      body: { status: 'completed', template: 'maintenance-completed', variables: {} },
      headers: { 'if-match': '"1"' },
    });
    await expectProblem(res, 409);
  });

  it('lists maintenances by upcoming, active and past', async () => {
    const a = await schedule();
    const b = await schedule({ title: 'Second', scheduledFor: '2026-11-24T14:00:00Z', scheduledUntil: '2026-11-24T15:00:00Z' });
    await postUpdate(a.id, 'in_progress', 'maintenance-started');
    const ids = async (status: string) =>
      (await (await f.call('GET', `/api/v1/maintenances?status=${status}`, { token: 'viewer' })).json()).maintenances.map((m: { id: string }) => m.id);
    expect(await ids('upcoming')).toEqual([b.id]);
    expect(await ids('active')).toEqual([a.id]);
    expect(await ids('past')).toEqual([]);
  });

  it('answers 404 for an unknown maintenance', async () => {
    await expectProblem(await postUpdate('nope', 'in_progress', 'maintenance-started'), 404);
    await expectProblem(await f.call('GET', '/api/v1/maintenances/nope', { token: 'viewer' }), 404);
  });
});

describe('deleting a component that a maintenance names', () => {
  it('refuses with 409 while the window is scheduled, in progress or verifying, and allows it once completed or cancelled', async () => {
    const m = await schedule({ components: ['webhooks'] });
    let problem = await expectProblem(await f.call('DELETE', '/api/v1/components/webhooks'), 409);
    expect(problem.detail).toContain('Database upgrade');
    expect(await count(f, 'components', 'WHERE archived_at IS NOT NULL')).toBe(0);

    f.clock.set('2026-11-23T14:05:00Z');
    expect((await postUpdate(m.id, 'in_progress', 'maintenance-started')).status).toBe(201);
    await expectProblem(await f.call('DELETE', '/api/v1/components/webhooks'), 409);
    expect((await postUpdate(m.id, 'verifying', 'maintenance-verifying')).status).toBe(201);
    problem = await expectProblem(await f.call('DELETE', '/api/v1/components/webhooks'), 409);
    expect(problem.detail).toContain('verifying');
    expect((await postUpdate(m.id, 'completed', 'maintenance-completed')).status).toBe(201);
    expect((await f.call('DELETE', '/api/v1/components/webhooks')).status).toBe(204);
  });

  it('allows it after the window is cancelled, and a scheduled window that never started still blocks', async () => {
    const cancelled = await schedule({ components: ['webhooks'] });
    expect((await postUpdate(cancelled.id, 'cancelled', 'maintenance-cancelled')).status).toBe(201);
    expect((await f.call('DELETE', '/api/v1/components/webhooks')).status).toBe(204);
    // Left alone by the clock, a window whose start has passed is still ahead of its components.
    await schedule({ components: ['dashboard'], autoStart: false });
    f.clock.set('2026-11-23T15:00:00Z');
    await advanceMaintenances(f.services);
    await expectProblem(await f.call('DELETE', '/api/v1/components/dashboard'), 409);
  });

  it('does not let a subscriber\'s component filter block it', async () => {
    await f.services.db.$client.execute(
      "INSERT INTO subscribers (id, email, confirmed_at, unsubscribe_token, components) VALUES ('s1', 'r@example.com', 1, 'tok', '[\"webhooks\"]')",
    );
    expect((await f.call('DELETE', '/api/v1/components/webhooks')).status).toBe(204);
  });
});

describe('the maintenance reminder', () => {
  beforeEach(async () => {
    await f.services.db.$client.execute("INSERT INTO subscribers (id, email, confirmed_at, unsubscribe_token) VALUES ('s1', 'reader@example.com', 1, 'tok')");
  });
  const reminders = () => count(f, 'deliveries', "WHERE kind = 'reminder'");
  const at = (minutesFromNow: number) => new Date(f.clock.now().getTime() + minutesFromNow * 60_000).toISOString();

  it('gives a window announced under 24 hours ahead no reminder (MAINTENANCE_REMINDER_HOURS defaults to 24)', async () => {
    await schedule({ scheduledFor: at(24 * 60 - 1), scheduledUntil: at(25 * 60) });
    expect(await reminders()).toBe(0);
    // Its announcement did go out.
    expect(await count(f, 'deliveries', "WHERE kind = 'update'")).toBe(1);
  });

  it('queues one reminder, due 24 hours before the start, for a window announced 24 hours and a minute ahead', async () => {
    await schedule({ scheduledFor: at(24 * 60 + 1), scheduledUntil: at(25 * 60) });
    const [row] = (await f.services.db.$client.execute("SELECT next_attempt_at, seq, status FROM deliveries WHERE kind = 'reminder'")).rows;
    expect(await reminders()).toBe(1);
    expect(row).toMatchObject({ next_attempt_at: Date.parse(at(1)), seq: 24, status: 'pending' });
  });

  it('leaves the clock nothing to queue: advancing it adds no reminder', async () => {
    await schedule({ scheduledFor: at(180), scheduledUntil: at(240) });
    f.clock.advance(120 * 60_000);
    await advanceMaintenances(f.services);
    expect(await reminders()).toBe(0);
  });
});


