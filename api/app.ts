// Builds the Hono app: middleware, one router per resource under /api/v1, and the single error path.
import { OpenAPIHono, type Hook } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { authenticate, type AuthEnv } from './auth.ts';
import { DomainError, problemBody, ValidationError, type FieldError } from './errors.ts';
import { idempotency } from './idempotency.ts';
import type { Services } from './services/context.ts';
import { alertRoutes } from './routes/alerts.ts';
import { channelRoutes } from './routes/channels.ts';
import { componentRoutes } from './routes/components.ts';
import { docsRoutes } from './routes/docs.ts';
import { healthRoutes } from './routes/health.ts';
import { incidentRoutes } from './routes/incidents.ts';
import { maintenanceRoutes } from './routes/maintenances.ts';
import { stakeholderRoutes } from './routes/stakeholders.ts';
import { subscriberRoutes } from './routes/subscribers.ts';
import { templateRoutes } from './routes/templates.ts';

export type ApiEnv = AuthEnv;

/** Turns zod issues into problem+json field errors: the caller learns every bad field at once. */
export const validationHook: Hook<any, ApiEnv, any, any> = (result) => {
  if (result.success) return;
  const errors: FieldError[] = result.error.issues.map((i) => ({
    // A wrong root (an array or a string instead of an object) is the body itself, not hono's "json" target.
    path: i.path.map(String).join('.') || (result.target === 'json' ? 'body' : result.target),
    message: i.message,
  }));
  const fields = [...new Set(errors.map((e) => e.path))].join(', ');
  throw new ValidationError(`The request ${result.target === 'json' ? 'body' : result.target} is invalid: check ${fields}.`, errors);
};

export function apiRouter() {
  return new OpenAPIHono<ApiEnv>({ defaultHook: validationHook });
}

export function problemResponse(c: Context, error: DomainError) {
  return c.body(JSON.stringify(problemBody(error, c.req.path)), error.status as ContentfulStatusCode, {
    'content-type': 'application/problem+json',
  });
}

/** The one place errors become responses; anything unexpected is logged and answered 500 without details. */
export function handleError(error: Error, c: Context, log: (m: string) => void = console.error) {
  if (error instanceof DomainError) return problemResponse(c, error);
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

export function createApi(s: Services) {
  const api = apiRouter();
  api.use(
    '*',
    bodyLimit({
      maxSize: 1024 * 1024,
      onError: () => {
        throw new DomainError(413, 'Payload too large', 'The request body is larger than 1 MiB.');
      },
    }),
  );
  api.use('*', authenticate(s.db));
  api.use('*', idempotency(s.db));
  api.route('/', healthRoutes(s));
  api.route('/', templateRoutes(s));
  api.route('/', componentRoutes(s));
  api.route('/', incidentRoutes(s));
  api.route('/', maintenanceRoutes(s));
  api.route('/', stakeholderRoutes(s));
  api.route('/', subscriberRoutes(s));
  api.route('/', channelRoutes(s));
  api.route('/', alertRoutes(s));
  api.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  return api;
}

export function createApp(s: Services) {
  const app = new OpenAPIHono<ApiEnv>({ defaultHook: validationHook });
  const api = createApi(s);
  app.route('/api/v1', api);
  app.route('/', docsRoutes(api));
  app.onError((e, c) => handleError(e, c));
  app.notFound((c) => problemResponse(c, new DomainError(404, 'Not found', `Nothing at ${c.req.path}.`)));
  return app;
}
