// Serves the public site from the live release in memory: precomputed headers, ETag or Last-Modified/304, precompressed variants, CORS on the JSON.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Hono } from 'hono';
import { isCrossOrigin, preflightHeaders, siteHeaders, type LiveFile, type LiveSite, type Variant } from './live.ts';

export { pageCacheControl, siteHeaders } from './live.ts';

/** Paths the site never answers for: the API, its docs and the internal page have their own routes. */
const elsewhere = /^\/(api\/v1(\/|$)|api\/docs(\/|$)|internal(\/|$))/;

/** An answer ready to send: status, headers and body (null for none). */
export interface SiteAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer | string | null;
}

const notRendered: SiteAnswer = {
  status: 503,
  headers: { ...siteHeaders, 'content-type': 'text/plain; charset=utf-8', 'retry-after': '5' },
  body: 'The status page is being rendered; try again in a few seconds.',
};
const badRequest: SiteAnswer = { status: 400, headers: { ...siteHeaders, 'content-type': 'text/plain; charset=utf-8' }, body: 'Bad request' };
const plainNotFound: SiteAnswer = { status: 404, headers: { ...siteHeaders, 'content-type': 'text/plain; charset=utf-8' }, body: 'Not found' };

/** The best variant the client takes: brotli, then gzip, then the file itself (RFC 9110 Accept-Encoding, with q=0). */
function pick(file: LiveFile, accept: string | undefined): Variant {
  if (!accept || (!file.br && !file.gzip)) return file.identity;
  let br = false;
  let gzip = false;
  let star = false;
  for (const part of accept.split(',')) {
    const [name = '', ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => /^\s*q=([\d.]+)/.exec(p)?.[1]).find(Boolean);
    const ok = q === undefined || Number(q) > 0;
    if (name === 'br') br = ok;
    else if (name === 'gzip') gzip = ok;
    else if (name === '*') star = ok;
  }
  if (file.br && (br || (star && !/\bbr\s*;\s*q=0(\.0*)?\b/i.test(accept)))) return file.br;
  if (file.gzip && (gzip || (star && !/\bgzip\s*;\s*q=0(\.0*)?\b/i.test(accept)))) return file.gzip;
  return file.identity;
}

/** Conditions a GET may carry: If-None-Match wins; If-Modified-Since counts only without it (RFC 9110 13.1.3). */
interface Conditions {
  ifNoneMatch?: string | undefined;
  ifModifiedSince?: string | undefined;
}

/**
 * Whether the client's copy is current: its ETag matches, or (with no ETag sent) it is not older than Last-Modified.
 * Dates have one-second precision (RFC 9110 8.8.2): when the file changed twice in the second its date names, a
 * copy from that second may be the older one, so that date alone never earns a 304.
 */
function unchanged(variant: Variant, c: Conditions): boolean {
  if (c.ifNoneMatch) return c.ifNoneMatch.split(',').some((t) => t.trim() === variant.etag || t.trim() === '*');
  if (!c.ifModifiedSince) return false;
  const since = Date.parse(c.ifModifiedSince);
  const modified = Date.parse(variant.headers['last-modified'] ?? '');
  if (!Number.isFinite(since) || !Number.isFinite(modified)) return false;
  return variant.secondShared ? modified < since : modified <= since;
}

function send(variant: Variant, status: number, method: string, conditions: Conditions): SiteAnswer {
  if (status === 200 && unchanged(variant, conditions)) {
    const { 'content-length': _length, ...headers } = variant.headers;
    return { status: 304, headers, body: null };
  }
  return { status, headers: variant.headers, body: method === 'HEAD' ? null : variant.body };
}

/**
 * Answers one request for the public site from memory, or null when the path belongs to another route (the API, its
 * docs, /internal/). `path` is the URL's path as sent (percent-encoded); `search` keeps a redirect's query.
 */
export function answer(
  live: LiveSite,
  req: { method: string; path: string; search?: string; acceptEncoding?: string | undefined } & Conditions,
): SiteAnswer | null {
  let path: string;
  try {
    path = decodeURIComponent(req.path);
  } catch {
    return badRequest;
  }
  if (elsewhere.test(path)) return null;
  if (req.method === 'OPTIONS') {
    return isCrossOrigin(path.slice(1)) ? { status: 204, headers: preflightHeaders, body: null } : null;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') return null;
  if (live.release === null) return notRendered;
  const relative = path.endsWith('/') ? `${path.slice(1)}index.html` : path.slice(1);
  const file = live.get(relative);
  if (file) return send(pick(file, req.acceptEncoding), 200, req.method, req);
  if (!relative.includes('.') && live.get(`${relative}/index.html`)) {
    return { status: 301, headers: { ...siteHeaders, location: `${req.path}/${req.search ?? ''}` }, body: null };
  }
  const notFound = live.get('404.html');
  return notFound ? send(pick(notFound, req.acceptEncoding), 404, req.method, {}) : plainNotFound;
}

/** The site as Hono routes, for the app (and `app.request` in tests). */
export function siteRoutes(live: LiveSite) {
  const app = new Hono();
  app.on(['GET', 'HEAD', 'OPTIONS'], '*', (c, next) => {
    const url = new URL(c.req.url);
    const a = answer(live, {
      method: c.req.method,
      path: url.pathname,
      search: url.search,
      acceptEncoding: c.req.header('accept-encoding'),
      ifNoneMatch: c.req.header('if-none-match'),
      ifModifiedSince: c.req.header('if-modified-since'),
    });
    if (!a) return next();
    if (a.body === null) return c.body(null, a.status as 200, a.headers);
    if (typeof a.body === 'string') return c.body(a.body, a.status as 200, a.headers);
    return c.body(new Uint8Array(a.body.buffer as ArrayBuffer, a.body.byteOffset, a.body.length), a.status as 200, a.headers);
  });
  return app;
}

/**
 * The same answers straight on Node's server, ahead of the app: during an outage the page takes many times its
 * usual traffic, and a request that needs no routing, no Request object and no disk costs a fraction as much.
 * Returns false for requests the app must answer.
 */
export function siteFastPath(live: LiveSite) {
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const a = answer(live, {
      method: req.method ?? 'GET',
      path: q < 0 ? url : url.slice(0, q),
      search: q < 0 ? '' : url.slice(q),
      acceptEncoding: req.headers['accept-encoding'],
      ifNoneMatch: req.headers['if-none-match'],
      ifModifiedSince: req.headers['if-modified-since'],
    });
    // A miss goes on to the app: its routes come first, and the site's own route answers the same 404 after them.
    if (!a || a.status === 404 || a.status === 503) return false;
    res.writeHead(a.status, a.headers);
    res.end(a.body ?? undefined);
    return true;
  };
}
