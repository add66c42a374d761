// The Channels admin screen: an admin adds and removes chat channels through the form without JavaScript, URLs show masked, everyone else reads it, and refused input stores nothing.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Running } from '../api/server.ts';
import { createToken } from '../api/services/tokens.ts';
import { startBrowserStage, type BrowserStage } from './browser.ts';
import { crossSiteHeaders, fieldError } from './console-support.ts';
import { systemActor } from '../api/services/context.ts';

type Role = 'admin' | 'comms' | 'viewer';

let running: Running;
let browser: Browser;
let stage: BrowserStage | undefined;
const tokens: Record<Role, string> = { admin: '', comms: '', viewer: '' };
const sessions: Record<Role, string> = { admin: '', comms: '', viewer: '' };

/** One channel of each kind, as a person picks it in the Kind select. Every URL's path or query holds a secret. */
const added = [
  { kind: 'slack', label: 'Slack', url: 'https://hooks.slack.com/services/T0SECRET1/B0SECRET2/slackSecretToken42', name: '#incidents', shown: 'https://hooks.slack.com/' },
  { kind: 'discord', label: 'Discord', url: 'https://discord.com/api/webhooks/1234567890/discordSecretToken42', name: 'Ops Discord', shown: 'https://discord.com/' },
  { kind: 'teams', label: 'Microsoft Teams', url: 'https://contoso.webhook.office.com/webhookb2/teamsSecretPath42/IncomingWebhook/x', name: 'Leadership', shown: 'https://contoso.webhook.office.com/' },
  // No name: the service names it after its kind. A private target is accepted, as by POST /api/v1/channels.
  { kind: 'generic', label: 'Generic JSON', url: 'http://127.0.0.1:9/hooks/genericSecretPath42?key=genericSecretQuery42', name: '', shown: 'http://127.0.0.1:9/' },
] as const;
const secrets = ['SECRET', 'slackSecretToken42', 'discordSecretToken42', 'teamsSecretPath42', 'genericSecretPath42', 'genericSecretQuery42', '/services/', '/api/webhooks/'];

const screenUrl = () => `${running.url}/internal/admin/channels/`;
const sameSite = () => ({ origin: running.url, 'sec-fetch-site': 'same-origin' });

function post(path: string, form: Record<string, string>, who: Role, headers: Record<string, string> = sameSite()) {
  return fetch(`${running.url}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: sessions[who], ...headers },
    body: new URLSearchParams(form),
  });
}

const get = (path: string, who: Role) => fetch(`${running.url}${path}`, { headers: { cookie: sessions[who] } });

async function apiChannels(): Promise<{ id: string; kind: string; url: string; name: string; createdBy: string }[]> {
  const res = await fetch(`${running.url}/api/v1/channels`, { headers: { authorization: `Bearer ${tokens.admin}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { channels: { id: string; kind: string; url: string; name: string; createdBy: string }[] }).channels;
}

/** The channels table and its audit rows: a refused form changes neither. */
async function footprint() {
  const q = async (sql: string) => (await running.services.db.$client.execute(sql)).rows.map((r) => Object.values(r).join('|'));
  return { channels: await q('SELECT id, kind, url, name FROM channels ORDER BY id'), audit: await q("SELECT count(*) FROM audit_events WHERE subject_type = 'channel'") };
}

function expectNoSecret(html: string, what: string) {
  for (const c of added) expect(html, `${what} shows ${c.url}`).not.toContain(c.url);
  for (const s of secrets) expect(html, `${what} shows ${s}`).not.toContain(s);
}

async function signInPage(page: Page, token: string) {
  await page.goto(`${running.url}/internal/`);
  await page.getByLabel('Token', { exact: true }).fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${running.url}/internal/`);
}

beforeAll(async () => {
  stage = await startBrowserStage('status-channels-');
  ({ running, browser } = stage);
  const names: Record<Role, string> = { admin: 'Ada Admin', comms: 'Casey Comms', viewer: 'Vic Viewer' };
  for (const role of ['admin', 'comms', 'viewer'] as const) {
    tokens[role] = (await createToken(running.services, systemActor('test'), { role, name: names[role] })).token;
    const res = await fetch(`${running.url}/internal/sign-in`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...sameSite() },
      body: new URLSearchParams({ token: tokens[role] }),
    });
    expect(res.status).toBe(303);
    sessions[role] = /status_session=[^;]+/.exec(res.headers.get('set-cookie') ?? '')![0];
  }
}, 120_000);

afterAll(async () => {
  await stage?.close();
});

describe('the Channels screen', () => {
  it('lets an admin add a channel of each kind through the form without JavaScript; the list masks each URL and the API lists them', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await signInPage(page, tokens.admin);
    await page.getByRole('link', { name: 'Channels', exact: true }).click();
    await page.waitForURL(screenUrl());
    for (const c of added) {
      await page.getByLabel('Kind', { exact: true }).selectOption({ label: c.label });
      await page.getByLabel('URL', { exact: true }).fill(c.url);
      await page.getByLabel('Name', { exact: true }).fill(c.name);
      await page.getByRole('button', { name: 'Add channel' }).click();
      await page.waitForURL(screenUrl());
      await expect(page.getByLabel('URL', { exact: true }).inputValue(), 'the form is empty again').resolves.toBe('');
    }
    const rows = await page.locator('table.admin-table tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent!.trim())));
    expect(rows.map(([name, kind, url]) => [name, kind, url])).toEqual(
      added.map((c) => [c.name || 'generic channel', c.label, `${c.shown}•••••••• (the rest of the address is hidden)`]),
    );
    for (const c of added) await expect(page.getByRole('button', { name: `Remove ${c.name || 'generic channel'}` }).isVisible()).resolves.toBe(true);
    expectNoSecret(await page.content(), 'the page in Chromium');
    await context.close();

    const api = await apiChannels();
    expect(api.map((x) => ({ kind: x.kind, url: x.url, name: x.name, createdBy: x.createdBy }))).toEqual(
      added.map((c) => ({ kind: c.kind, url: c.url, name: c.name || 'generic channel', createdBy: 'Ada Admin' })),
    );
    const res = await get('/internal/admin/channels/', 'admin');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toContain('no-store');
    expectNoSecret(await res.text(), 'the page as served');
  });

  it('refuses a bad URL or kind with the error beside its field and the values kept (422), and stores nothing', async () => {
    const before = await footprint();
    const cases: { form: Record<string, string>; field: string; message: RegExp; keeps?: string }[] = [
      { form: { kind: 'irc', url: 'https://chat.example.com/hook', name: 'IRC' }, field: 'channel-kind', message: /must be one of slack, discord, teams, generic/, keeps: 'value="IRC"' },
      { form: { kind: '', url: 'https://chat.example.com/hook', name: 'Nothing chosen' }, field: 'channel-kind', message: /must be one of/, keeps: 'value="Nothing chosen"' },
      { form: { kind: 'slack', url: 'not a url', name: 'Typo' }, field: 'channel-url', message: /http:\/\/ or https:\/\/ URL/, keeps: 'value="not a url"' },
      { form: { kind: 'slack', url: 'ftp://files.example.com/hook', name: '' }, field: 'channel-url', message: /http:\/\/ or https:\/\/ URL/ },
      { form: { kind: 'slack', url: '', name: '' }, field: 'channel-url', message: /http:\/\/ or https:\/\/ URL/ },
      { form: { kind: 'discord', url: 'https://user:pass@discord.com/api/webhooks/1/x', name: '' }, field: 'channel-url', message: /user name or password/ },
      { form: { kind: 'teams', url: 'https://contoso.webhook.office.com/x', name: 'a\u0007b' }, field: 'channel-name', message: /control characters/ },
    ];
    for (const c of cases) {
      const res = await post('/internal/admin/channels/', c.form, 'admin');
      const html = await res.text();
      expect(res.status, JSON.stringify(c.form)).toBe(422);
      expect(fieldError(html, c.field) ?? `no error beside ${c.field}`, JSON.stringify(c.form)).toMatch(c.message);
      expect(html).toContain('error-summary');
      if (c.keeps) expect(html).toContain(c.keeps);
    }
    // The Kind select keeps the choice too.
    const kept = await (await post('/internal/admin/channels/', { kind: 'teams', url: 'nope', name: '' }, 'admin')).text();
    expect(kept).toContain('<option value="teams" selected>Microsoft Teams</option>');
    expect(await footprint()).toEqual(before);
  });

  it('shows the list read-only to comms and viewers, and answers their POSTs with 403 changing nothing', async () => {
    const before = await footprint();
    const [first] = await apiChannels();
    for (const who of ['viewer', 'comms'] as const) {
      const res = await get('/internal/admin/channels/', who);
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).toContain('you see it read-only');
      expect(html).toContain('https://hooks.slack.com/');
      expectNoSecret(html, `the page for ${who}`);
      for (const [path, form] of [
        ['/internal/admin/channels/', { kind: 'slack', url: 'https://hooks.slack.com/services/A/B/C', name: 'Sneaky' }],
        [`/internal/admin/channels/${first!.id}/remove`, {}],
      ] as const) {
        const refused = await post(path, form, who);
        expect(refused.status, `${path} as ${who}`).toBe(403);
        expect(await refused.text()).toContain('Nothing was changed');
      }
    }
    expect(await footprint()).toEqual(before);
  });

  it('refuses a cross-site POST with 403, not a redirect, and changes nothing', async () => {
    const before = await footprint();
    const [first] = await apiChannels();
    for (const [path, form] of [
      ['/internal/admin/channels/', { kind: 'slack', url: 'https://hooks.slack.com/services/A/B/C', name: 'Forged' }],
      [`/internal/admin/channels/${first!.id}/remove`, {}],
    ] as const) {
      for (const headers of crossSiteHeaders) {
        const res = await post(path, form, 'admin', headers);
        expect(res.status, `${path} with ${JSON.stringify(headers)}`).toBe(403);
        expect(res.headers.get('location')).toBeNull();
      }
    }
    expect(await footprint()).toEqual(before);
  });

  it('removes a channel with its Remove button, without JavaScript; it leaves the list and the API, and the audit names who', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await signInPage(page, tokens.admin);
    await page.goto(screenUrl());
    await page.getByRole('button', { name: 'Remove Ops Discord' }).click();
    await page.waitForURL(screenUrl());
    await expect(page.getByRole('button', { name: 'Remove Ops Discord' }).count()).resolves.toBe(0);
    await expect(page.locator('table.admin-table caption').textContent()).resolves.toBe('3 channels');
    await context.close();
    expect((await apiChannels()).map((x) => x.name)).toEqual(['#incidents', 'Leadership', 'generic channel']);
    const audit = await running.services.db.$client.execute("SELECT actor, detail FROM audit_events WHERE action = 'channel.removed'");
    expect(audit.rows.map((r) => r.actor)).toEqual(['Ada Admin']);
    expect(String(audit.rows[0]!.detail)).not.toContain('discordSecretToken42');
    // A channel already gone answers 404 with the screen and its message.
    const gone = await post('/internal/admin/channels/no-such-channel/remove', {}, 'admin');
    expect(gone.status).toBe(404);
    expect(await gone.text()).toContain('no-such-channel');
  });

  it('redirects the address without its trailing slash', async () => {
    const res = await fetch(`${running.url}/internal/admin/channels`, { redirect: 'manual', headers: { cookie: sessions.viewer } });
    expect(res.status).toBe(301);
    expect(res.headers.get('location')).toBe('/internal/admin/channels/');
  });
});
