// Refuses console form posts sent from another site: the browser says where a POST came from (Sec-Fetch-Site, Origin).
import { createMiddleware } from 'hono/factory';

/**
 * A POST passes when the browser marks it same-origin (Fetch Metadata, `Sec-Fetch-Site: same-origin`) or, for
 * browsers without Fetch Metadata, when its `Origin` is this server's origin or one of `trusted` (the PUBLIC_URL origin
 * behind a proxy). A POST with neither header passes only with an `Authorization` header: no browser attaches one by
 * itself, so a cookie-carrying cross-site form cannot. Refusals answer 403 with `refused(c)`, never a redirect.
 * Rule: OWASP CSRF Prevention Cheat Sheet, "Verifying Origin with standard headers" and "Fetch Metadata headers".
 */
export function sameOriginPosts(trusted: string[], refused: (c: Parameters<Parameters<typeof createMiddleware>[0]>[0]) => Response | Promise<Response>) {
  const allowed = new Set(trusted.map((u) => new URL(u).origin));
  return createMiddleware(async (c, next) => {
    if (c.req.method !== 'POST') return next();
    const site = c.req.header('sec-fetch-site');
    const origin = c.req.header('origin');
    const own = new URL(c.req.url).origin;
    const ok = site !== undefined ? site === 'same-origin' : origin !== undefined ? origin === own || allowed.has(origin) : c.req.header('authorization') !== undefined;
    if (!ok) return refused(c);
    await next();
  });
}
