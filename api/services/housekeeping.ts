// Forgets what has stopped meaning anything: ended sessions, long-expired sign-in links and use-case outcomes past their day.
import { lt, lte, or, sql } from 'drizzle-orm';
import { sessions, signInLinks, useCaseOutcomes } from '../../db/schema.ts';
import type { Services } from './context.ts';
import { outcomeLifetimeMs } from './outcomes.ts';
import { sessionIdleMs } from './sessions.ts';

const hourMs = 60 * 60 * 1000;

/** How many rows of each kind one pass deleted. */
export interface Forgotten {
  sessions: number;
  signInLinks: number;
  outcomes: number;
}

/**
 * Deletes, in one transaction: sessions past their absolute end or idle longer than `sessionIdleMs` (they can no
 * longer sign anyone in: api/services/sessions.ts refuses them); sign-in links that expired more than an hour ago
 * (spent or not; the hourly limit per person counts only the last hour's, so nothing it reads goes); use-case
 * outcomes older than `outcomeLifetimeMs` (a resubmit after that starts afresh anyway: api/services/outcomes.ts).
 */
export async function forgetExpired(s: Pick<Services, 'db' | 'clock'>): Promise<Forgotten> {
  const now = s.clock.now().getTime();
  return s.db.transaction(async (tx) => {
    const ended = await tx
      .delete(sessions)
      .where(or(lte(sessions.expiresAt, new Date(now)), lte(sql`coalesce(${sessions.lastSeenAt}, ${sessions.createdAt})`, now - sessionIdleMs)))
      .returning({ hash: sessions.hash });
    const links = await tx.delete(signInLinks).where(lt(signInLinks.expiresAt, new Date(now - hourMs))).returning({ id: signInLinks.id });
    const outcomes = await tx.delete(useCaseOutcomes).where(lte(useCaseOutcomes.createdAt, new Date(now - outcomeLifetimeMs))).returning({ key: useCaseOutcomes.key });
    return { sessions: ended.length, signInLinks: links.length, outcomes: outcomes.length };
  });
}

/**
 * forgetExpired at most once an `everyMs` (an hour by default) for a loop that runs more often, such as the
 * scheduler's every 15 s: the first call runs it, later ones only once the time has passed.
 */
export function housekeeping(s: Pick<Services, 'db' | 'clock'>, everyMs = hourMs): () => Promise<Forgotten | null> {
  let last = -Infinity;
  return async () => {
    const now = s.clock.now().getTime();
    if (now - last < everyMs) return null;
    last = now;
    return forgetExpired(s);
  };
}
