import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { declare, examples, makeFixture, seedComponents, type Fixture } from './fixture.ts';

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
