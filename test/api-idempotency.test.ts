// Retries publish once: Idempotency-Key replays the first answer, If-Match refuses a stale version, and of two racing updates one wins.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { count, expectProblem, snapshot } from './api-support.ts';
import { declare, examples, makeFixture, seedComponents, type Fixture } from './fixture.ts';

let f: Fixture;
beforeEach(async () => {
  f = await makeFixture();
  await seedComponents(f);
});
afterEach(() => f.close());

const declareBody = (title = 'Checkout errors') => ({
  title,
  severity: 'SEV1',
  template: 'investigating',
  variables: examples(f, 'investigating'),
  components: [{ id: 'api', status: 'major_outage' }],
});

const declareWithKey = (key: string, body: unknown = declareBody(), token: 'comms' | 'admin' = 'comms') =>
  f.call('POST', '/api/v1/incidents', { token, body, headers: { 'idempotency-key': key } });

const update = (id: string, ifMatch?: string, status = 'identified') =>
  f.call('POST', `/api/v1/incidents/${id}/updates`, {
    token: 'comms',
    body: { status, template: status, variables: examples(f, status) },
    headers: ifMatch === undefined ? {} : { 'if-match': ifMatch },
  });

describe('Idempotency-Key', () => {
  it('replays the first response for the same key and body, and stores exactly one incident', async () => {
    const first = await declareWithKey('declare-7f3a');
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const firstBody = await first.json();
    const after = await snapshot(f);

    f.clock.advance(60_000);
    const second = await declareWithKey('declare-7f3a');
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.headers.get('content-type')).toContain('application/json');
    const secondBody = await second.json();
    expect(secondBody.id).toBe(firstBody.id);
    expect(secondBody).toEqual(firstBody);
    expect(await snapshot(f)).toEqual(after);
    expect(await count(f, 'incidents')).toBe(1);
    expect(await count(f, 'updates')).toBe(1);
  });

  it('refuses the same key with a different body with 422 naming Idempotency-Key, and stores nothing', async () => {
    expect((await declareWithKey('k-1')).status).toBe(201);
    const before = await snapshot(f);
    await expectProblem(await declareWithKey('k-1', declareBody('Another title')), 422, 'Idempotency-Key');
    expect(await snapshot(f)).toEqual(before);
  });

  it('refuses the same key on another endpoint with 422', async () => {
    const incident = await declare(f);
    expect((await declareWithKey('k-2')).status).toBe(201);
    const res = await f.call('POST', `/api/v1/incidents/${incident.id}/updates`, {
      token: 'comms',
      body: declareBody(),
      headers: { 'idempotency-key': 'k-2' },
    });
    await expectProblem(res, 422, 'Idempotency-Key');
  });

  it('scopes keys per token: another token with the same key publishes its own incident', async () => {
    expect((await declareWithKey('shared-key', declareBody(), 'comms')).status).toBe(201);
    const other = await declareWithKey('shared-key', declareBody(), 'admin');
    expect(other.status).toBe(201);
    expect(other.headers.get('idempotent-replayed')).toBeNull();
    expect(await count(f, 'incidents')).toBe(2);
  });

  it('replays a refusal too: a 422 answered once is answered the same way again', async () => {
    const bad = { ...declareBody(), severity: 'SEV9' };
    const first = await declareWithKey('bad-1', bad);
    const firstBody = await expectProblem(first, 422, 'severity');
    const second = await declareWithKey('bad-1', bad);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(await expectProblem(second, 422, 'severity')).toEqual(firstBody);
    expect(await count(f, 'incidents')).toBe(0);
  });

  it('publishes once when the same request is retried concurrently', async () => {
    const answers = await Promise.all([1, 2, 3].map(() => declareWithKey('race-1')));
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    for (const s of statuses) expect([201, 409]).toContain(s);
    expect(await count(f, 'incidents')).toBe(1);
    // Once the first has finished, a retry gets its answer.
    const retry = await declareWithKey('race-1');
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
  });

  it('refuses a malformed key with 422', async () => {
    await expectProblem(await declareWithKey('has spaces in it'), 422, 'Idempotency-Key');
    await expectProblem(await declareWithKey('x'.repeat(256)), 422, 'Idempotency-Key');
    expect(await count(f, 'incidents')).toBe(0);
  });

  it('without a key, the same body declares twice', async () => {
    await declare(f);
    await declare(f);
    expect(await count(f, 'incidents')).toBe(2);
  });
});

describe('Idempotency-Key scope and lifetime', () => {
  /** Two subscribers' manage tokens, as their emails carry them. */
  async function twoSubscribers(): Promise<[string, string]> {
    for (const email of ['alice@example.com', 'bob@example.com']) {
      expect((await f.call('POST', '/api/v1/subscribers', { token: null, body: { email } })).status).toBe(202);
    }
    const found = await f.services.db.$client.execute('SELECT unsubscribe_token FROM subscribers ORDER BY email');
    return [String(found.rows[0]!.unsubscribe_token), String(found.rows[1]!.unsubscribe_token)];
  }
  /** An anonymous form post to a manage link, from a given peer address (as @hono/node-server passes the socket). */
  const manage = (token: string, key: string, peer = '203.0.113.1') =>
    f.app.request(
      `/api/v1/subscribers/manage?token=${token}`,
      { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'idempotency-key': key }, body: 'components=api' },
      { incoming: { socket: { remoteAddress: peer } } },
    );

  it("never hands one anonymous caller another's page: the query string is part of the request", async () => {
    const [alice, bob] = await twoSubscribers();
    const first = await manage(alice, 'same-key');
    expect(first.status).toBe(200);
    expect(await first.text()).toContain('alice@example.com');
    const second = await manage(bob, 'same-key');
    const text = await second.text();
    expect(text).not.toContain('alice@example.com');
    expect(text).not.toContain(alice);
    expect(second.status).toBe(422);
    expect(JSON.parse(text).errors[0].path).toBe('Idempotency-Key');
  });

  it('keeps anonymous callers at different addresses in their own scopes', async () => {
    const [alice, bob] = await twoSubscribers();
    expect(await (await manage(alice, 'shared', '203.0.113.1')).text()).toContain('alice@example.com');
    const other = await manage(bob, 'shared', '198.51.100.2');
    expect(other.status).toBe(200);
    expect(other.headers.get('idempotent-replayed')).toBeNull();
    expect(await other.text()).toContain('bob@example.com');
    // The same caller again gets its own answer replayed, as the page it was (HTML, not JSON).
    const replay = await manage(alice, 'shared', '203.0.113.1');
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.headers.get('content-type')).toContain('text/html');
    expect(await replay.text()).toContain('alice@example.com');
  });

  it('replays a multipart form post under its key: the body is hashed as sent, not as re-encoded', async () => {
    const [alice] = await twoSubscribers();
    const post = () => {
      const data = new FormData();
      data.append('components', 'api');
      return f.app.request(`/api/v1/subscribers/manage?token=${alice}`, { method: 'POST', headers: { 'idempotency-key': 'multi-1' }, body: data });
    };
    expect((await post()).status).toBe(200);
    const again = await post();
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
  });

  it('refuses the same key on the same path with another query string with 422', async () => {
    const incident = await declare(f);
    const body = { status: 'identified', template: 'identified', variables: examples(f, 'identified') };
    const headers = { 'idempotency-key': 'q-1' };
    expect((await f.call('POST', `/api/v1/incidents/${incident.id}/updates?a=1`, { token: 'comms', body, headers })).status).toBe(201);
    await expectProblem(await f.call('POST', `/api/v1/incidents/${incident.id}/updates?a=2`, { token: 'comms', body, headers }), 422, 'Idempotency-Key');
    expect(await count(f, 'updates')).toBe(2);
  });

  it('forgets a key after 24 hours: the same key then starts a new request, and old keys are swept', async () => {
    expect((await declareWithKey('day-1')).status).toBe(201);
    f.clock.advance(23 * 60 * 60 * 1000);
    expect((await declareWithKey('day-1')).headers.get('idempotent-replayed')).toBe('true');
    f.clock.advance(60 * 60 * 1000 + 1);
    const fresh = await declareWithKey('day-1', declareBody('A new day'));
    expect(fresh.status).toBe(201);
    expect(fresh.headers.get('idempotent-replayed')).toBeNull();
    expect(await count(f, 'incidents')).toBe(2);
    expect((await declareWithKey('other-1')).status).toBe(201);
    f.clock.advance(25 * 60 * 60 * 1000);
    expect((await declareWithKey('other-2')).status).toBe(201);
    const keys = await f.services.db.$client.execute('SELECT key FROM idempotency_keys ORDER BY key');
    expect(keys.rows.map((r) => r.key)).toEqual(['other-2']);
  });
});

describe('If-Match', () => {
  it('refuses a stale version with 409 and stores nothing', async () => {
    const incident = await declare(f);
    expect((await update(incident.id, '"1"')).status).toBe(201);
    const before = await snapshot(f);
    const res = await update(incident.id, '"1"', 'monitoring');
    const problem = await expectProblem(res, 409);
    expect(problem.detail).toMatch(/version 2/);
    // A number too long to be a version is refused as malformed, not compared as "1e+21".
    await expectProblem(await update(incident.id, '"999999999999999999999"', 'monitoring'), 422, /if-match/i);
    expect(await snapshot(f)).toEqual(before);
  });

  it('accepts the current version, in any of its spellings, and answers the new one as an ETag', async () => {
    const incident = await declare(f);
    const first = await update(incident.id, '"1"');
    expect(first.status).toBe(201);
    expect(first.headers.get('etag')).toBe('"2"');
    expect((await first.json()).version).toBe(2);
    expect((await update(incident.id, '2', 'monitoring')).status).toBe(201);
    expect((await update(incident.id, 'W/"3"', 'monitoring')).status).toBe(201);
    const current = await f.call('GET', `/api/v1/incidents/${incident.id}`, { token: 'viewer' });
    expect(current.headers.get('etag')).toBe('"4"');
  });

  it('lets exactly one of two concurrent updates with the same If-Match win', async () => {
    const incident = await declare(f);
    const before = await count(f, 'updates');
    const [a, b] = await Promise.all([update(incident.id, '"1"', 'identified'), update(incident.id, '"1"', 'monitoring')]);
    const statuses = [a!.status, b!.status].sort();
    expect(statuses).toEqual([201, 409]);
    const loser = a!.status === 409 ? a! : b!;
    await expectProblem(loser, 409);
    expect(await count(f, 'updates')).toBe(before + 1);
    const view = await (await f.call('GET', `/api/v1/incidents/${incident.id}`, { token: 'viewer' })).json();
    expect(view.version).toBe(2);
  });

  it('serialises many concurrent publishes without a 500', async () => {
    const incident = await declare(f);
    const answers = await Promise.all([
      ...Array.from({ length: 5 }, () => update(incident.id, undefined, 'identified')),
      ...Array.from({ length: 5 }, (_, i) => f.call('POST', '/api/v1/incidents', { token: 'comms', body: declareBody(`Parallel ${i}`) })),
    ]);
    expect(answers.map((r) => r.status)).toEqual([...Array(5).fill(201), ...Array(5).fill(201)]);
    expect(await count(f, 'incidents')).toBe(6);
  });

  it('applies If-Match to the postmortem too', async () => {
    const incident = await declare(f);
    await update(incident.id, undefined, 'resolved');
    const body = { externalSummary: 'Summary.', internalBody: 'Body.', variables: { action_items: 'None.' } };
    await expectProblem(await f.call('PUT', `/api/v1/incidents/${incident.id}/postmortem`, { token: 'comms', body, headers: { 'if-match': '"1"' } }), 409);
    expect(await count(f, 'postmortems')).toBe(0);
    expect((await f.call('PUT', `/api/v1/incidents/${incident.id}/postmortem`, { token: 'comms', body, headers: { 'if-match': '"2"' } })).status).toBe(200);
  });
});
