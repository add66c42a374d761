// Roles in the console come from the use cases' registry: a form posts to a use case, and whoever may not run it gets a 403 page.
import type { Context, ErrorHandler } from 'hono';
import { html } from 'hono/html';
import { createMiddleware } from 'hono/factory';
import type { AuthEnv } from '../auth.ts';
import { ForbiddenError } from '../errors.ts';
import type { Role } from '../services/context.ts';
import { mayRun, useCaseRoles, type UseCase } from '../services/use-cases.ts';
import { actorOf, screen, type ConsoleDeps } from './screen.ts';

/** 403 as a page, never a redirect: a refused publish must not look like a success. */
export async function forbidden(d: ConsoleDeps, c: Context, needed: Role) {
  const p = actorOf(c);
  return screen(d, c, 'Not allowed', html`<p>This needs the ${needed} role; you are signed in as “${p.name}” with the ${p.role} role. Nothing was changed.</p>`, 403);
}

/**
 * Refuses a POST whose use case the signed-in actor may not run, before its form is read (so a viewer is told
 * "not allowed", as the API tells it 403, not that a field is missing). `preview` names the use case a Preview button
 * runs on the same form (action=preview); a form without one is checked against `useCase` whatever `action` says.
 * The use case checks again itself: this only makes the refusal a page.
 */
export function requireUseCase(d: ConsoleDeps, useCase: UseCase, preview?: UseCase) {
  return createMiddleware<AuthEnv>(async (c, next) => {
    const body = preview ? await c.req.parseBody({ all: true }) : {};
    const asked = preview && body.action === 'preview' ? preview : useCase;
    if (!mayRun(actorOf(c), asked)) return forbidden(d, c, useCaseRoles[asked]);
    await next();
  });
}

/** The console's error handler: a use case's ForbiddenError becomes the 403 page; anything else goes on to the app's. */
export function refusalPage(d: ConsoleDeps): ErrorHandler<AuthEnv> {
  return (e, c) => {
    if (e instanceof ForbiddenError) return screen(d, c, 'Not allowed', html`<p>${e.message}</p>`, 403);
    throw e;
  };
}
