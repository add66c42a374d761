// Builds the Hono app: middleware, one router per resource under /api/v1, and the single error path.
import { OpenAPIHono } from '@hono/zod-openapi';
import { authenticate } from './auth.ts';
import { DomainError } from './errors.ts';
import { requestBodyLimit } from './http/body-limit.ts';
import { apiCacheControl } from './http/cache-control.ts';
import { formBody } from './http/form-body.ts';
import { handleError, problemResponse } from './http/problems.ts';
import { apiRouter, validationHook, type ApiEnv } from './http/router.ts';
import { closeWhenBodyUnread } from './http/unread-body.ts';
import { idempotency } from './idempotency.ts';
import type { Services } from './services/context.ts';
import { alertRoutes } from './routes/alerts.ts';
import { channelRoutes } from './routes/channels.ts';
import { componentRoutes } from './routes/components.ts';
import { docsRoutes } from './routes/docs.ts';
import { healthRoutes } from './routes/health.ts';
import { incidentRoutes } from './routes/incidents.ts';
import { maintenanceRoutes } from './routes/maintenances.ts';
import { memberRoutes } from './routes/members.ts';
import { stakeholderRoutes } from './routes/stakeholders.ts';
import { subscriberRoutes } from './routes/subscribers.ts';
import { templateRoutes } from './routes/templates.ts';

function createApi(s: Services) {
  const api = apiRouter();
  api.use('*', apiCacheControl());
  api.use('*', authenticate(s));
  api.use('*', idempotency(s));
  api.route('/', healthRoutes(s));
  api.route('/', templateRoutes(s));
  api.route('/', componentRoutes(s));
  api.route('/', incidentRoutes(s));
  api.route('/', maintenanceRoutes(s));
  api.route('/', stakeholderRoutes(s));
  api.route('/', memberRoutes(s));
  api.route('/', subscriberRoutes(s));
  api.route('/', channelRoutes(s));
  api.route('/', alertRoutes(s));
  api.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  return api;
}

/** The API under /api/v1 with its OpenAPI document and docs; errors answered as problem+json. The site is mounted by api/server.ts. */
export function createApp(s: Services) {
  const app = new OpenAPIHono<ApiEnv>({ defaultHook: validationHook });
  // Every route, the API and the site's forms alike: bodies over 1 MiB are 413, malformed forms 400, and an answer
  // given before the body was read closes the connection.
  app.use('*', closeWhenBodyUnread(), requestBodyLimit(), formBody());
  const api = createApi(s);
  app.route('/api/v1', api);
  app.route('/', docsRoutes(api));
  app.onError((e, c) => handleError(e, c));
  app.notFound((c) => problemResponse(c, new DomainError(404, 'Not found', `Nothing at ${c.req.path}.`)));
  return app;
}
