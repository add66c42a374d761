// Idempotency-Key on POST: the first response is stored and replayed, so a retried publish publishes once.
import { createHash } from 'node:crypto';
import { and, eq, lt, or, isNull, lte } from 'drizzle-orm';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { Database } from '../db/client.ts';
import { idempotencyKeys } from '../db/schema.ts';
import type { AuthEnv } from './auth.ts';
import type { Clock } from './clock.ts';
import { ConflictError, ValidationError } from './errors.ts';
import { clientAddress, noTrustedProxies, type TrustedProxies } from './http/client-address.ts';
import { sha256 } from './ids.ts';
import { actorKey } from './services/context.ts';

/** A stored key answers retries for this long (24 h, as Stripe keeps its keys); after that the key is new again. */
const keyLifetimeMs = 24 * 60 * 60 * 1000;
/** A claim in progress is its holder's for this long, renewed every third of it while the request runs. */
export const claimLeaseMs = 10_000;

interface IdempotencyDeps {
  db: Database;
  clock: Clock;
  trustedProxies?: TrustedProxies | undefined;
}

/**
 * Middleware for POST with an `Idempotency-Key` header (1–255 visible ASCII characters, else 422).
 * - Scope: the caller: `token:<id>` for a bearer token or session, `anonymous:<client address>` otherwise (the
 *   address as TRUSTED_PROXIES allows it to be known). Callers never see each other's keys.
 * - The whole request is bound to the key: method, path, query string and a SHA-256 of the body (of its fields, for
 *   multipart). The same key with another request is refused with 422 naming Idempotency-Key.
 * - The first request claims the key, runs, and stores its answer (status, body, content type); a 5xx releases it.
 *   Retries replay the answer with `Idempotent-Replayed: true`.
 * - A claim is leased, not held forever: while the request runs its process renews the lease every
 *   `claimLeaseMs / 3`; a retry during the lease gets 409 with Retry-After; after a crash (kill -9) the lease runs
 *   out and the next retry takes the claim over and runs. A crash after the publish committed but before its answer
 *   was stored does not publish again: the publishing use cases record what they did for the key in the publish's
 *   own transaction (api/services/outcomes.ts), so the retry answers with the first publish's incident or window.
 * - Keys expire `keyLifetimeMs` after their first use: the same key then starts a new request.
 */
export function idempotency(d: IdempotencyDeps) {
  const proxies = d.trustedProxies ?? noTrustedProxies;
  let lastSweep = 0;
  return createMiddleware<AuthEnv>(async (c, next) => {
    const key = c.req.header('idempotency-key');
    if (c.req.method !== 'POST' || key === undefined) return next();
    if (!/^[\x21-\x7e]{1,255}$/.test(key)) {
      throw new ValidationError('The Idempotency-Key header is invalid.', [
        { path: 'Idempotency-Key', message: 'must be 1 to 255 visible ASCII characters' },
      ]);
    }
    const tokenId = callerScope(c, proxies);
    const url = new URL(c.req.url);
    const requestHash = sha256(`${c.req.method} ${url.pathname}${url.search}\n${await bodyFingerprint(c)}`);
    const where = and(eq(idempotencyKeys.tokenId, tokenId), eq(idempotencyKeys.key, key));
    const now = d.clock.now();
    if (now.getTime() - lastSweep > 60_000) {
      lastSweep = now.getTime();
      await d.db.delete(idempotencyKeys).where(lt(idempotencyKeys.createdAt, new Date(now.getTime() - keyLifetimeMs)));
    }
    const lease = () => new Date(d.clock.now().getTime() + claimLeaseMs);

    // Claim the key first: of two concurrent requests with one key, exactly one runs.
    const claimed = await d.db
      .insert(idempotencyKeys)
      .values({ tokenId, key, requestHash, status: 0, body: '', leaseUntil: lease(), createdAt: now })
      .onConflictDoNothing()
      .returning();
    if (claimed.length === 0) {
      const [stored] = await d.db.select().from(idempotencyKeys).where(where);
      if (!stored) throw new ConflictError('The Idempotency-Key was released; retry the request.');
      const expired = stored.createdAt.getTime() <= now.getTime() - keyLifetimeMs;
      if (!expired && stored.requestHash !== requestHash) {
        throw new ValidationError('This Idempotency-Key was used for a different request.', [
          { path: 'Idempotency-Key', message: 'reused with a different method, path, query string or body' },
        ]);
      }
      if (!expired && stored.status !== 0) {
        return c.body(stored.body, stored.status as 200, {
          'content-type': stored.contentType ?? (stored.status >= 400 ? 'application/problem+json' : 'application/json'),
          'idempotent-replayed': 'true',
        });
      }
      // An expired key starts afresh; an abandoned claim (lease run out) is taken over. Of racing retries, one wins.
      const takeover = expired
        ? where
        : and(where, eq(idempotencyKeys.status, 0), or(isNull(idempotencyKeys.leaseUntil), lte(idempotencyKeys.leaseUntil, now)));
      const taken = await d.db
        .update(idempotencyKeys)
        .set({ requestHash, status: 0, body: '', contentType: null, leaseUntil: lease(), createdAt: now })
        .where(takeover)
        .returning();
      if (taken.length === 0) {
        const waitMs = (stored.leaseUntil?.getTime() ?? now.getTime()) - now.getTime();
        c.header('retry-after', String(Math.max(1, Math.ceil(waitMs / 1000))));
        throw new ConflictError('A request with this Idempotency-Key is still in progress.');
      }
    }

    const ours = and(where, eq(idempotencyKeys.requestHash, requestHash), eq(idempotencyKeys.status, 0));
    const renew = setInterval(() => {
      d.db
        .update(idempotencyKeys)
        .set({ leaseUntil: lease() })
        .where(ours)
        .catch(() => {}); // a missed renewal only shortens the lease; the next one or the answer settles it
    }, claimLeaseMs / 3);
    let answered = false;
    try {
      await next();
      if (c.res.status < 500) {
        await d.db
          .update(idempotencyKeys)
          .set({ status: c.res.status, body: await c.res.clone().text(), contentType: c.res.headers.get('content-type'), leaseUntil: null })
          .where(ours);
        answered = true;
      }
    } finally {
      clearInterval(renew);
      if (!answered) await d.db.delete(idempotencyKeys).where(ours);
    }
  });
}

/** Whose keys these are: the token (also behind a session cookie), or for anonymous callers their address. */
function callerScope(c: Context<AuthEnv>, proxies: TrustedProxies): string {
  const actor = c.get('actor');
  return actor ? actorKey(actor) : `anonymous:${clientAddress(c, proxies)}`;
}

const digest = (bytes: ArrayBuffer) => createHash('sha256').update(new Uint8Array(bytes)).digest('hex');

/**
 * The SHA-256 of the body as sent; for multipart/form-data, of its fields in order (a file by name, type and content
 * hash), since a client that resends the same form picks a new random boundary each time.
 */
async function bodyFingerprint(c: Context): Promise<string> {
  if (!/^multipart\/form-data\b/i.test(c.req.header('content-type') ?? '')) return digest(await c.req.arrayBuffer());
  const fields: (string | [string, string, string])[][] = [];
  for (const [name, value] of (await c.req.formData()).entries()) {
    fields.push([name, typeof value === 'string' ? value : [value.name, value.type, digest(await value.arrayBuffer())]]);
  }
  return sha256(`multipart\n${JSON.stringify(fields)}`);
}
