// The console's routes under /internal/: Declare, the incident actions and the admin screens, behind the internal sign-in.
import { readFileSync } from 'node:fs';
import { Hono, type Context } from 'hono';
import { html } from 'hono/html';
import { createMiddleware } from 'hono/factory';
import type { AuthEnv } from '../auth.ts';
import { roleAllows, type Role } from '../services/tokens.ts';
import { adminRoutes } from './admin.ts';
import { declarePost, declareScreen, emptyValues } from './declare.ts';
import { incidentScreen, updatePost } from './incident.ts';
import { principalOf, screen, type ConsoleDeps } from './screen.ts';

const script = readFileSync(new URL('./console.js', import.meta.url));

/** 403 as a page, never a redirect: a refused publish must not look like a success. */
export async function forbidden(d: ConsoleDeps, c: Context, needed: Role) {
  const p = principalOf(c);
  return screen(d, c, 'Not allowed', html`<p>This needs the ${needed} role; you are signed in as “${p.name}” with the ${p.role} role. Nothing was changed.</p>`, 403);
}

/** Refuses a publishing POST below `needed`; a Preview (action=preview) is open to every signed-in role. */
export function requirePublish(d: ConsoleDeps, needed: Role = 'comms') {
  return createMiddleware<AuthEnv>(async (c, next) => {
    const body = await c.req.parseBody();
    if (body.action === 'preview') return next();
    if (!roleAllows(principalOf(c).role, needed)) return forbidden(d, c, needed);
    await next();
  });
}

/** Mounted after the sign-in check; every route here has a principal. */
export function consoleRoutes(d: ConsoleDeps) {
  const app = new Hono<AuthEnv>();
  app.get('/internal/console.js', (c) => c.body(script, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'private, max-age=300' }));
  app.get('/internal/declare', (c) => c.redirect('/internal/declare/', 301));
  app.get('/internal/declare/', (c) => declareScreen(d, c, emptyValues()));
  app.post('/internal/declare/', requirePublish(d), async (c) => {
    const body = await c.req.parseBody();
    return declarePost(d, c, body, body.action === 'preview' ? 'preview' : 'publish');
  });
  app.get('/internal/incidents/:id/', (c) => incidentScreen(d, c, c.req.param('id')));
  for (const form of ['updates', 'resolve', 'reopen'] as const) {
    app.post(`/internal/incidents/:id/${form}`, requirePublish(d), async (c) =>
      updatePost(d, c, c.req.param('id')!, await c.req.parseBody(), form === 'updates' ? 'update' : form),
    );
  }
  app.route('/', adminRoutes(d));
  return app;
}
