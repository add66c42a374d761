// Team members: /api/v1/members for admins, refused input stores nothing, and signing in by emailed link (through a real SMTP sink) gives the member's own role until a change or removal ends it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { consoleMount } from '../api/console/routes.ts';
import { systemActor } from '../api/services/context.ts';
import { addMember, removeMember, updateMember } from '../api/services/members.ts';
import { issueFirstAdminLink, issueMemberSignInLink, signInLinksPerHour } from '../api/services/stakeholder-sign-in.ts';
import { startSite, type Site } from '../api/site/start.ts';
import { countRows, manualOutbox, rows } from './fanout-support.ts';
import { makeFixture, seedComponents, type Fixture } from './fixture.ts';
import { startSmtpSink, type SmtpSink } from './smtp-sink.ts';

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
  f.app.request(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin, ...headers }, body: new URLSearchParams(fields).toString() });
const cookieOf = (res: Response) => `status_session=${/status_session=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1]}`;
const tokenOf = (link: string) => new URL(link, origin).searchParams.get('token')!;

async function mailedLink(address: string): Promise<string> {
  await outbox.drain();
  const mails = (await sink.parsed()).filter((m) => m.envelopeTo.includes(address) && /sign-in link/.test(m.subject ?? ''));
  const match = /https:\/\/status\.example\.com(\/internal\/sign-in\/link\?token=[A-Za-z0-9_%-]+)/.exec(mails.at(-1)?.text ?? '');
  if (!match) throw new Error(`no sign-in link for ${address} in ${mails.length} emails`);
  return match[1]!;
}

async function signInByEmail(address: string, next = '/internal/') {
  const asked = await form('/internal/sign-in/email', { email: address, next });
  expect(asked.status).toBe(200);
  const link = await mailedLink(address.toLowerCase());
  const res = await form('/internal/sign-in/link', { token: tokenOf(link) });
  expect(res.status).toBe(303);
  return { cookie: cookieOf(res), location: res.headers.get('location') };
}

describe('/api/v1/members', () => {
  it('adds, lists, changes and removes members for an admin, each with an audit row naming who acted', async () => {
    const added = await f.call('POST', '/api/v1/members', { body: { email: 'Dana@Example.com', name: 'Dana Lee', role: 'comms' } });
    expect(added.status).toBe(201);
    const dana = (await added.json()) as { id: string; email: string; role: string };
    expect(dana).toMatchObject({ email: 'dana@example.com', role: 'comms' });
    // Whatever the door, the new member is emailed their way in: a one-time sign-in link.
    expect(await mailedLink('dana@example.com')).toMatch(/^\/internal\/sign-in\/link\?token=/);
    const listed = (await (await f.call('GET', '/api/v1/members')).json()) as { members: { id: string }[] };
    expect(listed.members.map((m) => m.id)).toEqual([dana.id]);
    const changed = await f.call('PATCH', `/api/v1/members/${dana.id}`, { body: { role: 'viewer', name: 'Dana L.' } });
    expect(changed.status).toBe(200);
    expect(await changed.json()).toMatchObject({ role: 'viewer', name: 'Dana L.' });
    expect((await f.call('DELETE', `/api/v1/members/${dana.id}`)).status).toBe(204);
    expect((await f.call('DELETE', `/api/v1/members/${dana.id}`)).status).toBe(404);
    const audit = await rows<{ action: string; actor: string; detail: string }>(f, "SELECT action, actor, detail FROM audit_events WHERE subject_type = 'member' AND action <> 'member.sign_in_link_requested' ORDER BY id");
    expect(audit.map((a) => a.action)).toEqual(['member.added', 'member.changed', 'member.removed']);
    for (const a of audit) {
      expect(a.actor).toBe('Ada Admin');
      expect(JSON.parse(a.detail).by).toMatch(/^token:/);
    }
  });

  it('refuses comms and viewers with 403 and nobody with 401', async () => {
    for (const token of ['comms', 'viewer'] as const) {
      expect((await f.call('GET', '/api/v1/members', { token })).status).toBe(403);
      expect((await f.call('POST', '/api/v1/members', { token, body: { email: 'x@example.com', name: 'X', role: 'admin' } })).status).toBe(403);
    }
    expect((await f.call('GET', '/api/v1/members', { token: null })).status).toBe(401);
    expect(await countRows(f, 'members')).toBe(0);
  });

  it('refuses bad input with 422 problem+json naming each field, and a duplicate with 409; nothing is stored', async () => {
    const bad = await f.call('POST', '/api/v1/members', { body: { email: 'not an address', name: '', role: 'owner' } });
    expect(bad.status).toBe(422);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await bad.json()) as { errors: { path: string }[] };
    expect(problem.errors.map((e) => e.path).sort()).toEqual(['email', 'name', 'role']);
    expect((await f.call('POST', '/api/v1/members', { body: { email: 'a@example.com', name: 'A', role: 'comms', extra: 1 } })).status).toBe(422);
    expect((await f.call('PATCH', '/api/v1/members/nope', { body: { role: 'god' } })).status).toBe(422);
    expect(await countRows(f, 'members')).toBe(0);
    expect((await f.call('POST', '/api/v1/members', { body: { email: 'a@example.com', name: 'A', role: 'comms' } })).status).toBe(201);
    expect((await f.call('POST', '/api/v1/members', { body: { email: 'A@example.com', name: 'A again', role: 'admin' } })).status).toBe(409);
    expect(await countRows(f, 'members')).toBe(1);
  });

  it('keeps at least one admin: the last admin member can be neither demoted nor removed (409)', async () => {
    const ada = await addMember(f.services, systemActor('test'), { email: 'ada@example.com', name: 'Ada', role: 'admin' });
    expect((await f.call('PATCH', `/api/v1/members/${ada.id}`, { body: { role: 'comms' } })).status).toBe(409);
    expect((await f.call('DELETE', `/api/v1/members/${ada.id}`)).status).toBe(409);
    await addMember(f.services, systemActor('test'), { email: 'bo@example.com', name: 'Bo', role: 'admin' });
    expect((await f.call('PATCH', `/api/v1/members/${ada.id}`, { body: { role: 'comms' } })).status).toBe(200);
  });

  it('checks the role in the use case itself, whatever door calls it', async () => {
    const viewer = { kind: 'member' as const, id: 'm1', name: 'Vee', email: 'vee@example.com', role: 'viewer' as const };
    await expect(addMember(f.services, viewer, { email: 'x@example.com', name: 'X', role: 'admin' })).rejects.toMatchObject({ status: 403 });
    await expect(addMember(f.services, systemActor('test'), { email: 'x@example.com', name: 'X', role: 'root' })).rejects.toMatchObject({ status: 422 });
  });
});

describe('members sign in by emailed link', () => {
  it('mails a one-time link through SMTP; the member signs in with their own role, and publishing needs comms', async () => {
    await addMember(f.services, systemActor('test'), { email: 'casey@example.com', name: 'Casey Comms', role: 'comms' });
    const signIn = (await f.get('/internal/sign-in')).text();
    expect(await signIn).toContain('Email me a sign-in link');
    const { cookie, location } = await signInByEmail('Casey@Example.com', '/internal/declare/');
    expect(location).toBe('/internal/declare/');
    const declare = await f.get('/internal/declare/', { cookie });
    expect(declare.status).toBe(200);
    const page = await declare.text();
    expect(page).toContain('Declare incident');
    expect(page).not.toContain('href="/internal/admin/members/"');
    const audit = await rows<{ action: string; actor: string }>(f, "SELECT action, actor FROM audit_events WHERE action LIKE 'member.%' ORDER BY id");
    expect(audit).toEqual([
      { action: 'member.added', actor: 'test' },
      // One link emailed as the member was added, one asked for on the sign-in page.
      { action: 'member.sign_in_link_requested', actor: 'Casey Comms' },
      { action: 'member.sign_in_link_requested', actor: 'Casey Comms' },
      { action: 'member.signed_in', actor: 'Casey Comms' },
    ]);
    // The link worked once.
    const again = await form('/internal/sign-in/link', { token: tokenOf(await mailedLink('casey@example.com')) });
    expect(again.status).toBe(410);
  });

  it('sends at most 5 links per member per hour, and says the same to an unknown address', async () => {
    await addMember(f.services, systemActor('test'), { email: 'casey@example.com', name: 'Casey', role: 'comms' });
    for (let i = 0; i < signInLinksPerHour + 2; i++) expect((await form('/internal/sign-in/email', { email: 'casey@example.com' })).status).toBe(200);
    const unknown = await form('/internal/sign-in/email', { email: 'nobody@example.com' });
    expect(await unknown.text()).toContain('Check your inbox');
    await outbox.drain();
    expect((await sink.parsed()).filter((m) => m.envelopeTo.includes('casey@example.com'))).toHaveLength(signInLinksPerHour);
    expect((await sink.parsed()).filter((m) => m.envelopeTo.includes('nobody@example.com'))).toHaveLength(0);
  });

  it('ends the sessions of a member whose role changes or who is removed', async () => {
    const admin = systemActor('test');
    const casey = await addMember(f.services, admin, { email: 'casey@example.com', name: 'Casey', role: 'comms' });
    const first = await signInByEmail('casey@example.com');
    expect((await f.get('/internal/declare/', { cookie: first.cookie })).status).toBe(200);
    await updateMember(f.services, admin, casey.id, { role: 'viewer' });
    expect((await f.get('/internal/declare/', { cookie: first.cookie })).status).toBe(401);
    f.clock.advance(60 * 60_000);
    const second = await signInByEmail('casey@example.com');
    expect((await f.get('/internal/', { cookie: second.cookie })).status).toBe(200);
    // A name change alone keeps the session.
    await updateMember(f.services, admin, casey.id, { name: 'Casey C.' });
    expect((await f.get('/internal/', { cookie: second.cookie })).status).toBe(200);
    await removeMember(f.services, admin, casey.id);
    expect((await f.get('/internal/', { cookie: second.cookie })).status).toBe(401);
    expect(await countRows(f, 'sessions', 'member_id = ?', [casey.id])).toBe(0);
  });

  it('signs out: the cookie stops working at once', async () => {
    await addMember(f.services, systemActor('test'), { email: 'casey@example.com', name: 'Casey', role: 'comms' });
    const { cookie } = await signInByEmail('casey@example.com');
    expect((await form('/internal/sign-out', {}, { cookie })).status).toBe(303);
    expect((await f.get('/internal/', { cookie })).status).toBe(401);
  });

  it('a session opens no door to the API: /api/v1 takes bearer tokens', async () => {
    await addMember(f.services, systemActor('test'), { email: 'ada@example.com', name: 'Ada', role: 'admin' });
    const { cookie } = await signInByEmail('ada@example.com');
    expect((await f.app.request('/api/v1/members', { headers: { cookie } })).status).toBe(401);
  });

  it('a link printed at the shell (npm run member) works once, for 15 minutes', async () => {
    const dana = await addMember(f.services, systemActor('test'), { email: 'dana@example.com', name: 'Dana', role: 'admin' });
    const late = await issueMemberSignInLink(f.services, systemActor('command line'), dana.id);
    const fresh = await issueMemberSignInLink(f.services, systemActor('command line'), dana.id);
    f.clock.advance(15 * 60_000);
    expect((await form('/internal/sign-in/link', { token: tokenOf(late.url) })).status).toBe(410);
    f.clock.set('2026-11-23T12:10:00Z');
    expect(await (await f.get(new URL(fresh.url).pathname + new URL(fresh.url).search)).text()).toContain('Sign in as Dana');
    expect((await form('/internal/sign-in/link', { token: tokenOf(fresh.url) })).status).toBe(303);
    expect((await form('/internal/sign-in/link', { token: tokenOf(fresh.url) })).status).toBe(410);
  });
});

describe('the first admin', () => {
  it('while no admin exists, a first-run link asks who you are and makes you admin, once; bad input keeps the link', async () => {
    const link = await issueFirstAdminLink(f.services);
    expect(link).not.toBeNull();
    const path = new URL(link!.url).pathname + new URL(link!.url).search;
    const page = await (await f.get(path)).text();
    expect(page).toContain('Sign in as the first admin');
    const bad = await form('/internal/sign-in/link', { token: tokenOf(link!.url), name: '', email: 'nope' });
    expect(bad.status).toBe(422);
    expect(await countRows(f, 'members')).toBe(0);
    const ok = await form('/internal/sign-in/link', { token: tokenOf(link!.url), name: 'Ada Lovelace', email: 'ada@example.com' });
    expect(ok.status).toBe(303);
    const members = await rows<{ role: string; email: string }>(f, 'SELECT role, email FROM members');
    expect(members).toEqual([{ role: 'admin', email: 'ada@example.com' }]);
    const screen = await f.get('/internal/admin/members/', { cookie: cookieOf(ok) });
    expect(screen.status).toBe(200);
    expect(await screen.text()).toContain('ada@example.com');
    expect(await issueFirstAdminLink(f.services)).toBeNull();
    expect((await form('/internal/sign-in/link', { token: tokenOf(link!.url), name: 'Eve', email: 'eve@example.com' })).status).toBe(410);
  });

  it('a second first-run link dies once an admin exists', async () => {
    const one = await issueFirstAdminLink(f.services);
    const two = await issueFirstAdminLink(f.services);
    expect((await form('/internal/sign-in/link', { token: tokenOf(one!.url), name: 'Ada', email: 'ada@example.com' })).status).toBe(303);
    expect((await f.get(new URL(two!.url).pathname + new URL(two!.url).search)).status).toBe(410);
    expect((await form('/internal/sign-in/link', { token: tokenOf(two!.url), name: 'Eve', email: 'eve@example.com' })).status).toBe(410);
    expect(await countRows(f, 'members')).toBe(1);
  });
});
