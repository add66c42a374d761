// Serves the rendered public site from the live release: ETag/304, short caching, precompressed variants and strict headers.
import { open, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { Hono, type Context } from 'hono';
import type { SiteOutput } from './output.ts';

/** No script at all, styles only from our own files, never framed. Shared by the public site and the internal page. */
export const siteHeaders: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'strict-origin-when-cross-origin',
  'cross-origin-opener-policy': 'same-origin',
};

/** Short enough that a customer sees a new update within seconds, and revalidated (cheaply, by ETag) after that. */
export const pageCacheControl = 'public, max-age=10, must-revalidate';
const assetCacheControl = 'public, max-age=31536000, immutable';

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.xml': 'application/rss+xml; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** Paths the site never answers for: the API, its docs and the internal page have their own routes. */
const elsewhere = /^\/(api\/v1(\/|$)|api\/docs(\/|$)|internal(\/|$))/;

/** The encodings the client takes, best first, among those we write next to each file. */
function encodings(header: string | undefined): ('br' | 'gzip')[] {
  const accepted = new Map<string, number>();
  for (const part of (header ?? '').split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => /^\s*q=([\d.]+)/.exec(p)?.[1]).find(Boolean);
    if (name) accepted.set(name, q === undefined ? 1 : Number(q));
  }
  const ok = (e: string) => (accepted.get(e) ?? accepted.get('*') ?? 0) > 0;
  return (['br', 'gzip'] as const).filter(ok);
}

interface Found {
  file: string;
  encoding: 'br' | 'gzip' | null;
  size: number;
  mtimeMs: number;
  ino: number;
}

async function variant(file: string, accept: string | undefined): Promise<Found | null> {
  for (const encoding of [...encodings(accept), null] as const) {
    const path = encoding === 'br' ? `${file}.br` : encoding === 'gzip' ? `${file}.gz` : file;
    const s = await stat(path).catch(() => null);
    if (s?.isFile()) return { file: path, encoding, size: s.size, mtimeMs: s.mtimeMs, ino: s.ino };
  }
  return null;
}

const etagOf = (f: Found) => `"${f.ino.toString(36)}-${f.size.toString(36)}-${Math.round(f.mtimeMs).toString(36)}${f.encoding ? `-${f.encoding}` : ''}"`;

async function send(c: Context, found: Found, type: string, status: 200 | 404, cacheControl: string) {
  const etag = etagOf(found);
  const headers: Record<string, string> = {
    ...siteHeaders,
    'content-type': type,
    'cache-control': cacheControl,
    vary: 'Accept-Encoding',
    etag,
    'last-modified': new Date(found.mtimeMs).toUTCString(),
  };
  if (found.encoding) headers['content-encoding'] = found.encoding;
  if (type.startsWith('application/json')) headers['access-control-allow-origin'] = '*';
  const match = c.req.header('if-none-match');
  if (status === 200 && match && match.split(',').some((t) => t.trim() === etag || t.trim() === '*')) {
    return c.body(null, 304, headers);
  }
  // Read through one handle: a rename mid-request cannot mix two versions of a file.
  const handle = await open(found.file);
  try {
    const body = await handle.readFile();
    headers['content-length'] = String(body.length);
    return c.req.method === 'HEAD' ? c.body(null, status, headers) : c.body(new Uint8Array(body), status, headers);
  } finally {
    await handle.close();
  }
}

export function siteRoutes(output: SiteOutput) {
  const app = new Hono();
  app.on(['GET', 'HEAD'], '*', async (c, next) => {
    let path: string;
    try {
      path = decodeURIComponent(c.req.path);
    } catch {
      return c.text('Bad request', 400, siteHeaders);
    }
    if (elsewhere.test(path)) return next();
    // Resolve the live release once, so every file of this response comes from the same one.
    const live = await output.live();
    if (!live) return c.text('The status page is being rendered; try again in a few seconds.', 503, { ...siteHeaders, 'retry-after': '5' });
    const relative = normalize(path.endsWith('/') ? `${path}index.html` : path);
    const file = join(live, relative);
    const hidden = relative.split('/').some((part) => part.startsWith('.')) || relative.endsWith('.tmp');
    if (!hidden && file.startsWith(live + sep)) {
      const found = await variant(file, c.req.header('accept-encoding'));
      if (found) {
        const cache = relative.startsWith('/_astro/') ? assetCacheControl : pageCacheControl;
        return send(c, found, contentTypes[extname(relative)] ?? 'application/octet-stream', 200, cache);
      }
      if (!extname(relative) && (await stat(join(file, 'index.html')).catch(() => null))) {
        const url = new URL(c.req.url);
        return c.redirect(`${url.pathname}/${url.search}`, 301);
      }
    }
    const notFound = await variant(join(live, '404.html'), c.req.header('accept-encoding'));
    if (!notFound) return c.text('Not found', 404, siteHeaders);
    return send(c, notFound, contentTypes['.html']!, 404, pageCacheControl);
  });
  return app;
}
