// Who is asking: a bearer-token (or session-cookie) middleware and a role check per route.
import { getCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import { ForbiddenError, UnauthorizedError } from './errors.ts';
import type { Actor, Services } from './services/context.ts';
import { verifySession, type SessionHolder } from './services/sessions.ts';
import { roleAllows, verifyToken, type Role } from './services/tokens.ts';

/** The cookie that carries an internal-page session; scoped to /internal by the sign-in route. */
export const sessionCookie = 'status_session';

export type AuthEnv = { Variables: { actor: Actor | null } };

/**
 * Reads the bearer token (or the session cookie) into `actor`; refuses only a malformed, unknown or revoked bearer
 * (401). `sessions` names whose cookie sessions count: the API takes only a token's (automation), /internal/ everyone's.
 */
export function authenticate(s: Pick<Services, 'db' | 'clock'>, sessions: readonly SessionHolder['kind'][] = ['token']) {
  return createMiddleware<AuthEnv>(async (c, next) => {
    const header = c.req.header('authorization');
    let actor: Actor | null = null;
    if (header) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!match) throw new UnauthorizedError('The Authorization header must be "Bearer <token>".');
      actor = await verifyToken(s, match[1]!);
      if (!actor) throw new UnauthorizedError('The token is unknown or revoked.');
    } else {
      const cookie = getCookie(c, sessionCookie);
      const held = cookie ? await verifySession(s, cookie) : null;
      if (held && sessions.includes(held.kind)) actor = held;
    }
    c.set('actor', actor);
    await next();
  });
}

/** Refuses with 401 when nobody is signed in and 403 when the role is too weak. */
export function requireRole(needed: Role) {
  return createMiddleware<AuthEnv>(async (c, next) => {
    const actor = c.get('actor');
    if (!actor) throw new UnauthorizedError();
    if (!roleAllows(actor.role, needed)) {
      throw new ForbiddenError(`This needs the ${needed} role; ${actor.kind === 'token' ? 'the token' : actor.kind} "${actor.name}" has ${actor.role}.`);
    }
    await next();
  });
}
