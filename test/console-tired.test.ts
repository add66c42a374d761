// A console for a tired person (issue 18): plain labels, no API syntax, Template following Status, a confirmation of what was sent to whom, editable component descriptions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConsoleFixture, origin, type ConsoleFixture } from './console-support.ts';
import { addStakeholder, confirmedSubscriber } from './fanout-support.ts';

let f: ConsoleFixture;

const same = { origin, 'sec-fetch-site': 'same-origin' };
const get = (path: string, who: 'admin' | 'comms' | 'viewer' = 'comms', cookie = '') =>
  f.app.request(`${origin}${path}`, { headers: { cookie: [f.sessions[who], cookie].filter(Boolean).join('; ') } });
const post = (path: string, form: Record<string, string>, who: 'admin' | 'comms' | 'viewer' = 'comms') =>
  f.app.request(`${origin}${path}`, {
    method: 'POST',
    headers: { ...same, cookie: f.sessions[who], 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });

/**
 * What a person reads on a console page: its text without markup, scripts, attribute values, or the variable names
 * shown small beside their plain labels (docs/decisions/016: kept on purpose, for statusctl and the API).
 */
function readableText(html: string): string {
  return html
    .replace(/<script[\s\S]*?<\/script>/g, ' ')
    .replace(/<style[\s\S]*?<\/style>/g, ' ')
    .replace(/<span class="variable-name"[^>]*>[^<]*<\/span>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&quot;|&#34;/g, '"')
    .replace(/&amp;|&#38;/g, '&')
    .replace(/\s+/g, ' ');
}

/** The API's syntax where a person reads: an endpoint, a JSON body, or a snake_case identifier. */
function apiSyntax(html: string): string[] {
  const text = readableText(html);
  return [...text.matchAll(/(?:GET|POST|PUT|PATCH|DELETE) \/api\/\S*|\/api\/v1\S*|\{"[^}]*\}|\b[a-z][a-z0-9]*_[a-z0-9_]+\b/g)].map((m) => m[0]);
}

const declareForm = {
  title: 'Checkout is failing',
  severity: 'SEV1',
  status: 'investigating',
  template: 'investigating',
  'var.symptom': 'Card payments fail at checkout.',
  'impact.api': 'major_outage',
};

beforeAll(async () => {
  f = await makeConsoleFixture();
});
afterAll(async () => {
  await f.site.close();
  await f.close();
});

describe('a console for a tired person', () => {
  it('labels each variable field in plain words, its name beside it and both in its accessible name; the name stays the key', async () => {
    const page = await (await get('/internal/declare/')).text();
    expect(page).toContain('<label for="var-symptom" id="var-symptom-label">What users are seeing</label>');
    expect(page).toContain('<span class="variable-name" id="var-symptom-variable"');
    expect(page).toMatch(/<textarea id="var-symptom" name="var\.symptom" rows="2" aria-labelledby="var-symptom-label var-symptom-variable"/);
    // No field's label is an identifier.
    const labels = [...page.matchAll(/<label for="[^"]+"[^>]*>([^<]*)<\/label>/g)].map((m) => m[1]!);
    expect(labels.filter((l) => /_/.test(l))).toEqual([]);
    expect(labels).toEqual(expect.arrayContaining(['What users are seeing', 'Working theory', 'What we need from leadership']));
  });

  it('says nothing in API syntax: not in the Declare form, its preview with nobody to tell, nor the incident page (reported: POST /api/v1/subscribers {"email"})', async () => {
    const pages: Record<string, string> = {};
    pages.declare = await (await get('/internal/declare/')).text();
    const preview = await post('/internal/declare/', { ...declareForm, action: 'preview' });
    expect(preview.status).toBe(200);
    pages.preview = await preview.text();
    // Nobody subscribed and no executive yet: the preview warns, in words, and says where to fix it.
    expect(pages.preview).toContain('No executive will be briefed');
    expect(pages.preview).toContain('No subscriber will get an email');
    expect(pages.preview).toContain('href="/internal/admin/stakeholders/"');
    const published = await post('/internal/declare/', { ...declareForm, action: 'publish' });
    expect(published.status).toBe(303);
    const at = published.headers.get('location')!;
    pages.incident = await (await get(at)).text();
    const updatePreview = await post(`${at}updates`, { status: 'identified', template: 'identified', 'var.symptom': 'x', 'var.cause': 'y', 'var.fix': 'z', action: 'preview' });
    expect(updatePreview.status).toBe(200);
    pages.updatePreview = await updatePreview.text();
    expect(pages.updatePreview).toContain('id="preview"');
    for (const [name, html] of Object.entries(pages)) expect(apiSyntax(html), name).toEqual([]);
  });

  it('without JavaScript, Preview after a Status change lists that status’s templates and fields, as a note and not an error', async () => {
    const res = await post('/internal/declare/', { ...declareForm, status: 'identified', action: 'preview' });
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).not.toContain('class="error-summary"');
    expect(page).toContain('Templates for Identified: the fields below are now those of “Cause identified”');
    const options = /<select id="template"[^>]*>([\s\S]*?)<\/select>/.exec(page)![1]!;
    expect([...options.matchAll(/value="([^"]+)"/g)].map((m) => m[1])).toContain('identified');
    expect(options).not.toContain('value="investigating"');
    expect(options).toMatch(/value="identified" selected/);
    expect(page).toContain('<label for="var-cause" id="var-cause-label">The cause</label>');
    // What was typed is kept where the new template has a field of the same name.
    expect(page).toMatch(/<textarea id="var-symptom"[^>]*>Card payments fail at checkout\.<\/textarea>/);
  });

  it('after Publish, the incident page says what was sent to whom, once', async () => {
    await confirmedSubscriber(f, 'reader@example.com');
    await addStakeholder(f, 'ceo@example.com', 'Cleo');
    const db = f.services.db.$client;
    await db.execute("INSERT INTO webhook_subscribers (id, url, secret, unsubscribe_token, created_at) VALUES ('w1', 'https://hooks.example.com/status', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'whu_x', 0)");
    await db.execute("INSERT INTO channels (id, kind, url, name, created_by, created_at) VALUES ('c1', 'slack', 'https://hooks.slack.com/services/T/B/X', '#incidents', 'test', 0)");
    await db.execute("INSERT INTO channels (id, kind, url, name, created_by, created_at) VALUES ('c2', 'generic', 'https://chat.example.com/in', 'ops', 'test', 0)");

    const published = await post('/internal/declare/', { ...declareForm, title: 'Payments failing', action: 'publish' });
    expect(published.status).toBe(303);
    const at = published.headers.get('location')!;
    // The page's address stays the SPEC's; which update was posted rides in a one-time cookie for that page only.
    expect(at).toMatch(/^\/internal\/incidents\/[a-z0-9]+\/$/);
    const cookie = /status_posted=[^;]+/.exec(published.headers.get('set-cookie') ?? '')?.[0];
    expect(published.headers.get('set-cookie')).toMatch(new RegExp(`Path=${at.replace(/\//g, '\\/')}.*HttpOnly.*SameSite=Strict|HttpOnly.*Path=${at.replace(/\//g, '\\/')}`, 'i'));
    expect(cookie).toBeTruthy();

    const landed = await get(at, 'comms', cookie);
    const page = await landed.text();
    const notice = readableText(/<div class="notice confirmation" role="status" id="posted">([\s\S]*?)<\/div>/.exec(page)?.[1] ?? '');
    expect(notice).toContain('Investigating update posted, by Casey Comms');
    expect(notice).toContain('Status page: published on the public page and feed');
    expect(notice).toContain('Subscribers: 1 email queued');
    expect(notice).toContain('Webhooks: 1 webhook called');
    expect(notice).toContain('Executives: 1 briefing email queued');
    expect(notice).toContain('Chat channels: 2 channels messaged');
    // Read once: the page clears the cookie, and a reload does not confirm again.
    expect(landed.headers.get('set-cookie')).toMatch(/status_posted=;.*Max-Age=0/i);
    expect(await (await get(at)).text()).not.toContain('id="posted"');

    // Post update confirms the same way; a SEV3 tells nobody outside and says so.
    const updated = await post(`${at}updates`, { status: 'identified', template: 'identified', 'var.symptom': 'x', 'var.cause': 'y', 'var.fix': 'z', action: 'publish', version: '' });
    expect(updated.status).toBe(303);
    const again = await (await get(at, 'comms', /status_posted=[^;]+/.exec(updated.headers.get('set-cookie') ?? '')![0])).text();
    expect(readableText(again)).toContain('Identified update posted, by Casey Comms');
    const minor = await post('/internal/declare/', { ...declareForm, title: 'Replica lag', severity: 'SEV3', action: 'publish' });
    const minorPage = await (await get(minor.headers.get('location')!, 'comms', /status_posted=[^;]+/.exec(minor.headers.get('set-cookie') ?? '')![0])).text();
    const minorNotice = readableText(/<div class="notice confirmation"[^>]*>([\s\S]*?)<\/div>/.exec(minorPage)![1]!);
    expect(minorNotice).toContain('Status page: not published: this severity stays internal');
    expect(minorNotice).toContain('Subscribers: not told at this severity');
  });

  it('after Schedule maintenance and after a maintenance update, the page says what was sent to whom, once', async () => {
    await confirmedSubscriber(f, 'planner@example.com');
    // This file's tests share one database: count whoever subscribed so far (none of them filters components).
    const readers = Number((await f.services.db.$client.execute('SELECT count(*) AS n FROM subscribers WHERE confirmed_at IS NOT NULL')).rows[0]!.n);
    const emails = (n: number) => `${n} ${n === 1 ? 'email' : 'emails'}`;
    const scheduled = await post('/internal/maintenances/new/', { title: 'Network upgrade', scheduledFor: '2026-12-03T02:00', scheduledUntil: '2026-12-03T04:00', component: 'api', template: 'maintenance-scheduled', 'var.expected_impact': 'Short pauses.', action: 'publish' });
    expect(scheduled.status).toBe(303);
    const at = scheduled.headers.get('location')!;
    expect(at).toMatch(/^\/internal\/maintenances\/[a-z0-9]+\/$/);
    const cookie = /status_posted=[^;]+/.exec(scheduled.headers.get('set-cookie') ?? '')![0];
    const landed = await get(at, 'comms', cookie);
    const notice = readableText(/<div class="notice confirmation" role="status" id="posted">([\s\S]*?)<\/div>/.exec(await landed.text())?.[1] ?? '');
    expect(notice).toContain('Maintenance update posted: Scheduled, by Casey Comms');
    expect(notice).toContain('Status page: published on the public page and feed');
    expect(notice).toContain(`Subscribers: ${emails(readers)} queued`);
    // The 24-hour reminder is not the announcement's fan-out: it is said apart, with when it goes.
    expect(notice).toMatch(new RegExp(`Reminders: ${emails(readers)} to subscribers before the start, the first at .*02:00 UTC`));
    expect(notice).toMatch(/Webhooks: (\d+ webhooks? called|none \(no webhook subscriber\))/);
    expect(notice).toContain('Executives: not told of maintenance');
    expect(await (await get(at)).text()).not.toContain('id="posted"');

    const version = /name="version" value="(\d+)"/.exec(await (await get(at)).text())![1]!;
    const started = await post(`${at}updates`, { status: 'in_progress', template: 'maintenance-started', action: 'publish', version });
    expect(started.status).toBe(303);
    const page = await (await get(at, 'comms', /status_posted=[^;]+/.exec(started.headers.get('set-cookie') ?? '')![0])).text();
    expect(readableText(page)).toContain('Maintenance update posted: In progress, by Casey Comms');
  });

  it('moves a maintenance window from its page: a new start and end, refused with the reason when they make no sense', async () => {
    const scheduled = await post('/internal/maintenances/new/', { title: 'Storage move', scheduledFor: '2026-12-05T02:00', scheduledUntil: '2026-12-05T04:00', component: 'api', template: 'maintenance-scheduled', 'var.expected_impact': 'Short pauses.', action: 'publish' });
    const at = scheduled.headers.get('location')!;
    const id = at.split('/').at(-2)!;
    const page = await (await get(at)).text();
    expect(page).toContain('<h2 id="window-heading">Move window</h2>');
    expect(page).toContain('value="2026-12-05T02:00"');
    const version = /action="[^"]*window"[\s\S]*?name="version" value="(\d+)"/.exec(page)![1]!;

    const backwards = await post(`${at}window`, { scheduledFor: '2026-12-06T04:00', scheduledUntil: '2026-12-06T02:00', version });
    expect(backwards.status).toBe(422);
    expect(readableText(await backwards.text())).toMatch(/Nothing was published[\s\S]*New end \(UTC\)/);
    const unchanged = (await (await f.call('GET', `/api/v1/maintenances/${id}`)).json()) as { scheduledFor: string };
    expect(unchanged.scheduledFor).toBe('2026-12-05T02:00:00.000Z');

    const moved = await post(`${at}window`, { scheduledFor: '2026-12-06T02:00', scheduledUntil: '2026-12-06T05:00', version });
    expect(moved.status).toBe(303);
    const now = (await (await f.call('GET', `/api/v1/maintenances/${id}`)).json()) as { scheduledFor: string; scheduledUntil: string; updates: { template: string }[] };
    expect([now.scheduledFor, now.scheduledUntil]).toEqual(['2026-12-06T02:00:00.000Z', '2026-12-06T05:00:00.000Z']);
    expect(now.updates[0]!.template).toBe('maintenance-rescheduled');
    const landed = await (await get(at, 'comms', /status_posted=[^;]+/.exec(moved.headers.get('set-cookie') ?? '')![0])).text();
    expect(readableText(landed)).toContain('Maintenance update posted: Scheduled, by Casey Comms');
    // Only comms and above may move it.
    expect((await post(`${at}window`, { scheduledFor: '2026-12-07T02:00', scheduledUntil: '2026-12-07T05:00' }, 'viewer')).status).toBe(403);
  });

  it('edits a component’s description in the components screen, and an emptied field removes it', async () => {
    const screen = await (await get('/internal/admin/components/', 'admin')).text();
    expect(screen).toMatch(/<label for="description-api">Description of api<\/label>/);
    const edit = (description: string) => post('/internal/admin/components/api/edit', { name: 'Api', description, group: '', order: '0' }, 'admin');
    expect((await edit('Public REST API and webhooks')).status).toBe(303);
    const read = async () => ((await (await f.call('GET', '/api/v1/components')).json()) as { components: { id: string; description: string }[] }).components.find((x) => x.id === 'api')!.description;
    expect(await read()).toBe('Public REST API and webhooks');
    expect(await (await get('/internal/admin/components/', 'admin')).text()).toMatch(/<textarea id="description-api"[^>]*>Public REST API and webhooks<\/textarea>/);
    expect((await edit('')).status).toBe(303);
    expect(await read()).toBe('');
    // Refused input comes back beside the field, nothing stored.
    const refused = await edit('x'.repeat(1001));
    expect(refused.status).toBe(422);
    expect(await refused.text()).toMatch(/id="description-api-error"/);
    expect(await read()).toBe('');
  });

  it('says nothing in API syntax on the other console screens either, with incidents, deliveries and reminders in the outbox', async () => {
    for (const path of ['/internal/', '/internal/maintenances/new/', '/internal/admin/components/', '/internal/admin/stakeholders/', '/internal/admin/subscribers/', '/internal/admin/tokens/', '/internal/admin/channels/', '/internal/admin/outbox/']) {
      const res = await get(path, 'admin');
      expect(res.status, path).toBe(200);
      expect(apiSyntax(await res.text()), path).toEqual([]);
    }
  });
});
