// Every console form: refused cross-site with 403, refused to a viewer with 403, and bad input comes back beside its field with nothing stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crossSiteHeaders, fieldError, makeConsoleFixture, origin, type ConsoleFixture } from './console-support.ts';
import { declare, examples } from './fixture.ts';
import { addStakeholder } from './fanout-support.ts';

let f: ConsoleFixture;

function post(path: string, form: Record<string, string>, who: 'admin' | 'comms' | 'viewer', headers: Record<string, string> = { origin, 'sec-fetch-site': 'same-origin' }) {
  return f.app.request(`${origin}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: f.sessions[who]!, ...headers },
    body: new URLSearchParams(form),
  });
}

/** Rows in the tables every form writes to: a refused form changes none of them. */
async function footprint() {
  const q = async (sql: string) => (await f.services.db.$client.execute(sql)).rows[0]![0];
  const counts: Record<string, unknown> = {};
  for (const t of ['incidents', 'updates', 'deliveries', 'stakeholders', 'subscribers', 'api_tokens', 'channels', 'sessions', 'audit_events']) counts[t] = await q(`SELECT count(*) FROM ${t}`);
  counts.components = await q("SELECT group_concat(id || ':' || name || ':' || position || ':' || coalesce(archived_at, '')) FROM components");
  counts.revoked = await q('SELECT count(*) FROM api_tokens WHERE revoked_at IS NOT NULL');
  return counts;
}

let incidentId: string;
let stakeholderId: string;
let tokenId: string;
let channelId: string;
let maintenanceId: string;
let resolvedId: string;

beforeAll(async () => {
  f = await makeConsoleFixture();
  incidentId = (await declare(f)).id;
  const s = await f.call('POST', '/api/v1/stakeholders', { body: { email: 'ceo@example.com', name: 'Chief' } });
  stakeholderId = ((await s.json()) as { id: string }).id;
  tokenId = (await f.services.db.$client.execute("SELECT id FROM api_tokens WHERE role = 'viewer'")).rows[0]!.id as string;
  const ch = await f.call('POST', '/api/v1/channels', { body: { kind: 'slack', url: 'https://hooks.slack.com/services/T0/B0/x', name: '#incidents' } });
  channelId = ((await ch.json()) as { id: string }).id;
  await f.services.db.$client.execute({
    sql: 'INSERT INTO subscribers (id, email, confirmed_at, unsubscribe_token, created_at) VALUES (?, ?, ?, ?, ?)',
    args: ['sub1', 'reader@example.com', Date.now(), 'unsub1', Date.now()],
  });
  const m = await f.call('POST', '/api/v1/maintenances', {
    token: 'comms',
    body: { title: 'Database upgrade', scheduledFor: '2026-12-01T02:00:00Z', scheduledUntil: '2026-12-01T03:00:00Z', components: ['api'], variables: examples(f, 'maintenance-scheduled') },
  });
  maintenanceId = ((await m.json()) as { id: string }).id;
  resolvedId = (await declare(f, { title: 'Old trouble' })).id;
  const r = await f.call('POST', `/api/v1/incidents/${resolvedId}/updates`, { token: 'comms', body: { status: 'resolved', template: 'resolved', variables: examples(f, 'resolved') } });
  if (r.status !== 201) throw new Error(`resolve: ${r.status}`);
}, 120_000);

afterAll(async () => {
  await f?.site.close();
  await f?.close();
});

const declareForm = {
  title: 'Checkout failing',
  severity: 'SEV1',
  status: 'investigating',
  template: 'investigating',
  'var.symptom': 'Payments fail.',
  'impact.api': 'major_outage',
  action: 'publish',
};

/** Every form the console has, with valid values, and the role it needs. */
const forms = (): { path: string; form: Record<string, string>; needs: string }[] => [
  { path: '/internal/declare/', form: declareForm, needs: 'comms' },
  { path: `/internal/incidents/${incidentId}/updates`, form: { status: 'identified', template: 'identified', 'var.symptom': 'x', 'var.cause': 'y', 'var.fix': 'z', action: 'publish' }, needs: 'comms' },
  { path: `/internal/incidents/${incidentId}/resolve`, form: { template: 'resolved', 'rvar.what_happened': 'x', 'rvar.resolution': 'y', allOperational: 'on', action: 'publish' }, needs: 'comms' },
  { path: `/internal/incidents/${incidentId}/reopen`, form: {}, needs: 'comms' },
  { path: '/internal/admin/components/', form: { id: 'billing', name: 'Billing' }, needs: 'admin' },
  { path: '/internal/admin/components/api/edit', form: { name: 'Public API', order: '3' }, needs: 'admin' },
  { path: '/internal/admin/components/webhooks/archive', form: {}, needs: 'admin' },
  { path: '/internal/admin/stakeholders/', form: { name: 'Board', email: 'board@example.com' }, needs: 'admin' },
  { path: `/internal/admin/stakeholders/${stakeholderId}/remove`, form: {}, needs: 'admin' },
  { path: '/internal/admin/subscribers/sub1/remove', form: {}, needs: 'admin' },
  { path: '/internal/admin/tokens/', form: { name: 'New', role: 'viewer' }, needs: 'admin' },
  { path: `/internal/admin/tokens/${tokenId}/revoke`, form: {}, needs: 'admin' },
  { path: '/internal/admin/channels/', form: { kind: 'discord', url: 'https://discord.com/api/webhooks/1/x', name: 'Ops' }, needs: 'admin' },
  { path: `/internal/admin/channels/${channelId}/remove`, form: {}, needs: 'admin' },
  { path: `/internal/incidents/${incidentId}/correct`, form: { 'cvar.symptom': 'Corrected wording.' }, needs: 'comms' },
  { path: `/internal/incidents/${resolvedId}/postmortem`, form: { externalSummary: 'What happened.', internalBody: 'Why.', actionItems: 'Alert on cert expiry | Sam | 2026-12-10' }, needs: 'comms' },
  { path: '/internal/maintenances/new/', form: { title: 'Upgrade', scheduledFor: '2026-12-02T02:00', scheduledUntil: '2026-12-02T03:00', component: 'api', template: 'maintenance-scheduled', 'var.expected_impact': 'Brief pauses.', action: 'publish' }, needs: 'comms' },
  { path: `/internal/maintenances/${maintenanceId}/updates`, form: { status: 'in_progress', template: 'maintenance-started', ...Object.fromEntries(Object.entries(examples(f, 'maintenance-started')).map(([k, v]) => [`var.${k}`, v])) }, needs: 'comms' },
  { path: `/internal/maintenances/${maintenanceId}/cancel`, form: {}, needs: 'comms' },
  { path: '/internal/admin/component-groups/nothing/rename', form: { name: 'Core' }, needs: 'admin' },
];

describe('console forms', () => {
  it('refuse a cross-site POST with 403 (not a redirect) on every form, and change nothing', async () => {
    const before = await footprint();
    for (const { path, form } of forms()) {
      for (const headers of crossSiteHeaders) {
        const res = await post(path, form, 'admin', headers);
        expect(res.status, `${path} with ${JSON.stringify(headers)}`).toBe(403);
        expect(res.headers.get('location')).toBeNull();
      }
    }
    expect(await footprint()).toEqual(before);
  });

  it('refuse a viewer publishing anything with 403, and change nothing', async () => {
    const before = await footprint();
    for (const { path, form } of forms()) {
      const res = await post(path, form, 'viewer');
      expect(res.status, path).toBe(403);
      expect(await res.text()).toContain('Nothing was changed');
    }
    for (const { path, form, needs } of forms()) {
      if (needs !== 'admin') continue;
      expect((await post(path, form, 'comms')).status, `${path} as comms`).toBe(403);
    }
    expect(await footprint()).toEqual(before);
  });

  it('let a viewer preview, read-only', async () => {
    const res = await post('/internal/declare/', { ...declareForm, action: 'preview' }, 'viewer');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('External wording');
    expect(html).toContain('signed in as a viewer');
  });

  it('say on the incident page when a notified audience held nobody, rather than "not notified"', async () => {
    // incidentId was declared (SEV1: subscribers and executives notified) before any subscriber or stakeholder existed.
    const html = await (await f.app.request(`${origin}/internal/incidents/${incidentId}/`, { headers: { cookie: f.sessions.comms! } })).text();
    expect(html).toMatch(/Subscribers<\/th><td colspan="3">0 subscribers: no confirmed subscription covers these components</);
    expect(html).toMatch(/Executives<\/th><td colspan="3">0 executives: there is no stakeholder to brief</);
    const internal = await declare(f, { title: 'Quiet trouble', severity: 'SEV4' });
    const quiet = await (await f.app.request(`${origin}/internal/incidents/${internal.id}/`, { headers: { cookie: f.sessions.comms! } })).text();
    expect(quiet).toMatch(/Subscribers<\/th><td colspan="3">not notified</);
    expect(quiet).toMatch(/Executives<\/th><td colspan="3">not notified</);
  });

  it('say a draft from an alert is a draft, not internal by severity, and link no public page before it is published', async () => {
    const alert = {
      version: '4',
      groupKey: '{}:{alertname="Latency"}',
      status: 'firing',
      groupLabels: { alertname: 'Latency' },
      commonLabels: { alertname: 'Latency', severity: 'warning', component: 'api' },
      commonAnnotations: { summary: 'p95 above 2s' },
      alerts: [{ status: 'firing', labels: { alertname: 'Latency', severity: 'warning', component: 'api' }, annotations: {} }],
    };
    const res = await f.call('POST', '/api/v1/alerts/alertmanager', { token: 'comms', body: alert });
    const answer = (await res.json()) as { outcome: string; severity: string; incidentId: string };
    expect(answer).toMatchObject({ outcome: 'drafted', severity: 'SEV2' });
    const draftId = answer.incidentId;
    const html = await (await f.app.request(`${origin}/internal/incidents/${draftId}/`, { headers: { cookie: f.sessions.comms! } })).text();
    expect(html).not.toContain('this severity stays internal');
    expect(html).not.toContain(`href="/incidents/${draftId}/"`);
    expect(html).toMatch(/Status page<\/th><td colspan="3">not published: a draft until an update is posted</);
  });

  it('bring bad input back with the error next to its field, values kept, nothing stored', async () => {
    const before = await footprint();
    const cases: { path: string; form: Record<string, string>; field: string; message: RegExp; keeps?: string }[] = [
      { path: '/internal/declare/', form: { ...declareForm, title: '' }, field: 'title', message: /must not be empty/ },
      { path: '/internal/declare/', form: { ...declareForm, severity: '' }, field: 'severity', message: /choose a severity/, keeps: 'Payments fail.' },
      { path: '/internal/declare/', form: { ...declareForm, 'var.symptom': '' }, field: 'var-symptom', message: /required variable is missing/, keeps: 'Checkout failing' },
      { path: '/internal/declare/', form: { ...declareForm, 'impact.api': '' }, field: 'components', message: /at least one/ },
      { path: '/internal/declare/', form: { ...declareForm, nextUpdateInMinutes: 'soon' }, field: 'nextUpdateInMinutes', message: /whole number/ },
      { path: '/internal/declare/', form: { ...declareForm, title: 'a\u0007b' }, field: 'title', message: /control characters/ },
      { path: `/internal/incidents/${incidentId}/updates`, form: { status: 'identified', template: 'identified', 'var.symptom': 'x', action: 'publish' }, field: 'var-cause', message: /required variable is missing/ },
      { path: `/internal/incidents/${incidentId}/updates`, form: { status: 'identified', template: 'identified', 'var.symptom': 'x', 'var.cause': 'y', 'var.fix': 'z', nextUpdateInMinutes: '-4', action: 'publish' }, field: 'update-next', message: /whole number/ },
      { path: `/internal/incidents/${incidentId}/updates`, form: { status: 'identified', template: 'identified', 'var.symptom': 'x', 'var.cause': 'y', 'var.fix': 'z', 'impact.ghost': 'major_outage', action: 'publish' }, field: 'update-components', message: /ghost/ },
      { path: `/internal/incidents/${incidentId}/resolve`, form: { template: 'resolved', 'rvar.what_happened': 'x', action: 'publish' }, field: 'rvar-resolution', message: /required variable is missing/ },
      { path: '/internal/admin/components/', form: { id: 'Not A Slug', name: 'Billing' }, field: 'new-id', message: /lowercase/ },
      { path: '/internal/admin/components/', form: { id: 'billing', name: '' }, field: 'new-name', message: /must not be empty/ },
      { path: '/internal/admin/components/api/edit', form: { name: 'API', order: 'first' }, field: 'order-api', message: /^must be a whole number/ },
      { path: '/internal/admin/components/', form: { id: 'billing', name: 'Billing', order: '2.5' }, field: 'new-order', message: /^must be a whole number/, keeps: 'Billing' },
      { path: '/internal/admin/stakeholders/', form: { name: 'Board', email: 'not-an-address' }, field: 'stakeholder-email', message: /email address/ },
      { path: '/internal/admin/tokens/', form: { name: 'New', role: 'root' }, field: 'token-role', message: /must be one of/ },
      { path: '/internal/admin/tokens/', form: { name: 'New', role: 'comms', email: 'not-an-address' }, field: 'token-email', message: /email address/ },
      { path: '/internal/admin/channels/', form: { kind: 'irc', url: 'https://chat.example.com/hook', name: 'IRC' }, field: 'channel-kind', message: /must be one of/, keeps: 'IRC' },
      { path: '/internal/admin/channels/', form: { kind: 'slack', url: 'not a url' }, field: 'channel-url', message: /http:\/\/ or https:\/\/ URL/ },
      { path: `/internal/incidents/${incidentId}/correct`, form: { 'cvar.symptom': '  ' }, field: 'cvar-symptom', message: /required variable is missing/ },
      { path: `/internal/incidents/${resolvedId}/postmortem`, form: { externalSummary: 'x', internalBody: 'y', actionItems: 'Fix it | Sam' }, field: 'pm-actions', message: /three parts/ },
      { path: `/internal/incidents/${resolvedId}/postmortem`, form: { externalSummary: '', internalBody: 'y', actionItems: '' }, field: 'pm-external', message: /must not be empty/ },
      { path: '/internal/maintenances/new/', form: { title: 'Upgrade', scheduledFor: '2026-12-02T03:00', scheduledUntil: '2026-12-02T02:00', component: 'api', template: 'maintenance-scheduled', 'var.expected_impact': 'x', action: 'publish' }, field: 'scheduledUntil', message: /after the start/ },
      { path: '/internal/maintenances/new/', form: { title: 'Upgrade', scheduledFor: 'tomorrow', scheduledUntil: '2026-12-02T02:00', component: 'api', template: 'maintenance-scheduled', 'var.expected_impact': 'x', action: 'publish' }, field: 'scheduledFor', message: /date and time/ },
      { path: '/internal/maintenances/new/', form: { title: 'Upgrade', scheduledFor: '2026-12-02T01:00', scheduledUntil: '2026-12-02T02:00', template: 'maintenance-scheduled', 'var.expected_impact': 'x', action: 'publish' }, field: 'components', message: /at least one/ },
    ];
    for (const c of cases) {
      const res = await post(c.path, c.form, 'admin');
      const html = await res.text();
      expect(res.status, `${c.path} ${c.field}`).toBe(422);
      expect(fieldError(html, c.field) ?? `no error beside ${c.field}`, `${c.path} ${c.field}`).toMatch(c.message);
      expect(html).toContain('error-summary');
      // An admin change is saved, not published: the summary says which.
      expect(html, c.path).toContain(c.path.startsWith('/internal/admin/') ? '<h2>Nothing was saved: fix ' : '<h2>Nothing was published: fix ');
      if (c.keeps) expect(html).toContain(c.keeps);
    }
    expect(await footprint()).toEqual(before);
  });

  it('publish through the same services as the API: declare lands on the incident page, which shows delivery per recipient kind', async () => {
    const res = await post('/internal/declare/', declareForm, 'comms');
    expect(res.status).toBe(303);
    const location = res.headers.get('location')!;
    expect(location).toMatch(/^\/internal\/incidents\/[a-z0-9]+\/$/);
    const page = await f.app.request(`${origin}${location}`, { headers: { cookie: f.sessions.comms! } });
    const html = await page.text();
    expect(html).toContain('Delivery of the latest update');
    expect(html).toMatch(/Executives<\/th><td>1<\/td><td>0<\/td><td>0<\/td>/);
    expect(html).toContain(`href="/incidents/${location.split('/')[3]}/"`);
    const api = await f.call('GET', `/api/v1/incidents/${location.split('/')[3]}`);
    expect(((await api.json()) as { updates: { author: string }[] }).updates[0]!.author).toBe('Casey Comms');
  });

  it('schedules maintenance, posts its update, and publishes a postmortem through the services', async () => {
    const previewed = await post('/internal/maintenances/new/', { title: 'Network upgrade', scheduledFor: '2026-12-03T02:00', scheduledUntil: '2026-12-03T04:00', component: 'dashboard', template: 'maintenance-scheduled', 'var.expected_impact': 'Short pauses.', action: 'preview' }, 'viewer');
    expect(previewed.status).toBe(200);
    const preview = await previewed.text();
    expect(preview).toContain('public page · 1 subscriber');
    expect(preview).toContain('Dashboard');
    const scheduled = await post('/internal/maintenances/new/', { title: 'Network upgrade', scheduledFor: '2026-12-03T02:00', scheduledUntil: '2026-12-03T04:00', component: 'dashboard', template: 'maintenance-scheduled', 'var.expected_impact': 'Short pauses.', action: 'publish' }, 'comms');
    if (scheduled.status !== 303) throw new Error((await scheduled.text()).replace(/[\s\S]*<main[^>]*>/, '').slice(0, 1500));
    const at = scheduled.headers.get('location')!;
    expect(at).toMatch(/^\/internal\/maintenances\/[a-z0-9]+\/$/);
    const page = await (await f.app.request(`${origin}${at}`, { headers: { cookie: f.sessions.comms! } })).text();
    expect(page).toContain('Post update');
    expect(page).toContain('Cancel maintenance');
    const id = at.split('/')[3]!;
    const row = (await f.services.db.$client.execute({ sql: 'SELECT scheduled_for, status FROM maintenances WHERE id = ?', args: [id] })).rows[0]!;
    expect(row.status).toBe('scheduled');
    expect(new Date(Number(row.scheduled_for)).toISOString()).toBe('2026-12-03T02:00:00.000Z');
    // Post update previews both wordings first, as Declare does, and stores nothing.
    const version = /name="version" value="(\d+)"/.exec(page)![1]!;
    const updatePreview = await post(`${at}updates`, { version, status: 'in_progress', template: 'maintenance-started', 'var.progress_note': 'Halfway through the switches.', action: 'preview' }, 'viewer');
    expect(updatePreview.status).toBe(200);
    const previewHtml = await updatePreview.text();
    expect(previewHtml).toMatch(/<div id="update-preview" aria-live="polite"><section class="preview"[\s\S]*External wording[\s\S]*Internal wording/);
    expect(previewHtml).toContain('Halfway through the switches.');
    expect(previewHtml).toContain('public page · 1 subscriber');
    expect((await f.services.db.$client.execute({ sql: 'SELECT status FROM maintenances WHERE id = ?', args: [id] })).rows[0]!.status).toBe('scheduled');
    const cancelled = await post(`${at}cancel`, { version: /name="version" value="(\d+)"/.exec(page)![1]! }, 'comms');
    expect(cancelled.status, /error-summary[\s\S]*?<\/ul>/.exec(await cancelled.text())?.[0]).toBe(303);
    expect((await f.services.db.$client.execute({ sql: 'SELECT status FROM maintenances WHERE id = ?', args: [id] })).rows[0]!.status).toBe('cancelled');

    const pm = await post(`/internal/incidents/${resolvedId}/postmortem`, { externalSummary: 'A certificate expired.', internalBody: 'Timeline and factors.', actionItems: 'Alert on cert expiry | Sam | 2026-12-10' }, 'comms');
    expect(pm.status).toBe(303);
    const api = (await (await f.call('GET', `/api/v1/incidents/${resolvedId}`)).json()) as { status: string; postmortem: { actionItems: unknown[] } };
    expect(api.status).toBe('postmortem');
    expect(api.postmortem.actionItems).toEqual([{ title: 'Alert on cert expiry', owner: 'Sam', dueDate: '2026-12-10' }]);
  });

  it('corrects the last update: both wordings re-rendered, the public page follows, nothing sent again', async () => {
    const { id } = await declare(f, { title: 'Typo trouble' });
    const deliveries = async () => (await f.services.db.$client.execute('SELECT count(*) FROM deliveries')).rows[0]![0];
    const before = await deliveries();
    const form = await (await f.app.request(`${origin}/internal/incidents/${id}/correct`, { headers: { cookie: f.sessions.comms! } })).text();
    expect(form).toContain('External wording now');
    const version = /name="version" value="(\d+)"/.exec(form)![1]!;
    const res = await post(`/internal/incidents/${id}/correct`, { version, 'cvar.symptom': 'Corrected: card payments fail.', 'cvar.hypothesis': 'CANARY-CORRECTED-INTERNAL' }, 'comms');
    expect(res.status).toBe(303);
    const api = (await (await f.call('GET', `/api/v1/incidents/${id}`)).json()) as { updates: { external: { body: string }; internal: { body: string } }[] };
    expect(api.updates).toHaveLength(1);
    expect(api.updates[0]!.external.body).toContain('Corrected: card payments fail.');
    expect(api.updates[0]!.internal.body).toContain('CANARY-CORRECTED-INTERNAL');
    expect(await deliveries()).toBe(before);
    await f.site.renderer.settled();
    const page = await (await f.app.request(`${origin}/incidents/${id}/`)).text();
    expect(page).toContain('Corrected: card payments fail.');
    expect(page).not.toContain('CANARY-CORRECTED-INTERNAL');
    const audit = await f.services.db.$client.execute({ sql: "SELECT actor FROM audit_events WHERE action = 'update.corrected' AND subject_id = ?", args: [id] });
    expect(audit.rows.map((r) => r.actor)).toEqual(['Casey Comms']);
    const stale = await post(`/internal/incidents/${id}/correct`, { version, 'cvar.symptom': 'Again.' }, 'comms');
    expect(stale.status).toBe(409);
  });

  it('exports subscribers as CSV with formula-looking values neutralised', async () => {
    await f.services.db.$client.execute({
      sql: 'INSERT INTO subscribers (id, email, confirmed_at, unsubscribe_token, created_at) VALUES (?, ?, ?, ?, ?)',
      args: ['sub2', '=cmd@example.com', Date.now(), 'unsub2', Date.now()],
    });
    const res = await f.app.request(`${origin}/internal/admin/subscribers.csv`, { headers: { cookie: f.sessions.admin! } });
    expect(res.headers.get('content-type')).toContain('text/csv');
    const text = await res.text();
    expect(text).toContain("'=cmd@example.com");
    expect(text).toContain('reader@example.com');
    const search = await f.app.request(`${origin}/internal/admin/subscribers/?q=READER`, { headers: { cookie: f.sessions.admin! } });
    const html = await search.text();
    expect(html).toContain('reader@example.com');
    expect(html).not.toContain('=cmd@example.com');
  });

  it('show people’s addresses to admins only, as the API does: a viewer or comms lead sees totals and names', async () => {
    await addStakeholder(f, 'cfo@example.com', 'Casey CFO');
    for (const who of ['viewer', 'comms'] as const) {
      for (const path of ['/internal/admin/subscribers/?q=reader', '/internal/admin/stakeholders/', '/internal/admin/tokens/']) {
        const res = await f.app.request(`${origin}${path}`, { headers: { cookie: f.sessions[who]! } });
        expect(res.status, `${who} ${path}`).toBe(200);
        const page = await res.text();
        expect(page, `${who} ${path}`).not.toMatch(/[a-z0-9.+-]+@example\.com/);
        expect(page).toContain('Addresses are shown to admins only');
      }
      expect(await (await f.app.request(`${origin}/internal/admin/stakeholders/`, { headers: { cookie: f.sessions[who]! } })).text()).toContain('Casey CFO');
    }
    const asAdmin = await (await f.app.request(`${origin}/internal/admin/stakeholders/`, { headers: { cookie: f.sessions.admin! } })).text();
    expect(asAdmin).toContain('cfo@example.com');
  });

  it('answers an incident or maintenance screen that names nothing with the not-found page and 404, and shows a real one with its panel', async () => {
    for (const path of ['/internal/incidents/nothing-here/', '/internal/maintenances/nothing-here/', `/internal/maintenances/${incidentId}/`]) {
      const res = await f.app.request(`${origin}${path}`, { headers: { cookie: f.sessions.viewer } });
      expect(res.status, path).toBe(404);
      expect(await res.text(), path).toContain('There is nothing at this address.');
    }
    // A viewer reads the briefing; comms the console panel with its delivery progress.
    const found = await f.app.request(`${origin}/internal/incidents/${incidentId}/`, { headers: { cookie: f.sessions.viewer } });
    expect(found.status).toBe(200);
    expect(await found.text()).toContain('class="briefing"');
    const asComms = await f.app.request(`${origin}/internal/incidents/${incidentId}/`, { headers: { cookie: f.sessions.comms! } });
    expect(await asComms.text()).toContain('class="progress"');
  });
});
