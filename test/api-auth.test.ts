// Roles: 401 without a valid token, 403 for a role that may not, and nothing stored either way.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken, listTokens, revokeToken } from '../api/services/tokens.ts';
import { expectProblem, snapshot } from './api-support.ts';
import { declare, examples, makeFixture, seedComponents, type Fixture } from './fixture.ts';
import { systemActor } from '../api/services/context.ts';

let f: Fixture;
let incidentId: string;

beforeAll(async () => {
  f = await makeFixture();
  await seedComponents(f);
  incidentId = (await declare(f)).id;
});
afterAll(() => f.close());

const declareBody = () => ({
  title: 'Checkout errors',
  severity: 'SEV2',
  template: 'investigating',
  variables: examples(f, 'investigating'),
  components: [{ id: 'api', status: 'partial_outage' }],
});

/** Every write endpoint with a body that would succeed for a strong enough role. */
const writes = () =>
  [
    ['POST', '/api/v1/incidents', declareBody()],
    ['POST', `/api/v1/incidents/${incidentId}/updates`, { status: 'identified', template: 'identified', variables: examples(f, 'identified') }],
    ['PUT', `/api/v1/incidents/${incidentId}/postmortem`, { externalSummary: 'x', internalBody: 'y', variables: { action_items: 'z' } }],
    [
      'POST',
      '/api/v1/maintenances',
      { title: 'Upgrade', scheduledFor: '2026-11-25T02:00:00Z', scheduledUntil: '2026-11-25T04:00:00Z', components: ['api'], variables: examples(f, 'maintenance-scheduled') },
    ],
    ['POST', '/api/v1/components', { id: 'billing', name: 'Billing' }],
    ['PATCH', '/api/v1/components/api', { name: 'Public API' }],
    ['DELETE', '/api/v1/components/webhooks', undefined],
    ['POST', '/api/v1/stakeholders', { email: 'cfo@example.com', name: 'Finn CFO' }],
  ] as const;

describe('without a valid token', () => {
  it('answers 401 problem+json to every write without a token, and stores nothing', async () => {
    const before = await snapshot(f);
    for (const [method, path, body] of writes()) {
      await expectProblem(await f.call(method, path, { token: null, body }), 401);
    }
    expect(await snapshot(f)).toEqual(before);
  });

  it('answers 401 to internal reads without a token', async () => {
    for (const path of ['/api/v1/incidents', `/api/v1/incidents/${incidentId}`, '/api/v1/maintenances', '/api/v1/templates', '/api/v1/stakeholders']) {
      await expectProblem(await f.call('GET', path, { token: null }), 401);
    }
  });

  it('answers 401 to a malformed Authorization header', async () => {
    const before = await snapshot(f);
    for (const authorization of ['Bearer', 'Bearer ', `Token ${f.tokens.admin}`, `Basic ${Buffer.from('a:b').toString('base64')}`, `Bearer ${f.tokens.admin} extra`, f.tokens.admin]) {
      const res = await f.call('POST', '/api/v1/incidents', { token: null, body: declareBody(), headers: { authorization } });
      await expectProblem(res, 401);
    }
    expect(await snapshot(f)).toEqual(before);
  });

  it('answers 401 to an unknown token, even on public reads', async () => {
    await expectProblem(await f.call('GET', '/api/v1/incidents', { token: null, headers: { authorization: 'Bearer sdk_not-a-real-token' } }), 401);
    await expectProblem(await f.call('GET', '/api/v1/components', { token: null, headers: { authorization: 'Bearer sdk_not-a-real-token' } }), 401);
  });

  it('answers 401 to a revoked token, including one revoked mid-session', async () => {
    const created = await createToken(f.services, systemActor('test'), { role: 'comms', name: 'Night shift' });
    const auth = { authorization: `Bearer ${created.token}` };
    expect((await f.call('GET', '/api/v1/incidents', { token: null, headers: auth })).status).toBe(200);
    await revokeToken(f.services, systemActor('test'), created.id);
    const before = await snapshot(f);
    await expectProblem(await f.call('GET', '/api/v1/incidents', { token: null, headers: auth }), 401);
    await expectProblem(await f.call('POST', '/api/v1/incidents', { token: null, headers: auth, body: declareBody() }), 401);
    expect(await snapshot(f)).toEqual(before);
    const listed = (await listTokens(f.services)).find((t) => t.id === created.id);
    expect(listed?.revokedAt).toBeInstanceOf(Date);
  });

  it('stores tokens hashed, never in the clear', async () => {
    const rows = await f.services.db.$client.execute('SELECT hash FROM api_tokens');
    for (const r of rows.rows) {
      expect(String(r.hash)).toMatch(/^[0-9a-f]{64}$/);
      for (const t of Object.values(f.tokens)) expect(String(r.hash)).not.toContain(t);
    }
  });

  it('serves the public component list and health without a token', async () => {
    expect((await f.call('GET', '/api/v1/components', { token: null })).status).toBe(200);
    expect((await f.call('GET', '/api/v1/health', { token: null })).status).toBe(200);
  });
});

describe('with a role that may not', () => {
  it('refuses every publish by a viewer with 403 and stores nothing', async () => {
    const before = await snapshot(f);
    for (const [method, path, body] of writes()) {
      const problem = await expectProblem(await f.call(method, path, { token: 'viewer', body }), 403);
      expect(problem.detail).toMatch(/viewer/);
    }
    expect(await snapshot(f)).toEqual(before);
  });

  it('checks the role before the body: a viewer with a bad body still gets 403', async () => {
    await expectProblem(await f.call('POST', '/api/v1/incidents', { token: 'viewer', body: { nonsense: true } }), 403);
    await expectProblem(await f.call('POST', '/api/v1/incidents', { token: null, raw: '{' , headers: { 'content-type': 'application/json' } }), 401);
  });

  it('refuses a comms token managing components or stakeholders with 403 and stores nothing', async () => {
    const before = await snapshot(f);
    const admin = writes().filter(([, path]) => path.includes('/components') || path.includes('/stakeholders'));
    expect(admin).toHaveLength(4);
    for (const [method, path, body] of admin) {
      const problem = await expectProblem(await f.call(method, path, { token: 'comms', body }), 403);
      expect(problem.detail).toMatch(/admin/);
    }
    await expectProblem(await f.call('GET', '/api/v1/stakeholders', { token: 'comms' }), 403);
    await expectProblem(await f.call('DELETE', '/api/v1/stakeholders/whoever', { token: 'comms' }), 403);
    expect(await snapshot(f)).toEqual(before);
  });

  it('lets a viewer read the internal view and preview, and comms publish', async () => {
    expect((await f.call('GET', `/api/v1/incidents/${incidentId}`, { token: 'viewer' })).status).toBe(200);
    expect((await f.call('GET', '/api/v1/templates', { token: 'viewer' })).status).toBe(200);
    const preview = await f.call('POST', '/api/v1/templates/investigating/preview', { token: 'viewer', body: { variables: examples(f, 'investigating') } });
    expect(preview.status).toBe(200);
    expect((await f.call('POST', '/api/v1/incidents', { token: 'comms', body: declareBody() })).status).toBe(201);
  });

  it('lets an admin do everything comms can', async () => {
    expect((await f.call('POST', '/api/v1/incidents', { token: 'admin', body: declareBody() })).status).toBe(201);
  });
});

describe('Cache-Control', () => {
  const reads = () => [
    '/api/v1/health',
    '/api/v1/templates',
    '/api/v1/components',
    '/api/v1/incidents',
    `/api/v1/incidents/${incidentId}`,
    '/api/v1/maintenances',
    '/api/v1/stakeholders',
  ];

  it('marks every authenticated read private, no-store', async () => {
    for (const path of reads()) {
      const res = await f.call('GET', path, { token: 'admin' });
      expect(res.status, path).toBe(200);
      expect(res.headers.get('cache-control'), path).toBe('private, no-store');
    }
  });

  it('marks every authenticated write private, no-store, whether it succeeds or is refused', async () => {
    for (const [method, path, body] of writes()) {
      const res = await f.call(method, path, { token: 'viewer', body });
      expect(res.status, path).toBe(403);
      expect(res.headers.get('cache-control'), `${method} ${path}`).toBe('private, no-store');
    }
    const published = await f.call('POST', '/api/v1/incidents', { token: 'comms', body: declareBody() });
    expect(published.status).toBe(201);
    expect(published.headers.get('cache-control')).toBe('private, no-store');
    const replayed = await f.call('POST', '/api/v1/incidents', { token: 'comms', body: declareBody(), headers: { 'idempotency-key': 'cache-1' } });
    const again = await f.call('POST', '/api/v1/incidents', { token: 'comms', body: declareBody(), headers: { 'idempotency-key': 'cache-1' } });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    for (const res of [replayed, again]) expect(res.headers.get('cache-control')).toBe('private, no-store');
  });

  it('lets shared caches keep anonymous public reads briefly, varied by credentials', async () => {
    for (const path of ['/api/v1/components', '/api/v1/health']) {
      const res = await f.call('GET', path, { token: null });
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control'), path).toBe('public, max-age=10, must-revalidate');
      expect(res.headers.get('vary'), path).toMatch(/Authorization/);
    }
  });

  it('lets nobody keep anonymous refusals or writes', async () => {
    const refused = await f.call('GET', '/api/v1/incidents', { token: null });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('cache-control')).toBe('no-store');
    const bad = await f.call('GET', '/api/v1/components', { token: null, headers: { authorization: 'Bearer sdk_nope' } });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('cache-control')).toBe('private, no-store');
    const subscribe = await f.call('POST', '/api/v1/subscribers', { token: null, body: { email: 'cache@example.com' } });
    expect(subscribe.status).toBe(202);
    expect(subscribe.headers.get('cache-control')).toBe('no-store');
  });
});
