// Stakeholders: the executives who get briefings; admins add and remove them.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { count, expectProblem, snapshot } from './api-support.ts';
import { declare, makeFixture, seedComponents, type Fixture } from './fixture.ts';

let f: Fixture;
beforeEach(async () => {
  f = await makeFixture();
});
afterEach(() => f.close());

const add = (email: string, name: string) => f.call('POST', '/api/v1/stakeholders', { body: { email, name } });

describe('stakeholders', () => {
  it('adds, lists and removes a stakeholder, auditing both', async () => {
    const res = await add('Cleo@Example.com', 'Cleo Executive');
    expect(res.status).toBe(201);
    const created = await res.json();
    expect(created).toMatchObject({ email: 'cleo@example.com', name: 'Cleo Executive', suppressed: false });
    const list = await (await f.call('GET', '/api/v1/stakeholders')).json();
    expect(list.stakeholders).toEqual([created]);
    expect((await f.call('DELETE', `/api/v1/stakeholders/${created.id}`)).status).toBe(204);
    expect((await (await f.call('GET', '/api/v1/stakeholders')).json()).stakeholders).toEqual([]);
    await expectProblem(await f.call('DELETE', `/api/v1/stakeholders/${created.id}`), 404);
    const actions = (await f.services.db.$client.execute("SELECT action FROM audit_events WHERE subject_type = 'stakeholder' ORDER BY id")).rows.map((r) => r.action);
    expect(actions).toEqual(['stakeholder.added', 'stakeholder.removed']);
  });

  it('refuses a duplicate email, whatever its case, with 409 and stores nothing', async () => {
    expect((await add('cfo@example.com', 'Finn')).status).toBe(201);
    const before = await snapshot(f);
    await expectProblem(await add('CFO@example.com', 'Finn Again'), 409);
    await expectProblem(await add(' cfo@example.com ', 'Finn Again'), 409);
    expect(await snapshot(f)).toEqual(before);
  });

  it('refuses CR/LF in a name or an email with 422 naming the field', async () => {
    await expectProblem(await add('cto@example.com', 'Tess\r\nBcc: all@example.com'), 422, 'name');
    await expectProblem(await add('cto@example.com\r\nBcc: all@example.com', 'Tess'), 422, 'email');
    await expectProblem(await add('not-an-email', 'Tess'), 422, 'email');
    await expectProblem(await add('cto@example.com', ''), 422, 'name');
    expect(await count(f, 'stakeholders')).toBe(0);
  });

  it('is admin only: comms and viewer get 403', async () => {
    for (const token of ['comms', 'viewer'] as const) {
      await expectProblem(await f.call('POST', '/api/v1/stakeholders', { token, body: { email: 'x@example.com', name: 'X' } }), 403);
      await expectProblem(await f.call('GET', '/api/v1/stakeholders', { token }), 403);
    }
    expect(await count(f, 'stakeholders')).toBe(0);
  });

  it('queues a briefing per stakeholder for a SEV1 declaration, and none for SEV4', async () => {
    await seedComponents(f);
    await add('ceo@example.com', 'Cleo');
    await add('cfo@example.com', 'Finn');
    await declare(f, { severity: 'SEV1' });
    expect(await count(f, 'deliveries', "WHERE kind = 'briefing' AND audience = 'stakeholder'")).toBe(2);
    await declare(f, { severity: 'SEV4' });
    expect(await count(f, 'deliveries')).toBe(2);
  });
});
