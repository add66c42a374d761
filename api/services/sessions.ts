// Sign-in sessions for the internal page: a cookie secret whose hash is stored, for a token, a member or a stakeholder; 12 h idle, 7 days at most.
import { and, eq, gt, isNull } from 'drizzle-orm';
import type { Queryable } from '../../db/client.ts';
import { apiTokens, members, sessions, stakeholders } from '../../db/schema.ts';
import { newSecret, sha256 } from '../ids.ts';
import type { Actor, Services } from './context.ts';
import type { Role } from './tokens.ts';

/** A session unused this long ends (SPEC "People": 12 h idle). */
export const sessionIdleMs = 12 * 60 * 60 * 1000;
/** A session ends this long after sign-in, however busy (SPEC "People": 7 days at most). */
export const sessionLifetimeMs = 7 * 24 * 60 * 60 * 1000;
/** Use is written at most this often (ms): a write on every page would cost every request. */
const lastSeenResolutionMs = 60 * 1000;

/** Who a session is for: the actor kinds that sign in with a browser. */
export type SessionHolder = Extract<Actor, { kind: 'token' | 'member' | 'stakeholder' }>;

const holderColumns = (holder: SessionHolder) =>
  holder.kind === 'token' ? { tokenId: holder.id } : holder.kind === 'member' ? { memberId: holder.id } : { stakeholderId: holder.id };

/**
 * Opens a session in `db` (a transaction, when signing in is part of one). Returns the cookie value (shown once)
 * and the absolute end, `now` + 7 days, for the cookie's Expires; the idle limit is checked on each use.
 */
export async function openSession(db: Queryable, now: Date, holder: SessionHolder): Promise<{ secret: string; expiresAt: Date }> {
  const secret = newSecret();
  const expiresAt = new Date(now.getTime() + sessionLifetimeMs);
  await db.insert(sessions).values({ hash: sha256(secret), ...holderColumns(holder), expiresAt, lastSeenAt: now, createdAt: now });
  return { secret, expiresAt };
}

/** Starts a session for a token's holder (the sign-in form's Token field); see openSession. */
export async function createSession(s: Pick<Services, 'db' | 'clock'>, holder: SessionHolder) {
  return openSession(s.db, s.clock.now(), holder);
}

/**
 * The actor behind a session cookie, or null when the session is unknown, past its 7 days, idle for 12 hours, or
 * its holder is gone (a revoked token, a removed member or stakeholder). A member's role is read now, so a role
 * change counts at once (and ends the session anyway, see endMemberSessions).
 */
export async function verifySession(s: Pick<Services, 'db' | 'clock'>, secret: string): Promise<SessionHolder | null> {
  const now = s.clock.now();
  const hash = sha256(secret);
  const [row] = await s.db
    .select({ session: sessions, token: apiTokens, member: members, stakeholder: stakeholders })
    .from(sessions)
    .leftJoin(apiTokens, and(eq(apiTokens.id, sessions.tokenId), isNull(apiTokens.revokedAt)))
    .leftJoin(members, eq(members.id, sessions.memberId))
    .leftJoin(stakeholders, eq(stakeholders.id, sessions.stakeholderId))
    .where(and(eq(sessions.hash, hash), gt(sessions.expiresAt, now)));
  if (!row) return null;
  const lastSeen = row.session.lastSeenAt ?? row.session.createdAt;
  if (now.getTime() - lastSeen.getTime() >= sessionIdleMs) return null;
  const actor: SessionHolder | null = row.token
    ? { kind: 'token', id: row.token.id, name: row.token.name, email: row.token.email, role: row.token.role as Role }
    : row.member
      ? { kind: 'member', id: row.member.id, name: row.member.name, email: row.member.email, role: row.member.role as Role }
      : row.stakeholder
        ? { kind: 'stakeholder', id: row.stakeholder.id, name: row.stakeholder.name, email: row.stakeholder.email, role: 'viewer' }
        : null;
  if (actor && now.getTime() - lastSeen.getTime() > lastSeenResolutionMs) {
    await s.db.update(sessions).set({ lastSeenAt: now }).where(eq(sessions.hash, hash));
  }
  return actor;
}

/** Signs out: forgets the session (nothing happens for an unknown secret). */
export async function endSession(s: Pick<Services, 'db'>, secret: string): Promise<void> {
  await s.db.delete(sessions).where(eq(sessions.hash, sha256(secret)));
}

/** Ends every session of a member (removed, or its role changed); run inside the use case's transaction. */
export async function endMemberSessions(db: Queryable, memberId: string): Promise<void> {
  await db.delete(sessions).where(eq(sessions.memberId, memberId));
}
