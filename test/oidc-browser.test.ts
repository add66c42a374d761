// Single sign-on against a real OpenID provider in-process (oidc-provider), driven by Chromium through the whole redirect flow: a member keeps their own role, an allowed domain joins with the claim's role, anyone else is refused.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Provider from 'oidc-provider';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, readConfig } from '../api/config.ts';
import { startServer, type Running } from '../api/server.ts';
import { systemActor } from '../api/services/context.ts';
import { addMember } from '../api/services/members.ts';
import { axeViolations, launchChromium } from './browser.ts';

/** The provider's people: login → claims (the role claim is the default OIDC_ROLE_CLAIM, status_role). */
const people: Record<string, { email: string; name: string; status_role?: string; email_verified?: boolean }> = {
  casey: { email: 'casey@example.com', name: 'Casey Comms', status_role: 'viewer' },
  olga: { email: 'olga@example.org', name: 'Olga Ops', status_role: 'admin' },
  mallory: { email: 'mallory@elsewhere.test', name: 'Mallory', status_role: 'admin' },
};

let running: Running;
let browser: Browser;
let idp: Server;
let dir: string;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  const [idpPort, port] = [await freePort(), await freePort()];
  const publicUrl = `http://127.0.0.1:${port}`;
  const provider = new Provider(`http://127.0.0.1:${idpPort}`, {
    clients: [{ client_id: 'status-page', client_secret: 'a-test-secret', redirect_uris: [`${publicUrl}/internal/sign-in/oidc/callback`], grant_types: ['authorization_code'], response_types: ['code'] }],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'status_role'] },
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: true } },
    cookies: { keys: ['test-only-cookie-key'] },
    findAccount: (_ctx, id) => {
      const p = people[id];
      return p ? { accountId: id, claims: () => ({ sub: id, email_verified: true, ...p }) } : undefined;
    },
  });
  idp = createHttpServer(provider.callback());
  await new Promise<void>((resolve) => idp.listen(idpPort, '127.0.0.1', () => resolve()));
  dir = mkdtempSync(join(tmpdir(), 'status-oidc-'));
  const config = readConfig({
    DATA_DIR: dir,
    PORT: String(port),
    SEED_DEMO: 'false',
    PUBLIC_URL: publicUrl,
    OIDC_ISSUER: `http://127.0.0.1:${idpPort}`,
    OIDC_CLIENT_ID: 'status-page',
    OIDC_CLIENT_SECRET: 'a-test-secret',
    OIDC_ALLOWED_DOMAINS: 'example.org',
  });
  running = await startServer(config, { log: () => {}, schedulerIntervalMs: 0, outboxPollMs: 0 });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await running?.close();
  await new Promise<void>((resolve) => (idp ? idp.close(() => resolve()) : resolve()));
  rmSync(dir, { recursive: true, force: true });
});

/** From /internal/ signed out, through the provider's login and consent, back to the status page. */
async function signInWithSso(page: Page, login: string) {
  await page.goto(`${running.url}/internal/`);
  await page.getByRole('link', { name: 'Sign in with SSO' }).click();
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('anything');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
}

const members = async () =>
  (await running.services.db.$client.execute('SELECT email, role FROM members ORDER BY email')).rows.map((r) => `${r.email} ${r.role}`);

describe('single sign-on through OpenID Connect', () => {
  it("signs a member in through the provider with the member's own role, not the claim's", async () => {
    await addMember(running.services, systemActor('test'), { email: 'casey@example.com', name: 'Casey Comms', role: 'comms' });
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    await page.goto(`${running.url}/internal/sign-in`);
    expect(await axeViolations(page), 'sign-in page with SSO').toEqual([]);
    await signInWithSso(page, 'casey');
    await page.waitForURL(`${running.url}/internal/`);
    // Comms (the member's role), although the provider's claim says viewer: the console, not the briefing.
    await page.getByRole('link', { name: 'Declare incident' }).waitFor();
    const audit = await running.services.db.$client.execute("SELECT actor, detail FROM audit_events WHERE action = 'member.signed_in'");
    expect(audit.rows.map((r) => r.actor)).toEqual(['Casey Comms']);
    expect(JSON.parse(String(audit.rows[0]!.detail))).toMatchObject({ via: 'sso' });
    // The state travelled in a cookie that is gone once used.
    expect((await context.cookies()).map((c) => c.name)).not.toContain('status_oidc');
    await context.close();
  });

  it('lets a person from an allowed domain join with the role the claim names', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signInWithSso(page, 'olga');
    await page.waitForURL(`${running.url}/internal/`);
    await page.getByRole('link', { name: 'Members' }).waitFor();
    expect(await members()).toContain('olga@example.org admin');
    await context.close();
  });

  it('refuses anyone else with 403, and stores nothing', async () => {
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    const answers: number[] = [];
    page.on('response', (r) => {
      if (r.url().includes('/internal/sign-in/oidc/callback')) answers.push(r.status());
    });
    await signInWithSso(page, 'mallory');
    await page.getByRole('heading', { name: 'You are not signed in' }).waitFor();
    expect(answers).toEqual([403]);
    expect(await page.getByRole('alert').textContent()).toContain('mallory@elsewhere.test is not a member');
    expect(await axeViolations(page), 'refused page').toEqual([]);
    expect(await members()).not.toContain('mallory@elsewhere.test admin');
    await page.goto(`${running.url}/internal/`);
    await page.getByRole('button', { name: 'Email me a sign-in link' }).waitFor();
    await context.close();
  });

  it('refuses a callback that this browser did not start (no state cookie) with 403', async () => {
    const res = await fetch(`${running.url}/internal/sign-in/oidc/callback?code=x&state=y`);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('not started here');
  });
});

describe('single sign-on when the provider is down', () => {
  it('answers Sign in with SSO with 503 and the way that needs no provider, not a 500', async () => {
    const d = mkdtempSync(join(tmpdir(), 'status-oidc-down-'));
    const closed = await freePort();
    const server = await startServer(readConfig({ DATA_DIR: d, PORT: '0', SEED_DEMO: 'false', OIDC_ISSUER: `http://127.0.0.1:${closed}`, OIDC_CLIENT_ID: 'c' }), {
      log: () => {},
      schedulerIntervalMs: 0,
      outboxPollMs: 0,
    });
    try {
      const res = await fetch(`${server.url}/internal/sign-in/oidc`, { redirect: 'manual' });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('60');
      expect(await res.text()).toContain('Email me a sign-in link');
    } finally {
      await server.close();
      rmSync(d, { recursive: true, force: true });
    }
  });
});

describe('single sign-on settings', () => {
  const base = { DATA_DIR: '/tmp/unused', OIDC_CLIENT_ID: 'c' };
  it('accepts an http:// issuer only on a loopback address, with one clear line otherwise', () => {
    expect(readConfig({ ...base, OIDC_ISSUER: 'http://127.0.0.1:9000' }).oidc?.issuer).toBe('http://127.0.0.1:9000');
    expect(readConfig({ ...base, OIDC_ISSUER: 'http://localhost:9000/realms/x' }).oidc?.roleClaim).toBe('status_role');
    expect(() => readConfig({ ...base, OIDC_ISSUER: 'http://idp.example.com' })).toThrow(/OIDC_ISSUER="http:\/\/idp.example.com" must be an https:\/\/ URL; http:\/\/ is accepted only on a loopback address/);
    expect(readConfig({ ...base, OIDC_ISSUER: 'https://idp.example.com' }).oidc?.issuer).toBe('https://idp.example.com');
  });

  it('needs a client id with an issuer, and email domains in OIDC_ALLOWED_DOMAINS', () => {
    expect(() => readConfig({ DATA_DIR: '/tmp/unused', OIDC_ISSUER: 'https://idp.example.com' })).toThrow(ConfigError);
    expect(() => readConfig({ ...base, OIDC_ISSUER: 'https://idp.example.com', OIDC_ALLOWED_DOMAINS: 'example.com, not a domain' })).toThrow(/OIDC_ALLOWED_DOMAINS.*not a domain/);
    expect(readConfig({ ...base, OIDC_ISSUER: 'https://idp.example.com', OIDC_ALLOWED_DOMAINS: 'Example.com, @example.org' }).oidc?.allowedDomains).toEqual(['example.com', 'example.org']);
    expect(readConfig({ DATA_DIR: '/tmp/unused' }).oidc).toBeNull();
  });
});
