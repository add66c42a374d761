// Idempotency-Key on POST: the first response is stored and replayed, so a retried publish publishes once.
import { and, eq } from 'drizzle-orm';
import { createMiddleware } from 'hono/factory';
import type { Database } from '../db/client.ts';
import { idempotencyKeys } from '../db/schema.ts';
import type { AuthEnv } from './auth.ts';
import { ConflictError, ValidationError } from './errors.ts';
import { sha256 } from './ids.ts';

/** Keys are scoped per token; anonymous callers (the public subscribe form) share one scope. */
export function idempotency(db: Database) {
  return createMiddleware<AuthEnv>(async (c, next) => {
    const key = c.req.header('idempotency-key');
    if (c.req.method !== 'POST' || key === undefined) return next();
    if (!/^[\x21-\x7e]{1,255}$/.test(key)) {
      throw new ValidationError('The Idempotency-Key header is invalid.', [
        { path: 'Idempotency-Key', message: 'must be 1 to 255 visible ASCII characters' },
      ]);
    }
    const tokenId = c.get('principal')?.tokenId ?? 'anonymous';
    const requestHash = sha256(`${c.req.method} ${c.req.path}\n${await c.req.text()}`);
    const where = and(eq(idempotencyKeys.tokenId, tokenId), eq(idempotencyKeys.key, key));
    // Claim the key first: of two concurrent requests with one key, exactly one runs.
    const claimed = await db
      .insert(idempotencyKeys)
      .values({ tokenId, key, requestHash, status: 0, body: '' })
      .onConflictDoNothing()
      .returning();
    if (claimed.length === 0) {
      const [stored] = await db.select().from(idempotencyKeys).where(where);
      if (!stored) throw new ConflictError('The Idempotency-Key was released; retry the request.');
      if (stored.requestHash !== requestHash) {
        throw new ValidationError('This Idempotency-Key was used for a different request.', [
          { path: 'Idempotency-Key', message: 'reused with a different method, path or body' },
        ]);
      }
      if (stored.status === 0) throw new ConflictError('A request with this Idempotency-Key is still in progress.');
      return c.body(stored.body, stored.status as 200, {
        'content-type': stored.status >= 400 ? 'application/problem+json' : 'application/json',
        'idempotent-replayed': 'true',
      });
    }
    await next();
    if (c.res.status >= 500) {
      await db.delete(idempotencyKeys).where(where);
      return;
    }
    await db.update(idempotencyKeys).set({ status: c.res.status, body: await c.res.clone().text() }).where(where);
  });
}
