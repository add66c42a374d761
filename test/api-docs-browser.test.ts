// The API reference in headless Chromium, under its real CSP: Scalar renders our operations and examples with every request kept on 127.0.0.1.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../api/config.ts';
import { startServer, type Running } from '../api/server.ts';
import { launchChromium } from './browser.ts';

let running: Running;
let browser: Browser;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'status-api-docs-'));
  running = await startServer(readConfig({ DATA_DIR: dir, PORT: '0', SEED_DEMO: 'false' }), { log: () => {}, schedulerIntervalMs: 0 });
  browser = await launchChromium(); // throws when Chromium is missing: CI installs it
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await running?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the API reference in a browser', () => {
  it('renders the operations and request examples from our OpenAPI document, fetching nothing from another origin', async () => {
    expect(new URL(running.url).hostname).toBe('127.0.0.1');
    // CSP enforced (no bypassCSP): a blocked script or style would leave the page empty or log a violation.
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const requested: string[] = [];
    context.on('request', (r) => requested.push(r.url()));
    const page = await context.newPage();
    const refused: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) refused.push(m.text());
    });
    page.on('pageerror', (e) => refused.push(`page error: ${e.message}`));

    await page.goto(`${running.url}/api/docs`);
    // The sidebar and the operations are drawn by the running Scalar bundle alone: the served HTML is an empty #app
    // plus the document as data. Open the incidents tag and the operation, as a reader would.
    const sidebar = page.locator('nav, aside').first();
    await sidebar.getByText('incidents', { exact: true }).first().click({ timeout: 60_000 });
    await sidebar.getByText('Declare an incident from a template', { exact: true }).first().click();
    const operation = page.getByRole('heading', { name: 'Declare an incident from a template' });
    await operation.first().waitFor();
    // The request example is the zod schema's .openapi({ example }), in the operation's request snippet (curl by default).
    const snippet = page.locator('pre, code').filter({ hasText: 'Checkout is failing for some customers' }).filter({ visible: true }).first();
    await snippet.waitFor({ timeout: 30_000 });
    const text = await snippet.innerText();
    expect(text).toContain('/api/v1/incidents');
    expect(text).toContain('"template": "investigating"');
    await expect(page.getByText('POST', { exact: true }).count()).resolves.toBeGreaterThan(0);

    expect(refused).toEqual([]);
    expect(requested.length).toBeGreaterThan(1);
    const elsewhere = requested.filter((u) => !u.startsWith(`${running.url}/`) && !u.startsWith('data:') && !u.startsWith('blob:'));
    expect(elsewhere, 'every request stays on the server under test').toEqual([]);
    expect(requested.some((u) => /\/api\/docs\/scalar-[0-9a-f]{16}\.js$/.test(u))).toBe(true);
    await context.close();
  }, 120_000);
});
