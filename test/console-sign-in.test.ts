// Signing in from a deep link (a reminder's /internal/incidents/{id}/) lands on that page, not on /internal/; only /internal/ paths are followed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConsoleFixture, origin, type ConsoleFixture } from './console-support.ts';
import { declare } from './fixture.ts';

let f: ConsoleFixture;
let incidentPath: string;

beforeAll(async () => {
  f = await makeConsoleFixture();
  incidentPath = `/internal/incidents/${(await declare(f)).id}/`;
}, 120_000);

afterAll(async () => {
  await f?.site.close();
  await f?.close();
});

const signIn = (form: Record<string, string>) =>
  f.app.request(`${origin}/internal/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin, 'sec-fetch-site': 'same-origin' },
    body: new URLSearchParams(form),
  });

/** The hidden `next` field of the sign-in form in `html`, or null. */
const nextField = (html: string) => /<input[^>]*name="next"[^>]*value="([^"]*)"/.exec(html)?.[1]?.replaceAll('&amp;', '&') ?? null;

describe('signing in from a link to an internal page', () => {
  it('shows the sign-in form at the linked address, remembering it', async () => {
    const res = await f.app.request(`${origin}${incidentPath}?from=reminder`);
    expect(res.status).toBe(401);
    const html = await res.text();
    expect(html).toContain('<label for="token">Token</label>');
    expect(nextField(html)).toBe(`${incidentPath}?from=reminder`);
  });

  it('lands on the linked incident page after a good token', async () => {
    const res = await signIn({ token: f.tokens.comms, next: incidentPath });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(incidentPath);
    const page = await f.app.request(`${origin}${res.headers.get('location')}`, { headers: { cookie: /status_session=[^;]+/.exec(res.headers.get('set-cookie')!)![0] } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Post update');
  });

  it('keeps the linked address when the token is wrong, so the second try still lands there', async () => {
    const res = await signIn({ token: 'sdk_wrong', next: incidentPath });
    expect(res.status).toBe(401);
    const html = await res.text();
    expect(html).toContain('That token is unknown or revoked.');
    expect(nextField(html)).toBe(incidentPath);
  });

  for (const next of ['https://evil.example/internal/', '//evil.example/internal/', '/api/v1/incidents', '/\\evil.example', 'javascript:alert(1)']) {
    it(`goes to /internal/ instead of ${next}`, async () => {
      const res = await signIn({ token: f.tokens.viewer, next });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/internal/');
    });
  }

  it('goes to /internal/ from the plain sign-in page', async () => {
    const page = await f.app.request(`${origin}/internal/sign-in`);
    expect(nextField(await page.text())).toBeNull();
    const res = await signIn({ token: f.tokens.viewer });
    expect(res.headers.get('location')).toBe('/internal/');
  });
});
