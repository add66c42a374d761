// The API reference at /api/docs: Scalar from the OpenAPI document, its script allowed by the CSP of that route alone, examples from the zod schemas.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceScriptOrigin } from '../api/routes/docs.ts';
import { makeSiteFixture, type SiteFixture } from './site-fixture.ts';

let f: SiteFixture;
beforeAll(async () => {
  f = await makeSiteFixture();
}, 120_000);
afterAll(() => f?.close());

describe('the API reference', () => {
  it('serves Scalar with a per-response nonce, allowing its script on /api/docs only', async () => {
    const first = await f.get('/api/docs');
    expect(first.status).toBe(200);
    const csp = first.headers.get('content-security-policy')!;
    const nonce = /'nonce-([^']+)'/.exec(csp)![1]!;
    expect(csp).toContain(`script-src 'nonce-${nonce}' ${referenceScriptOrigin}`);
    const html = await first.text();
    const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
    expect(scripts.length).toBeGreaterThan(0);
    for (const tag of scripts) expect(tag).toContain(`nonce="${nonce}"`);
    expect(html).toContain(`src="${referenceScriptOrigin}/`);
    expect(html).toContain('/incidents/{id}/updates');
    const second = await f.get('/api/docs');
    expect(second.headers.get('content-security-policy')).not.toContain(nonce);
    for (const path of ['/', '/incidents/nothing/', '/internal/sign-in']) {
      const other = (await f.get(path)).headers.get('content-security-policy') ?? '';
      expect(other, path).not.toContain(referenceScriptOrigin);
      expect(other, path).not.toContain('nonce-');
    }
  });

  it('takes request examples from the zod schemas', async () => {
    const doc = (await (await f.get('/api/v1/openapi.json')).json()) as { components: { schemas: Record<string, { example?: Record<string, unknown> }> } };
    expect(doc.components.schemas.DeclareIncident!.example).toMatchObject({ severity: 'SEV1', template: 'investigating' });
    expect(doc.components.schemas.PostUpdate!.example).toMatchObject({ status: 'identified' });
    expect(doc.components.schemas.PreviewDeclaration!.example).toMatchObject({ severity: 'SEV1' });
  });
});
