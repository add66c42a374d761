// The same act through the API and through the console gives the same answer: the same refusal, the same reach, the same
// reminders, the same webhooks and the same typed actor in the audit (SPEC "One door"; issue 16's second input).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addChannel } from '../api/services/channels.ts';
import { systemActor } from '../api/services/context.ts';
import { addStakeholder } from '../api/services/stakeholders.ts';
import { subscribe } from '../api/services/subscribers.ts';
import { createToken } from '../api/services/tokens.ts';
import { subscribeWebhook } from '../api/services/webhooks.ts';
import { makeConsoleFixture, origin, type ConsoleFixture } from './console-support.ts';
import { examples } from './fixture.ts';

let f: ConsoleFixture;
/** A comms token made with --email (as `npm run token -- --role comms --email …`), and its console session. */
let pat: { id: string; token: string; session: string };

beforeAll(async () => {
  f = await makeConsoleFixture();
  const setup = systemActor('test setup');
  const made = await createToken(f.services, setup, { role: 'comms', name: 'Pat Publisher', email: 'pat@example.com' });
  const signIn = await f.app.request(`${origin}/internal/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin, 'sec-fetch-site': 'same-origin' },
    body: new URLSearchParams({ token: made.token }),
  });
  expect(signIn.status).toBe(303);
  pat = { id: made.id, token: made.token, session: /status_session=[^;]+/.exec(signIn.headers.get('set-cookie') ?? '')![0] };
  // Someone in every audience: an executive, a confirmed subscriber, a webhook subscriber and a chat channel.
  await addStakeholder(f.services, setup, { email: 'ceo@example.com', name: 'Casey CEO' });
  await subscribe(f.services, { email: 'reader@example.com' });
  await f.services.db.$client.execute({ sql: 'UPDATE subscribers SET confirmed_at = ?', args: [f.clock.now().getTime()] });
  await subscribeWebhook(f.services, { webhook: 'https://93.184.216.34/hooks/status' });
  await addChannel(f.services, setup, { kind: 'generic', url: 'https://chat.example.com/hook' });
}, 120_000);

afterAll(async () => {
  await f?.site.close();
  await f?.close();
});

const prefixed = (prefix: string, values: Record<string, string>) => Object.fromEntries(Object.entries(values).map(([k, v]) => [`${prefix}${k}`, v]));

function consolePost(cookie: string, path: string, form: Record<string, string>) {
  return f.app.request(`${origin}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, origin, 'sec-fetch-site': 'same-origin' },
    body: new URLSearchParams(form),
  });
}

function apiPost(token: string, path: string, body: unknown) {
  return f.app.request(`${origin}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

async function rows(sql: string, ...args: (string | number)[]) {
  return (await f.services.db.$client.execute({ sql, args })).rows.map((r) => ({ ...r }));
}

/** What an incident's publishes did, without ids and times: who was reached, reminded and told by webhook, and who the audit names. */
async function effects(incidentId: string) {
  const updates = await rows('SELECT status, audiences, components, author FROM updates WHERE incident_id = ? ORDER BY rowid', incidentId);
  const deliveries = await rows(
    `SELECT kind, audience, email, seq > 0 AS later, count(*) AS n FROM deliveries WHERE update_id IN (SELECT id FROM updates WHERE incident_id = ?)
     GROUP BY kind, audience, email, later ORDER BY kind, audience, email, later`,
    incidentId,
  );
  const audit = await rows('SELECT action, actor, actor_kind, actor_id FROM audit_events WHERE subject_id = ? ORDER BY id', incidentId);
  const [incident] = await rows('SELECT severity, status, audiences, next_update_at - started_at AS due_in FROM incidents WHERE id = ?', incidentId);
  return { incident, updates, deliveries, audit };
}

const declareBody = () => ({ title: 'Checkout errors', severity: 'SEV1', template: 'investigating', variables: examples(f, 'investigating'), components: [{ id: 'api', status: 'major_outage' }] });
const declareForm = () => ({ title: 'Checkout errors', severity: 'SEV1', status: 'investigating', template: 'investigating', 'impact.api': 'major_outage', ...prefixed('var.', examples(f, 'investigating')), action: 'publish' });

describe('one act, two doors, one answer', () => {
  it('declare a SEV1 with a comms token made with --email: the console schedules the reminders the API does (issue 16, second input)', async () => {
    // Through the API: declare, then the next update; then resolve, so the console starts from the same page.
    const update = { status: 'identified', template: 'identified', variables: examples(f, 'identified') };
    const api = await apiPost(pat.token, '/api/v1/incidents', declareBody());
    expect(api.status).toBe(201);
    const viaApi = ((await api.json()) as { id: string }).id;
    const declaredByApi = await effects(viaApi);
    expect((await apiPost(pat.token, `/api/v1/incidents/${viaApi}/updates`, update)).status).toBe(201);
    const updatedByApi = await effects(viaApi);
    expect((await apiPost(pat.token, `/api/v1/incidents/${viaApi}/updates`, { status: 'resolved', template: 'resolved', variables: examples(f, 'resolved'), components: [{ id: 'api', status: 'operational' }] })).status).toBe(201);

    // Through the console: the same two acts.
    const page = await consolePost(pat.session, '/internal/declare/', declareForm());
    expect(page.status).toBe(303);
    const viaConsole = /\/internal\/incidents\/([^/]+)\//.exec(page.headers.get('location')!)![1]!;
    const c = await effects(viaConsole);
    expect(c).toEqual(declaredByApi);
    // Not two empty answers: the publisher is reminded, executives briefed, subscribers, channels and webhooks told.
    const kinds = new Set(c.deliveries.map((d) => `${d.kind}/${d.audience}`));
    for (const k of ['due_reminder/comms', 'overdue/comms', 'briefing/stakeholder', 'update/subscriber', 'component_update/webhook']) expect(kinds, k).toContain(k);
    expect(c.deliveries.filter((d) => d.audience === 'comms').every((d) => d.email === 'pat@example.com')).toBe(true);
    expect(c.audit.find((r) => r.action === 'incident.declared')).toMatchObject({ actor: 'Pat Publisher', actor_kind: 'token', actor_id: pat.id });

    const posted = await consolePost(pat.session, `/internal/incidents/${viaConsole}/updates`, { version: '1', status: 'identified', template: 'identified', ...prefixed('var.', update.variables), action: 'publish' });
    expect(posted.status).toBe(303);
    expect(await effects(viaConsole)).toEqual(updatedByApi);
  });

  it('a viewer is refused by both doors, and neither stores anything', async () => {
    const before = await rows('SELECT (SELECT count(*) FROM incidents) AS incidents, (SELECT count(*) FROM deliveries) AS deliveries, (SELECT count(*) FROM audit_events) AS audit');
    const api = await apiPost(f.tokens.viewer, '/api/v1/incidents', declareBody());
    expect(api.status).toBe(403);
    const page = await consolePost(f.sessions.viewer, '/internal/declare/', declareForm());
    expect(page.status).toBe(403);
    expect(await rows('SELECT (SELECT count(*) FROM incidents) AS incidents, (SELECT count(*) FROM deliveries) AS deliveries, (SELECT count(*) FROM audit_events) AS audit')).toEqual(before);
  });

  it('Preview answers what publishing does: the same reach and counts as the publish that follows', async () => {
    const page = await consolePost(pat.session, '/internal/declare/', { ...declareForm(), action: 'preview' });
    expect(page.status).toBe(200);
    const html = await page.text();
    const api = await apiPost(pat.token, '/api/v1/templates/investigating/preview', { variables: examples(f, 'investigating'), declaration: { title: 'Checkout errors', severity: 'SEV1', components: [{ id: 'api', status: 'major_outage' }] } });
    expect(api.status).toBe(200);
    const preview = (await api.json()) as { recipients: { subscribers: number; stakeholders: number } };
    expect(preview.recipients).toEqual({ subscribers: 1, stakeholders: 1 });
    expect(html).toMatch(/1 subscriber/);
    expect(html).toMatch(/1 executive/);
    const declared = await apiPost(pat.token, '/api/v1/incidents', declareBody());
    const reach = ((await declared.json()) as { reach: { subscribers: { count: number }; stakeholders: { count: number } } }).reach;
    expect({ subscribers: reach.subscribers.count, stakeholders: reach.stakeholders.count }).toEqual(preview.recipients);
  });
});
