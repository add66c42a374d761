// Fuzz: ≥ 1,000 generated bodies to each catalogue, maintenance, stakeholder and subscriber write endpoint; none may answer 500.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maintenanceStatuses } from '../api/domain.ts';
import { isoDate, nasty, nearValid, requestArb, variablesArb, fuzz } from './api-fuzz-support.ts';
import { examples, makeFixture, seedComponents, type Fixture } from './fixture.ts';

let f: Fixture;
const maintenanceIds: string[] = [];

beforeAll(async () => {
  f = await makeFixture();
  await seedComponents(f);
  for (let i = 0; i < 8; i++) {
    const res = await f.call('POST', '/api/v1/maintenances', {
      token: 'comms',
      body: {
        title: `Window ${i}`,
        scheduledFor: '2026-11-24T02:00:00Z',
        scheduledUntil: '2026-11-24T04:00:00Z',
        components: ['api'],
        variables: examples(f, 'maintenance-scheduled'),
      },
    });
    expect(res.status).toBe(201);
    maintenanceIds.push((await res.json()).id);
  }
});
afterAll(() => f.close());

const slugish = fc.oneof(fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,70}$/), fc.constantFrom('api', 'dashboard', 'webhooks', 'ghost', 'API', 'a b', ''));
const lineish = fc.oneof(fc.string({ maxLength: 130 }), fc.string({ unit: 'grapheme', maxLength: 20 }), fc.constantFrom('Billing\r\nBcc: x', ' ', 'x'.repeat(121)));
const maintenanceTemplates = () => f.services.templates.list().filter((t) => t.kind === 'maintenance');
const allNames = () => [...new Set(f.services.templates.list().flatMap((t) => t.variables.map((v) => v.name)))];
const allExamples = () => f.services.templates.list().map((t) => examples(f, t.key));
const counter = { n: 0 };

describe('fuzzing catalogue and maintenance endpoints: no input answers 500', () => {
  it('POST /components', async () => {
    // A fresh id each time, so most valid bodies create a component instead of meeting a duplicate.
    const valid = fc.nat().map((n) => ({ id: `c-${n}-${counter.n++}`, name: 'Billing', description: 'Invoices and payments', group: 'Platform', order: 3 }));
    const near = nearValid(valid, {
      id: slugish,
      name: lineish,
      description: fc.oneof(fc.string({ maxLength: 1100 }), nasty),
      group: fc.oneof(lineish, fc.constant(null)),
      order: fc.oneof(fc.integer({ min: -20_000, max: 20_000 }), fc.double()),
    });
    const statuses = await fuzz(f, { name: 'create component', method: 'POST', path: fc.constant('/api/v1/components'), token: 'admin', request: requestArb(near, { idempotency: true }) });
    expect(statuses.get(201) ?? 0, JSON.stringify([...statuses])).toBeGreaterThan(10);
  });

  it('PATCH /components/{id}', async () => {
    const valid = fc.constantFrom({ name: 'API' }, { description: 'REST API' }, { group: null }, { order: 2 }, { name: 'API', description: 'x', group: 'Platform', order: 1 });
    const near = nearValid(valid, { name: lineish, description: fc.string({ maxLength: 1100 }), group: fc.oneof(lineish, fc.constant(null)), order: fc.integer({ min: -20_000, max: 20_000 }) });
    const path = fc.oneof({ weight: 9, arbitrary: fc.constantFrom('api', 'dashboard', 'webhooks') }, { weight: 1, arbitrary: fc.string({ maxLength: 80 }).map(encodeURIComponent) }).map(
      (id) => `/api/v1/components/${id}`,
    );
    const statuses = await fuzz(f, { name: 'patch component', method: 'PATCH', path, token: 'admin', request: requestArb(near) });
    expect(statuses.get(200) ?? 0, JSON.stringify([...statuses])).toBeGreaterThan(10);
  });

  it('POST /maintenances', async () => {
    const valid = fc.constant({
      title: 'Database upgrade',
      internalTitle: 'PG 17',
      scheduledFor: '2026-11-25T02:00:00Z',
      scheduledUntil: '2026-11-25T04:00:00Z',
      components: ['api', 'dashboard'],
      variables: examples(f, 'maintenance-scheduled'),
    });
    const near = nearValid(valid, {
      title: lineish,
      scheduledFor: isoDate,
      scheduledUntil: isoDate,
      components: fc.array(fc.oneof(slugish, nasty), { maxLength: 5 }),
      template: fc.constantFrom(...f.services.templates.list().map((t) => t.key), 'nope'),
      variables: variablesArb(allNames(), allExamples()),
      autoStart: fc.boolean(),
      autoComplete: fc.boolean(),
      notify: fc.oneof(fc.boolean(), fc.record({ subscribers: fc.boolean() }, { requiredKeys: [] })),
    });
    const statuses = await fuzz(f, { name: 'schedule', method: 'POST', path: fc.constant('/api/v1/maintenances'), token: 'comms', request: requestArb(near, { idempotency: true }) });
    expect(statuses.get(201) ?? 0, JSON.stringify([...statuses])).toBeGreaterThan(10);
  });

  it('POST /maintenances/{id}/updates', async () => {
    const valid = fc.constantFrom(
      ...maintenanceTemplates()
        .filter((t) => !t.statuses.includes('scheduled'))
        .flatMap((t) => t.statuses.map((status) => ({ status, template: t.key, variables: examples(f, t.key) }))),
    );
    const near = nearValid(valid, {
      status: fc.constantFrom(...maintenanceStatuses, 'done'),
      template: fc.constantFrom(...f.services.templates.list().map((t) => t.key), 'nope'),
      variables: variablesArb(allNames(), allExamples()),
      scheduledUntil: isoDate,
      notify: fc.boolean(),
    });
    const path = fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...maintenanceIds) }, { weight: 1, arbitrary: fc.string({ maxLength: 70 }).map(encodeURIComponent) }).map(
      (id) => `/api/v1/maintenances/${id}/updates`,
    );
    const statuses = await fuzz(f, { name: 'maintenance update', method: 'POST', path, token: 'comms', request: requestArb(near, { ifMatch: true, idempotency: true }) });
    expect(statuses.get(201) ?? 0, JSON.stringify([...statuses])).toBeGreaterThan(5);
  });

  it('POST /stakeholders', async () => {
    const valid = fc.nat().map((n) => ({ email: `exec-${n}-${counter.n++}@example.com`, name: 'Cleo Executive' }));
    const near = nearValid(valid, {
      email: fc.oneof(fc.emailAddress(), fc.string({ maxLength: 40 }), fc.constantFrom('a@b', 'x@example.com\r\nBcc: y@example.com', `${'a'.repeat(250)}@example.com`, 'CEO@EXAMPLE.COM')),
      name: lineish,
    });
    const statuses = await fuzz(f, { name: 'add stakeholder', method: 'POST', path: fc.constant('/api/v1/stakeholders'), token: 'admin', request: requestArb(near, { idempotency: true }) });
    expect(statuses.get(201) ?? 0, JSON.stringify([...statuses])).toBeGreaterThan(10);
  });

  it('POST /subscribers (public)', async () => {
    const valid = fc.nat().map((n) => ({ email: `reader-${n}-${counter.n++}@example.com`, components: ['api'] }));
    const near = nearValid(valid, {
      email: fc.oneof(fc.emailAddress(), fc.string({ maxLength: 40 }), fc.constantFrom('x@example.com\r\nBcc: y@example.com', `${'a'.repeat(250)}@example.com`)),
      components: fc.oneof(fc.array(fc.oneof(slugish, nasty), { maxLength: 5 }), fc.constant(Array.from({ length: 101 }, (_, i) => `c${i}`))),
    });
    const statuses = await fuzz(f, { name: 'subscribe', method: 'POST', path: fc.constant('/api/v1/subscribers'), token: null, request: requestArb(near, { idempotency: true }) });
    expect((statuses.get(202) ?? 0) + (statuses.get(429) ?? 0), JSON.stringify([...statuses])).toBeGreaterThan(10);
  });
});
