// The 3 a.m. drill in Chromium: sign in, declare a SEV1, read both wordings, publish, check the public page, post identified, resolve; with and without JavaScript.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../api/services/tokens.ts';
import type { Running } from '../api/server.ts';
import { projectRoot } from '../api/site/astro.ts';
import { addStakeholder } from '../api/services/stakeholders.ts';
import { axeViolations, screenshot, startBrowserStage, type BrowserStage } from './browser.ts';
import { systemActor } from '../api/services/context.ts';


let running: Running;
let browser: Browser;
let stage: BrowserStage | undefined;
const tokens = { comms: '', admin: '', viewer: '' };

/** Counts what a person does: every click and every field filled or chosen. */
class Drill {
  interactions = 0;
  constructor(readonly page: Page) {}
  async click(target: Locator) {
    this.interactions++;
    await target.click();
  }
  async fill(target: Locator, value: string) {
    this.interactions++;
    await target.fill(value);
  }
  async choose(target: Locator, value: string) {
    this.interactions++;
    await target.selectOption(value);
  }
}

const label = (page: Page, name: string) => page.getByLabel(name, { exact: true });

/**
 * What a tired reader trips on at any width: console links and buttons smaller than 24 px (WCAG 2.2, 2.5.8), a
 * one-word table cell broken inside the word ("Queue/d"), and a hint saying "insiders only" twice.
 */
async function readsBadly(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const found: string[] = [];
    for (const el of document.querySelectorAll<HTMLElement>('.console-nav a, main button, main select, main input[type="checkbox"]')) {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && (r.width < 24 || r.height < 24)) found.push(`small target: ${el.tagName} ${(el.textContent ?? '').trim() || el.getAttribute('name')} ${Math.round(r.width)}x${Math.round(r.height)}`);
    }
    for (const cell of document.querySelectorAll<HTMLElement>('.progress th, .progress td')) {
      const text = (cell.textContent ?? '').trim();
      if (!text || /\s/.test(text)) continue;
      const range = document.createRange();
      range.selectNodeContents(cell);
      const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
      if (lines.size > 1) found.push(`word broken across lines: ${text}`);
    }
    for (const hint of document.querySelectorAll<HTMLElement>('.hint')) {
      if ((hint.textContent?.match(/insiders only/gi) ?? []).length > 1) found.push(`"insiders only" twice: ${hint.id}`);
    }
    return found;
  });
}

async function signIn(page: Page, token: string, drill?: Drill) {
  await page.goto(`${running.url}/internal/`);
  if (drill) {
    await drill.fill(label(page, 'Token'), token);
    await drill.click(page.getByRole('button', { name: 'Sign in' }));
  } else {
    await label(page, 'Token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }
  await page.waitForURL(`${running.url}/internal/`);
}

async function runDrill(context: BrowserContext, javaScript: boolean) {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const drill = new Drill(page);
  const title = `Checkout is failing (${javaScript ? 'with' : 'without'} JavaScript)`;
  const started = performance.now();

  await signIn(page, tokens.comms, drill);
  await drill.click(page.getByRole('link', { name: 'Declare incident' }));
  await drill.fill(label(page, 'Title'), title);
  await drill.choose(label(page, 'Severity'), 'SEV1');
  await expect(label(page, 'Template').inputValue()).resolves.toBe('investigating');
  await drill.fill(label(page, 'symptom'), 'Card payments fail at checkout with an error page.');
  await drill.choose(label(page, 'API'), 'major_outage');
  // Without JavaScript, Preview posts the form; with it, the preview follows the typing.
  if (!javaScript) await drill.click(page.getByRole('button', { name: 'Preview' }));
  const preview = page.locator('#preview');
  await preview.waitFor();
  await expect(preview.getByRole('heading', { name: 'External wording' }).isVisible()).resolves.toBe(true);
  await expect(preview.getByRole('heading', { name: 'Internal wording' }).isVisible()).resolves.toBe(true);
  const text = await preview.textContent();
  expect(text).toContain('Card payments fail at checkout');
  expect(text).toContain('public page · 2 subscribers · 1 executive');
  expect(text).toContain(`Investigating: ${title}`);
  expect(await label(page, 'Title').inputValue()).toBe(title);
  await drill.click(page.getByRole('button', { name: 'Publish' }));
  await page.waitForURL(/\/internal\/incidents\/[a-z0-9]+\/$/);
  const toFirstPublicUpdate = drill.interactions;
  const firstUpdateMs = performance.now() - started;

  const panel = page.locator('.console-panel');
  await expect(panel.getByRole('table').textContent()).resolves.toMatch(/Subscribers\s*\d+\s*\d+\s*\d+/);
  const id = /incidents\/([a-z0-9]+)\//.exec(page.url())![1]!;
  // The public page is rendered just after the publish: follow the link and wait for the title to show.
  const publicPage = await context.newPage();
  await expect
    .poll(async () => {
      const res = await publicPage.goto(`${running.url}/incidents/${id}/`);
      return res?.status() === 200 ? await publicPage.locator('h1').textContent() : null;
    }, { timeout: 30_000 })
    .toBe(title);
  await expect(publicPage.locator('main').textContent()).resolves.toContain('Card payments fail at checkout');
  await publicPage.close();

  await drill.choose(label(page, 'Status'), 'identified');
  await drill.fill(label(page, 'cause'), 'A certificate on the payment gateway expired.');
  await drill.fill(label(page, 'fix'), 'We are installing a renewed certificate.');
  if (javaScript) {
    // The update's preview follows the typing too, above the form, as Preview would show it without JavaScript.
    const live = page.locator('#update-preview #preview');
    await expect.poll(async () => ((await live.count()) ? await live.textContent() : ''), { timeout: 30_000 }).toContain('We are installing a renewed certificate.');
    await expect(live.getByRole('heading', { name: 'Internal wording' }).isVisible()).resolves.toBe(true);
  }
  await drill.click(page.getByRole('button', { name: 'Post update' }));
  await page.waitForURL(`${running.url}/internal/incidents/${id}/`);
  await expect(page.locator('.console-panel dl').textContent()).resolves.toContain('Identified');

  await drill.fill(label(page, 'what_happened'), 'Card payments failed for 20 minutes.');
  await drill.fill(label(page, 'resolution'), 'The renewed certificate is installed and payments succeed.');
  await drill.click(page.getByRole('button', { name: 'Resolve' }));
  await page.waitForURL(`${running.url}/internal/incidents/${id}/`);
  await expect(page.locator('.console-panel dl').textContent()).resolves.toContain('Resolved');
  const drillMs = performance.now() - started;
  const incident = await running.services.db.$client.execute({ sql: 'SELECT status FROM incidents WHERE id = ?', args: [id] });
  expect(incident.rows[0]?.status).toBe('resolved');
  expect(errors).toEqual([]);
  await page.close();
  return { toFirstPublicUpdate, firstUpdateMs, total: drill.interactions, drillMs };
}

describe('the 3 a.m. drill in Chromium', () => {
  beforeAll(async () => {
    stage = await startBrowserStage('status-console-');
    ({ running, browser } = stage);
    const db = running.services.db;
    tokens.comms = (await createToken(running.services, systemActor('test'), { role: 'comms', name: 'Casey Comms' })).token;
    tokens.admin = (await createToken(running.services, systemActor('test'), { role: 'admin', name: 'Ada Admin' })).token;
    tokens.viewer = (await createToken(running.services, systemActor('test'), { role: 'viewer', name: 'Vic Viewer' })).token;
    const admin = { authorization: `Bearer ${tokens.admin}`, 'content-type': 'application/json' };
    for (const [order, [id, name]] of [['api', 'API'], ['dashboard', 'Dashboard']].entries()) {
      const res = await fetch(`${running.url}/api/v1/components`, { method: 'POST', headers: admin, body: JSON.stringify({ id, name, order }) });
      if (res.status !== 201) throw new Error(`component ${id}: ${res.status}`);
    }
    await addStakeholder(running.services, systemActor('test'), { email: 'ceo@example.com', name: 'Chief Executive' });
    // Two confirmed subscribers: one for everything, one for the API only; a third for the dashboard alone is not counted.
    const now = Date.now();
    for (const [i, components] of [null, '["api"]', '["dashboard"]'].entries()) {
      await db.$client.execute({
        sql: 'INSERT INTO subscribers (id, email, components, confirmed_at, unsubscribe_token, created_at) VALUES (?, ?, ?, ?, ?, ?)',
        args: [`sub${i}`, `reader${i}@example.com`, components, now, `unsub${i}`, now],
      });
    }
  }, 120_000);

  afterAll(async () => {
    await stage?.close();
  });

  it('plays the drill with JavaScript: the first public update in at most 8 interactions', async () => {
    const context = await browser.newContext();
    const result = await runDrill(context, true);
    console.log(
      `drill with JavaScript: ${result.toFirstPublicUpdate} interactions to the first public update in ${Math.round(result.firstUpdateMs)} ms; ` +
        `${result.total} interactions, ${Math.round(result.drillMs)} ms to resolved`,
    );
    expect(result.toFirstPublicUpdate).toBeLessThanOrEqual(8);
    await context.close();
  });

  it('plays the same drill with JavaScript disabled', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const result = await runDrill(context, false);
    console.log(
      `drill without JavaScript: ${result.toFirstPublicUpdate} interactions to the first public update in ${Math.round(result.firstUpdateMs)} ms; ` +
        `${result.total} interactions, ${Math.round(result.drillMs)} ms to resolved`,
    );
    expect(result.toFirstPublicUpdate).toBeLessThanOrEqual(9);
    await context.close();
  });

  it('has no axe violations on any console page, on a desktop and on a phone, and saves the Declare screenshot', async () => {
    for (const viewport of [{ width: 1200, height: 900 }, { width: 390, height: 844 }]) {
      const context = await browser.newContext({ viewport, bypassCSP: true });
      const page = await context.newPage();
      await signIn(page, tokens.admin);
      const checked: string[] = [];
      const check = async (what: string) => {
        expect(await axeViolations(page), what).toEqual([]);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        expect(overflow, `${what} scrolls sideways at ${viewport.width} px`).toBeLessThanOrEqual(0);
        expect(await readsBadly(page), `${what} at ${viewport.width} px`).toEqual([]);
        checked.push(what);
      };
      await check('/internal/');
      await page.goto(`${running.url}/internal/declare/`);
      await check('declare');
      await page.getByRole('button', { name: 'Publish' }).click();
      await expect(page.locator('.error-summary').isVisible()).resolves.toBe(true);
      await check('declare with errors');
      await label(page, 'Title').fill('Checkout is failing for some customers');
      await label(page, 'Internal title').fill('Payment gateway certificate expired');
      await label(page, 'Severity').selectOption('SEV1');
      await label(page, 'symptom').fill('Card payments fail at checkout with an error page.');
      await label(page, 'hypothesis').fill('The gateway certificate expired at 02:58 UTC.');
      await label(page, 'API').selectOption('major_outage');
      await page.getByRole('button', { name: 'Preview' }).click();
      await check('declare with preview');
      if (viewport.width > 1000) {
        await page.locator('#preview').scrollIntoViewIfNeeded();
        const shot = await screenshot(page, 'console-declare.png');
        if (process.env.UPDATE_SCREENSHOT) copyFileSync(shot, join(projectRoot, 'docs', 'console-declare.png'));
      }
      await page.getByRole('button', { name: 'Publish' }).click();
      await page.waitForURL(/\/internal\/incidents\/[a-z0-9]+\/$/);
      await check('incident');
      await page.getByRole('button', { name: 'Post update' }).click();
      await check('incident with errors');
      await page.getByRole('link', { name: 'Correct the last update' }).click();
      await check('correct the last update');
      await page.getByRole('button', { name: 'Save correction' }).click();
      await page.waitForURL(/\/internal\/incidents\/[a-z0-9]+\/$/);
      await label(page, 'what_happened').fill('Card payments failed for 20 minutes.');
      await label(page, 'resolution').fill('A renewed certificate is installed.');
      await page.getByRole('button', { name: 'Resolve' }).click();
      await check('resolved incident with the postmortem form');
      await page.goto(`${running.url}/internal/admin/channels/`);
      await page.getByRole('button', { name: 'Add channel' }).click();
      await expect(page.locator('.error-summary').isVisible()).resolves.toBe(true);
      await check('channels with errors');
      await label(page, 'Kind').selectOption('slack');
      await label(page, 'URL').fill('https://hooks.slack.com/services/T000/B000/XXXX');
      await label(page, 'Name').fill('#incidents');
      await page.getByRole('button', { name: 'Add channel' }).click();
      await page.getByRole('button', { name: 'Remove #incidents' }).waitFor();
      await check('channels');
      // Removed again at once: nothing published below queues a message for it.
      await page.getByRole('button', { name: 'Remove #incidents' }).click();
      await page.getByRole('button', { name: 'Remove #incidents' }).waitFor({ state: 'detached' });
      for (const path of ['components', 'stakeholders', 'subscribers', 'tokens', 'outbox']) {
        await page.goto(`${running.url}/internal/admin/${path}/`);
        await check(path);
      }
      await page.getByRole('link', { name: /^Read message \d+$/ }).first().click();
      await check('outbox message');
      await page.goto(`${running.url}/internal/maintenances/new/`);
      await check('schedule maintenance');
      await label(page, 'Title').fill('Database upgrade');
      // A window a month ahead: the API refuses starts more than 366 days out.
      const day = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
      await label(page, 'Starts (UTC)').fill(`${day}T02:00`);
      await label(page, 'Ends (UTC)').fill(`${day}T03:00`);
      await page.getByRole('checkbox', { name: 'API' }).check();
      await label(page, 'expected_impact').fill('Requests may pause for a few seconds.');
      // With JavaScript the maintenance wording previews as it is typed, as Declare's does.
      const live = page.locator('#live-preview #preview');
      await expect.poll(async () => ((await live.count()) ? await live.textContent() : ''), { timeout: 30_000 }).toContain('Requests may pause for a few seconds.');
      await page.getByRole('button', { name: 'Schedule' }).click();
      // The window's own page, not the form coming back with an error at /internal/maintenances/new/.
      await page.waitForURL((url) => /^\/internal\/maintenances\/[a-z0-9]+\/$/.test(url.pathname) && url.pathname !== '/internal/maintenances/new/');
      await check('maintenance');
      // The window's Post update previews as it is typed, too.
      await page.locator('#update-form-maintenance').getByLabel('expected_impact', { exact: true }).fill('Requests may pause for up to a minute.');
      const updateLive = page.locator('#update-preview #preview');
      await expect.poll(async () => ((await updateLive.count()) ? await updateLive.textContent() : ''), { timeout: 30_000 }).toContain('Requests may pause for up to a minute.');
      expect(checked.length).toBe(18);
      await context.close();
    }
  }, 240_000); // 18 pages checked with axe at two sizes: minutes on a busy two-core machine, under one on a quiet one.
});
