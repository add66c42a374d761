// The component catalogue: CRUD by admins, archive instead of delete, and a status derived from active incidents.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { count, expectProblem, snapshot } from './api-support.ts';
import { declare, examples, makeFixture, seedComponents, type Fixture } from './fixture.ts';

let f: Fixture;
beforeEach(async () => {
  f = await makeFixture();
});
afterEach(() => f.close());

async function components(): Promise<{ id: string; name: string; status: string; group: string | null; order: number; description: string }[]> {
  const res = await f.call('GET', '/api/v1/components', { token: null });
  expect(res.status).toBe(200);
  return (await res.json()).components;
}

const statusOf = async (id: string) => (await components()).find((c) => c.id === id)?.status;

const post = (id: string, status: string, extra: Record<string, unknown> = {}, template = status) =>
  f.call('POST', `/api/v1/incidents/${id}/updates`, { token: 'comms', body: { status, template, variables: examples(f, template), ...extra } });

describe('component catalogue', () => {
  it('starts empty with SEED_DEMO=false', async () => {
    expect(await components()).toEqual([]);
  });

  it('creates a component and lists it in order, operational', async () => {
    const res = await f.call('POST', '/api/v1/components', { body: { id: 'api', name: 'API', description: 'REST API', group: 'Platform', order: 2 } });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ id: 'api', name: 'API', description: 'REST API', group: 'Platform', order: 2, status: 'operational' });
    await f.call('POST', '/api/v1/components', { body: { id: 'website', name: 'Website', order: 1 } });
    expect((await components()).map((c) => c.id)).toEqual(['website', 'api']);
    expect((await components())[0]).toMatchObject({ description: '', group: null, status: 'operational' });
    expect(await count(f, 'audit_events', "WHERE action = 'component.created'")).toBe(2);
  });

  it('refuses a duplicate id with 409 and stores nothing', async () => {
    await seedComponents(f);
    const before = await snapshot(f);
    await expectProblem(await f.call('POST', '/api/v1/components', { body: { id: 'api', name: 'Another API' } }), 409);
    expect(await snapshot(f)).toEqual(before);
    expect((await components()).find((c) => c.id === 'api')?.name).toBe('Api');
  });

  it('patches name, description, group and order, and 404s an unknown id', async () => {
    await seedComponents(f);
    const res = await f.call('PATCH', '/api/v1/components/api', { body: { name: 'Public API', description: 'v2', group: 'Platform', order: 9 } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: 'api', name: 'Public API', description: 'v2', group: 'Platform', order: 9 });
    const cleared = await f.call('PATCH', '/api/v1/components/api', { body: { group: null } });
    expect((await cleared.json()).group).toBeNull();
    expect((await components()).at(-1)?.id).toBe('api');
    await expectProblem(await f.call('PATCH', '/api/v1/components/ghost', { body: { name: 'Ghost' } }), 404);
    await expectProblem(await f.call('PATCH', '/api/v1/components/api', { body: { id: 'renamed' } }), 422, /id|^body$/);
  });

  it('writes nothing for a patch that changes nothing: updated_at stays, no audit row, no new version', async () => {
    await seedComponents(f);
    await f.call('PATCH', '/api/v1/components/api', { body: { name: 'Public API', group: 'Platform' } });
    const read = async () => (await components()).find((c) => c.id === 'api') as unknown as Record<string, unknown>;
    const before = await read();
    const audits = await f.services.db.$client.execute("SELECT count(*) AS n FROM audit_events WHERE action = 'component.updated'");
    f.clock.advance(60_000);
    for (const body of [{}, { name: 'Public API' }, { group: 'Platform', name: 'Public API' }]) {
      expect((await f.call('PATCH', '/api/v1/components/api', { body })).status).toBe(200);
    }
    expect(await read()).toEqual(before);
    expect((await f.services.db.$client.execute("SELECT count(*) AS n FROM audit_events WHERE action = 'component.updated'")).rows).toEqual(audits.rows);
    // A real change still moves it.
    await f.call('PATCH', '/api/v1/components/api', { body: { description: 'v3' } });
    expect((await read()).updatedAt).not.toEqual(before.updatedAt);
  });

  it('archives on delete: gone from the list, kept in the table, and 404 the second time', async () => {
    await seedComponents(f);
    const res = await f.call('DELETE', '/api/v1/components/webhooks');
    expect(res.status).toBe(204);
    expect((await components()).map((c) => c.id)).toEqual(['api', 'dashboard']);
    const row = await f.services.db.$client.execute("SELECT archived_at FROM components WHERE id = 'webhooks'");
    expect(Number(row.rows[0]!.archived_at)).toBe(f.clock.now().getTime());
    await expectProblem(await f.call('DELETE', '/api/v1/components/webhooks'), 404);
    await expectProblem(await f.call('PATCH', '/api/v1/components/webhooks', { body: { name: 'x' } }), 404);
    // An archived component cannot be named in a new incident.
    const declared = await f.call('POST', '/api/v1/incidents', {
      token: 'comms',
      body: { title: 'x', severity: 'SEV2', template: 'investigating', variables: examples(f, 'investigating'), components: [{ id: 'webhooks', status: 'major_outage' }] },
    });
    await expectProblem(declared, 422, 'components.0.id');
    // Re-creating the id brings it back.
    expect((await f.call('POST', '/api/v1/components', { body: { id: 'webhooks', name: 'Webhooks v2' } })).status).toBe(201);
    expect((await components()).find((c) => c.id === 'webhooks')?.name).toBe('Webhooks v2');
  });

  it('refuses to delete a component an active incident affects with 409, and allows it once resolved', async () => {
    await seedComponents(f);
    const incident = await declare(f, { components: [{ id: 'api', status: 'partial_outage' }] });
    const before = await snapshot(f);
    await expectProblem(await f.call('DELETE', '/api/v1/components/api'), 409);
    expect(await snapshot(f)).toEqual(before);
    expect(await statusOf('api')).toBe('partial_outage');
    await post(incident.id, 'resolved');
    expect((await f.call('DELETE', '/api/v1/components/api')).status).toBe(204);
  });

  it('derives status from the worst impact of active incidents, and goes back to operational on resolve', async () => {
    await seedComponents(f);
    const a = await declare(f, { components: [{ id: 'api', status: 'degraded_performance' }, { id: 'dashboard', status: 'partial_outage' }] });
    expect(await statusOf('api')).toBe('degraded_performance');
    expect(await statusOf('dashboard')).toBe('partial_outage');
    expect(await statusOf('webhooks')).toBe('operational');

    const b = await declare(f, { title: 'Second', components: [{ id: 'api', status: 'major_outage' }] });
    expect(await statusOf('api')).toBe('major_outage');

    // An update may change an impact; the worst still wins.
    expect((await post(a.id, 'identified', { components: [{ id: 'api', status: 'partial_outage' }] })).status).toBe(201);
    expect(await statusOf('api')).toBe('major_outage');

    expect((await post(b.id, 'resolved')).status).toBe(201);
    expect(await statusOf('api')).toBe('partial_outage');
    // Marking a component operational inside an active incident clears its impact.
    expect((await post(a.id, 'monitoring', { components: [{ id: 'dashboard', status: 'operational' }] })).status).toBe(201);
    expect(await statusOf('dashboard')).toBe('operational');
    expect((await post(a.id, 'resolved')).status).toBe(201);
    expect((await components()).map((c) => c.status)).toEqual(['operational', 'operational', 'operational']);
  });

  it('shows no derived status for a component whose only incident was declared already resolved', async () => {
    await seedComponents(f);
    const res = await f.call('POST', '/api/v1/incidents', {
      token: 'comms',
      body: {
        title: 'Brief blip',
        severity: 'SEV2',
        status: 'resolved',
        template: 'resolved',
        variables: examples(f, 'resolved'),
        components: [{ id: 'api', status: 'major_outage' }],
      },
    });
    expect(res.status).toBe(201);
    expect((await res.json()).resolvedAt).toBe(f.clock.now().toISOString());
    expect(await statusOf('api')).toBe('operational');
  });

  it('groups components under a stable group id: a rename keeps it, bad names and unknown ids are refused and nothing is stored', async () => {
    await seedComponents(f);
    await f.call('PATCH', '/api/v1/components/api', { body: { group: 'Platform' } });
    await f.call('PATCH', '/api/v1/components/webhooks', { body: { group: 'Platform' } });
    const listed = (await (await f.call('GET', '/api/v1/component-groups', { token: null })).json()).groups;
    expect(listed).toEqual([{ id: expect.stringMatching(/^grp_[a-z0-9]+$/), name: 'Platform', components: ['api', 'webhooks'] }]);
    const id = listed[0].id as string;
    const api = (await components()).find((c) => c.id === 'api') as unknown as { groupId: string };
    expect(api.groupId).toBe(id);

    const before = await snapshot(f);
    await expectProblem(await f.call('PATCH', `/api/v1/component-groups/${id}`, { body: { name: '' } }), 422, 'name');
    await expectProblem(await f.call('PATCH', `/api/v1/component-groups/${id}`, { body: { name: 'x', extra: 1 } }), 422);
    await expectProblem(await f.call('PATCH', '/api/v1/component-groups/grp_nothing', { body: { name: 'Core' } }), 404);
    await expectProblem(await f.call('PATCH', `/api/v1/component-groups/${id}`, { token: 'comms', body: { name: 'Core' } }), 403);
    expect(await snapshot(f)).toEqual(before);

    const renamed = await f.call('PATCH', `/api/v1/component-groups/${id}`, { body: { name: 'Core' } });
    expect(await renamed.json()).toEqual({ id, name: 'Core', components: ['api', 'webhooks'] });
    expect((await components()).filter((c) => c.group === 'Core').map((c) => c.id)).toEqual(['api', 'webhooks']);
    // Naming the group on a component joins the existing group rather than making a second one.
    await f.call('PATCH', '/api/v1/components/dashboard', { body: { group: 'Core' } });
    expect((await (await f.call('GET', '/api/v1/component-groups', { token: null })).json()).groups).toHaveLength(1);
    expect(await count(f, 'audit_events', "WHERE action = 'component_group.renamed'")).toBe(1);
    // The same name again writes nothing.
    const unchanged = await snapshot(f);
    expect(await (await f.call('PATCH', `/api/v1/component-groups/${id}`, { body: { name: 'Core' } })).json()).toMatchObject({ id, name: 'Core' });
    expect(await snapshot(f)).toEqual(unchanged);
  });
});
