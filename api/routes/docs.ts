// GET /api/v1/openapi.json, generated from the zod schemas, and the interactive reference (Scalar) at /api/docs.
import { randomBytes } from 'node:crypto';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { Scalar } from '@scalar/hono-api-reference';
import { Hono } from 'hono';

function openApiDocument(api: OpenAPIHono<any>) {
  return api.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: 'Status page API',
      version: '1',
      description:
        'Publish incident and maintenance updates from templates. Authenticate with `Authorization: Bearer <token>`. ' +
        'Errors are application/problem+json (RFC 9457). POSTs accept an Idempotency-Key; updates accept If-Match.',
    },
    servers: [{ url: '/api/v1' }],
  });
}

/** Where the reference's script comes from; the CSP of /api/docs allows it there and nowhere else. */
export const referenceScriptOrigin = 'https://cdn.jsdelivr.net';

/**
 * The reference page's policy: its inline start-up script and styles carry a per-response nonce, the bundle comes from
 * `referenceScriptOrigin`, and it may fetch only from us (the document, and "try it" requests). Every other page keeps
 * the site's no-script policy.
 */
export function docsPolicy(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}' ${referenceScriptOrigin}`,
    `style-src 'self' 'unsafe-inline'`,
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export function docsRoutes(api: OpenAPIHono<any>) {
  let cached: ReturnType<typeof openApiDocument> | undefined;
  const doc = () => (cached ??= openApiDocument(api));
  return new Hono()
    .get('/api/v1/openapi.json', (c) => c.json(doc()))
    .get('/api/docs', async (c, next) => {
      const nonce = randomBytes(16).toString('base64');
      c.header('content-security-policy', docsPolicy(nonce));
      c.header('x-content-type-options', 'nosniff');
      c.header('referrer-policy', 'strict-origin-when-cross-origin');
      // The document goes inline: the reference needs no second request, and the page names every route even before its script runs.
      const render = Scalar({ content: doc(), pageTitle: 'Status page API reference', nonce, withDefaultFonts: false, hideClientButton: true });
      return render(c, next);
    });
}
