import { statSync } from 'node:fs';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PageRenderer } from '../api/site/astro.ts';
import { createSiteRenderer } from '../api/site/render.ts';
import { siteSettings } from '../api/site/start.ts';
import { declare, makeSiteFixture, postUpdate, type SiteFixture } from './site-fixture.ts';

let f: SiteFixture;
beforeEach(async () => {
  f = await makeSiteFixture();
});
afterEach(() => f.close());

const text = async (path: string) => (await f.get(path)).text();

describe('rendering on publish', () => {
  it('shows a declared SEV1 on / and in summary.json once its render is done', async () => {
    const incident = await declare(f, { title: 'Checkout is failing' });
    await f.rendered();
    expect(await text('/')).toContain('Checkout is failing');
    const summary = await (await f.get('/api/v2/summary.json')).json();
    expect(summary.incidents.map((i: { id: string }) => i.id)).toEqual([incident.id]);
    // One of three components down is a partial system outage, as Statuspage blends it (decision 011).
    expect(summary.status.indicator).toBe('major');
    expect(summary.components.find((c: { id: string }) => c.id === 'api').status).toBe('major_outage');
    expect(await text(`/incidents/${incident.id}/`)).toContain('Checkout is failing');
  });

  it('re-renders only what an update changed: its incident page, not other incidents', async () => {
    const first = await declare(f, { title: 'First problem' });
    await f.rendered();
    const live = await f.site.output.live();
    const firstPage = join(live!, 'incidents', first.id, 'index.html');
    const before = statSync(firstPage);
    const renders = f.renders.length;

    const second = await declare(f, { title: 'Second problem', components: [{ id: 'webhooks', status: 'partial_outage' }] });
    await f.rendered();
    const report = f.renders.slice(renders);
    expect(report.every((r) => !r.full)).toBe(true);
    expect(report.flatMap((r) => r.targets)).toContain(`incident:${second.id}`);
    expect(report.flatMap((r) => r.targets)).not.toContain(`incident:${first.id}`);
    const after = statSync(firstPage);
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
    expect(await text(`/incidents/${second.id}/`)).toContain('Second problem');
  });

  it('renders every one of ten concurrent publishes, in fewer renders than publishes', async () => {
    const renders = f.renders.length;
    const incidents = await Promise.all(Array.from({ length: 10 }, (_, i) => declare(f, { title: `Burst ${i}` })));
    await f.rendered();
    expect(f.renders.length - renders).toBeLessThan(10);
    const index = await text('/');
    for (let i = 0; i < 10; i++) expect(index).toContain(`Burst ${i}`);
    const files = f.files();
    for (const incident of incidents) expect(files.has(`incidents/${incident.id}/index.html`)).toBe(true);
  });

  it('coalesces a burst: publishes that arrive during a render make one more render, so ten make two', async () => {
    // A renderer whose first render is held open until nine more publishes have arrived.
    await f.site.close();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    const rendering = new Promise<void>((resolve) => (started = resolve));
    const gated: PageRenderer = {
      clientDir: f.site.pages.clientDir,
      renderPage: async (view) => {
        started();
        await held;
        return f.site.pages.renderPage(view);
      },
    };
    const reports: string[][] = [];
    const renderer = createSiteRenderer({
      db: f.services.db,
      clock: f.services.clock,
      settings: siteSettings(f.config),
      output: f.site.output,
      live: f.site.live,
      pages: gated,
      log: () => {},
      onRendered: (r) => reports.push(r.targets),
    });
    const unsubscribe = f.services.hook.subscribe((p) => renderer.publish(p));
    try {
      const first = await declare(f, { title: 'Burst first' });
      await rendering;
      const rest = [];
      for (let i = 0; i < 9; i++) rest.push(await declare(f, { title: `Burst more ${i}` }));
      release();
      await renderer.settled();
      expect(reports).toHaveLength(2);
      expect(reports[0]).toContain(`incident:${first.id}`);
      for (const incident of rest) expect(reports[1]).toContain(`incident:${incident.id}`);
      const index = await text('/');
      for (let i = 0; i < 9; i++) expect(index).toContain(`Burst more ${i}`);
    } finally {
      unsubscribe();
      await renderer.close();
    }
  });

  it('renders nothing public for an internal-only (SEV3) publish', async () => {
    const renders = f.renders.length;
    await declare(f, { title: 'Internal only', severity: 'SEV3' });
    await f.rendered();
    expect(f.renders.length).toBe(renders);
  });

  it('keeps the previous site serving when a render fails, logs it, and retries until it succeeds', async () => {
    // A second renderer over the same output whose page renderer fails on demand; the fixture's own one is closed.
    await f.site.close();
    let failing = true;
    const flaky: PageRenderer = {
      clientDir: f.site.pages.clientDir,
      renderPage: async (view) => {
        if (failing && view.kind === 'index') throw new Error('disk on fire');
        return f.site.pages.renderPage(view);
      },
    };
    const logs: string[] = [];
    const renderer = createSiteRenderer({
      db: f.services.db,
      clock: f.services.clock,
      settings: siteSettings(f.config),
      output: f.site.output,
      live: f.site.live,
      pages: flaky,
      log: (m) => logs.push(m),
    });
    const unsubscribe = f.services.hook.subscribe((p) => renderer.publish(p));
    try {
      const before = await text('/');
      await declare(f, { title: 'Rendered later' });
      await renderer.settled();
      expect(renderer.lastError?.message).toBe('disk on fire');
      expect(logs.join('\n')).toMatch(/site render failed \(attempt 1, retrying in (0\.\d+|1) s\)/);
      expect(await text('/')).toBe(before);
      expect(await text('/api/v2/summary.json')).not.toContain('Rendered later');

      failing = false;
      // The retry comes after a second's back-off, by itself.
      for (let waited = 0; renderer.lastError && waited < 10_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
      await renderer.settled();
      expect(renderer.lastError).toBeNull();
      expect(await text('/')).toContain('Rendered later');
      expect(await text('/api/v2/summary.json')).toContain('Rendered later');
    } finally {
      unsubscribe();
      await renderer.close();
    }
  });

  it('groups history by month in the page time zone, with links to the months around it', async () => {
    const old = await declare(f, { title: 'October trouble', startedAt: '2026-10-31T23:30:00Z' });
    await postUpdate(f, old.id, 'resolved');
    await f.rendered();
    const history = await text('/history/');
    expect(history).toContain('href="/history/2026-10/"');
    expect(history).toContain('href="/history/2026-11/"');
    const october = await text('/history/2026-10/');
    expect(october).toContain('October trouble');
    expect(october).toContain('Saturday 31 October 2026');
    const november = await text('/history/2026-11/');
    expect(november).toContain('href="/history/2026-10/"');
    // The clock is in November: its uptime is month-to-date and says so; October's is whole.
    expect(november).toContain('Uptime in November 2026 so far');
    expect(october).toMatch(/Uptime in October 2026</);
  });

  it('groups days by the configured time zone', async () => {
    await f.close();
    f = await makeSiteFixture({ TIME_ZONE: 'Europe/Berlin' });
    await declare(f, { title: 'Late night trouble', startedAt: '2026-10-31T23:30:00Z' });
    await f.rendered();
    // 23:30 UTC on 31 October is 00:30 on 1 November in Berlin: November's page, shown in Berlin time, the moment in UTC.
    const november = await text('/history/2026-11/');
    expect(november).toContain('Sunday 1 November 2026');
    expect(november).toContain('<time datetime="2026-10-31T23:30:00.000Z">1 Nov 2026, 00:30 CET</time>');
  });
});

describe('serving the rendered site', () => {
  it('answers with ETag and 304, short revalidated caching and strict security headers', async () => {
    const res = await f.get('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=10, must-revalidate');
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    // Scripts only from the site's own files (local-time.js), never inline.
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self';");
    expect(res.headers.get('content-security-policy')).not.toContain('unsafe-inline');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const etag = res.headers.get('etag')!;
    const again = await f.get('/', { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
  });

  it('serves the precompressed variant the client accepts, and the plain file otherwise', async () => {
    const plain = Buffer.from(await (await f.get('/')).arrayBuffer());
    const br = await f.get('/', { 'accept-encoding': 'gzip, br' });
    expect(br.headers.get('content-encoding')).toBe('br');
    expect(br.headers.get('vary')).toBe('Accept-Encoding');
    expect(brotliDecompressSync(Buffer.from(await br.arrayBuffer())).equals(plain)).toBe(true);
    const gz = await f.get('/', { 'accept-encoding': 'gzip' });
    expect(gz.headers.get('content-encoding')).toBe('gzip');
    expect(gunzipSync(Buffer.from(await gz.arrayBuffer())).equals(plain)).toBe(true);
    const none = await f.get('/', { 'accept-encoding': 'br;q=0, gzip;q=0' });
    expect(none.headers.get('content-encoding')).toBeNull();
    expect(br.headers.get('etag')).not.toBe(gz.headers.get('etag'));
  });

  it('serves the JSON to other origins, the feed as RSS, a 404 page, and a slash redirect', async () => {
    const json = await f.get('/api/v2/status.json');
    expect(json.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(json.headers.get('access-control-allow-origin')).toBe('*');
    expect((await f.get('/feed.xml')).headers.get('content-type')).toBe('application/rss+xml; charset=utf-8');
    const missing = await f.get('/no/such/page/');
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain('Page not found');
    const incident = await declare(f);
    await f.rendered();
    const bare = await f.get(`/incidents/${incident.id}`);
    expect(bare.status).toBe(301);
    expect(bare.headers.get('location')).toBe(`/incidents/${incident.id}/`);
  });

  it('serves the stylesheet precompressed and cached for good: its name changes when it does', async () => {
    const href = /<link rel="stylesheet" href="([^"]+)"/.exec(await text('/'))![1]!;
    expect(href).toMatch(/^\/_astro\/.+\.css$/);
    const css = await f.get(href, { 'accept-encoding': 'br' });
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(css.headers.get('content-encoding')).toBe('br');
    expect(css.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });

  it('never serves files outside the live release, hidden files or half-written ones', async () => {
    for (const path of ['/..%2f..%2fstatus.db', '/../current/index.html', '/%2e%2e/releases', '/.staging-1-x/index.html', '/index.html.abcd.tmp']) {
      const res = await f.get(path);
      expect([400, 404]).toContain(res.status);
    }
  });

  it('leaves the API its own 404s', async () => {
    const res = await f.get('/api/v1/nothing-here');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });
});

describe('the internal page', () => {
  it('refuses without auth, with a sign-in form', async () => {
    const res = await f.get('/internal/');
    expect(res.status).toBe(401);
    expect(res.headers.get('cache-control')).toBe('private, no-store');
    expect(await res.text()).toContain('name="token"');
    expect((await f.get('/internal/', { authorization: 'Bearer sdk_wrong' })).status).toBe(401);
  });

  it('shows every severity in the internal wording, with severity, roles, next update due and overdue marks', async () => {
    const incident = await declare(f, {
      title: 'Minor glitch',
      internalTitle: 'Cache node 7 flapping',
      severity: 'SEV3',
      roles: { ic: 'Dana Reyes', comms: 'Sam Okafor' },
      nextUpdateInMinutes: 30,
    });
    const viewer = { authorization: `Bearer ${f.tokens.viewer}` };
    let page = await (await f.get('/internal/', viewer)).text();
    expect(page).toContain('Cache node 7 flapping');
    expect(page).not.toContain('Minor glitch');
    expect(page).toContain('SEV3');
    expect(page).toContain('Dana Reyes');
    expect(page).not.toContain('Overdue');
    f.clock.advance(45 * 60_000);
    page = await (await f.get(`/internal/incidents/${incident.id}/`, viewer)).text();
    expect(page).toContain('Overdue by 15 minutes');
    expect(page).toContain('External wording (not published)');
    expect(page).toContain('noindex');
  });

  it('signs in with a token into an HttpOnly cookie scoped to /internal, and signs out', async () => {
    const res = await f.app.request('/internal/sign-in', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: f.tokens.viewer }).toString(),
    });
    expect(res.status).toBe(303);
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^status_session=[^;]+/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).toContain('Path=/internal');
    expect(cookie).toContain('Secure');
    const session = cookie.split(';')[0]!;
    expect((await f.get('/internal/', { cookie: session })).status).toBe(200);
    const out = await f.app.request('/internal/sign-out', { method: 'POST', headers: { cookie: session } });
    expect(out.status).toBe(303);
    expect((await f.get('/internal/', { cookie: session })).status).toBe(401);
  });

  it('refuses a wrong token at sign-in', async () => {
    const res = await f.app.request('/internal/sign-in', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'token=sdk_nope',
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(await res.text()).toContain('unknown or revoked');
  });
});
