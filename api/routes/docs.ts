// GET /api/v1/openapi.json, generated from the zod schemas, and human docs at /api/docs rendered from it.
import { Hono } from 'hono';
import { html, raw } from 'hono/html';
import type { OpenAPIHono } from '@hono/zod-openapi';

type Operation = { summary?: string; tags?: string[]; security?: unknown[]; requestBody?: { content?: Record<string, { schema?: unknown }> } };

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

const escape = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

export function docsRoutes(api: OpenAPIHono<any>) {
  let cached: ReturnType<typeof openApiDocument> | undefined;
  const doc = () => (cached ??= openApiDocument(api));
  return new Hono()
    .get('/api/v1/openapi.json', (c) => c.json(doc()))
    .get('/api/docs', (c) => {
      const d = doc();
      const rows = Object.entries(d.paths ?? {}).flatMap(([path, item]) =>
        Object.entries(item as Record<string, Operation>).map(([method, op]) => {
          const body = op.requestBody?.content?.['application/json']?.schema;
          return `<section><h3><code>${method.toUpperCase()} /api/v1${escape(path)}</code></h3>
<p>${escape(op.summary ?? '')}${op.security ? ' <em>(requires a token)</em>' : ''}</p>
${body ? `<details><summary>Request body</summary><pre>${escape(JSON.stringify(resolveRef(d, body), null, 2))}</pre></details>` : ''}</section>`;
        }),
      );
      return c.html(html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>API docs</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}pre{overflow:auto;background:#f4f4f5;padding:1rem}@media (prefers-color-scheme:dark){body{background:#111;color:#eee}pre{background:#222}}</style></head>
<body><h1>${d.info.title}</h1><p>${d.info.description ?? ''}</p><p>Machine-readable: <a href="/api/v1/openapi.json">openapi.json</a>.</p>
${raw(rows.join('\n'))}</body></html>`);
    });
}

function resolveRef(d: { components?: { schemas?: Record<string, unknown> } }, schema: unknown): unknown {
  const ref = (schema as { $ref?: string }).$ref;
  if (!ref) return schema;
  return d.components?.schemas?.[ref.replace('#/components/schemas/', '')] ?? schema;
}
