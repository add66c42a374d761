// Sign-in sessions for the internal page: a token exchanged for a cookie secret whose hash is stored, for 12 hours.
import { and, eq, gt, isNull } from 'drizzle-orm';
import { apiTokens, sessions } from '../../db/schema.ts';
import { newSecret, sha256 } from '../ids.ts';
import type { Services } from './context.ts';
import type { Actor } from './context.ts';
import type { Role } from './tokens.ts';

const sessionLifetimeMs = 12 * 60 * 60 * 1000;

/** Starts a session for a token's holder; returns the cookie value (shown once) and when it expires. */
export async function createSession(s: Pick<Services, 'db' | 'clock'>, token: Extract<Actor, { kind: 'token' }>) {
  const secret = newSecret();
  const expiresAt = new Date(s.clock.now().getTime() + sessionLifetimeMs);
  await s.db.insert(sessions).values({ hash: sha256(secret), tokenId: token.id, expiresAt, createdAt: s.clock.now() });
  return { secret, expiresAt };
}

/** The token actor of an unexpired session whose token is not revoked, or null. */
export async function verifySession(s: Pick<Services, 'db' | 'clock'>, secret: string): Promise<Actor | null> {
  const [row] = await s.db
    .select({ tokenId: apiTokens.id, name: apiTokens.name, email: apiTokens.email, role: apiTokens.role })
    .from(sessions)
    .innerJoin(apiTokens, eq(apiTokens.id, sessions.tokenId))
    .where(and(eq(sessions.hash, sha256(secret)), gt(sessions.expiresAt, s.clock.now()), isNull(apiTokens.revokedAt)));
  return row ? { kind: 'token', id: row.tokenId, name: row.name, email: row.email, role: row.role as Role } : null;
}

/** Signs out: forgets the session (nothing happens for an unknown secret). */
export async function endSession(s: Pick<Services, 'db'>, secret: string): Promise<void> {
  await s.db.delete(sessions).where(eq(sessions.hash, sha256(secret)));
}
