// GET /api/v1/openapi.json, generated from the zod schemas, and the interactive reference (Scalar) at /api/docs, its script served by us.
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
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

/**
 * The reference page's policy: its inline start-up script and styles carry a per-response nonce, the bundle is ours
 * ('self', under /api/docs/), and it may fetch only from us (the document, and "try it" requests). No third-party
 * origin: a status page is read when other services are down, and a self-hosted install may have no internet.
 * Every other page keeps the site's no-script policy.
 */
export function docsPolicy(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'self' 'nonce-${nonce}'`,
    `style-src 'self' 'unsafe-inline'`,
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Scalar's single-file browser bundle (UMD, defines `Scalar.createApiReference`), its identity and gzip bytes, and the path it is served at. */
interface ReferenceBundle {
  path: string;
  raw: Buffer;
  gzip: Buffer;
}

/**
 * Reads @scalar/api-reference's `dist/browser/standalone.js` (the file jsDelivr would serve for
 * `/npm/@scalar/api-reference`) and names it by its content: `/api/docs/scalar-<first 16 hex of sha256>.js`, so it
 * can be cached for a year and a new version is a new URL. Throws if the package is not installed.
 */
async function loadReferenceBundle(): Promise<ReferenceBundle> {
  const file = fileURLToPath(new URL('./browser/standalone.js', import.meta.resolve('@scalar/api-reference')));
  const raw = await readFile(file);
  const hash = createHash('sha256').update(raw).digest('hex').slice(0, 16);
  return { path: `/api/docs/scalar-${hash}.js`, raw, gzip: await promisify(gzip)(raw) };
}

export function docsRoutes(api: OpenAPIHono<any>) {
  let cached: ReturnType<typeof openApiDocument> | undefined;
  const doc = () => (cached ??= openApiDocument(api));
  // Read on first use, not at start: most processes never serve the reference.
  let bundle: Promise<ReferenceBundle> | undefined;
  const referenceBundle = () => (bundle ??= loadReferenceBundle());
  return new Hono()
    .get('/api/v1/openapi.json', (c) => c.json(doc()))
    .get('/api/docs', async (c, next) => {
      const { path } = await referenceBundle();
      const nonce = randomBytes(16).toString('base64');
      c.header('content-security-policy', docsPolicy(nonce));
      c.header('x-content-type-options', 'nosniff');
      c.header('referrer-policy', 'strict-origin-when-cross-origin');
      // The document goes inline: the reference needs no second request, and the page names every route even before its script runs.
      // Scalar's hosted extras (AI agent, MCP generator, developer toolbar) reach scalar.com: off, so the page is ours alone.
      const render = Scalar({
        content: doc(),
        pageTitle: 'Status page API reference',
        cdn: path,
        nonce,
        withDefaultFonts: false,
        hideClientButton: true,
        agent: { disabled: true },
        mcp: { disabled: true },
        showDeveloperTools: 'never',
      });
      return render(c, next);
    })
    .get('/api/docs/:file{scalar-[0-9a-f]{16}\\.js}', async (c, next) => {
      const b = await referenceBundle();
      if (c.req.path !== b.path) return next();
      const gzipped = /\bgzip\b/.test(c.req.header('accept-encoding') ?? '');
      const headers: Record<string, string> = {
        'content-type': 'text/javascript; charset=utf-8',
        'cache-control': 'public, max-age=31536000, immutable',
        'x-content-type-options': 'nosniff',
        vary: 'accept-encoding',
      };
      if (gzipped) headers['content-encoding'] = 'gzip';
      return c.body(new Uint8Array(gzipped ? b.gzip : b.raw), 200, headers);
    });
}
