// The public site and the internal page in headless Chromium: axe-core finds nothing, on a desktop and a phone, light and dark.
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../api/services/tokens.ts';
import { readConfig } from '../api/config.ts';
import { startServer, type Running } from '../api/server.ts';
import { projectRoot } from '../api/site/astro.ts';
import { axeViolations, launchChromium, screenshot } from './browser.ts';
import { systemActor } from '../api/services/context.ts';

let running: Running;
let browser: Browser;
let dir: string;
let viewerToken: string;

describe('the site in a browser', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'status-browser-'));
    const config = readConfig({ DATA_DIR: dir, PORT: '0', SEED_DEMO: 'true' });
    running = await startServer(config, { log: () => {}, schedulerIntervalMs: 0 });
    viewerToken = (await createToken(running.services, systemActor('test'), { role: 'viewer', name: 'Browser test' })).token;
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await running?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('renders the demo front page with no axe violations, and saves a screenshot', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 }, bypassCSP: true });
    await page.goto(`${running.url}/`);
    await expect(page.locator('h1').textContent()).resolves.toBe('Some systems are degraded');
    expect(await page.locator('.component').count()).toBe(5);
    expect(await axeViolations(page)).toEqual([]);
    const shot = await screenshot(page, 'site-index.png');
    // The README's picture of the demo page: refreshed on request, so ordinary test runs leave the tree clean.
    const readme = join(projectRoot, 'docs', 'screenshot.png');
    const firstShot = !existsSync(readme);
    if (firstShot || process.env.UPDATE_SCREENSHOT) copyFileSync(shot, readme);
    await page.close();
  });

  it('renders an incident page with its timeline and no axe violations', async () => {
    const page = await browser.newPage({ bypassCSP: true });
    await page.goto(`${running.url}/`);
    await page.locator('main article h3 a').first().click();
    await page.waitForURL(/\/incidents\/[a-z0-9]+\/$/);
    await expect(page.locator('h1').textContent()).resolves.toBe('Slow dashboard loading');
    expect(await page.locator('.timeline > li').count()).toBeGreaterThan(0);
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'site-incident.png');
    await page.close();
  });

  it('reads well on a phone in dark mode, with no axe violations', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, colorScheme: 'dark', isMobile: true, bypassCSP: true });
    await page.goto(`${running.url}/`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'site-index-phone-dark.png');
    const history = await browser.newPage({ colorScheme: 'dark', bypassCSP: true });
    await history.goto(`${running.url}/history/`);
    await history.locator('main li a').first().click();
    expect(await axeViolations(history)).toEqual([]);
    await page.close();
    await history.close();
  });

  it('lets a keyboard reach a day with trouble on the history bars, and says what happened in words', async () => {
    const page = await browser.newPage();
    await page.goto(`${running.url}/`);
    const bars = page.getByRole('list', { name: /^Webhooks: status by day/ });
    // The demo's past webhook incident ran about an hour, a day ago: one day's bar, or two if it crossed midnight.
    await expect(bars.getAttribute('aria-label')).resolves.toMatch(/Incidents on [12] of the last 90 days/);
    const day = bars.getByRole('link');
    expect(await day.count()).toBeGreaterThan(0);
    await day.first().focus();
    const focused = await page.evaluate(() => document.activeElement?.textContent ?? '');
    expect(focused).toMatch(/: Degraded performance: \u2068Webhook deliveries delayed\u2069\. No downtime$/);
    await screenshot(page, 'site-bar-focus.png');
    await page.close();
  });

  it('shows the internal page with the internal wording to a signed-in viewer, with no axe violations', async () => {
    const context = await browser.newContext({ extraHTTPHeaders: { authorization: `Bearer ${viewerToken}` }, bypassCSP: true });
    const page = await context.newPage();
    await page.goto(`${running.url}/internal/`);
    await expect(page.locator('main').textContent()).resolves.toContain('Dashboard p95 latency 4s: read replica lag');
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'site-internal.png');
    await context.close();
  });

  it('offers a sign-in form to a browser without a token', async () => {
    const page = await browser.newPage({ bypassCSP: true });
    const res = await page.goto(`${running.url}/internal/`);
    expect(res?.status()).toBe(401);
    expect(await axeViolations(page)).toEqual([]);
    await page.close();
  });
});
