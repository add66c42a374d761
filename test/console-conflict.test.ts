// Two people on one incident: the second Post update, Resolve or maintenance update is refused with 409 and says why,
// keeps what was typed, and the form it comes back with publishes when pressed again (it carries the current version).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConsoleFixture, origin, type ConsoleFixture } from './console-support.ts';
import { declare, examples } from './fixture.ts';

let f: ConsoleFixture;

beforeAll(async () => {
  f = await makeConsoleFixture();
}, 120_000);

afterAll(async () => {
  await f?.site.close();
  await f?.close();
});

function post(path: string, form: Record<string, string>) {
  return f.app.request(`${origin}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: f.sessions.comms, origin, 'sec-fetch-site': 'same-origin' },
    body: new URLSearchParams(form),
  });
}

/** The hidden version field of the form with this id, as the page would post it. */
const versionIn = (html: string, formId: string) => new RegExp(`<form[^>]*id="${formId}"[\\s\\S]*?name="version" value="(\\d+)"`).exec(html)?.[1];

async function someoneElsePosts(id: string) {
  const res = await f.call('POST', `/api/v1/incidents/${id}/updates`, { token: 'comms', body: { status: 'investigating', template: 'investigating', variables: examples(f, 'investigating') } });
  expect(res.status).toBe(201);
}

const status = async (id: string) => (await f.services.db.$client.execute({ sql: 'SELECT status FROM incidents WHERE id = ?', args: [id] })).rows[0]!.status;

describe('a form posted after someone else changed the incident', () => {
  it('Post update: 409 naming what happened, the typed text kept, and pressing Post update again publishes', async () => {
    const { id } = await declare(f);
    await someoneElsePosts(id);
    const form = { version: '1', status: 'identified', template: 'identified', 'var.symptom': 'Card payments fail.', 'var.cause': 'Certificate expired.', 'var.fix': 'Renewing it.', action: 'publish' };
    const refused = await post(`/internal/incidents/${id}/updates`, form);
    expect(refused.status).toBe(409);
    const html = await refused.text();
    expect(html).toContain('Someone else changed this incident while you were typing');
    expect(html).toContain('press Post update again');
    expect(html).not.toContain('reload it');
    expect(html).toContain('Certificate expired.');
    expect(versionIn(html, 'update-form')).toBe('2');
    expect(await status(id)).toBe('investigating');

    const again = await post(`/internal/incidents/${id}/updates`, { ...form, version: versionIn(html, 'update-form')! });
    expect(again.status).toBe(303);
    expect(await status(id)).toBe('identified');
  });

  it('Resolve: the same, with the Resolve form carrying the current version', async () => {
    const { id } = await declare(f);
    await someoneElsePosts(id);
    const form = { version: '1', template: 'resolved', 'rvar.what_happened': 'Payments failed for 20 minutes.', 'rvar.resolution': 'Renewed.', allOperational: 'on', action: 'publish' };
    const refused = await post(`/internal/incidents/${id}/resolve`, form);
    expect(refused.status).toBe(409);
    const html = await refused.text();
    expect(html).toContain('press Resolve again');
    expect(html).toContain('Payments failed for 20 minutes.');
    expect(versionIn(html, 'resolve-form')).toBe('2');

    const again = await post(`/internal/incidents/${id}/resolve`, { ...form, version: versionIn(html, 'resolve-form')! });
    expect(again.status).toBe(303);
    expect(await status(id)).toBe('resolved');
  });

  it('a maintenance window\'s Post update: the same', async () => {
    const m = await f.call('POST', '/api/v1/maintenances', {
      token: 'comms',
      body: { title: 'Database upgrade', scheduledFor: '2026-12-01T02:00:00Z', scheduledUntil: '2026-12-01T03:00:00Z', components: ['api'], variables: examples(f, 'maintenance-scheduled') },
    });
    expect(m.status).toBe(201);
    const { id } = (await m.json()) as { id: string };
    const other = await f.call('POST', `/api/v1/maintenances/${id}/updates`, { token: 'comms', body: { status: 'in_progress', template: 'maintenance-started', variables: examples(f, 'maintenance-started') } });
    expect(other.status).toBe(201);
    const form = { version: '1', status: 'completed', template: 'maintenance-completed', ...Object.fromEntries(Object.entries(examples(f, 'maintenance-completed')).map(([k, v]) => [`var.${k}`, v])), action: 'publish' };
    const refused = await post(`/internal/maintenances/${id}/updates`, form);
    expect(refused.status).toBe(409);
    const html = await refused.text();
    expect(html).toContain('press Post update again');
    const version = versionIn(html, 'update-form-maintenance');
    expect(version).toBe('2');
    const again = await post(`/internal/maintenances/${id}/updates`, { ...form, version: version! });
    expect(again.status).toBe(303);
  });
});
