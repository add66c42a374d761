// What the browser tests share: headless Chromium launched one way, axe-core's findings, and screenshots kept in test-results/.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { readConfig } from '../api/config.ts';
import { startServer, type Running } from '../api/server.ts';
import { projectRoot } from '../api/site/astro.ts';

/** CI installs Chromium here; a machine without it fails the test file loudly rather than skipping it. */
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const artifacts = join(projectRoot, 'test-results');

/** Headless Chromium with nothing reaching past loopback (no updates, sync or background fetches). Throws when Chromium is missing. */
export async function launchChromium(): Promise<Browser> {
  assert.ok(existsSync(chromiumPath), `No Chromium at ${chromiumPath}: install it (apt-get install chromium) or set CHROMIUM_PATH.`);
  return chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** A real server and Chromium for a browser test file. */
export interface BrowserStage {
  running: Running;
  browser: Browser;
  /** Stops Chromium and the server and removes the data folder. */
  close(): Promise<void>;
}

/**
 * Starts the server on a fresh data folder (no demo seed, no scheduler, the outbox left to the test) on a free
 * loopback port, then launches Chromium.
 */
export async function startBrowserStage(prefix: string): Promise<BrowserStage> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const running = await startServer(readConfig({ DATA_DIR: dir, PORT: '0', SEED_DEMO: 'false', PUBLIC_URL: 'http://127.0.0.1' }), { log: () => {}, schedulerIntervalMs: 0, outboxPollMs: 0 });
  const browser = await launchChromium().catch(async (e: unknown) => {
    await running.close();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  });
  return {
    running,
    browser,
    async close() {
      await browser.close();
      await running.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface AxeViolation {
  id: string;
  impact: string;
  help: string;
  nodes: { target: string[] }[];
}

/**
 * axe-core's findings on the page as it stands, one line each ("id (impact): help at selectors").
 * Open pages with bypassCSP: our CSP forbids injected script. Throws if axe ran fewer than 10 rules.
 */
export async function axeViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: axePath });
  const { found, passed } = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(): Promise<{ violations: AxeViolation[]; passes: unknown[] }> } }).axe;
    const results = await axe.run();
    return { found: results.violations, passed: results.passes.length };
  });
  if (passed < 10) throw new Error(`axe checked only ${passed} rules: did it run?`);
  return found.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
}

/** Saves a full-page screenshot as test-results/<name>; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(artifacts, { recursive: true });
  const path = join(artifacts, name);
  await page.screenshot({ path, fullPage: true });
  return path;
}
