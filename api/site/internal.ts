// /internal/: the same pages with the internal wording, rendered on each request behind a token or a session cookie; never on disk.
import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import type { Database } from '../../db/client.ts';
import { authenticate, sessionCookie, type AuthEnv } from '../auth.ts';
import { createSession, endSession } from '../services/sessions.ts';
import { safeNext } from '../services/stakeholder-sign-in.ts';
import { verifyToken } from '../services/tokens.ts';
import type { Clock } from '../clock.ts';
import { sameOrigin } from '../http/same-origin.ts';
import type { PageRenderer } from './astro.ts';
import { readers } from './records.ts';
import { siteHeaders } from './serve.ts';
import { stakeholderSignInRoutes } from './stakeholder-sign-in.ts';
import { oidcSignInRoutes } from './oidc-sign-in.ts';
import type { OidcSignIn } from '../services/oidc.ts';
import {
  historyMonthPage,
  historyMonths,
  historyPage,
  incidentPages,
  indexPage,
  maintenancePages,
  notFoundPage,
  readSite,
  signInPage,
  type PageView,
  type SiteReading,
  type SiteSettings,
} from './view-model.ts';

interface InternalDeps {
  db: Database;
  clock: Clock;
  settings: SiteSettings;
  pages: PageRenderer;
  /** The comms console, when the server mounts one (api/console); without it /internal/ is read-only pages. */
  console?: ConsoleMount | undefined;
  /** Single sign-on, when OIDC_ISSUER is set: the sign-in page offers Sign in with SSO. */
  sso?: OidcSignIn | undefined;
}

/**
 * What the console brings to /internal/. The server builds it (api/console/routes.ts) and hands it in, so nothing in
 * api/site/ imports the services that write: the renderer stays read-only (test/architecture.test.ts).
 */
export interface ConsoleMount {
  /** Console routes, mounted behind the sign-in check and before the site's own internal pages. */
  routes: Hono<AuthEnv>;
  /** Renders an internal page with the console's navigation (and `panel` above the content). */
  render(c: Context, view: PageView, status: number, panel?: string): Promise<Response>;
  /** The top of /internal/ for whoever asks: the open incidents, next due first (a viewer: their briefing). */
  indexPanel(c: Context): Promise<string>;
}

const noStore = { ...siteHeaders, 'cache-control': 'private, no-store' };

/** Routes under /internal, mounted at the root (Hono's sub-app mounting would not match "/internal/" itself). */
export function internalRoutes(d: InternalDeps) {
  const app = new Hono<AuthEnv>();
  // Session cookies go over https only when the page is served over https; they are scoped to /internal, so the API never sees them.
  const secure = d.settings.publicUrl.startsWith('https:');
  const reading = () => readSite(d.db, readers.internal, d.settings, d.clock.now());
  const html = async (c: Context, view: PageView, status: 200 | 401 | 404 = 200, extra: Record<string, string> = {}) => {
    if (d.console && c.get('actor')) return d.console.render(c, view, status);
    return c.html(await d.pages.renderPage(view), status, { ...noStore, ...extra });
  };
  // `next` is where the person was going (a reminder's link to an incident): signing in lands there, never off /internal/.
  // The form carries it only when it is somewhere other than the board.
  const landing = (next: string | undefined) => {
    const target = next ? safeNext(next) : '/internal/';
    return target === '/internal/' ? undefined : target;
  };
  const signIn = async (c: Context, status: 200 | 401, error?: string, next?: string) =>
    html(c, signInPage(await reading(), error, landing(next), Boolean(d.sso)), status, status === 401 ? { 'www-authenticate': 'Bearer realm="internal"' } : {});

  app.get('/internal', (c) => c.redirect('/internal/', 301));
  app.get('/internal/sign-in', (c) => signIn(c, 200));
  // Signing in and out change who is signed in: only this site's own pages may post them (403 otherwise).
  const fromThisSite = sameOrigin({ origins: [d.settings.publicUrl] });
  app.use('/internal/sign-in', fromThisSite);
  app.use('/internal/sign-out', fromThisSite);
  app.post('/internal/sign-in', async (c) => {
    const body = await c.req.parseBody();
    const token = typeof body.token === 'string' ? body.token.trim() : '';
    const next = typeof body.next === 'string' ? body.next : undefined;
    const principal = token ? await verifyToken(d, token) : null;
    if (!principal) return signIn(c, 401, 'That token is unknown or revoked.', next);
    const session = await createSession(d, principal);
    setCookie(c, sessionCookie, session.secret, { httpOnly: true, secure, sameSite: 'Strict', path: '/internal', expires: session.expiresAt });
    return c.redirect(safeNext(next), 303);
  });
  app.post('/internal/sign-out', async (c) => {
    const secret = getCookie(c, sessionCookie);
    if (secret) await endSession(d, secret);
    deleteCookie(c, sessionCookie, { path: '/internal', secure });
    return c.redirect('/internal/sign-in', 303);
  });

  // Members and stakeholders sign in with a one-time emailed link instead of a token (stakeholders read as viewers).
  const stakeholders = { db: d.db, clock: d.clock, publicUrl: d.settings.publicUrl, cookie: sessionCookie, pageName: d.settings.pageName, brand: d.settings.brand };
  app.route('/', stakeholderSignInRoutes(stakeholders));
  if (d.sso) app.route('/', oidcSignInRoutes({ ...stakeholders, sso: d.sso }));

  // Every console form below refuses a cross-site POST with 403, by the same rule as sign-in and sign-out.
  app.use('/internal/*', fromThisSite);
  // Everything below needs a signed-in person or a bearer token; a browser without one gets the sign-in form.
  app.use('/internal/*', authenticate(d, ['token', 'member', 'stakeholder']));
  app.use(
    '/internal/*',
    createMiddleware<AuthEnv>(async (c, next) => {
      if (!c.get('actor')) {
        const url = new URL(c.req.url);
        return signIn(c, 401, undefined, c.req.method === 'GET' ? url.pathname + url.search : undefined);
      }
      await next();
    }),
  );

  const withSlash = (c: Context) => c.redirect(`${new URL(c.req.url).pathname}/`, 301);
  const page = (build: (r: SiteReading, c: Context) => Promise<PageView | null>) => async (c: Context) => {
    const r = await reading();
    const view = await build(r, c);
    return view ? html(c, view) : html(c, notFoundPage(r), 404);
  };

  app.get('/internal/', async (c) => {
    const view = await indexPage(await reading());
    return d.console ? d.console.render(c, view, 200, await d.console.indexPanel(c)) : html(c, view);
  });
  if (d.console) app.route('/', d.console.routes);
  app.get('/internal/incidents/:id/', page(async (r, c) => (await incidentPages(r, [c.req.param('id')!]))[0] ?? null));
  app.get('/internal/maintenances/:id/', page(async (r, c) => (await maintenancePages(r, [c.req.param('id')!]))[0] ?? null));
  app.get('/internal/history/', page(async (r) => historyPage(r, await historyMonths(r))));
  app.get(
    '/internal/history/:month/',
    page(async (r, c) => {
      const months = await historyMonths(r);
      const month = c.req.param('month')!;
      return months.includes(month) ? historyMonthPage(r, month, months) : null;
    }),
  );
  app.get('/internal/incidents/:id', withSlash);
  app.get('/internal/maintenances/:id', withSlash);
  app.get('/internal/history', withSlash);
  app.get('/internal/history/:month', withSlash);
  app.get('/internal/*', page(async () => null));
  return app;
}

