// Customers' reach in headless Chromium: times in the reader's zone (timezoneId), text that holds at 375 px, the embed banner on another origin, axe on the new pages.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../api/config.ts';
import { startServer, type Running } from '../api/server.ts';
import { createToken } from '../api/services/tokens.ts';
import { systemActor } from '../api/services/context.ts';
import { axeViolations, launchChromium, screenshot } from './browser.ts';

let running: Running;
let browser: Browser;
let dir: string;
let comms: string;
/** A customer's own site on another port: another origin, which puts embed.js on its page. */
let customer: Server;
let customerUrl: string;

/** "Errors on " and a 142-character URL: the title that widened the page to 1,468 px. */
const longUrl = `https://api.example.com/v2/organisations/acme-corporation/projects/checkout-service/environments/production/deployments/${'a'.repeat(142 - 118)}`;
const longTitle = `Errors on ${longUrl}`;
/** A right-to-left override in a title must not reorder the text around it. */
const rtlTitle = 'Outage \u202Egnilliб\u202C in billing';

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(`${running.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${comms}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<{ id: string }>;
}

const variables = (key: string) => Object.fromEntries(running.services.templates.get(key)!.variables.map((v) => [v.name, v.example]));

/** Waits until the live site shows `text` at `path` (the render follows the publish within milliseconds). */
async function live(path: string, text: string) {
  for (let i = 0; i < 200; i++) {
    const body = await (await fetch(`${running.url}${path}`)).text();
    if (body.includes(text)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${path} never showed ${text}`);
}

let incidentId: string;

describe("customers' reach in a browser", () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'reach-browser-'));
    const logo = join(dir, 'logo.svg');
    writeFileSync(logo, '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20" fill="#5b2a86"/></svg>');
    const config = readConfig({
      DATA_DIR: dir,
      PORT: '0',
      SEED_DEMO: 'false',
      TIME_ZONE: 'Europe/Berlin',
      BRAND_LOGO: logo,
      BRAND_ACCENT: '#5b2a86',
      SUPPORT_URL: 'https://help.example.com/',
      HOMEPAGE_URL: 'https://www.example.com/',
    });
    running = await startServer(config, { log: () => {}, schedulerIntervalMs: 0, outboxPollMs: 0 });
    comms = (await createToken(running.services, systemActor('test'), { role: 'admin', name: 'Browser test' })).token;
    for (const [i, id] of ['api', 'dashboard'].entries()) await api('POST', '/api/v1/components', { id, name: id === 'api' ? 'API' : 'Dashboard', order: i });
    incidentId = (
      await api('POST', '/api/v1/incidents', {
        title: longTitle,
        severity: 'SEV1',
        template: 'investigating',
        variables: { ...variables('investigating'), symptom: `Requests to ${longUrl} fail.` },
        components: [{ id: 'api', status: 'major_outage' }],
        nextUpdateInMinutes: 30,
      })
    ).id;
    await api('POST', '/api/v1/incidents', {
      title: rtlTitle,
      severity: 'SEV2',
      template: 'investigating',
      variables: variables('investigating'),
      components: [{ id: 'dashboard', status: 'degraded_performance' }],
    });
    await live('/', 'in billing');
    await live('/embed/', 'in billing');
    customer = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      const body =
        req.url === '/frame'
          ? `<iframe title="Service status" src="${running.url}/embed/" width="400" height="120"></iframe>`
          : `<p>Welcome.</p><script src="${running.url}/embed.js" async></script>`;
      res.end(`<!doctype html><html lang="en"><head><title>Acme docs</title></head><body><h1>Acme docs</h1>${body}</body></html>`);
    });
    await new Promise<void>((resolve) => customer.listen(0, '127.0.0.1', () => resolve()));
    customerUrl = `http://127.0.0.1:${(customer.address() as AddressInfo).port}/`;
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => customer?.close(r));
    await running?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("shows every time in the reader's zone and names it; without JavaScript, in TIME_ZONE", async () => {
    const context = await browser.newContext({ timezoneId: 'America/Los_Angeles' });
    const page = await context.newPage();
    await page.goto(`${running.url}/`);
    const started = page.locator('article.card time').first();
    await expect.poll(() => started.getAttribute('data-zone')).toBe('America/Los_Angeles');
    // The incident started at the server's now; whatever the hour, Los Angeles is GMT-8 in this season or PDT/GMT-7 in summer.
    await expect(started.textContent()).resolves.toMatch(/^\d{1,2} \w{3} \d{4}, \d{2}:\d{2} GMT-[78]$/);
    await expect(started.getAttribute('datetime')).resolves.toMatch(/Z$/);
    await expect(page.locator('.time-note').textContent()).resolves.toBe('Times are in your time zone (America/Los Angeles).');
    // "Next update by" is a <time> too, so it reads in the reader's zone.
    const next = page.locator('article.card p.meta', { hasText: 'Next update by' }).first().locator('time').last();
    await expect(next.getAttribute('data-zone')).resolves.toBe('America/Los_Angeles');
    await context.close();

    const noScript = await browser.newContext({ timezoneId: 'America/Los_Angeles', javaScriptEnabled: false });
    const plain = await noScript.newPage();
    await plain.goto(`${running.url}/`);
    await expect(plain.locator('article.card time').first().textContent()).resolves.toMatch(/ CES?T$/);
    await expect(plain.locator('.time-note').textContent()).resolves.toBe('Times are in Europe/Berlin time.');
    await noScript.close();
  });

  it('holds a 142-character URL in a title at 375 px on every page, and isolates each title’s direction', async () => {
    const page = await browser.newPage({ viewport: { width: 375, height: 800 }, isMobile: true, bypassCSP: true });
    for (const path of ['/', `/incidents/${incidentId}/`, '/history/', `/history/${new Date().toISOString().slice(0, 7)}/`, '/embed/']) {
      await page.goto(`${running.url}${path}`);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      expect(width, path).toBeLessThanOrEqual(375);
    }
    await page.goto(`${running.url}/`);
    const titles = page.locator('article.card h3 a');
    for (const dir of await titles.evaluateAll((links) => links.map((a) => a.getAttribute('dir')))) expect(dir).toBe('auto');
    await screenshot(page, 'reach-phone.png');
    await page.close();
  });

  it('carries the brand: logo, accent on links, support and home links', async () => {
    const page = await browser.newPage({ bypassCSP: true });
    await page.goto(`${running.url}/`);
    await expect(page.locator('.site-name img.brand-logo').getAttribute('src')).resolves.toBe('/brand/logo.svg');
    expect((await fetch(`${running.url}/brand/logo.svg`)).status).toBe(200);
    const link = page.locator('main a').first();
    await expect(link.evaluate((a) => getComputedStyle(a).color)).resolves.toBe('rgb(91, 42, 134)');
    await expect(page.getByRole('link', { name: 'Support' }).getAttribute('href')).resolves.toBe('https://help.example.com/');
    await expect(page.getByRole('link', { name: 'example.com', exact: true }).getAttribute('href')).resolves.toBe('https://www.example.com/');
    expect(await axeViolations(page)).toEqual([]);
    const dark = await browser.newPage({ colorScheme: 'dark', bypassCSP: true });
    await dark.goto(`${running.url}/`);
    expect(await axeViolations(dark)).toEqual([]);
    await dark.close();
    await page.close();
  });

  it('shows the embed banner on a customer site on another origin, and dismisses it for the visit', async () => {
    const page = await browser.newPage();
    const refused: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') refused.push(m.text());
    });
    await page.goto(customerUrl);
    const banner = page.getByRole('region', { name: 'Service status' });
    await banner.waitFor();
    await expect(banner.textContent()).resolves.toContain('Incident: ');
    await expect(banner.getByRole('link', { name: 'View status' }).getAttribute('href')).resolves.toMatch(/\/incidents\/[a-z0-9]+\/$/);
    expect(new URL(customerUrl).origin).not.toBe(new URL(running.url).origin);
    await banner.getByRole('button', { name: 'Dismiss status banner' }).click();
    await expect(banner.count()).resolves.toBe(0);
    await page.reload();
    await page.waitForLoadState('networkidle');
    await expect(page.getByRole('region', { name: 'Service status' }).count()).resolves.toBe(0);
    expect(refused).toEqual([]);
    await page.close();
  });

  it("puts the pages behind subscribers' and sign-in links in the site's frame: page name, logo, support link, accent; axe clean", async () => {
    const linkPages = ['/api/v1/subscribers/unsubscribe?token=not-a-token', '/api/v1/subscribers/confirm?token=not-a-token', '/internal/sign-in/email', '/internal/sign-in/link?token=not-a-token'];
    // With the pages' own Content-Security-Policy in force, the logo loads (an img-src the policy once left out).
    const strict = await browser.newPage();
    for (const path of linkPages) {
      await strict.goto(`${running.url}${path}`);
      await expect(strict.locator('header.frame-head img').evaluate((img: HTMLImageElement) => img.decode().then(() => img.naturalWidth))).resolves.toBeGreaterThan(0);
    }
    await strict.close();
    const page = await browser.newPage({ bypassCSP: true });
    for (const path of linkPages) {
      await page.goto(`${running.url}${path}`);
      await expect(page.title()).resolves.toMatch(/ · Example Status$/);
      await expect(page.locator('header.frame-head').textContent()).resolves.toBe('Example Status');
      await expect(page.locator('header.frame-head img').getAttribute('src')).resolves.toMatch(/\/brand\/logo\.svg$/);
      await expect(page.getByRole('link', { name: 'Support' }).getAttribute('href')).resolves.toBe('https://help.example.com/');
      expect(await axeViolations(page), path).toEqual([]);
    }
    await page.close();
  });

  it('lets any site frame the embed page, which passes axe', async () => {
    const page = await browser.newPage();
    await page.goto(`${customerUrl}frame`);
    const frame = page.frameLocator('iframe');
    await expect(frame.locator('.embed-status').textContent()).resolves.toContain('Example Status');
    const alone = await browser.newPage({ bypassCSP: true });
    await alone.goto(`${running.url}/embed/`);
    expect(await axeViolations(alone)).toEqual([]);
    await alone.close();
    await page.close();
  });
});
