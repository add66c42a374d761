// The router every resource builds on: its environment (who is signed in) and the one validation hook.
import { OpenAPIHono, type Hook } from '@hono/zod-openapi';
import type { AuthEnv } from '../auth.ts';
import { ValidationError, type FieldError } from '../errors.ts';

export type ApiEnv = AuthEnv;

/**
 * Turns zod issues into a 422 ValidationError with one `{ path, message }` per issue, so the caller learns
 * every bad field at once. A wrong root (an array or a string instead of an object) is reported as `body`.
 */
export const validationHook: Hook<any, ApiEnv, any, any> = (result) => {
  if (result.success) return;
  const errors: FieldError[] = result.error.issues.map((i) => ({
    path: i.path.map(String).join('.') || (result.target === 'json' ? 'body' : result.target),
    message: i.message,
  }));
  const fields = [...new Set(errors.map((e) => e.path))].join(', ');
  throw new ValidationError(`The request ${result.target === 'json' ? 'body' : result.target} is invalid: check ${fields}.`, errors);
};

/** A router for one resource, mounted under /api/v1 by api/app.ts; invalid input throws through validationHook. */
export function apiRouter() {
  return new OpenAPIHono<ApiEnv>({ defaultHook: validationHook });
}
