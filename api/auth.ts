// API tokens and roles: random tokens stored hashed, a bearer middleware, and a role check per route.
import { and, desc, eq, gt, isNull } from 'drizzle-orm';
import { getCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import type { Database } from '../db/client.ts';
import { apiTokens, sessions } from '../db/schema.ts';
import { ForbiddenError, NotFoundError, UnauthorizedError } from './errors.ts';
import { newId, newSecret, sameHash, sha256 } from './ids.ts';

export const roles = ['viewer', 'comms', 'admin'] as const;
export type Role = (typeof roles)[number];

/** admin can do everything comms can; comms everything viewer can. */
export function roleAllows(held: Role, needed: Role): boolean {
  return roles.indexOf(held) >= roles.indexOf(needed);
}

export interface Principal {
  tokenId: string;
  name: string;
  role: Role;
}

export const tokenPrefix = 'sdk_';
export const sessionCookie = 'status_session';
const sessionLifetimeMs = 12 * 60 * 60 * 1000;
const lastUsedResolutionMs = 5 * 60 * 1000;

export async function createToken(db: Database, input: { role: Role; name: string }) {
  const secret = `${tokenPrefix}${newSecret()}`;
  const id = newId();
  await db.insert(apiTokens).values({ id, name: input.name, role: input.role, hash: sha256(secret) });
  return { id, name: input.name, role: input.role, token: secret };
}

export async function listTokens(db: Database) {
  return db
    .select({ id: apiTokens.id, name: apiTokens.name, role: apiTokens.role, createdAt: apiTokens.createdAt, revokedAt: apiTokens.revokedAt, lastUsedAt: apiTokens.lastUsedAt })
    .from(apiTokens)
    .orderBy(desc(apiTokens.createdAt));
}

export async function revokeToken(db: Database, id: string, now = new Date()) {
  const [row] = await db.update(apiTokens).set({ revokedAt: now }).where(eq(apiTokens.id, id)).returning();
  if (!row) throw new NotFoundError('token', id);
  await db.delete(sessions).where(eq(sessions.tokenId, id));
}

/** Looks a secret up by its hash, then compares the hashes in constant time. */
export async function verifyToken(db: Database, secret: string): Promise<Principal | null> {
  const hash = sha256(secret);
  const [row] = await db.select().from(apiTokens).where(and(eq(apiTokens.hash, hash), isNull(apiTokens.revokedAt)));
  if (!row || !sameHash(row.hash, hash)) return null;
  // Record use at most every few minutes: a write on every request would cost every publish.
  const now = Date.now();
  if (!row.lastUsedAt || now - row.lastUsedAt.getTime() > lastUsedResolutionMs) {
    await db.update(apiTokens).set({ lastUsedAt: new Date(now) }).where(eq(apiTokens.id, row.id));
  }
  return { tokenId: row.id, name: row.name, role: row.role as Role };
}

/** Exchanges a token for a sign-in session for the internal page; returns the cookie value. */
export async function createSession(db: Database, principal: Principal, now = new Date()) {
  const secret = newSecret();
  const expiresAt = new Date(now.getTime() + sessionLifetimeMs);
  await db.insert(sessions).values({ hash: sha256(secret), tokenId: principal.tokenId, expiresAt });
  return { secret, expiresAt };
}

export async function verifySession(db: Database, secret: string, now = new Date()): Promise<Principal | null> {
  const [row] = await db
    .select({ tokenId: apiTokens.id, name: apiTokens.name, role: apiTokens.role })
    .from(sessions)
    .innerJoin(apiTokens, eq(apiTokens.id, sessions.tokenId))
    .where(and(eq(sessions.hash, sha256(secret)), gt(sessions.expiresAt, now), isNull(apiTokens.revokedAt)));
  return row ? { tokenId: row.tokenId, name: row.name, role: row.role as Role } : null;
}

export async function endSession(db: Database, secret: string) {
  await db.delete(sessions).where(eq(sessions.hash, sha256(secret)));
}

export type AuthEnv = { Variables: { principal: Principal | null } };

/** Reads the bearer token (or, for pages, the session cookie); never refuses by itself. */
export function authenticate(db: Database) {
  return createMiddleware<AuthEnv>(async (c, next) => {
    const header = c.req.header('authorization');
    let principal: Principal | null = null;
    if (header) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!match) throw new UnauthorizedError('The Authorization header must be "Bearer <token>".');
      principal = await verifyToken(db, match[1]!);
      if (!principal) throw new UnauthorizedError('The token is unknown or revoked.');
    } else {
      const cookie = getCookie(c, sessionCookie);
      if (cookie) principal = await verifySession(db, cookie);
    }
    c.set('principal', principal);
    await next();
  });
}

/** Refuses with 401 when nobody is signed in and 403 when the role is too weak. */
export function requireRole(needed: Role) {
  return createMiddleware<AuthEnv>(async (c, next) => {
    const principal = c.get('principal');
    if (!principal) throw new UnauthorizedError();
    if (!roleAllows(principal.role, needed)) {
      throw new ForbiddenError(`This needs the ${needed} role; the token "${principal.name}" has ${principal.role}.`);
    }
    await next();
  });
}
