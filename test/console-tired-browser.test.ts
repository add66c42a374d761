// A console for a tired person, in Chromium with and without JavaScript: plain labels, the Template list following the Status, the preview above Publish, and a confirmation of what was sent to whom.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Running } from '../api/server.ts';
import { systemActor } from '../api/services/context.ts';
import { addStakeholder } from '../api/services/stakeholders.ts';
import { createToken } from '../api/services/tokens.ts';
import { axeViolations, startBrowserStage, type BrowserStage } from './browser.ts';

let stage: BrowserStage | undefined;
let running: Running;
let browser: Browser;
let comms = '';

const label = (page: Page, name: string) => page.getByLabel(name, { exact: true });
const optionValues = (page: Page, id: string) => page.locator(`#${id} option`).evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value));

beforeAll(async () => {
  stage = await startBrowserStage('status-console-tired-');
  ({ running, browser } = stage);
  comms = (await createToken(running.services, systemActor('test'), { role: 'comms', name: 'Casey Comms' })).token;
  const admin = (await createToken(running.services, systemActor('test'), { role: 'admin', name: 'Ada Admin' })).token;
  const res = await fetch(`${running.url}/api/v1/components`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'api', name: 'API' }),
  });
  if (res.status !== 201) throw new Error(`component: ${res.status}`);
  await addStakeholder(running.services, systemActor('test'), { email: 'ceo@example.com', name: 'Chief Executive' });
}, 120_000);

afterAll(async () => {
  await stage?.close();
});

describe.each([true, false])('the console in Chromium (JavaScript %s)', (javaScript) => {
  it('follows the Status with the Template list and its fields, shows the preview above Publish, and confirms what was sent to whom', async () => {
    const context = await browser.newContext({ javaScriptEnabled: javaScript, bypassCSP: true });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${running.url}/internal/`);
    await label(page, 'Token').fill(comms);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${running.url}/internal/`);
    await page.goto(`${running.url}/internal/declare/`);

    // The field is found by its plain words and by the variable's name (SPEC's fixed name): one and the same field.
    const byWords = await label(page, 'What users are seeing').getAttribute('name');
    expect(byWords).toBe('var.symptom');
    expect(await label(page, 'symptom').getAttribute('name')).toBe(byWords);

    const title = `Checkout is failing (${javaScript ? 'with' : 'without'} JavaScript)`;
    await label(page, 'Title').fill(title);
    await label(page, 'Severity').selectOption('SEV1');
    await label(page, 'What users are seeing').fill('Card payments fail at checkout.');
    await label(page, 'API').selectOption('major_outage');

    // The Status changes: the Template list follows it at once with JavaScript, on Preview without.
    await label(page, 'Status').selectOption('identified');
    if (javaScript) {
      await expect.poll(() => optionValues(page, 'template')).not.toContain('investigating');
      // The new template's fields arrive without pressing anything, and carry no error for what is not typed yet.
      await label(page, 'The cause').waitFor();
      await expect(page.locator('.field-error').count()).resolves.toBe(0);
    } else {
      await page.getByRole('button', { name: 'Preview' }).click();
      await expect(page.locator('.error-summary').count()).resolves.toBe(0);
      await expect(page.locator('#template-note').textContent()).resolves.toContain('Templates for Identified');
    }
    expect(await optionValues(page, 'template')).toContain('identified');
    expect(await label(page, 'Template').inputValue()).toBe('identified');
    // What was typed in a field of the same name is kept.
    expect(await label(page, 'What users can and cannot do').inputValue()).toBe('Card payments fail at checkout.');
    await label(page, 'The cause').fill('A certificate on the payment gateway expired.');
    await label(page, 'The fix and how far along it is').fill('A renewed certificate is being installed.');
    if (!javaScript) await page.getByRole('button', { name: 'Preview' }).click();
    const preview = page.locator('#preview');
    await expect.poll(async () => ((await preview.count()) ? await preview.textContent() : ''), { timeout: 10_000 }).toContain('A renewed certificate is being installed.');

    // The preview is read right before the button that sends it: above Publish, and nothing else between them.
    const shown = (await preview.boundingBox())!;
    const publish = (await page.getByRole('button', { name: 'Publish' }).boundingBox())!;
    expect(shown.y + shown.height).toBeLessThanOrEqual(publish.y);
    expect(publish.y - (shown.y + shown.height)).toBeLessThan(120);
    // axe runs as a script: it checks the pages in the JavaScript run (the markup is the same without).
    if (javaScript) expect(await axeViolations(page)).toEqual([]);

    await page.getByRole('button', { name: 'Publish' }).click();
    await page.waitForURL(/\/internal\/incidents\/[a-z0-9]+\/$/);
    const posted = page.locator('#posted');
    await expect(posted.isVisible()).resolves.toBe(true);
    const said = (await posted.textContent())!.replace(/\s+/g, ' ');
    expect(said).toContain('Identified update posted, by Casey Comms');
    expect(said).toContain('Executives: 1 briefing email queued');
    expect(said).toContain('Status page: published');
    if (javaScript) expect(await axeViolations(page)).toEqual([]);
    // A reload does not confirm it again.
    await page.reload();
    await expect(page.locator('#posted').count()).resolves.toBe(0);

    // Post update follows its Status the same way.
    await label(page, 'Status').selectOption('resolved');
    if (javaScript) {
      await expect.poll(() => optionValues(page, 'update-template')).toContain('resolved');
      await page.locator('#update-form').getByLabel('What happened', { exact: true }).waitFor();
    } else {
      await page.getByRole('button', { name: 'Preview' }).click();
      await expect(page.locator('#update-template-note').textContent()).resolves.toContain('Templates for Resolved');
    }
    expect(await label(page, 'Template').inputValue()).toBe('resolved');

    // A template that also posts the new status stays chosen, and the list is the new status's.
    await label(page, 'Template').selectOption('free-form');
    await label(page, 'Status').selectOption('monitoring');
    if (javaScript) await expect.poll(() => optionValues(page, 'update-template')).not.toContain('resolved');
    else await page.getByRole('button', { name: 'Preview' }).click();
    expect(await optionValues(page, 'update-template')).not.toContain('resolved');
    expect(await optionValues(page, 'update-template')).toContain('monitoring');
    expect(await label(page, 'Template').inputValue()).toBe('free-form');
    await page.locator('#update-form').getByLabel('Public message', { exact: true }).waitFor();
    expect(errors).toEqual([]);
    await context.close();
  });
});
