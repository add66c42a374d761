// Roles in the console, as in the API: a publish needs comms, an admin change needs admin; refusals are 403 pages.
import type { Context } from 'hono';
import { html } from 'hono/html';
import { createMiddleware } from 'hono/factory';
import type { AuthEnv } from '../auth.ts';
import { roleAllows, type Role } from '../services/tokens.ts';
import { actorOf, screen, type ConsoleDeps } from './screen.ts';

/** 403 as a page, never a redirect: a refused publish must not look like a success. */
export async function forbidden(d: ConsoleDeps, c: Context, needed: Role) {
  const p = actorOf(c);
  return screen(d, c, 'Not allowed', html`<p>This needs the ${needed} role; you are signed in as “${p.name}” with the ${p.role} role. Nothing was changed.</p>`, 403);
}

/** Refuses a POST below `needed`; a Preview (action=preview) publishes nothing and is open to every signed-in role. */
export function requirePublish(d: ConsoleDeps, needed: Role = 'comms') {
  return createMiddleware<AuthEnv>(async (c, next) => {
    const body = await c.req.parseBody({ all: true });
    if (body.action === 'preview') return next();
    if (!roleAllows(actorOf(c).role, needed)) return forbidden(d, c, needed);
    await next();
  });
}
