import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { declare, examples, makeFixture, seedComponents, type Fixture } from './fixture.ts';
import { makeSiteFixture, postUpdate } from './site-fixture.ts';

let f: Fixture;
beforeEach(async () => {
  f = await makeFixture();
  await seedComponents(f);
});
afterEach(() => f.close());

const count = async (table: string) => Number((await f.services.db.$client.execute(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);

describe('incident lifecycle', () => {
  it('declares from a template and moves through identified → monitoring → resolved', async () => {
    const incident = await declare(f);
    expect(incident.status).toBe('investigating');
    for (const status of ['identified', 'monitoring', 'resolved'] as const) {
      const res = await f.call('POST', `/api/v1/incidents/${incident.id}/updates`, {
        token: 'comms',
        body: { status, template: status, variables: examples(f, status) },
      });
      expect(res.status).toBe(201);
      expect((await res.json()).status).toBe(status);
    }
    const view = await (await f.call('GET', `/api/v1/incidents/${incident.id}`, { token: 'viewer' })).json();
    expect(view.updates).toHaveLength(4);
    expect(view.resolvedAt).not.toBeNull();
    expect(view.mitigatedAt).not.toBeNull();
  });

  it('does not make an untouched component affected when a resolve sets everything operational (API and /api/v2 agree)', async () => {
    const incident = await declare(f, { components: [{ id: 'dashboard', status: 'major_outage' }] });
    const res = await f.call('POST', `/api/v1/incidents/${incident.id}/updates`, {
      token: 'comms',
      body: { status: 'resolved', template: 'resolved', variables: examples(f, 'resolved'), components: [{ id: 'dashboard', status: 'operational' }, { id: 'api', status: 'operational' }] },
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const view = (await (await f.call('GET', `/api/v1/incidents/${incident.id}`, { token: 'viewer' })).json()) as { components: { id: string }[] };
    expect(view.components.map((c) => c.id)).toEqual(['dashboard']);
    const rows = await f.services.db.$client.execute({ sql: 'SELECT component_id FROM incident_components WHERE incident_id = ?', args: [incident.id] });
    expect(rows.rows.map((r) => r.component_id)).toEqual(['dashboard']);
    // The public JSON says the same: its components are those the incident impaired, not every one an update named.
    const site = await makeSiteFixture();
    try {
      const shown = await declare(site, { components: [{ id: 'dashboard', status: 'major_outage' }] });
      await postUpdate(site, shown.id, 'resolved', { components: [{ id: 'dashboard', status: 'operational' }, { id: 'api', status: 'operational' }] });
      await site.rendered();
      const { incidents } = (await (await site.get('/api/v2/incidents.json')).json()) as { incidents: { id: string; components: { id: string }[] }[] };
      expect(incidents.find((i) => i.id === shown.id)!.components.map((c) => c.id)).toEqual(['dashboard']);
    } finally {
      await site.close();
    }
  });

  it('refuses resolved → investigating with 409 problem+json', async () => {
    const incident = await declare(f);
    await f.call('POST', `/api/v1/incidents/${incident.id}/updates`, {
      token: 'comms',
      body: { status: 'resolved', template: 'resolved', variables: examples(f, 'resolved') },
    });
    const res = await f.call('POST', `/api/v1/incidents/${incident.id}/updates`, {
      token: 'comms',
      body: { status: 'investigating', template: 'investigating', variables: examples(f, 'investigating') },
    });
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(await count('updates')).toBe(2);
  });
});

const minute = 60_000;

async function post(id: string, status: string, extra: Record<string, unknown> = {}, template = status) {
  return f.call('POST', `/api/v1/incidents/${id}/updates`, {
    token: 'comms',
    body: { status, template, variables: examples(f, template), ...extra },
  });
}

async function view(id: string) {
  const res = await f.call('GET', `/api/v1/incidents/${id}`, { token: 'viewer' });
  expect(res.status).toBe(200);
  return res.json();
}

const postmortem = {
  externalSummary: 'For 40 minutes some customers could not check out. We added capacity and an alert.',
  internalBody: 'Pool size 20 was exhausted by a retry storm from the cart service.',
  actionItems: [{ title: 'Alert on pool saturation', owner: 'payments@example.com', dueOn: '2026-12-01' }],
  variables: { action_items: 'One action item: alert on pool saturation (Payments team, due 1 December).' },
};

describe('incident lifecycle: transitions', () => {
  it('reopens a resolved incident only with "reopen": true, and audits the reopening', async () => {
    const incident = await declare(f);
    expect((await post(incident.id, 'resolved')).status).toBe(201);
    const resolved = await view(incident.id);
    expect(resolved.resolvedAt).not.toBeNull();

    f.clock.advance(10 * minute);
    const res = await post(incident.id, 'investigating', { reopen: true }, 'reopened');
    expect(res.status).toBe(201);
    const reopened = await res.json();
    expect(reopened.status).toBe('investigating');
    expect(reopened.resolvedAt).toBeNull();
    // Time to mitigate is the first mitigation: reopening does not erase history.
    expect(reopened.mitigatedAt).toBe(resolved.mitigatedAt);
    expect(reopened.version).toBe(resolved.version + 1);
    const rows = await f.services.db.$client.execute({
      sql: "SELECT actor, detail, at FROM audit_events WHERE subject_id = ? AND action = 'incident.reopened'",
      args: [incident.id],
    });
    expect(rows.rows).toHaveLength(1);
    expect(rows.rows[0]!.actor).toBe('Casey Comms');
    expect(JSON.parse(String(rows.rows[0]!.detail))).toEqual({ from: 'resolved', to: 'investigating' });
    expect(Number(rows.rows[0]!.at)).toBe(f.clock.now().getTime());
    // And it can be resolved again, with a new resolution time.
    f.clock.advance(5 * minute);
    expect((await post(incident.id, 'resolved')).status).toBe(201);
    expect((await view(incident.id)).resolvedAt).toBe(f.clock.now().toISOString());
  });

  it('refuses "reopen": false like a missing flag', async () => {
    const incident = await declare(f);
    await post(incident.id, 'resolved');
    const res = await post(incident.id, 'identified', { reopen: false });
    expect(res.status).toBe(409);
    expect(await count('updates')).toBe(2);
  });

  it('skips forward: investigating → resolved sets every milestone at once', async () => {
    const incident = await declare(f);
    f.clock.advance(7 * minute);
    const res = await post(incident.id, 'resolved');
    expect(res.status).toBe(201);
    const body = await res.json();
    const now = f.clock.now().toISOString();
    expect(body).toMatchObject({ status: 'resolved', identifiedAt: now, mitigatedAt: now, resolvedAt: now, nextUpdateAt: null });
    expect(body.durations).toEqual({ toAcknowledge: 0, toMitigate: 7 * 60, toResolve: 7 * 60 });
  });

  it('skips forward: investigating → monitoring', async () => {
    const incident = await declare(f);
    const res = await post(incident.id, 'monitoring');
    expect(res.status).toBe(201);
    expect((await res.json()).status).toBe('monitoring');
  });

  it('refuses monitoring → identified with 409 and stores nothing', async () => {
    const incident = await declare(f);
    await post(incident.id, 'monitoring');
    const before = { updates: await count('updates'), audit: await count('audit_events'), deliveries: await count('deliveries') };
    const res = await post(incident.id, 'identified');
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const problem = await res.json();
    expect(problem).toMatchObject({ status: 409, title: 'Conflict' });
    expect(problem.detail).toMatch(/monitoring/);
    expect({ updates: await count('updates'), audit: await count('audit_events'), deliveries: await count('deliveries') }).toEqual(before);
    expect((await view(incident.id)).status).toBe('monitoring');
  });

  it('accepts a follow-up update in the same status without a status-change audit row', async () => {
    const incident = await declare(f);
    expect((await post(incident.id, 'investigating')).status).toBe(201);
    const actions = (await f.services.db.$client.execute({ sql: 'SELECT action FROM audit_events WHERE subject_id = ?', args: [incident.id] })).rows.map(
      (r) => r.action,
    );
    expect(actions.filter((a) => a === 'incident.status_changed')).toHaveLength(0);
    expect(actions.filter((a) => a === 'update.published')).toHaveLength(2);
  });

  it('answers 404 problem+json for an unknown incident and stores nothing', async () => {
    const res = await post('nope', 'identified');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(await count('updates')).toBe(0);
    expect((await f.call('GET', '/api/v1/incidents/nope', { token: 'viewer' })).status).toBe(404);
  });
});

describe('incident lifecycle: postmortem', () => {
  it('refuses a postmortem before resolution with 409 and stores nothing', async () => {
    const incident = await declare(f);
    for (const status of ['investigating', 'identified', 'monitoring'] as const) {
      if (status !== 'investigating') await post(incident.id, status);
      const before = { updates: await count('updates'), postmortems: await count('postmortems'), audit: await count('audit_events') };
      const res = await f.call('PUT', `/api/v1/incidents/${incident.id}/postmortem`, { token: 'comms', body: postmortem });
      expect(res.status).toBe(409);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect({ updates: await count('updates'), postmortems: await count('postmortems'), audit: await count('audit_events') }).toEqual(before);
    }
  });

  it('publishes a postmortem after resolution, announces it once, and records revisions', async () => {
    const incident = await declare(f);
    await post(incident.id, 'resolved');
    f.clock.advance(24 * 60 * minute);
    const res = await f.call('PUT', `/api/v1/incidents/${incident.id}/postmortem`, { token: 'comms', body: postmortem });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.status).toBe('postmortem');
    expect(body.postmortem).toMatchObject({
      externalSummary: postmortem.externalSummary,
      internalBody: postmortem.internalBody,
      actionItems: postmortem.actionItems,
      author: 'Casey Comms',
      publishedAt: f.clock.now().toISOString(),
    });
    expect(body.updates[0]).toMatchObject({ status: 'postmortem', template: 'postmortem-published' });
    // The summary variable is taken from the external summary; action items stay internal.
    expect(body.updates[0].external.body).toContain(postmortem.externalSummary);
    expect(body.updates[0].external.body).not.toContain('Payments team');
    expect(body.updates[0].internal.body).toContain('Payments team');
    expect(await count('updates')).toBe(3);
    expect(await count('postmortems')).toBe(1);

    f.clock.advance(60 * minute);
    const revised = await f.call('PUT', `/api/v1/incidents/${incident.id}/postmortem`, {
      token: 'comms',
      body: { ...postmortem, externalSummary: 'Revised summary.' },
    });
    expect(revised.status).toBe(200);
    const after = await revised.json();
    expect(after.postmortem.externalSummary).toBe('Revised summary.');
    expect(after.postmortem.updatedAt).toBe(f.clock.now().toISOString());
    expect(after.postmortem.publishedAt).toBe(body.postmortem.publishedAt);
    // A revision is recorded but not announced again.
    expect(await count('updates')).toBe(3);
    const actions = (
      await f.services.db.$client.execute({ sql: "SELECT action FROM audit_events WHERE subject_id = ? AND action LIKE 'postmortem.%' ORDER BY id", args: [incident.id] })
    ).rows.map((r) => r.action);
    expect(actions).toEqual(['postmortem.published', 'postmortem.revised']);
  });

  it('refuses to move a postmortem incident back to resolved, and reopens it only explicitly', async () => {
    const incident = await declare(f);
    await post(incident.id, 'resolved');
    expect((await f.call('PUT', `/api/v1/incidents/${incident.id}/postmortem`, { token: 'comms', body: postmortem })).status).toBe(200);
    expect((await post(incident.id, 'resolved')).status).toBe(409);
    expect((await post(incident.id, 'investigating', {}, 'reopened')).status).toBe(409);
    expect((await post(incident.id, 'investigating', { reopen: true }, 'reopened')).status).toBe(201);
  });
});

describe('incident lifecycle: milestones and audit', () => {
  it('records acknowledge, identify, first-monitoring and resolve times and derives durations from them', async () => {
    const t0 = f.clock.now();
    const startedAt = new Date(t0.getTime() - 12 * minute).toISOString();
    const incident = await declare(f, { startedAt });
    let v = await view(incident.id);
    expect(v).toMatchObject({ startedAt, acknowledgedAt: t0.toISOString(), identifiedAt: null, mitigatedAt: null, resolvedAt: null });
    expect(v.durations).toEqual({ toAcknowledge: 12 * 60, toMitigate: null, toResolve: null });

    f.clock.advance(8 * minute);
    await post(incident.id, 'identified');
    const identifiedAt = f.clock.now().toISOString();
    f.clock.advance(10 * minute);
    await post(incident.id, 'monitoring');
    const mitigatedAt = f.clock.now().toISOString();
    // A second monitoring update does not move time to mitigate.
    f.clock.advance(15 * minute);
    await post(incident.id, 'monitoring');
    f.clock.advance(5 * minute);
    await post(incident.id, 'resolved');
    const resolvedAt = f.clock.now().toISOString();

    v = await view(incident.id);
    expect(v).toMatchObject({ acknowledgedAt: t0.toISOString(), identifiedAt, mitigatedAt, resolvedAt });
    expect(v.durations).toEqual({ toAcknowledge: 12 * 60, toMitigate: (12 + 8 + 10) * 60, toResolve: (12 + 8 + 10 + 15 + 5) * 60 });
    expect(v.nextUpdateAt).toBeNull();
    expect(v.overdue).toBe(false);
  });

  it('sets the next update from the severity cadence (SEV1: 15 minutes by default) and reports it overdue when the clock passes it', async () => {
    const incident = await declare(f, { severity: 'SEV1' });
    let v = await view(incident.id);
    expect(v.nextUpdateAt).toBe(new Date(f.clock.now().getTime() + 15 * minute).toISOString());
    expect(v.overdue).toBe(false);
    f.clock.advance(16 * minute);
    v = await view(incident.id);
    expect(v.overdue).toBe(true);
    await post(incident.id, 'identified', { nextUpdateInMinutes: 45 });
    v = await view(incident.id);
    expect(v.nextUpdateAt).toBe(new Date(f.clock.now().getTime() + 45 * minute).toISOString());
    expect(v.overdue).toBe(false);
  });

  it('writes an audit row with time and actor for the declaration, every status change and every publish', async () => {
    const incident = await declare(f);
    f.clock.advance(minute);
    await post(incident.id, 'identified');
    f.clock.advance(minute);
    await post(incident.id, 'identified');
    f.clock.advance(minute);
    await post(incident.id, 'resolved');
    const rs = await f.services.db.$client.execute({
      sql: 'SELECT action, actor, at, subject_type, detail FROM audit_events WHERE subject_id = ? ORDER BY at, id',
      args: [incident.id],
    });
    const rows = rs.rows.map((r) => ({ action: r.action, actor: r.actor, at: Number(r.at), type: r.subject_type, detail: JSON.parse(String(r.detail)) }));
    const t0 = new Date('2026-11-23T12:00:00Z').getTime();
    expect(rows.map((r) => [r.action, r.at - t0])).toEqual([
      ['incident.declared', 0],
      ['update.published', 0],
      ['incident.status_changed', minute],
      ['update.published', minute],
      ['update.published', 2 * minute],
      ['incident.status_changed', 3 * minute],
      ['update.published', 3 * minute],
    ]);
    expect(new Set(rows.map((r) => r.actor))).toEqual(new Set(['Casey Comms']));
    expect(new Set(rows.map((r) => r.type))).toEqual(new Set(['incident']));
    expect(rows[0]!.detail).toMatchObject({ severity: 'SEV1', status: 'investigating' });
    expect(rows[2]!.detail).toEqual({ from: 'investigating', to: 'identified' });
    expect(rows[5]!.detail).toEqual({ from: 'identified', to: 'resolved' });
    const updateIds = (await view(incident.id)).updates.map((u: { id: string }) => u.id).reverse();
    expect(rows.filter((r) => r.action === 'update.published').map((r) => r.detail.updateId)).toEqual(updateIds);
    // The internal view shows the same timeline.
    expect((await view(incident.id)).audit.map((a: { action: string }) => a.action)).toEqual(rows.map((r) => r.action));
  });

  it('renders both wordings per update from the incident as it stands', async () => {
    const incident = await declare(f, { roles: { ic: 'Dana Reyes' } });
    const v = await view(incident.id);
    const [u] = v.updates;
    expect(u.external.subject).toBe('Investigating: Checkout errors');
    expect(u.internal.subject).toBe('[SEV1] Investigating: Payments DB connection pool exhausted');
    expect(u.internal.body).toContain('Dana Reyes');
    expect(u.external.body).not.toContain('Dana Reyes');
    expect(u.external.body).not.toContain(examples(f, 'investigating').hypothesis);
    expect(u.internal.body).toContain(examples(f, 'investigating').hypothesis);
  });
});

describe('incident timeline order', () => {
  it('lists updates newest first, even when several are posted within the same millisecond', async () => {
    const incident = await declare(f);
    // The clock does not move: only the order of publishing can tell them apart.
    for (const status of ['identified', 'identified', 'monitoring', 'monitoring', 'resolved'] as const) expect((await post(incident.id, status)).status).toBe(201);
    const v = await view(incident.id);
    expect(v.updates.map((u: { status: string }) => u.status)).toEqual(['resolved', 'monitoring', 'monitoring', 'identified', 'identified', 'investigating']);
    const ids = (await f.services.db.$client.execute({ sql: 'SELECT id FROM updates WHERE incident_id = ? ORDER BY rowid DESC', args: [incident.id] })).rows.map((r) => r.id);
    expect(v.updates.map((u: { id: string }) => u.id)).toEqual(ids);
  });
});
