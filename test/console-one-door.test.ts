// The console is a door like the API: a role refused by one is refused by the other (a Preview button does not open a
// publish), and the same act schedules the same reminders through either (SPEC "One door"; issue 16's reported inputs).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessions } from '../db/schema.ts';
import { newSecret, sha256 } from '../api/ids.ts';
import { systemActor } from '../api/services/context.ts';
import { addStakeholder } from '../api/services/stakeholders.ts';
import { makeConsoleFixture, origin, type ConsoleFixture } from './console-support.ts';
import { declare, examples } from './fixture.ts';

let f: ConsoleFixture;
/** A stakeholder's session cookie, as an emailed sign-in link leaves it. */
let executive = '';

beforeAll(async () => {
  f = await makeConsoleFixture();
  const person = await addStakeholder(f.services, systemActor('test setup'), { email: 'ceo@example.com', name: 'Casey CEO' });
  const secret = newSecret();
  await f.services.db.insert(sessions).values({ hash: sha256(secret), stakeholderId: person.id, expiresAt: new Date(f.clock.now().getTime() + 3600_000), createdAt: f.clock.now() });
  executive = `status_session=${secret}`;
}, 120_000);

afterAll(async () => {
  await f?.site.close();
  await f?.close();
});

function post(cookie: string, path: string, form: Record<string, string>) {
  return f.app.request(`${origin}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, origin, 'sec-fetch-site': 'same-origin' },
    body: new URLSearchParams(form),
  });
}

const one = async (sql: string, ...args: string[]) => (await f.services.db.$client.execute({ sql, args })).rows[0];

describe('a viewer pressing "preview" on a form that has no preview publishes nothing (issue 16, first input)', () => {
  const viewers = () => [
    { who: 'a viewer token session', cookie: f.sessions.viewer },
    { who: 'an executive signed in by an emailed link', cookie: executive },
  ];

  it('correct the last update: 403, the public wording of the SEV2 unchanged, no audit row', async () => {
    const { id } = await declare(f, { severity: 'SEV2' });
    const before = await one('SELECT external_body, variables FROM updates WHERE incident_id = ?', id);
    for (const { who, cookie } of viewers()) {
      const res = await post(cookie, `/internal/incidents/${id}/correct`, { version: '1', action: 'preview', 'cvar.symptom': 'Everything is fine, nothing to see.' });
      expect(res.status, who).toBe(403);
      expect(await res.text()).toContain('needs the comms role');
    }
    expect(await one('SELECT external_body, variables FROM updates WHERE incident_id = ?', id)).toEqual(before);
    expect((await one("SELECT count(*) AS n FROM audit_events WHERE action = 'update.corrected'"))!.n).toBe(0);
    expect((await post(f.sessions.comms, `/internal/incidents/${id}/correct`, { version: '1', 'cvar.symptom': 'Everything is fine, nothing to see.' })).status).toBe(303);
  });

  it('publish a postmortem: 403, no postmortem, no briefing', async () => {
    const { id } = await declare(f, { severity: 'SEV2' });
    const resolved = await f.call('POST', `/api/v1/incidents/${id}/updates`, { token: 'comms', body: { status: 'resolved', template: 'resolved', variables: examples(f, 'resolved') } });
    expect(resolved.status).toBe(201);
    const deliveries = (await one('SELECT count(*) AS n FROM deliveries'))!.n;
    const others = Object.entries(examples(f, 'postmortem-published')).filter(([k]) => k !== 'summary' && k !== 'action_items');
    const form = { version: '2', externalSummary: 'A certificate expired.', internalBody: 'Timeline.', actionItems: 'Alert on expiry | ops@example.com | 2026-12-31', ...prefixed('pmvar.', Object.fromEntries(others)) };
    for (const { who, cookie } of viewers()) {
      const res = await post(cookie, `/internal/incidents/${id}/postmortem`, { ...form, action: 'preview' });
      expect(res.status, who).toBe(403);
    }
    expect((await one('SELECT count(*) AS n FROM postmortems WHERE incident_id = ?', id))!.n).toBe(0);
    expect((await one('SELECT status FROM incidents WHERE id = ?', id))!.status).toBe('resolved');
    expect((await one('SELECT count(*) AS n FROM deliveries'))!.n).toBe(deliveries);
    // The same form from the comms lead publishes: the refusal above was the role, not the form.
    expect((await post(f.sessions.comms, `/internal/incidents/${id}/postmortem`, form)).status).toBe(303);
  });

  it('cancel a scheduled maintenance: 403, still scheduled', async () => {
    const m = await f.call('POST', '/api/v1/maintenances', {
      token: 'comms',
      body: { title: 'Database upgrade', scheduledFor: '2026-12-01T02:00:00Z', scheduledUntil: '2026-12-01T03:00:00Z', components: ['api'], variables: examples(f, 'maintenance-scheduled') },
    });
    const { id } = (await m.json()) as { id: string };
    for (const { who, cookie } of viewers()) {
      const res = await post(cookie, `/internal/maintenances/${id}/cancel`, { version: '1', action: 'preview' });
      expect(res.status, who).toBe(403);
    }
    expect((await one('SELECT status FROM maintenances WHERE id = ?', id))!.status).toBe('scheduled');
  });

  it('Declare and Post update still preview for a viewer (they publish nothing), and refuse its publish', async () => {
    const form = { title: 'Checkout errors', severity: 'SEV2', status: 'investigating', template: 'investigating', 'impact.api': 'major_outage', ...prefixed('var.', examples(f, 'investigating')) };
    const incidents = (await one('SELECT count(*) AS n FROM incidents'))!.n;
    for (const { who, cookie } of viewers()) {
      const preview = await post(cookie, '/internal/declare/', { ...form, action: 'preview' });
      expect(preview.status, who).toBe(200);
      const publish = await post(cookie, '/internal/declare/', { ...form, action: 'publish' });
      expect(publish.status, who).toBe(403);
    }
    expect((await one('SELECT count(*) AS n FROM incidents'))!.n).toBe(incidents);
  });
});

describe('a double-click publishes once (issue 16, third input)', () => {
  const keyIn = (html: string) => /name="formKey" value="([^"]+)"/.exec(html)?.[1];

  it('two identical Declare POSTs at once make one incident, and both answer with it; a later resubmit too', async () => {
    const page = await f.app.request(`${origin}/internal/declare/`, { headers: { cookie: f.sessions.comms } });
    const formKey = keyIn(await page.text());
    expect(formKey).toMatch(/^[a-z0-9]{24}$/);
    const form = { title: 'Double click', severity: 'SEV1', status: 'investigating', template: 'investigating', 'impact.api': 'major_outage', ...prefixed('var.', examples(f, 'investigating')), action: 'publish', formKey: formKey! };
    const before = (await one('SELECT count(*) AS n FROM incidents'))!.n;
    const deliveries = (await one('SELECT count(*) AS n FROM deliveries'))!.n;
    const [a, b] = await Promise.all([post(f.sessions.comms, '/internal/declare/', form), post(f.sessions.comms, '/internal/declare/', form)]);
    expect([a.status, b.status]).toEqual([303, 303]);
    expect(a.headers.get('location')).toBe(b.headers.get('location'));
    expect((await one('SELECT count(*) AS n FROM incidents'))!.n).toBe(Number(before) + 1);
    const sent = Number((await one('SELECT count(*) AS n FROM deliveries'))!.n) - Number(deliveries);

    const again = await post(f.sessions.comms, '/internal/declare/', form);
    expect(again.status).toBe(303);
    expect(again.headers.get('location')).toBe(a.headers.get('location'));
    expect((await one('SELECT count(*) AS n FROM incidents'))!.n).toBe(Number(before) + 1);
    expect(Number((await one('SELECT count(*) AS n FROM deliveries'))!.n) - Number(deliveries)).toBe(sent);

    // The same key with other words is refused beside the form, not published.
    const changed = await post(f.sessions.comms, '/internal/declare/', { ...form, title: 'Another incident' });
    expect(changed.status).toBe(422);
    expect((await one('SELECT count(*) AS n FROM incidents'))!.n).toBe(Number(before) + 1);
  });

  it('a fresh Declare form carries a fresh key (a second incident on purpose is a second form)', async () => {
    const keys = new Set<string>();
    for (let i = 0; i < 3; i++) keys.add(keyIn(await (await f.app.request(`${origin}/internal/declare/`, { headers: { cookie: f.sessions.comms } })).text())!);
    expect(keys.size).toBe(3);
  });
});

function prefixed(prefix: string, values: Record<string, string>) {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [`${prefix}${k}`, v]));
}
