// The console's outbox screen: admins list every message with its state and attempts, filter by incident, and read one as its recipient sees it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConsoleFixture, origin, type ConsoleFixture } from './console-support.ts';
import { addStakeholder, confirmedSubscriber, manualOutbox } from './fanout-support.ts';
import { declare, examples } from './fixture.ts';
import { startSmtpSink, type SmtpSink } from './smtp-sink.ts';

let f: ConsoleFixture;
let sink: SmtpSink;
const canary = 'CANARY-briefing-only-2c9d';
let first: { id: string };
let second: { id: string };

const get = (path: string, who: 'admin' | 'comms' | 'viewer' = 'admin') => f.app.request(`${origin}${path}`, { headers: { cookie: f.sessions[who]! } });

beforeAll(async () => {
  f = await makeConsoleFixture();
  sink = await startSmtpSink();
  await confirmedSubscriber(f, 'reader@example.com');
  await addStakeholder(f, 'ceo@example.com', 'Cleo');
  first = await declare(f, { severity: 'SEV1', internalTitle: 'Pool exhausted', variables: { ...examples(f, 'investigating'), hypothesis: canary } });
  const outbox = manualOutbox(f, sink);
  await outbox.drain();
  await outbox.close();
  second = await declare(f, { severity: 'SEV3', internalTitle: 'Replica lag' });
});
afterAll(async () => {
  await sink.close();
  await f.site.close();
  await f.close();
});

describe('the outbox screen', () => {
  it('lists every message with kind, recipient, state and attempts, and filters by incident', async () => {
    const res = await get('/internal/admin/outbox/');
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain('<h1>Outbox</h1>');
    const rows = [...page.matchAll(/<tr><td><a href="\/internal\/admin\/outbox\/(\d+)\/">Read message \d+<\/a><\/td><td>([a-z-]+)<\/td><td>([^<]+) <span class="meta">\((\w+)\)<\/span><\/td><td>.*?<\/td><td>(\w+)<\/td><td>(\d+)<\/td>/g)].map((m) => ({
      kind: m[2],
      email: m[3],
      state: m[5],
      attempts: Number(m[6]),
    }));
    expect(rows).toEqual(
      expect.arrayContaining([
        { kind: 'update', email: 'reader@example.com', state: 'sent', attempts: 1 },
        { kind: 'briefing', email: 'ceo@example.com', state: 'sent', attempts: 1 },
        { kind: 'briefing', email: 'ceo@example.com', state: 'pending', attempts: 0 },
      ]),
    );

    // A pending message says when it is due (a retry's back-off, a reminder scheduled ahead); a sent one does not.
    const [due] = await f.services.db.$client.execute("SELECT next_attempt_at AS at FROM deliveries WHERE status = 'pending' AND kind = 'briefing'").then((r) => r.rows);
    expect(page).toContain(`<td>pending</td><td>0</td><td><time datetime="${new Date(Number(due!.at)).toISOString()}">`);
    expect(page).toMatch(/<td>sent<\/td><td>1<\/td><td>—<\/td>/);

    const filtered = await (await get(`/internal/admin/outbox/?incident=${second.id}`)).text();
    expect(filtered).toContain('Replica lag');
    expect(filtered).toMatch(/<caption>1 message</);
    expect(filtered).toMatch(/<option value="[a-z0-9]+" selected>Replica lag/);
    const pending = await (await get('/internal/admin/outbox/?state=sent')).text();
    expect(pending).not.toMatch(/<td>pending<\/td>/);
  });

  it('renders one message as its recipient sees it: the text part on the page, the HTML part in a sandboxed frame', async () => {
    const list = await (await get(`/internal/admin/outbox/?incident=${first.id}`)).text();
    const ids = [...list.matchAll(/Read message (\d+)/g)].map((m) => Number(m[1]));
    const pages = await Promise.all(ids.map(async (id) => ({ id, html: await (await get(`/internal/admin/outbox/${id}/`)).text() })));
    const toReader = pages.find((p) => p.html.includes('reader@example.com'))!;
    expect(toReader.html).toContain('<h2 id="as-sent">As the recipient sees it</h2>');
    expect(toReader.html).toMatch(/<pre class="mail-text">[\s\S]*unsubscribe\?token=/);
    expect(toReader.html).not.toContain(canary);
    expect(toReader.html).toContain(`<iframe class="mail-html" sandbox="" src="/internal/admin/outbox/${toReader.id}/html"`);

    const part = await get(`/internal/admin/outbox/${toReader.id}/html`);
    expect(part.status).toBe(200);
    expect(part.headers.get('content-security-policy')).toContain('sandbox');
    expect(await part.text()).toMatch(/^<!doctype html>/);

    const briefing = pages.find((p) => p.html.includes('ceo@example.com'))!;
    expect(briefing.html).toContain(canary);
    expect((await get('/internal/admin/outbox/999999/')).status).toBe(404);
  });

  it('opens each message to admins only; viewers get 403 on all of it, and nothing is sent by reading', async () => {
    const before = sink.received.length;
    for (const who of ['comms', 'viewer'] as const) {
      expect((await get('/internal/admin/outbox/1/', who)).status).toBe(403);
      expect((await get('/internal/admin/outbox/1/html', who)).status).toBe(403);
    }
    expect((await get('/internal/admin/outbox/', 'viewer')).status).toBe(403);
    expect((await get(`/internal/admin/outbox/?incident=${first.id}`, 'viewer')).status).toBe(403);
    expect(sink.received.length).toBe(before);
  });

  it('shows comms the deliveries of an incident, addresses hidden, and no message to open (issue 18: comms got 403)', async () => {
    const res = await get(`/internal/admin/outbox/?incident=${first.id}`, 'comms');
    expect(res.status).toBe(200);
    const page = await res.text();
    const rows = [...page.matchAll(/<tr><td>Message (\d+)<\/td><td>([a-z_-]+)<\/td><td>hidden <span class="meta">\((\w+)\)<\/span><\/td><td>.*?<\/td><td>(\w+)<\/td>/g)].map((m) => ({ kind: m[2], audience: m[3], state: m[4] }));
    expect(rows).toEqual(
      expect.arrayContaining([
        { kind: 'update', audience: 'subscriber', state: 'sent' },
        { kind: 'briefing', audience: 'stakeholder', state: 'sent' },
      ]),
    );
    expect(page).not.toContain('reader@example.com');
    expect(page).not.toContain('ceo@example.com');
    expect(page).not.toMatch(/href="\/internal\/admin\/outbox\/\d+\/"/);
    // The incident's page links to it for the people who publish.
    const incidentPage = await (await get(`/internal/incidents/${first.id}/`, 'comms')).text();
    expect(incidentPage).toContain(`href="/internal/admin/outbox/?incident=${first.id}">Every delivery of this incident</a>`);
    // Without an incident chosen, comms is asked to choose one; the whole outbox (sign-in links, confirmations) stays with admins.
    const unfiltered = await (await get('/internal/admin/outbox/', 'comms')).text();
    expect(unfiltered).toContain('Choose an incident to see its deliveries');
    expect(unfiltered).toMatch(/<caption>0 messages</);
  });
});
