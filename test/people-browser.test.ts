// People in Chromium, on a real server with a real SMTP sink: a new team's first hour from the start-up line, a viewer's briefing on a 390×844 phone, and the 3 a.m. drill from a reminder's link; axe on every new page.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../api/clock.ts';
import { readConfig } from '../api/config.ts';
import { startServer, type Running } from '../api/server.ts';
import { systemActor } from '../api/services/context.ts';
import { addMember } from '../api/services/members.ts';
import { createToken } from '../api/services/tokens.ts';
import { axeViolations, launchChromium, screenshot } from './browser.ts';
import { startSmtpSink, type SmtpSink } from './smtp-sink.ts';
import { until } from './until.ts';

let running: Running;
let browser: Browser;
let sink: SmtpSink;
let dir: string;
let adminToken = '';
const logs: string[] = [];
const clock = manualClock(new Date(Math.floor(Date.now() / 60_000) * 60_000));

/** A free loopback port, so PUBLIC_URL (the links in emails and the start-up line) is the address Chromium opens. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Counts what a person does: opening a link, every click, every field filled or chosen. */
class Steps {
  count = 0;
  async open(page: Page, url: string) {
    this.count++;
    await page.goto(url);
  }
  async click(target: Locator) {
    this.count++;
    await target.click();
  }
  async fill(target: Locator, value: string) {
    this.count++;
    await target.fill(value);
  }
  async choose(target: Locator, value: string) {
    this.count++;
    await target.selectOption(value);
  }
}

const label = (page: Page, name: string) => page.getByLabel(name, { exact: true });

/** The newest link of `kind` mailed to `address` after `since` messages, waiting for the outbox to send it. */
async function mailed(address: string, pattern: RegExp, since = 0): Promise<string> {
  let found: string | undefined;
  await until(
    async () => {
      const mails = (await sink.parsed()).slice(since).filter((m) => m.envelopeTo.includes(address));
      found = mails.map((m) => pattern.exec(m.text ?? '')?.[0]).filter(Boolean).at(-1);
      return Boolean(found);
    },
    `an email to ${address} matching ${pattern}`,
    20_000,
    50,
  );
  return found!;
}
const signInLink = /http:\/\/127\.0\.0\.1:\d+\/internal\/sign-in\/link\?token=[A-Za-z0-9_%-]+/;

async function expectAxeClean(page: Page, what: string) {
  expect(await axeViolations(page), what).toEqual([]);
}

beforeAll(async () => {
  sink = await startSmtpSink();
  dir = mkdtempSync(join(tmpdir(), 'status-people-'));
  const port = await freePort();
  const config = readConfig({ DATA_DIR: dir, PORT: String(port), SEED_DEMO: 'false', PUBLIC_URL: `http://127.0.0.1:${port}`, SMTP_URL: sink.url, COMMS_EMAIL: 'duty@example.com' });
  running = await startServer(config, { clock, log: (m) => logs.push(m), schedulerIntervalMs: 0, outboxPollMs: 100 });
  browser = await launchChromium();
  adminToken = (await createToken(running.services, systemActor('test'), { role: 'admin', name: 'Setup script' })).token;
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await running?.close();
  await sink?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('people in Chromium', () => {
  it("a new team's first hour: start-up's admin link → first admin → a comms member by email link → the first public update", async () => {
    const started = performance.now();
    const steps = new Steps();
    const firstRun = logs.filter((l) => /first admin/.test(l));
    expect(firstRun).toHaveLength(1);
    const adminLink = /http:\/\/\S+/.exec(firstRun[0]!)![0];

    const admin = await (await browser.newContext({ bypassCSP: true })).newPage();
    await steps.open(admin, adminLink);
    await expectAxeClean(admin, 'first admin page');
    await steps.fill(label(admin, 'Name'), 'Ada Lovelace');
    await steps.fill(label(admin, 'Email'), 'ada@example.com');
    await steps.click(admin.getByRole('button', { name: 'Sign in' }));
    await admin.waitForURL(`${running.url}/internal/`);
    const adminSignedIn = steps.count;

    // One component, as a new team would add first.
    await steps.click(admin.getByRole('link', { name: 'Components' }));
    await steps.fill(label(admin, 'ID'), 'api');
    await steps.fill(label(admin, 'Name'), 'API');
    await steps.click(admin.getByRole('button', { name: 'Add component' }));
    await admin.getByRole('heading', { name: /^API/ }).waitFor();

    await steps.click(admin.getByRole('link', { name: 'Members' }));
    await expectAxeClean(admin, 'Members screen');
    await steps.fill(label(admin, 'Name'), 'Casey Comms');
    await steps.fill(label(admin, 'Email'), 'casey@example.com');
    // Role defaults to comms: the common case needs no choice.
    expect(await label(admin, 'Role').inputValue()).toBe('comms');
    await steps.click(admin.getByRole('button', { name: 'Add member' }));
    await expect(admin.getByRole('status').textContent()).resolves.toContain('A sign-in link is on its way to casey@example.com');
    await expectAxeClean(admin, 'Members screen with a member');
    await screenshot(admin, 'members.png');
    const memberAdded = steps.count;

    const comms = await (await browser.newContext({ bypassCSP: true })).newPage();
    await steps.open(comms, await mailed('casey@example.com', signInLink));
    await expectAxeClean(comms, 'sign-in link page');
    await steps.click(comms.getByRole('button', { name: 'Sign in' }));
    await comms.waitForURL(`${running.url}/internal/`);
    const commsSignedIn = steps.count;
    // Comms has the console, not the admin screens.
    await expect(comms.getByRole('link', { name: 'Declare incident' }).count()).resolves.toBeGreaterThan(0);
    await expect(comms.getByRole('link', { name: 'Members' }).count()).resolves.toBe(0);

    await steps.click(comms.getByRole('link', { name: 'Declare incident' }));
    await steps.fill(label(comms, 'Title'), 'Checkout is failing');
    await steps.choose(label(comms, 'Severity'), 'SEV1');
    await steps.fill(label(comms, 'symptom'), 'Card payments fail at checkout.');
    await steps.choose(label(comms, 'API'), 'major_outage');
    await steps.click(comms.getByRole('button', { name: 'Publish' }));
    await comms.waitForURL(/\/internal\/incidents\/[a-z0-9]+\/$/);
    const id = /incidents\/([a-z0-9]+)\//.exec(comms.url())![1]!;
    const publicPage = await comms.context().newPage();
    await expect
      .poll(async () => ((await publicPage.goto(`${running.url}/incidents/${id}/`))?.status() === 200 ? publicPage.locator('h1').textContent() : null), { timeout: 15_000 })
      .toBe('Checkout is failing');
    const ms = Math.round(performance.now() - started);
    const author = await running.services.db.$client.execute({ sql: "SELECT actor FROM audit_events WHERE action = 'update.published' AND subject_id = ?", args: [id] });
    expect(author.rows[0]?.actor).toBe('Casey Comms');
    console.log(
      `first hour: ${steps.count} steps in ${ms} ms (first admin signed in after ${adminSignedIn}; comms member added after ${memberAdded}; ` +
        `comms signed in after ${commsSignedIn}; first public update after ${steps.count})`,
    );
    await admin.context().close();
    await comms.context().close();
  });

  it('a viewer lands on a briefing with the five headings inside the first screen of a 390×844 phone, and no forms or menu', async () => {
    const api = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
    const res = await fetch(`${running.url}/api/v1/incidents`, {
      method: 'POST',
      headers: api,
      body: JSON.stringify({
        title: 'Logins are slow',
        internalTitle: 'Auth database failover stuck',
        severity: 'SEV2',
        template: 'investigating',
        variables: { symptom: 'Signing in takes up to a minute for some customers.' },
        components: [{ id: 'api', status: 'partial_outage' }],
        roles: { ic: { name: 'Ira Commander', email: 'ira@example.com' } },
      }),
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    await addMember(running.services, systemActor('test'), { email: 'cleo@example.com', name: 'Cleo Exec', role: 'viewer' });

    const context: BrowserContext = await browser.newContext({ viewport: { width: 390, height: 844 }, bypassCSP: true });
    const page = await context.newPage();
    const before = (await sink.parsed()).length;
    await page.goto(`${running.url}/internal/`);
    await expectAxeClean(page, 'sign-in page');
    await label(page, 'Email').fill('cleo@example.com');
    await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
    await page.getByRole('heading', { name: 'Check your inbox' }).waitFor();
    await expectAxeClean(page, 'check your inbox');
    await page.goto(await mailed('cleo@example.com', signInLink, before));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${running.url}/internal/`);

    for (const path of ['/internal/', `/internal/incidents/${id}/`]) {
      await page.goto(`${running.url}${path}`);
      const boxes: Record<string, number> = {};
      for (const heading of ['What\u2019s happening', 'Who is affected', 'What customers were told', 'Next update', 'Incident commander']) {
        const box = await page.getByRole('heading', { name: heading, exact: true }).first().boundingBox();
        expect(box, `${heading} on ${path}`).not.toBeNull();
        boxes[heading] = Math.round(box!.y + box!.height);
        expect(box!.y + box!.height, `${heading} on ${path} ends at ${Math.round(box!.y + box!.height)} px`).toBeLessThanOrEqual(844);
      }
      const text = await page.locator(`.briefing[data-incident="${id}"]`).textContent();
      expect(text).toContain('Auth database failover stuck');
      expect(text).toContain('API (partial outage)');
      expect(text).toContain('Signing in takes up to a minute');
      expect(text).toContain('Ira Commander');
      await expect(page.locator('form[action*="/updates"], form[action*="/resolve"], form[action*="/declare"]').count()).resolves.toBe(0);
      await expect(page.getByRole('button', { name: /Publish|Post update|Resolve/ }).count()).resolves.toBe(0);
      await expect(page.getByRole('link', { name: /Declare incident|Members|API tokens|Components/ }).count()).resolves.toBe(0);
      await expectAxeClean(page, `briefing ${path}`);
      console.log(`briefing ${path} at 390×844: headings end at ${JSON.stringify(boxes)} px`);
    }
    await screenshot(page, 'briefing-phone.png');
    // The Declare form is not for a viewer either: 403, not a form that fails after it is filled in.
    expect((await page.goto(`${running.url}/internal/declare/`))?.status()).toBe(403);
    await context.close();
  });

  it('the 3 a.m. drill from a reminder: signed out, the emailed link, sign-in by email, and the next update in at most 4 interactions after sign-in', async () => {
    const api = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
    const res = await fetch(`${running.url}/api/v1/incidents`, {
      method: 'POST',
      headers: api,
      body: JSON.stringify({
        title: 'Webhooks are delayed',
        severity: 'SEV1',
        template: 'investigating',
        variables: { symptom: 'Webhook deliveries arrive minutes late.' },
        components: [{ id: 'api', status: 'degraded_performance' }],
        roles: { comms: { name: 'Casey Comms', email: 'casey@example.com' } },
      }),
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    const before = (await sink.parsed()).length;
    // SEV1 promises an update in 15 minutes; the reminder goes 5 minutes before.
    clock.advance(11 * 60_000);
    const reminder = await mailed('casey@example.com', new RegExp(`http://127\\.0\\.0\\.1:\\d+/internal/incidents/${id}/post-update`), before);

    const started = performance.now();
    const page = await (await browser.newContext({ viewport: { width: 1200, height: 800 } })).newPage();
    await page.goto(reminder);
    await label(page, 'Email').fill('casey@example.com');
    await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
    await page.getByRole('heading', { name: 'Check your inbox' }).waitFor();
    await page.goto(await mailed('casey@example.com', signInLink, before));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${running.url}/internal/incidents/${id}/#post-update-heading`);
    const beforeSignIn = 4;

    const drill = new Steps();
    // Post update is at the top of the screen it lands on.
    const heading = await page.getByRole('heading', { name: 'Post update', exact: true }).boundingBox();
    expect(heading!.y).toBeGreaterThanOrEqual(0);
    expect(heading!.y).toBeLessThan(200);
    const form = page.locator('section[aria-labelledby="post-update-heading"]');
    await drill.choose(form.getByLabel('Status', { exact: true }), 'identified');
    await drill.fill(form.getByLabel('cause', { exact: true }), 'A queue consumer stopped after a deploy.');
    await drill.fill(form.getByLabel('fix', { exact: true }), 'We restarted it and are draining the backlog.');
    await drill.click(form.getByRole('button', { name: 'Post update' }));
    await page.waitForURL(`${running.url}/internal/incidents/${id}/`);
    const status = await running.services.db.$client.execute({ sql: 'SELECT status FROM incidents WHERE id = ?', args: [id] });
    expect(status.rows[0]?.status).toBe('identified');
    console.log(`3 a.m. drill from a reminder: ${beforeSignIn} interactions to sign in, ${drill.count} after sign-in to the next update, ${Math.round(performance.now() - started)} ms`);
    expect(drill.count).toBeLessThanOrEqual(4);
    await page.context().close();
  });
});
