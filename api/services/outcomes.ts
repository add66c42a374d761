// Idempotency inside a use case: what a use case did for a key is written in its own transaction, so a retry finds it.
import { and, eq } from 'drizzle-orm';
import type { Tx } from '../../db/client.ts';
import { useCaseOutcomes } from '../../db/schema.ts';
import { ValidationError } from '../errors.ts';
import { sha256 } from '../ids.ts';
import { actorKey, type Actor } from './context.ts';
import type { UseCase } from './use-cases.ts';

/** An outcome answers retries for this long (24 h, as the API's Idempotency-Key does); after that the key is new again. */
export const outcomeLifetimeMs = 24 * 60 * 60 * 1000;

/** What a use case is asked to do once: its idempotency key (absent: no promise) and the input the key is bound to. */
export interface Once {
  key: string | undefined;
  useCase: UseCase;
  /** The input as given (without the key); the same key with another input is refused. */
  input: unknown;
}

/**
 * Call first inside the use case's transaction. With no key: null (go ahead). Otherwise claims (actor, key) for
 * `subjectId` and returns null (go ahead: the claim commits or rolls back with the publish), or returns the subject id
 * an earlier run with the same key and input recorded (do nothing; answer with that subject). Concurrent runs queue on
 * the database's write lock, so the second finds the first's claim once it commits.
 * Errors: ValidationError (422, path Idempotency-Key) when the key was used for another use case or input.
 */
export async function claimOnce(tx: Tx, actor: Actor, once: Once, subjectId: string, now: Date): Promise<string | null> {
  if (once.key === undefined) return null;
  const scope = actorKey(actor);
  const requestHash = sha256(JSON.stringify([once.useCase, once.input]));
  const claimed = await tx
    .insert(useCaseOutcomes)
    .values({ scope, key: once.key, useCase: once.useCase, requestHash, subjectId, createdAt: now })
    .onConflictDoNothing()
    .returning();
  if (claimed.length > 0) return null;
  const where = and(eq(useCaseOutcomes.scope, scope), eq(useCaseOutcomes.key, once.key));
  const [earlier] = await tx.select().from(useCaseOutcomes).where(where);
  if (!earlier || earlier.createdAt.getTime() <= now.getTime() - outcomeLifetimeMs) {
    await tx.update(useCaseOutcomes).set({ useCase: once.useCase, requestHash, subjectId, createdAt: now }).where(where);
    return null;
  }
  if (earlier.requestHash !== requestHash) {
    throw new ValidationError('This idempotency key was used for a different request.', [
      { path: 'Idempotency-Key', message: 'reused with a different action or input' },
    ]);
  }
  return earlier.subjectId;
}
