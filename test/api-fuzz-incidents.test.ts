// Fuzz: ≥ 1,000 generated bodies to each incident and template write endpoint; none may answer 500.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { impactStatuses, incidentStatuses, severities } from '../api/domain.ts';
import { isoDate, nasty, nearValid, requestArb, variablesArb, fuzz } from './api-fuzz-support.ts';
import { declare, examples, makeFixture, seedComponents, type Fixture } from './fixture.ts';

let f: Fixture;
const open: string[] = [];
const resolved: string[] = [];
// Previewed against but never updated, so their timelines stay short.
const previewed: string[] = [];

beforeAll(async () => {
  f = await makeFixture();
  await seedComponents(f);
  await f.call('POST', '/api/v1/stakeholders', { body: { email: 'ceo@example.com', name: 'Cleo' } });
  await f.services.db.$client.execute("INSERT INTO subscribers (id, email, confirmed_at, unsubscribe_token) VALUES ('s1', 'r@example.com', 1, 'u1')");
  for (let i = 0; i < 6; i++) open.push((await declare(f, { title: `Open ${i}` })).id);
  for (let i = 0; i < 4; i++) {
    const id = (await declare(f, { title: `Closed ${i}` })).id;
    const res = await f.call('POST', `/api/v1/incidents/${id}/updates`, { token: 'comms', body: { status: 'resolved', template: 'resolved', variables: examples(f, 'resolved') } });
    expect(res.status).toBe(201);
    resolved.push(id);
  }
  for (let i = 0; i < 3; i++) previewed.push((await declare(f, { title: `Previewed ${i}` })).id);
});
afterAll(() => f.close());

const incidentTemplates = () => f.services.templates.list().filter((t) => t.kind === 'incident');
const allNames = () => [...new Set(f.services.templates.list().flatMap((t) => t.variables.map((v) => v.name)))];
const allExamples = () => f.services.templates.list().map((t) => examples(f, t.key));
const templateKey = () => fc.oneof(fc.constantFrom(...f.services.templates.list().map((t) => t.key)), fc.constantFrom('nope', 'RESOLVED', '../resolved', ''));
const componentsArb = () =>
  fc.array(
    fc.oneof(
      fc.record({ id: fc.constantFrom('api', 'dashboard', 'webhooks', 'ghost'), status: fc.constantFrom(...impactStatuses, 'operational', 'on_fire') }),
      nasty,
    ),
    { maxLength: 4 },
  );
const common = () => ({
  variables: variablesArb(allNames(), allExamples()),
  template: templateKey(),
  components: componentsArb(),
  notify: fc.oneof(fc.boolean(), fc.record({ subscribers: fc.boolean(), stakeholders: fc.boolean() }, { requiredKeys: [] })),
  roles: fc.record({ ic: fc.string({ maxLength: 130 }), comms: fc.string({ maxLength: 20 }), smes: fc.array(fc.string({ maxLength: 20 }), { maxLength: 25 }) }, { requiredKeys: [] }),
  nextUpdateInMinutes: fc.oneof(fc.integer({ min: -10, max: 20_000 }), fc.constant(null), fc.double()),
});

/** A valid body for a template and one of its statuses, for each incident template. */
const validUpdates = () =>
  fc.constantFrom(
    ...incidentTemplates()
      .filter((t) => !t.statuses.includes('postmortem'))
      .flatMap((t) => t.statuses.map((status) => ({ status, template: t.key, variables: examples(f, t.key) }))),
  );

describe('fuzzing incident endpoints: no input answers 500', () => {
  it('POST /incidents', async () => {
    const valid = validUpdates().map((u) => ({
      title: 'Checkout errors',
      internalTitle: 'Pool exhausted',
      severity: 'SEV2',
      ...u,
      components: [{ id: 'api', status: 'partial_outage' }],
    }));
    const near = nearValid(valid, {
      ...common(),
      title: fc.oneof(fc.string({ maxLength: 220 }), fc.string({ unit: 'grapheme', maxLength: 30 })),
      internalTitle: fc.string({ maxLength: 30 }),
      severity: fc.constantFrom(...severities, 'SEV0', 'SEV5', 'sev1'),
      status: fc.constantFrom(...incidentStatuses, 'fixed'),
      startedAt: isoDate,
    });
    const statuses = await fuzz(f, { name: 'declare', method: 'POST', path: fc.constant('/api/v1/incidents'), token: 'comms', request: requestArb(near, { idempotency: true }) });
    expect(statuses.get(201) ?? 0, JSON.stringify([...statuses])).toBeGreaterThan(10);
  });

  it('POST /incidents/{id}/updates', async () => {
    const near = nearValid(validUpdates(), { ...common(), status: fc.constantFrom(...incidentStatuses, 'fixed'), reopen: fc.boolean() });
    const path = fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...open, ...resolved) }, { weight: 1, arbitrary: fc.string({ maxLength: 70 }).map(encodeURIComponent) }).map(
      (id) => `/api/v1/incidents/${id}/updates`,
    );
    const statuses = await fuzz(f, { name: 'update', method: 'POST', path, token: 'comms', request: requestArb(near, { ifMatch: true, idempotency: true }) });
    expect(statuses.get(201) ?? 0, JSON.stringify([...statuses])).toBeGreaterThan(10);
  });

  it('PUT /incidents/{id}/postmortem', async () => {
    const valid = fc.constant({
      externalSummary: 'For 40 minutes some customers could not check out.',
      internalBody: 'Retry storm from the cart service.',
      actionItems: [{ title: 'Alert on saturation', owner: 'payments@example.com', dueOn: '2026-12-01' }],
      variables: { action_items: 'One item.' },
    });
    const near = nearValid(valid, {
      externalSummary: fc.oneof(fc.string({ maxLength: 100 }), fc.constant('y'.repeat(20_001))),
      actionItems: fc.array(
        fc.oneof(fc.record({ title: fc.string({ maxLength: 20 }), owner: fc.oneof(fc.string({ maxLength: 20 }), fc.constant('dana@example.com')), dueOn: fc.oneof(isoDate, fc.constantFrom('2026-12-01', '2026-02-30')) }), nasty),
        { maxLength: 3 },
      ),
      template: templateKey(),
      variables: variablesArb(allNames(), allExamples()),
      notify: fc.boolean(),
    });
    const path = fc.constantFrom(...resolved, ...open, 'nope').map((id) => `/api/v1/incidents/${id}/postmortem`);
    const statuses = await fuzz(f, { name: 'postmortem', method: 'PUT', path, token: 'comms', request: requestArb(near, { ifMatch: true }) });
    expect(statuses.get(200) ?? 0, JSON.stringify([...statuses])).toBeGreaterThan(10);
  });

  it('POST /templates/{key}/preview', async () => {
    // The key is part of the path, so it is drawn with the body; each template's arbitrary is built once.
    const special = { variables: variablesArb(allNames(), allExamples()), incidentId: fc.constantFrom(...previewed, 'nope', '') };
    const perTemplate = f.services.templates
      .list()
      .map((t) => fc.tuple(fc.oneof({ weight: 9, arbitrary: fc.constant(t.key) }, { weight: 1, arbitrary: fc.string({ maxLength: 80 }) }), requestArb(nearValid(fc.constant({ variables: examples(f, t.key) }), special))));
    const request = fc.oneof(...perTemplate);
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(request, async ([key, req]) => {
        const headers = { ...req.headers, ...(req.contentType !== undefined ? { 'content-type': req.contentType } : {}) };
        const res = await f.call('POST', `/api/v1/templates/${encodeURIComponent(key)}/preview`, {
          token: 'viewer',
          headers,
          ...(req.raw !== undefined ? { raw: req.raw } : { body: req.body }),
        });
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status >= 500) throw new Error(`preview ${key} answered ${res.status}: ${await res.text()}`);
        await res.arrayBuffer();
      }),
      { numRuns: 1000, endOnFailure: true },
    );
    if (process.env.FUZZ_STATS) console.info('preview', JSON.stringify([...statuses].sort()));
    expect(statuses.get(200) ?? 0, JSON.stringify([...statuses])).toBeGreaterThan(10);
  });
});
