// Refuses cross-site form posts: a state-changing request from a browser must come from the page's own origin.
import type { MiddlewareHandler } from 'hono';
import { createMiddleware } from 'hono/factory';
import { ForbiddenError } from '../errors.ts';
import { problemResponse } from './problems.ts';

export interface SameOriginOptions {
  /**
   * Origins the pages are served from besides the request's own (scheme + host of the URL it arrived on), e.g.
   * PUBLIC_URL's origin when a TLS-terminating proxy forwards https traffic as plain http. Trailing paths are ignored.
   */
  origins?: string[];
}

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Middleware for every form a browser posts with a cookie: GET, HEAD and OPTIONS pass; any other method passes when
 * the browser says the request is same-origin, and is answered 403 problem+json (never a redirect) otherwise.
 * The rule, after the OWASP CSRF cheat sheet ("Fetch Metadata", then "verifying origin with standard headers"):
 * - `Sec-Fetch-Site: same-origin` or `none` (typed by the person) passes; `same-site` and `cross-site` are refused;
 * - without Sec-Fetch-Site, an `Origin` header must equal one of the allowed origins (`null` is refused);
 * - with neither header the caller is not a browser that could carry someone's cookie (curl, statusctl), so it passes.
 */
export function sameOrigin(options: SameOriginOptions = {}): MiddlewareHandler {
  const extra = (options.origins ?? []).map((o) => new URL(o).origin);
  return createMiddleware(async (c, next) => {
    if (safeMethods.has(c.req.method)) return next();
    const refusal = crossSiteReason(c.req.header('sec-fetch-site'), c.req.header('origin'), [new URL(c.req.url).origin, ...extra]);
    if (refusal === null) return next();
    const error = new ForbiddenError(`Cross-site request refused: ${refusal}. Post the form from this site's own pages.`);
    c.header('cache-control', 'no-store');
    return problemResponse(c, error);
  });
}

/** null when the request may pass; otherwise why it may not, in words for the 403's detail. */
export function crossSiteReason(fetchSite: string | undefined, origin: string | undefined, allowed: string[]): string | null {
  if (fetchSite !== undefined) {
    const site = fetchSite.trim().toLowerCase();
    return site === 'same-origin' || site === 'none' ? null : `Sec-Fetch-Site is "${fetchSite}"`;
  }
  if (origin === undefined) return null;
  return allowed.includes(origin.trim()) ? null : `Origin "${origin}" is not this site`;
}
