// /internal/sign-in/oidc and its callback: single sign-on through the configured OpenID provider, ending in the same session cookie as every sign-in.
import { Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { html } from 'hono/html';
import type { AuthEnv } from '../auth.ts';
import { framedLinkPage, linkPage, linkPageHeaders, type LinkPageFrame } from '../http/link-page.ts';
import type { Brand } from '../brand.ts';
import type { Services } from '../services/context.ts';
import { oidcCallbackPath, type OidcSignIn } from '../services/oidc.ts';

export interface OidcRoutesDeps extends Pick<Services, 'db' | 'clock'> {
  sso: OidcSignIn;
  /** The public base URL; cookies are Secure when it is https. */
  publicUrl: string;
  /** The name of the internal page's session cookie (auth.ts's sessionCookie). */
  cookie: string;
  /** The page name and brand the site's frame wears (PAGE_NAME, BRAND_*): these pages wear it too. */
  pageName?: string | undefined;
  brand?: Brand | undefined;
}

/** Holds the PKCE verifier, state and nonce between leaving for the provider and coming back (10 minutes). */
const pendingCookie = 'status_oidc';
const pendingLifetimeS = 10 * 60;

const headers = linkPageHeaders('private, no-store');
const styles = `  .error { border-left: 4px solid #d1242f; padding-left: .8rem; }`;

/** The routes, mounted before /internal/'s own auth (a signed-out person reaches them). */
export function oidcSignInRoutes(d: OidcRoutesDeps) {
  const frame: LinkPageFrame = { site: d.publicUrl, pageName: d.pageName, brand: d.brand };
  const app = new Hono<AuthEnv>();
  const secure = d.publicUrl.startsWith('https:');
  const scope = { path: '/internal/sign-in/oidc', secure };

  app.get('/internal/sign-in/oidc', async (c) => {
    let started: Awaited<ReturnType<OidcSignIn['start']>>;
    try {
      started = await d.sso.start(c.req.query('next'));
    } catch {
      // The provider's discovery document did not load: say so, and offer the way that needs no provider.
      return c.html(
        framedLinkPage('Single sign-on unavailable', frame, styles, html`<h1>Single sign-on is not answering</h1>
<p class="error" role="alert">The identity provider could not be reached. Try again in a minute, or use <a href="/internal/sign-in">Email me a sign-in link</a>.</p>`),
        503,
        { ...headers, 'retry-after': '60' },
      );
    }
    const { url, pending } = started;
    // Lax, not Strict: the provider's redirect back is a top-level navigation from another site, and must carry it.
    setCookie(c, pendingCookie, pending, { ...scope, httpOnly: true, sameSite: 'Lax', maxAge: pendingLifetimeS });
    return c.redirect(url.href, 302);
  });

  app.get(oidcCallbackPath, async (c) => {
    const outcome = await d.sso.finish(d, new URL(c.req.url), getCookie(c, pendingCookie));
    deleteCookie(c, pendingCookie, scope);
    if (outcome.state === 'refused') {
      return c.html(
        framedLinkPage('Sign-in refused', frame, styles, html`<h1>You are not signed in</h1>
<p class="error" role="alert">${outcome.reason}</p>
<p><a href="/internal/sign-in">Back to the sign-in page</a></p>`),
        403,
        headers,
      );
    }
    setCookie(c, d.cookie, outcome.session.secret, { httpOnly: true, secure, sameSite: 'Strict', path: '/internal', expires: outcome.session.expiresAt });
    // The browser arrived from the provider's site, so a redirect would still be cross-site and drop the Strict
    // cookie just set: a page of our own moves on, and the next request is same-site.
    return c.html(
      linkPage('Signed in', '', html`<meta http-equiv="refresh" content="0;url=${outcome.next}">
<h1>Signed in as ${outcome.actor.name}</h1>
<p><a href="${outcome.next}">Continue to the internal status page</a></p>`),
      200,
      headers,
    );
  });
  return app;
}
