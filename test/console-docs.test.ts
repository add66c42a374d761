// The API reference at /api/docs: Scalar from the OpenAPI document, its script served by us and allowed by the CSP of that route alone, examples from the zod schemas.
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSiteFixture, type SiteFixture } from './site-fixture.ts';

let f: SiteFixture;
beforeAll(async () => {
  f = await makeSiteFixture();
}, 120_000);
afterAll(() => f?.close());

describe('the API reference', () => {
  it('serves Scalar with a per-response nonce and its bundle from our origin, allowing script on /api/docs only', async () => {
    const first = await f.get('/api/docs');
    expect(first.status).toBe(200);
    const csp = first.headers.get('content-security-policy')!;
    const nonce = /'nonce-([^']+)'/.exec(csp)![1]!;
    expect(csp).toContain(`script-src 'self' 'nonce-${nonce}'`);
    // No third-party origin anywhere in the policy: the reference must work with no internet.
    expect(csp).not.toMatch(/https?:/);
    const html = await first.text();
    const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
    expect(scripts.length).toBeGreaterThan(0);
    for (const tag of scripts) expect(tag).toContain(`nonce="${nonce}"`);
    expect(html).not.toMatch(/(src|href)="https?:/);
    const src = /<script src="(\/api\/docs\/scalar-[0-9a-f]{16}\.js)"/.exec(html)?.[1];
    expect(src, 'the bundle is served under /api/docs/ at a content-hashed path').toBeDefined();
    expect(html).toContain('/incidents/{id}/updates');
    const second = await f.get('/api/docs');
    expect(second.headers.get('content-security-policy')).not.toContain(nonce);
    for (const path of ['/', '/incidents/nothing/', '/internal/sign-in']) {
      const other = (await f.get(path)).headers.get('content-security-policy') ?? '';
      expect(other, path).not.toContain('nonce-');
    }

    const plain = await f.get(src!, { 'accept-encoding': 'identity' });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(plain.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const body = Buffer.from(await plain.arrayBuffer());
    expect(body.toString('utf8')).toContain('createApiReference');
    const zipped = await f.get(src!, { 'accept-encoding': 'gzip' });
    expect(zipped.headers.get('content-encoding')).toBe('gzip');
    expect(gunzipSync(Buffer.from(await zipped.arrayBuffer())).equals(body)).toBe(true);
    // A stale hash is not served: a cached page never gets a different bundle under its old name.
    expect((await f.get('/api/docs/scalar-0000000000000000.js')).status).toBe(404);
  });

  it('takes request examples from the zod schemas', async () => {
    const doc = (await (await f.get('/api/v1/openapi.json')).json()) as { components: { schemas: Record<string, { example?: Record<string, unknown> }> } };
    expect(doc.components.schemas.DeclareIncident!.example).toMatchObject({ severity: 'SEV1', template: 'investigating' });
    expect(doc.components.schemas.PostUpdate!.example).toMatchObject({ status: 'identified' });
    expect(doc.components.schemas.PreviewDeclaration!.example).toMatchObject({ severity: 'SEV1' });
  });
});
