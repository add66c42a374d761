// Bad input is a 400/422 problem+json naming the field, never a 500, and stores nothing: no incident, update, audit row or delivery.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { snapshot, expectProblem } from './api-support.ts';
import { declare, examples, makeFixture, seedComponents, type CallOptions, type Fixture } from './fixture.ts';

let f: Fixture;
let open: { id: string };
let maintenanceId: string;
let before: Awaited<ReturnType<typeof snapshot>>;

beforeAll(async () => {
  f = await makeFixture();
  await seedComponents(f);
  // Recipients on both sides, so a publish that slipped through would show up as deliveries.
  await f.call('POST', '/api/v1/stakeholders', { body: { email: 'ceo@example.com', name: 'Cleo Executive' } });
  await f.services.db.$client.execute(
    "INSERT INTO subscribers (id, email, confirmed_at, unsubscribe_token) VALUES ('sub1', 'reader@example.com', 1, 'unsub-token-1')",
  );
  open = await declare(f);
  const m = await f.call('POST', '/api/v1/maintenances', {
    token: 'comms',
    body: {
      title: 'Database upgrade',
      scheduledFor: '2026-11-25T02:00:00Z',
      scheduledUntil: '2026-11-25T04:00:00Z',
      components: ['api'],
      variables: examples(f, 'maintenance-scheduled'),
    },
  });
  expect(m.status).toBe(201);
  maintenanceId = (await m.json()).id;
});
afterAll(() => f.close());
beforeEach(async () => {
  before = await snapshot(f);
});

const valid = () => ({
  title: 'Checkout errors',
  internalTitle: 'Payments DB pool exhausted',
  severity: 'SEV1',
  template: 'investigating',
  variables: examples(f, 'investigating'),
  components: [{ id: 'api', status: 'major_outage' }],
});

const validUpdate = () => ({ status: 'identified', template: 'identified', variables: examples(f, 'identified') });

async function refused(method: string, path: string, options: CallOptions, status: number, field?: string | RegExp) {
  const res = await f.call(method, path, { token: 'comms', ...options });
  const problem = await expectProblem(res, status, field);
  expect(await snapshot(f), 'nothing stored').toEqual(before);
  return problem;
}

describe('declaring an incident with bad input', () => {
  it('a valid declaration does store an incident, its update, audit rows and deliveries (so the checks below mean something)', async () => {
    const res = await f.call('POST', '/api/v1/incidents', { token: 'comms', body: valid() });
    expect(res.status).toBe(201);
    const after = await snapshot(f);
    expect(after.incidents).toBe(before.incidents + 1);
    expect(after.updates).toBe(before.updates + 1);
    expect(after.audit_events).toBe(before.audit_events + 2);
    expect(after.deliveries).toBe(before.deliveries + 2);
  });

  it('refuses an unknown severity with 422 naming severity', async () => {
    await refused('POST', '/api/v1/incidents', { body: { ...valid(), severity: 'SEV5' } }, 422, 'severity');
    await refused('POST', '/api/v1/incidents', { body: { ...valid(), severity: 'sev1' } }, 422, 'severity');
    const { severity: _, ...withoutSeverity } = valid();
    await refused('POST', '/api/v1/incidents', { body: withoutSeverity }, 422, 'severity');
  });

  it('refuses an unknown template with 422 naming template', async () => {
    await refused('POST', '/api/v1/incidents', { body: { ...valid(), template: 'no-such-template' } }, 422, 'template');
    await refused('POST', '/api/v1/incidents', { body: { ...valid(), template: '../resolved' } }, 422, 'template');
  });

  it('refuses a missing required variable with 422 naming it', async () => {
    const { symptom: _, ...rest } = examples(f, 'investigating');
    const problem = await refused('POST', '/api/v1/incidents', { body: { ...valid(), variables: rest } }, 422, 'variables.symptom');
    expect(problem.detail).toContain('symptom');
    await refused('POST', '/api/v1/incidents', { body: { ...valid(), variables: { ...rest, symptom: '   ' } } }, 422, 'variables.symptom');
  });

  it('refuses an unknown variable with 422 naming it', async () => {
    const problem = await refused(
      'POST',
      '/api/v1/incidents',
      { body: { ...valid(), variables: { ...examples(f, 'investigating'), root_cause: 'x' } } },
      422,
      'variables.root_cause',
    );
    expect(problem.detail).toContain('root_cause');
  });

  it('lists every missing and unknown variable at once', async () => {
    const problem = await refused(
      'POST',
      `/api/v1/incidents/${open.id}/updates`,
      { body: { status: 'resolved', template: 'resolved', variables: { bogus: 'x', other_bogus: 'y' } } },
      422,
      'variables.what_happened',
    );
    expect(problem.errors!.map((e) => e.path).sort()).toEqual(
      ['variables.bogus', 'variables.other_bogus', 'variables.resolution', 'variables.what_happened'].sort(),
    );
    for (const name of ['bogus', 'other_bogus', 'resolution', 'what_happened']) expect(problem.detail).toContain(name);
  });

  it('refuses a non-string variable value or a badly named variable with 422', async () => {
    await refused('POST', '/api/v1/incidents', { body: { ...valid(), variables: { ...examples(f, 'investigating'), symptom: 42 } } }, 422, 'variables.symptom');
    await refused('POST', '/api/v1/incidents', { body: { ...valid(), variables: { 'Bad Name': 'x' } } }, 422, /^variables/);
  });

  it('refuses an unknown component with 422 naming components.N.id', async () => {
    await refused(
      'POST',
      '/api/v1/incidents',
      { body: { ...valid(), components: [{ id: 'api', status: 'major_outage' }, { id: 'billing', status: 'partial_outage' }] } },
      422,
      'components.1.id',
    );
  });

  it('refuses no component, a component listed twice, or an unknown impact with 422', async () => {
    await refused('POST', '/api/v1/incidents', { body: { ...valid(), components: [] } }, 422, 'components');
    await refused(
      'POST',
      '/api/v1/incidents',
      { body: { ...valid(), components: [{ id: 'api', status: 'major_outage' }, { id: 'api', status: 'partial_outage' }] } },
      422,
      'components.1.id',
    );
    await refused('POST', '/api/v1/incidents', { body: { ...valid(), components: [{ id: 'api', status: 'on_fire' }] } }, 422, 'components.0.status');
  });

  it('refuses a 300 kB body with 422 naming the oversized field', async () => {
    const big = 'x'.repeat(300 * 1024);
    await refused('POST', '/api/v1/incidents', { body: { ...valid(), variables: { ...examples(f, 'investigating'), symptom: big } } }, 422, 'variables.symptom');
    await refused('POST', '/api/v1/incidents', { body: { ...valid(), title: big } }, 422, 'title');
  });

  it('refuses a body over 1 MiB with 413 problem+json', async () => {
    await refused('POST', '/api/v1/incidents', { body: { ...valid(), title: 'x'.repeat(1100 * 1024) } }, 413);
  });

  it('refuses a non-JSON body with 400 naming the body', async () => {
    await refused('POST', '/api/v1/incidents', { raw: '{"title": "Checkout', headers: { 'content-type': 'application/json' } }, 400, 'body');
    await refused('POST', '/api/v1/incidents', { raw: '', headers: { 'content-type': 'application/json' } }, 400, 'body');
    await refused('POST', '/api/v1/incidents', { raw: 'title=Checkout', headers: { 'content-type': 'application/json' } }, 400, 'body');
  });

  it('refuses a missing or wrong content type with 400 naming content-type', async () => {
    await refused('POST', '/api/v1/incidents', { raw: JSON.stringify(valid()) }, 400, 'content-type');
    await refused('POST', '/api/v1/incidents', { raw: JSON.stringify(valid()), headers: { 'content-type': 'text/plain' } }, 400, 'content-type');
    await refused(
      'POST',
      '/api/v1/incidents',
      { raw: 'title=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      400,
      'content-type',
    );
  });

  it('refuses a JSON body that is not an object with 422 naming the body', async () => {
    for (const raw of ['[]', 'null', '"declare"', '42']) {
      await refused('POST', '/api/v1/incidents', { raw, headers: { 'content-type': 'application/json' } }, 422, 'body');
    }
  });

  it('refuses a template for another status with 422 naming status', async () => {
    await refused(
      'POST',
      '/api/v1/incidents',
      { body: { ...valid(), template: 'resolved', status: 'investigating', variables: examples(f, 'resolved') } },
      422,
      'status',
    );
    await refused(
      'POST',
      `/api/v1/incidents/${open.id}/updates`,
      { body: { status: 'identified', template: 'monitoring', variables: examples(f, 'monitoring') } },
      422,
      'status',
    );
  });

  it('refuses a template of the wrong kind with 422 naming template', async () => {
    const problem = await refused(
      'POST',
      '/api/v1/incidents',
      { body: { ...valid(), template: 'maintenance-scheduled', variables: examples(f, 'maintenance-scheduled') } },
      422,
      'template',
    );
    expect(problem.errors![0]!.message).toBe('a maintenance template cannot post an incident update');
    await refused(
      'POST',
      `/api/v1/maintenances/${maintenanceId}/updates`,
      { body: { status: 'in_progress', template: 'investigating', variables: examples(f, 'investigating') } },
      422,
      'template',
    );
    await refused(
      'POST',
      '/api/v1/maintenances',
      {
        body: {
          title: 'Upgrade',
          scheduledFor: '2026-11-25T02:00:00Z',
          scheduledUntil: '2026-11-25T04:00:00Z',
          components: ['api'],
          template: 'investigating',
          variables: examples(f, 'investigating'),
        },
      },
      422,
      'template',
    );
  });

  it('refuses CR/LF or other control characters in a title with 422', async () => {
    await refused('POST', '/api/v1/incidents', { body: { ...valid(), title: 'Checkout\r\nBcc: everyone@example.com' } }, 422, 'title');
    await refused('POST', '/api/v1/incidents', { body: { ...valid(), title: 'Checkout\nerrors' } }, 422, 'title');
    await refused('POST', '/api/v1/incidents', { body: { ...valid(), internalTitle: 'Pool\rexhausted' } }, 422, 'internalTitle');
    await refused('POST', '/api/v1/incidents', { body: { ...valid(), title: 'Checkout\u0000errors' } }, 422, 'title');
    await refused('POST', '/api/v1/incidents', { body: { ...valid(), title: '   ' } }, 422, 'title');
  });

  it('refuses unknown top-level fields with 422 naming them', async () => {
    const problem = await refused('POST', '/api/v1/incidents', { body: { ...valid(), status_page: 'public' } }, 422, /status_page|^body$/);
    expect(problem.detail.length).toBeGreaterThan(0);
  });

  it('refuses a start time in the future, or not a date, with 422 naming startedAt', async () => {
    await refused('POST', '/api/v1/incidents', { body: { ...valid(), startedAt: '2030-01-01T00:00:00Z' } }, 422, 'startedAt');
    await refused('POST', '/api/v1/incidents', { body: { ...valid(), startedAt: 'yesterday' } }, 422, 'startedAt');
  });

  it('refuses a negative or fractional next-update time with 422', async () => {
    await refused('POST', '/api/v1/incidents', { body: { ...valid(), nextUpdateInMinutes: -5 } }, 422, 'nextUpdateInMinutes');
    await refused('POST', '/api/v1/incidents', { body: { ...valid(), nextUpdateInMinutes: 1.5 } }, 422, 'nextUpdateInMinutes');
  });
});

describe('posting an update with bad input', () => {
  const path = () => `/api/v1/incidents/${open.id}/updates`;

  it('refuses non-JSON, a missing content type, unknown template, unknown component and an unknown status', async () => {
    await refused('POST', path(), { raw: '{', headers: { 'content-type': 'application/json' } }, 400, 'body');
    await refused('POST', path(), { raw: JSON.stringify(validUpdate()) }, 400, 'content-type');
    await refused('POST', path(), { body: { ...validUpdate(), template: 'nope' } }, 422, 'template');
    await refused('POST', path(), { body: { ...validUpdate(), components: [{ id: 'ghost', status: 'major_outage' }] } }, 422, 'components.0.id');
    await refused('POST', path(), { body: { ...validUpdate(), status: 'postmortem' } }, 422, 'status');
    await refused('POST', path(), { body: { ...validUpdate(), status: 'fixed' } }, 422, 'status');
    await refused('POST', path(), { body: { ...validUpdate(), variables: {} } }, 422, 'variables.cause');
  });

  it('refuses a malformed If-Match with 422', async () => {
    await refused('POST', path(), { body: validUpdate(), headers: { 'if-match': 'yesterday' } }, 422, 'if-match');
  });
});

describe('other resources with bad input', () => {
  it('refuses a bad maintenance window with 422 naming the field', async () => {
    const body = {
      title: 'Upgrade',
      scheduledFor: '2026-11-25T04:00:00Z',
      scheduledUntil: '2026-11-25T02:00:00Z',
      components: ['api'],
      variables: examples(f, 'maintenance-scheduled'),
    };
    await refused('POST', '/api/v1/maintenances', { body }, 422, 'scheduledUntil');
    await refused('POST', '/api/v1/maintenances', { body: { ...body, scheduledFor: 'soon' } }, 422, 'scheduledFor');
    await refused('POST', '/api/v1/maintenances', { body: { ...body, scheduledUntil: '2026-11-25T06:00:00Z', components: ['ghost'] } }, 422, 'components.0');
    await refused('POST', '/api/v1/maintenances', { body: { ...body, scheduledUntil: '2026-11-25T06:00:00Z', components: [] } }, 422, 'components');
  });

  it('names the list item, not a missing .id, when a list of bare component ids holds an unknown one', async () => {
    await refused('POST', '/api/v1/subscribers', { token: null, body: { email: 'new@example.com', components: ['api', 'ghost'] } }, 422, 'components.1');
    await refused('POST', '/api/v1/incidents', { body: { ...valid(), components: [{ id: 'ghost', status: 'major_outage' }] } }, 422, 'components.0.id');
  });

  it('refuses a bad preview with 422 and a bad component with 422', async () => {
    await refused('POST', '/api/v1/templates/investigating/preview', { token: 'viewer', body: { variables: { bogus: 'x' } } }, 422, 'variables.bogus');
    await refused('POST', '/api/v1/components', { token: 'admin', body: { id: 'Not A Slug', name: 'x' } }, 422, 'id');
    await refused('POST', '/api/v1/components', { token: 'admin', body: { id: 'billing', name: 'Billing\r\nX' } }, 422, 'name');
    await refused('POST', '/api/v1/components', { token: 'admin', body: { id: 'billing', name: 'Billing', order: 'first' } }, 422, 'order');
    await refused('PATCH', '/api/v1/components/api', { token: 'admin', body: { status: 'major_outage' } }, 422, /status|^body$/);
  });
});

describe('dates outside their documented range', () => {
  // The fixture clock is 2026-11-23T12:00:00Z.
  const window = (scheduledFor: string, scheduledUntil: string) => ({
    title: 'Upgrade',
    scheduledFor,
    scheduledUntil,
    components: ['api'],
    variables: examples(f, 'maintenance-scheduled'),
  });

  it('refuses a startedAt of 1926, or more than 90 days back, with 422 naming startedAt', async () => {
    const problem = await refused('POST', '/api/v1/incidents', { body: { ...valid(), startedAt: '1926-05-01T00:00:00Z' } }, 422, 'startedAt');
    expect(problem.errors!.find((e) => e.path === 'startedAt')!.message).toContain('90 days');
    await refused('POST', '/api/v1/incidents', { body: { ...valid(), startedAt: '2026-08-24T11:59:59Z' } }, 422, 'startedAt');
    await refused('POST', '/api/v1/incidents', { body: { ...valid(), startedAt: '0001-01-01T00:00:00Z' } }, 422, 'startedAt');
  });

  it('refuses a window starting in 1926, more than a day ago, more than a year ahead, or longer than 31 days', async () => {
    await refused('POST', '/api/v1/maintenances', { body: window('1926-05-01T00:00:00Z', '1926-05-01T02:00:00Z') }, 422, 'scheduledFor');
    await refused('POST', '/api/v1/maintenances', { body: window('2026-11-22T11:59:00Z', '2026-11-22T13:00:00Z') }, 422, 'scheduledFor');
    await refused('POST', '/api/v1/maintenances', { body: window('2027-11-25T00:00:00Z', '2027-11-25T02:00:00Z') }, 422, 'scheduledFor');
    await refused('POST', '/api/v1/maintenances', { body: window('9999-01-01T00:00:00Z', '9999-01-01T02:00:00Z') }, 422, 'scheduledFor');
    await refused('POST', '/api/v1/maintenances', { body: window('2026-11-25T00:00:00Z', '2026-12-26T00:00:01Z') }, 422, 'scheduledUntil');
  });

  it('refuses extending a window past 31 days with 422 naming scheduledUntil', async () => {
    await refused(
      'POST',
      `/api/v1/maintenances/${maintenanceId}/updates`,
      { body: { status: 'scheduled', template: 'maintenance-scheduled', variables: examples(f, 'maintenance-scheduled'), scheduledUntil: '2030-01-01T00:00:00Z' } },
      422,
      'scheduledUntil',
    );
  });

  it('refuses an action item due in 1926 with 422 naming its dueOn', async () => {
    await refused(
      'PUT',
      `/api/v1/incidents/${open.id}/postmortem`,
      { body: { externalSummary: 'x', internalBody: 'y', actionItems: [{ title: 't', owner: 'o@example.com', dueOn: '1926-12-01' }], variables: { action_items: 'z' } } },
      422,
      'actionItems.0.dueOn',
    );
  });

  it('says each bound in the OpenAPI description', async () => {
    const doc = await (await f.call('GET', '/api/v1/openapi.json', { token: null })).json();
    const schemas = doc.components.schemas;
    expect(schemas.DeclareIncident.properties.startedAt.description).toMatch(/at most 90 days ago/);
    expect(schemas.ScheduleMaintenance.properties.scheduledFor.description).toMatch(/24 hours ago.*366 days ahead/);
    expect(schemas.ScheduleMaintenance.properties.scheduledUntil.description).toMatch(/31 days/);
    expect(schemas.PostMaintenanceUpdate.properties.scheduledUntil.description).toMatch(/31 days/);
    expect(JSON.stringify(schemas.PublishPostmortem)).toMatch(/2000-01-01 and 2099-12-31/);
  });
});
