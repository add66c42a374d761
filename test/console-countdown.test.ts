// The next-update countdown in Chromium with JavaScript: a page left open while the update falls due shows the same
// Overdue warning a reload shows, and ticking keeps the server's wording ("due in 2 h 5 min").
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Running } from '../api/server.ts';
import { createToken } from '../api/services/tokens.ts';
import { startBrowserStage, type BrowserStage } from './browser.ts';
import { systemActor } from '../api/services/context.ts';

let running: Running;
let browser: Browser;
let stage: BrowserStage | undefined;
let token: string;
let soonId: string;
let laterId: string;

async function declare(title: string, nextUpdateInMinutes: number): Promise<string> {
  const res = await fetch(`${running.url}/api/v1/incidents`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ title, severity: 'SEV2', template: 'investigating', variables: { symptom: 'Pages load slowly.' }, components: [{ id: 'api', status: 'degraded_performance' }], nextUpdateInMinutes }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

async function signedInPage(): Promise<Page> {
  const page = await browser.newPage();
  // The browser's clock runs from now but is moved by the test; the server's is the real one.
  await page.clock.install({ time: Date.now() });
  await page.goto(`${running.url}/internal/`);
  await page.getByLabel('Token', { exact: true }).fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${running.url}/internal/`);
  return page;
}

beforeAll(async () => {
  stage = await startBrowserStage('status-countdown-');
  ({ running, browser } = stage);
  token = (await createToken(running.services, systemActor('test'), { role: 'comms', name: 'Casey Comms' })).token;
  const admin = (await createToken(running.services, systemActor('test'), { role: 'admin', name: 'Ada Admin' })).token;
  const res = await fetch(`${running.url}/api/v1/components`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ id: 'api', name: 'API' }) });
  expect(res.status).toBe(201);
  soonId = await declare('Due in a minute', 1);
  laterId = await declare('Due in two hours', 125);
}, 120_000);

afterAll(async () => {
  await stage?.close();
});

describe('the next-update countdown with JavaScript', () => {
  for (const [where, path] of [
    ['the incident page', () => `/internal/incidents/${soonId}/`],
    ['the open incidents on /internal/', () => '/internal/'],
  ] as const) {
    it(`turns into the Overdue warning on ${where} while the page stays open`, async () => {
      const page = await signedInPage();
      await page.goto(`${running.url}${path()}`);
      const countdown = page.locator(`time[data-countdown][datetime]`).first();
      await expect(countdown.textContent()).resolves.toMatch(/^due in 1 min$/);
      await expect(page.locator('.console-panel .warning').count()).resolves.toBe(0);
      await page.clock.fastForward('02:00');
      await expect.poll(() => countdown.textContent()).toMatch(/^overdue by \d+ min$/);
      const warning = page.locator('.console-panel .warning');
      await expect(warning.count()).resolves.toBe(1);
      await expect(warning.textContent()).resolves.toBe('Overdue');
      // Ticking on adds no second warning.
      await page.clock.fastForward('01:00');
      await expect(warning.count()).resolves.toBe(1);
      await page.close();
    });
  }

  it('keeps the server wording for a countdown of two hours or more', async () => {
    const page = await signedInPage();
    await page.goto(`${running.url}/internal/incidents/${laterId}/`);
    await expect(page.locator('.console-panel time[data-countdown]').textContent()).resolves.toMatch(/^due in 2 h [45] min$/);
    await page.close();
  });
});
