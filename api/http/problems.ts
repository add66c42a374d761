// Problem responses (RFC 9457): how a DomainError is answered, and how each error status is described in OpenAPI.
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { DomainError, problemBody, UnavailableError } from '../errors.ts';

/** Answers `error` as application/problem+json, with the request path as `instance` (and `Retry-After` for a 503). */
export function problemResponse(c: Context, error: DomainError) {
  return c.body(JSON.stringify(problemBody(error, c.req.path)), error.status as ContentfulStatusCode, {
    'content-type': 'application/problem+json',
    ...(error instanceof UnavailableError ? { 'retry-after': String(error.retryAfterSeconds) } : {}),
  });
}

/** The DomainError an error is or wraps (a database fault comes wrapped by Drizzle as `cause`), if any. */
export function domainErrorIn(error: unknown): DomainError | null {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) if (e instanceof DomainError) return e;
  return null;
}

/** The one place errors become responses; anything unexpected is logged and answered 500 without details. */
export function handleError(error: Error, c: Context, log: (m: string) => void = console.error) {
  const domain = domainErrorIn(error);
  if (domain) return problemResponse(c, domain);
  if (error instanceof HTTPException) {
    // Malformed JSON and a missing JSON content type are both "bad request" to the caller.
    if (error.status === 400 || error.status === 415) {
      const detail = error.status === 415 ? 'Send the body as JSON with Content-Type: application/json.' : 'The request body is not valid JSON.';
      const field = error.status === 415 ? { path: 'content-type', message: 'must be application/json' } : { path: 'body', message: 'is not valid JSON' };
      return problemResponse(c, new DomainError(400, 'Bad request', detail, [field]));
    }
    return problemResponse(c, new DomainError(error.status, 'Error', error.message || 'The request was refused.'));
  }
  log(`unexpected error on ${c.req.method} ${c.req.path}: ${error.stack ?? error.message}`);
  return problemResponse(c, new DomainError(500, 'Internal error', 'Something went wrong on our side; nothing was published twice.'));
}

const problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number(),
    detail: z.string(),
    instance: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem');

const described = (description: string) => ({ description, content: { 'application/problem+json': { schema: problem } } });

/**
 * Each error status this API answers, described for what it means (a route lists those it can give). There is no 415:
 * a body not sent as JSON is bad input, answered 400 by handleError (SPEC: bad input is 400/422).
 */
export const problemResponses = {
  400: described('Malformed request: the body is not valid JSON, or not sent as application/json'),
  401: described('No valid token: the Authorization header is missing, malformed, unknown or revoked'),
  403: described('The token is valid but its role may not do this'),
  404: described('No such resource: the id is unknown'),
  409: described('Conflict: an invalid status transition, a stale If-Match version, or a duplicate'),
  413: described('The request body is larger than 1 MiB'),
  422: described('Validation failed: `errors` names every bad field'),
  429: described('Too many requests from this address; Retry-After says when to try again'),
  503: described('The database stayed busy (another process held its write lock); nothing was stored, Retry-After says when to try again'),
  507: described('The disk is full; nothing was stored'),
};

/** The problems any /api/v1 route may answer, whatever it does: malformed, unauthenticated, refused, too large, invalid. */
export const errorResponses = {
  400: problemResponses[400],
  401: problemResponses[401],
  403: problemResponses[403],
  413: problemResponses[413],
  422: problemResponses[422],
};
