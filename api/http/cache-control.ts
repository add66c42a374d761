// Says who may cache each API answer: nobody for anything a token or a session saw, shared caches briefly for anonymous reads.
import type { MiddlewareHandler } from 'hono';
import { createMiddleware } from 'hono/factory';
import { pageCacheControl } from '../site/serve.ts';

/** For every answer to a caller who sent credentials, and every write: stored by no cache, shared or private. */
export const privateNoStore = 'private, no-store';

/**
 * Middleware for /api/v1, wrapping authentication so that its 401s are covered too. A route that sets Cache-Control
 * itself keeps it (the subscriber pages, whose URLs carry a capability). Otherwise:
 * - a request with an Authorization header or a session cookie: `private, no-store` (the internal audience's data);
 * - an anonymous GET or HEAD answered 2xx: the public site's page policy (`public, max-age=10, must-revalidate`),
 *   with `Vary: Authorization, Cookie` so a shared cache never hands an anonymous copy to a signed-in caller or back;
 * - anything else (writes, errors): `no-store`.
 */
export function apiCacheControl(): MiddlewareHandler {
  return createMiddleware(async (c, next) => {
    await next();
    if (c.res.headers.has('cache-control')) return;
    const credentials = c.req.header('authorization') !== undefined || c.req.header('cookie') !== undefined;
    const read = c.req.method === 'GET' || c.req.method === 'HEAD';
    if (credentials) c.res.headers.set('cache-control', privateNoStore);
    else if (read && c.res.status >= 200 && c.res.status < 300) c.res.headers.set('cache-control', pageCacheControl);
    else c.res.headers.set('cache-control', 'no-store');
    c.res.headers.append('vary', 'Authorization, Cookie');
  });
}
