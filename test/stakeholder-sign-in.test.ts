// Executives sign in by a one-time emailed link: a scanner's GET spends nothing, a link works once and expires, and it lands a read-only viewer.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { consoleMount } from '../api/console/routes.ts';
import { signInLinksPerHour } from '../api/services/stakeholder-sign-in.ts';
import { signInAnswerFloorMs } from '../api/site/stakeholder-sign-in.ts';
import { startSite, type Site } from '../api/site/start.ts';
import { addStakeholder, countRows, manualOutbox, rows } from './fanout-support.ts';
import { declare, examples, makeFixture, seedComponents, type Fixture } from './fixture.ts';
import { startSmtpSink, type SmtpSink } from './smtp-sink.ts';

/** The fixture's app with the site, /internal/ and the console mounted, as api/server.ts mounts them. */
let f: Fixture & { site: Site; get(path: string, headers?: Record<string, string>): Promise<Response> };
let sink: SmtpSink;
let outbox: ReturnType<typeof manualOutbox>;
beforeEach(async () => {
  const base = await makeFixture();
  const site = await startSite(base.services, base.config, { log: () => {}, refreshMs: 0, console: (parts) => consoleMount({ services: base.services, ...parts }) });
  base.app.route('/', site.routes);
  await seedComponents(base);
  f = { ...base, site, get: async (path, headers = {}) => base.app.request(path, { headers }) };
  sink = await startSmtpSink();
  outbox = manualOutbox(f, sink);
});
afterEach(async () => {
  await outbox.close();
  await sink.close();
  await f.site.close();
  await f.close();
});

const origin = 'https://status.example.com';
const form = (path: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
  f.app.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin, ...headers },
    body: new URLSearchParams(fields).toString(),
  });

/** The path and query of the newest sign-in link mailed to an address. */
async function mailedLink(address: string): Promise<string> {
  const mails = (await sink.parsed()).filter((m) => m.envelopeTo.includes(address) && /sign-in link/.test(m.subject ?? ''));
  const match = /https:\/\/status\.example\.com(\/internal\/sign-in\/link\?token=[A-Za-z0-9_%-]+)/.exec(mails.at(-1)?.text ?? '');
  if (!match) throw new Error(`no sign-in link for ${address} in ${mails.length} emails`);
  return match[1]!;
}

async function requestLink(email: string, next = '/internal/') {
  const res = await form('/internal/sign-in/email', { email, next });
  expect(res.status).toBe(200);
  expect(await res.text()).toContain('Check your inbox');
  await outbox.drain();
  return mailedLink(email.toLowerCase());
}

const tokenOf = (link: string) => new URL(link, origin).searchParams.get('token')!;
const cookieOf = (res: Response) => /status_session=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1];

describe('executive sign-in by email link', () => {
  it('mails a link; GETs (as a mail scanner would) spend nothing; the button signs in once and lands on /internal/ as a viewer', async () => {
    await addStakeholder(f, 'ceo@example.com', 'Cleo Exec');
    const incident = await declare(f, { severity: 'SEV3', internalTitle: 'Internal only: replica lag' });
    await outbox.drain();

    // The sign-in page asks for an address right there (members and stakeholders alike).
    expect(await (await f.get('/internal/sign-in')).text()).toMatch(/<form method="post" action="\/internal\/sign-in\/email"[^>]*>[\s\S]*Email me a sign-in link/);
    const link = await requestLink('CEO@example.com', `/internal/incidents/${incident.id}/`);

    for (let i = 0; i < 3; i++) {
      const scan = await f.get(link);
      expect(scan.status).toBe(200);
      const body = await scan.text();
      expect(body).toContain('Sign in as Cleo Exec');
      expect(body).toMatch(/<form method="post" action="\/internal\/sign-in\/link">/);
      expect(scan.headers.get('set-cookie')).toBeNull();
    }
    expect(await countRows(f, 'sign_in_links', 'used_at IS NOT NULL')).toBe(0);
    expect(await countRows(f, 'sessions')).toBe(0);

    const signedIn = await form('/internal/sign-in/link', { token: tokenOf(link) });
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.get('location')).toBe(`/internal/incidents/${incident.id}/`);
    const setCookie = signedIn.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/Path=\/internal/);
    expect(setCookie).toMatch(/SameSite=Strict/i);
    const cookie = `status_session=${cookieOf(signedIn)}`;

    const page = await f.get(`/internal/incidents/${incident.id}/`, { cookie });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Internal only: replica lag');
    expect((await f.get('/internal/', { cookie })).status).toBe(200);

    // Read-only: the session is a viewer's, and it opens nothing outside /internal/.
    const [session] = await rows<{ token_id: string | null; stakeholder_id: string }>(f, 'SELECT token_id, stakeholder_id FROM sessions');
    expect(session!.token_id).toBeNull();
    expect(session!.stakeholder_id).toBeTruthy();
    expect((await f.app.request('/api/v1/incidents', { headers: { cookie } })).status).toBe(401);
    const publish = await f.app.request('/api/v1/incidents', {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'x', severity: 'SEV1', template: 'investigating', variables: {}, components: [{ id: 'api', status: 'major_outage' }] }),
    });
    expect(publish.status).toBe(401);

    // In the console too: a stakeholder may read the Declare form, but a publish from it is refused.
    expect((await f.get('/internal/declare/', { cookie })).status).toBe(200);
    const declared = await f.app.request('/internal/declare/', {
      method: 'POST',
      headers: { cookie, origin, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ action: 'publish', title: 'x', severity: 'SEV1', template: 'investigating', ...examples(f, 'investigating') }).toString(),
    });
    expect(declared.status).toBe(403);
    expect(await declared.text()).toContain('with the viewer role');
    expect(await countRows(f, 'incidents')).toBe(1);

    // Once only.
    const again = await form('/internal/sign-in/link', { token: tokenOf(link) });
    expect(again.status).toBe(410);
    expect(await again.text()).toContain('already been used');
    expect(again.headers.get('set-cookie')).toBeNull();
    expect((await f.get(link)).status).toBe(410);
    expect(await countRows(f, 'sessions')).toBe(1);
    const actions = await rows<{ action: string }>(f, "SELECT action FROM audit_events WHERE subject_type = 'stakeholder' ORDER BY id");
    expect(actions.map((a) => a.action)).toEqual(['stakeholder.added', 'stakeholder.sign_in_link_requested', 'stakeholder.signed_in']);
  });

  it('a link expires after 15 minutes: neither GET nor POST signs in', async () => {
    await addStakeholder(f, 'cfo@example.com', 'Finn');
    const link = await requestLink('cfo@example.com');
    f.clock.advance(15 * 60 * 1000 + 1);
    expect((await f.get(link)).status).toBe(410);
    const post = await form('/internal/sign-in/link', { token: tokenOf(link) });
    expect(post.status).toBe(410);
    expect(await post.text()).toContain('expired');
    expect(await countRows(f, 'sessions')).toBe(0);
  });

  it('answers an unknown address exactly like a stakeholder, and mails nothing', async () => {
    await addStakeholder(f, 'ceo@example.com', 'Cleo');
    // Neither answers before the floor, which is far above the work either does: time tells nothing either.
    const timed = async (email: string) => {
      const started = performance.now();
      const res = await form('/internal/sign-in/email', { email });
      return { res, ms: performance.now() - started };
    };
    const { res: known, ms: knownMs } = await timed('ceo@example.com');
    const { res: unknown, ms: unknownMs } = await timed('stranger@example.com');
    expect(knownMs).toBeGreaterThanOrEqual(signInAnswerFloorMs - 2);
    expect(unknownMs).toBeGreaterThanOrEqual(signInAnswerFloorMs - 2);
    expect(unknown.status).toBe(known.status);
    expect(await unknown.text()).toBe(await known.text());
    await outbox.drain();
    expect((await sink.parsed()).map((m) => m.envelopeTo).flat()).toEqual(['ceo@example.com']);
  });

  it(`sends at most ${signInLinksPerHour} links per stakeholder per hour`, async () => {
    await addStakeholder(f, 'ceo@example.com', 'Cleo');
    for (let i = 0; i < signInLinksPerHour + 2; i++) expect((await form('/internal/sign-in/email', { email: 'ceo@example.com' })).status).toBe(200);
    expect(await countRows(f, 'sign_in_links')).toBe(signInLinksPerHour);
    f.clock.advance(61 * 60 * 1000);
    await form('/internal/sign-in/email', { email: 'ceo@example.com' });
    expect(await countRows(f, 'sign_in_links')).toBe(signInLinksPerHour + 1);
  });

  it('refuses a bad address with 422 naming the field, a cross-site post with 403, and an off-site next', async () => {
    await addStakeholder(f, 'ceo@example.com', 'Cleo');
    const bad = await form('/internal/sign-in/email', { email: 'not an address' });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toMatch(/role="alert"[^>]*>Email: /);
    expect(await countRows(f, 'deliveries')).toBe(0);
    expect((await form('/internal/sign-in/email', { email: 'ceo@example.com' }, { origin: 'https://evil.example' })).status).toBe(403);
    expect(await countRows(f, 'deliveries')).toBe(0);

    const link = await requestLink('ceo@example.com', 'https://evil.example/internal/');
    expect((await form('/internal/sign-in/link', { token: tokenOf(link) }, { origin: 'https://evil.example' })).status).toBe(403);
    expect(await countRows(f, 'sign_in_links', 'used_at IS NOT NULL')).toBe(0);
    const ok = await form('/internal/sign-in/link', { token: tokenOf(link) });
    expect(ok.headers.get('location')).toBe('/internal/');
  });

  it("a briefing's internal link leads through the email sign-in, and straight to the page once signed in; removing the stakeholder ends the session", async () => {
    const cleo = await addStakeholder(f, 'ceo@example.com', 'Cleo');
    const incident = await declare(f, { severity: 'SEV1' });
    await outbox.drain();
    const briefing = (await sink.parsed()).find((m) => m.envelopeTo.includes('ceo@example.com'))!;
    const match = /Internal page: https:\/\/status\.example\.com(\/internal\/sign-in\/email\?\S+)/.exec(briefing.text ?? '');
    expect(match, briefing.text).not.toBeNull();
    const entry = match![1]!;
    expect(new URL(entry, origin).searchParams.get('next')).toBe(`/internal/incidents/${incident.id}/`);
    expect(briefing.html).toContain(`/internal/sign-in/email?next=%2Finternal%2Fincidents%2F${incident.id}%2F&amp;email=ceo%40example.com`);

    const form1 = await (await f.get(entry)).text();
    expect(form1).toContain('value="ceo@example.com"');
    expect(form1).toContain(`value="/internal/incidents/${incident.id}/"`);

    const link = await requestLink('ceo@example.com', `/internal/incidents/${incident.id}/`);
    const cookie = `status_session=${cookieOf(await form('/internal/sign-in/link', { token: tokenOf(link) }))}`;
    const through = await f.get(entry, { cookie });
    expect(through.status).toBe(303);
    expect(through.headers.get('location')).toBe(`/internal/incidents/${incident.id}/`);

    expect((await f.call('DELETE', `/api/v1/stakeholders/${cleo.id}`)).status).toBe(204);
    expect((await f.get('/internal/', { cookie })).status).toBe(401);
  });
});
