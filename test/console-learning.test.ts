// Learning from incidents in Chromium: the Action items and Reports screens, the incident's items, and the public page's uptime and postmortem, each axe-clean.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Running } from '../api/server.ts';
import { createToken } from '../api/services/tokens.ts';
import { axeViolations, screenshot, startBrowserStage, type BrowserStage } from './browser.ts';
import { until } from './until.ts';
import { systemActor } from '../api/services/context.ts';

type Role = 'admin' | 'comms' | 'viewer';

let running: Running;
let browser: Browser;
let stage: BrowserStage | undefined;
const tokens: Record<Role, string> = { admin: '', comms: '', viewer: '' };
let resolvedId = '';

async function api(method: string, path: string, body?: unknown, who: Role = 'comms') {
  const res = await fetch(`${running.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${tokens[who]}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  expect(res.status, `${method} ${path}: ${await res.clone().text()}`).toBeLessThan(300);
  return res.json() as Promise<{ id: string }>;
}

async function signedIn(who: Role): Promise<Page> {
  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  await page.goto(`${running.url}/internal/`);
  await page.getByLabel('Token', { exact: true }).fill(tokens[who]);
  await page.getByRole('button', systemActor('Sign in')).click();
  await page.waitForURL(`${running.url}/internal/`);
  return page;
}

beforeAll(async () => {
  stage = await startBrowserStage('status-learning-');
  ({ running, browser } = stage);
  for (const role of ['admin', 'comms', 'viewer'] as const) tokens[role] = (await createToken(running.services, systemActor('test'), { role, name: `${role} person` })).token;
  await api('POST', '/components', { id: 'api', name: 'API' }, 'admin');
  await api('POST', '/components', { id: 'dashboard', name: 'Dashboard' }, 'admin');
  const started = new Date(Date.now() - 2 * 60 * 60_000).toISOString();
  const incident = await api('POST', '/incidents', {
    title: 'Checkout errors', internalTitle: 'Payments pool exhausted', severity: 'SEV1', template: 'investigating',
    variables: { symptom: 'Card payments fail.' }, components: [{ id: 'api', status: 'major_outage' }], startedAt: started,
  });
  resolvedId = incident.id;
  await api('POST', `/incidents/${incident.id}/updates`, { status: 'resolved', template: 'resolved', variables: { what_happened: 'Payments failed.', resolution: 'Pool resized.' } });
  await api('PUT', `/incidents/${incident.id}/postmortem`, {
    externalSummary: 'A connection pool ran out during a traffic peak; we resized it.',
    internalBody: 'Timeline and contributing factors.',
    actionItems: [
      { title: 'Alert on pool saturation', owner: 'sam@example.com', dueOn: '2099-12-01', priority: 'P1' },
      { title: 'Load test the payments path', owner: 'kim@example.com', dueOn: '2020-01-01' },
    ],
    variables: { action_items: 'Two items.' },
  });
}, 120_000);

afterAll(async () => {
  await stage?.close();
});

describe('the Action items screen', () => {
  it('shows overdue, open and done items by owner; comms add one and mark one done through the forms; axe finds nothing', async () => {
    const page = await signedIn('comms');
    await page.getByRole('link', { name: 'Action items', exact: true }).click();
    await page.waitForURL(`${running.url}/internal/action-items/`);
    const overdue = page.locator('section', { has: page.getByRole('heading', { name: /^Overdue/ }) });
    await expect(overdue.getByRole('table', { name: /kim@example.com/ }).textContent()).resolves.toContain('Load test the payments path');
    expect(await axeViolations(page)).toEqual([]);

    await page.getByLabel('Incident', { exact: true }).selectOption({ index: 0 });
    await page.getByLabel('Action item', { exact: true }).fill('Page the payments on-call on pool alerts');
    await page.getByLabel('Owner email', { exact: true }).fill('lee@example.com');
    await page.getByLabel('Due on', { exact: true }).fill('2099-06-01');
    await page.getByRole('button', systemActor('Add action item')).click();
    await page.waitForURL(`${running.url}/internal/action-items/`);
    const open = page.locator('section', { has: page.getByRole('heading', { name: /^Open/ }) });
    await expect(open.getByRole('table', { name: /lee@example.com/ }).textContent()).resolves.toContain('Page the payments on-call on pool alerts');

    await page.getByRole('button', systemActor('Mark “Alert on pool saturation” done')).click();
    await page.waitForURL(`${running.url}/internal/action-items/`);
    const done = page.locator('section', { has: page.getByRole('heading', { name: /^Done/ }) });
    await expect(done.textContent()).resolves.toContain('Alert on pool saturation');
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'action-items.png');
    await page.context().close();
  });

  it('refuses a bad owner with the error beside the field and stores nothing', async () => {
    const page = await signedIn('comms');
    await page.goto(`${running.url}/internal/action-items/`);
    await page.getByLabel('Action item', { exact: true }).fill('Something');
    await page.getByLabel('Owner email', { exact: true }).fill('Payments team');
    await page.getByLabel('Due on', { exact: true }).fill('2099-06-01');
    await page.getByRole('button', systemActor('Add action item')).click();
    await expect(page.locator('#ai-owner-error').textContent()).resolves.toContain('email');
    expect((await running.services.db.$client.execute("SELECT count(*) AS n FROM action_items WHERE title = 'Something'")).rows[0]!.n).toBe(0);
    expect(await axeViolations(page)).toEqual([]);
    await page.context().close();
  });

  it('lets a viewer read the items but offers no form or button, and refuses a viewer’s POST with 403', async () => {
    const page = await signedIn('viewer');
    await page.goto(`${running.url}/internal/action-items/`);
    await expect(page.getByRole('button', { name: /Mark .* done/ }).count()).resolves.toBe(0);
    await expect(page.getByRole('button', systemActor('Add action item')).count()).resolves.toBe(0);
    // The form a comms lead would post, from the page's own origin, with the viewer's session.
    const res = await page.request.post(`${running.url}/internal/action-items/`, { form: { title: 'x', owner: 'a@example.com', dueOn: '2099-01-01', incident: resolvedId }, headers: { origin: running.url } });
    expect(res.status()).toBe(403);
    expect((await running.services.db.$client.execute("SELECT count(*) AS n FROM action_items WHERE title = 'x'")).rows[0]!.n).toBe(0);
    await page.context().close();
  });

  it('shows the incident’s items and their state on its internal page', async () => {
    const page = await signedIn('viewer');
    await page.goto(`${running.url}/internal/incidents/${resolvedId}/`);
    const table = page.getByRole('table').filter({ hasText: 'Load test the payments path' });
    await expect(table.textContent()).resolves.toMatch(/Open\s*\(overdue\)/);
    expect(await axeViolations(page)).toEqual([]);
    await page.context().close();
  });
});

describe('the Reports screen', () => {
  it('draws each figure as an SVG chart with its data as a table, links the CSV, and axe finds nothing', async () => {
    const page = await signedIn('viewer');
    await page.getByRole('link', { name: 'Reports', exact: true }).click();
    await page.waitForURL(`${running.url}/internal/reports/`);
    const charts = page.locator('img.chart');
    await expect(charts.count()).resolves.toBe(5);
    const src = (await charts.first().getAttribute('src'))!;
    const svg = Buffer.from(src.replace(/^data:image\/svg\+xml;base64,/, ''), 'base64').toString();
    expect(svg).toMatch(/^<svg[^>]+xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain('SEV1');
    // The chart drew: the image has its intrinsic size once loaded.
    await until(async () => (await charts.first().evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)) === 720, 'the chart image to load');
    await expect(page.getByRole('table', systemActor('Incidents by severity: the figures')).textContent()).resolves.toContain('SEV1');
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'reports.png');
    const href = (await page.getByRole('link', { name: /Download the incidents/ }).getAttribute('href'))!;
    const csv = await page.request.get(`${running.url}${href}`);
    expect(csv.headers()['content-type']).toContain('text/csv');
    expect(await csv.text()).toContain(resolvedId);
    await page.context().close();
  });

  it('answers a period that makes no sense with 422 and the reason', async () => {
    const page = await signedIn('viewer');
    const res = await page.goto(`${running.url}/internal/reports/?from=2026-12-01&to=2026-01-01`);
    expect(res!.status()).toBe(422);
    await expect(page.getByRole('alert').textContent()).resolves.toContain('to');
    await page.context().close();
  });
});

describe('the public page', () => {
  it('shows each component’s 90-day uptime and a resolved incident with its postmortem as Resolved; axe finds nothing', async () => {
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    await until(async () => (await (await fetch(`${running.url}/`)).text()).includes('% uptime'), 'the front page to show uptime');
    await page.goto(`${running.url}/`);
    await expect(page.locator('[data-component="api"] .uptime').textContent()).resolves.toMatch(/^99\.\d\d % uptime$/);
    await expect(page.locator('[data-component="dashboard"] .uptime').textContent()).resolves.toBe('100.00 % uptime');
    expect(await axeViolations(page)).toEqual([]);

    await page.goto(`${running.url}/incidents/${resolvedId}/`);
    const meta = (await page.locator('main p.meta').first().textContent())!;
    expect(meta).toContain('Resolved');
    expect(meta).not.toContain('Postmortem');
    expect(meta).not.toContain('Major outage');
    await expect(page.getByRole('heading', { name: 'Postmortem', level: 2 }).count()).resolves.toBe(1);
    await expect(page.locator('body').textContent()).resolves.not.toContain('read the full review at');
    expect(await axeViolations(page)).toEqual([]);

    const month = new Date().toISOString().slice(0, 7);
    await page.goto(`${running.url}/history/${month}/`);
    await expect(page.getByRole('table').filter({ hasText: 'API' }).textContent()).resolves.toMatch(/% uptime/);
    expect(await axeViolations(page)).toEqual([]);
    await context.close();
  });
});
