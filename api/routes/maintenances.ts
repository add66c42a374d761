// /maintenances: schedule a window and post updates through scheduled → in_progress → verifying → completed.
import { createRoute, z } from '@hono/zod-openapi';
import { requireRole } from '../auth.ts';
import { apiRouter } from '../http/router.ts';
import { jsonify } from '../http/json.ts';
import { errorResponses, problemResponses } from '../http/problems.ts';
import { maintenanceStatuses } from '../domain.ts';
import type { Services } from '../services/context.ts';
import { maintenanceUpdateBody, scheduleBody } from '../services/schemas.ts';
import { getMaintenance, listMaintenances, postMaintenanceUpdate, scheduleMaintenance, type MaintenanceView } from '../services/maintenances.ts';
import { bearer, idParam, ifMatchHeader, json, parseIfMatch, updateSchema } from './schemas.ts';

const maintenanceSchema = z
  .object({
    id: z.string(),
    title: z.string(),
    internalTitle: z.string(),
    status: z.enum(maintenanceStatuses),
    version: z.number(),
    scheduledFor: z.string(),
    scheduledUntil: z.string(),
    startedAt: z.string().nullable(),
    completedAt: z.string().nullable(),
    autoStart: z.boolean(),
    autoComplete: z.boolean(),
    components: z.array(z.object({ id: z.string(), name: z.string() })),
    updates: z.array(updateSchema),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Maintenance');

const present = (m: MaintenanceView) => jsonify(m) as z.infer<typeof maintenanceSchema>;

const list = createRoute({
  method: 'get',
  path: '/maintenances',
  tags: ['maintenances'],
  summary: 'List maintenance windows',
  security: bearer,
  middleware: [requireRole('viewer')] as const,
  request: { query: z.object({ status: z.enum(['upcoming', 'active', 'past']).optional(), limit: z.coerce.number().int().min(1).max(200).default(50) }) },
  responses: { 200: json(z.object({ maintenances: z.array(maintenanceSchema) }), 'Maintenance windows'), ...errorResponses },
});

const schedule = createRoute({
  method: 'post',
  path: '/maintenances',
  tags: ['maintenances'],
  summary: 'Schedule a maintenance window',
  description:
    'Announces the window to subscribers now, and reminds them an hour before it starts when it was announced at least two hours ahead; ' +
    'a window announced at shorter notice gets no separate reminder.',
  security: bearer,
  middleware: [requireRole('comms')] as const,
  request: { body: { content: { 'application/json': { schema: scheduleBody } }, required: true } },
  responses: { 201: json(maintenanceSchema, 'Scheduled and announced'), ...errorResponses },
});

const getOne = createRoute({
  method: 'get',
  path: '/maintenances/{id}',
  tags: ['maintenances'],
  summary: 'One maintenance window with its timeline',
  security: bearer,
  middleware: [requireRole('viewer')] as const,
  request: { params: idParam },
  responses: { 200: json(maintenanceSchema, 'The maintenance'), ...errorResponses, 404: problemResponses[404] },
});

const post = createRoute({
  method: 'post',
  path: '/maintenances/{id}/updates',
  tags: ['maintenances'],
  summary: 'Post a maintenance update',
  security: bearer,
  middleware: [requireRole('comms')] as const,
  request: { params: idParam, headers: ifMatchHeader, body: { content: { 'application/json': { schema: maintenanceUpdateBody } }, required: true } },
  responses: { 201: json(maintenanceSchema, 'Published'), ...errorResponses, 404: problemResponses[404], 409: problemResponses[409] },
});

export function maintenanceRoutes(s: Services) {
  return apiRouter()
    .openapi(list, async (c) => {
      const q = c.req.valid('query');
      return c.json({ maintenances: (await listMaintenances(s, q)).map(present) }, 200);
    })
    .openapi(schedule, async (c) => {
      const b = c.req.valid('json');
      const view = await scheduleMaintenance(s, c.get('actor')!, { ...b, scheduledFor: new Date(b.scheduledFor), scheduledUntil: new Date(b.scheduledUntil), idempotencyKey: c.req.header('idempotency-key') });
      c.header('etag', `"${view.version}"`);
      return c.json(present(view), 201);
    })
    .openapi(getOne, async (c) => c.json(present(await getMaintenance(s, c.req.valid('param').id)), 200))
    .openapi(post, async (c) => {
      const b = c.req.valid('json');
      const ifMatch = parseIfMatch(c.req.valid('header')['if-match']);
      const view = await postMaintenanceUpdate(
        s,
        c.get('actor')!,
        c.req.valid('param').id,
        { ...b, scheduledUntil: b.scheduledUntil ? new Date(b.scheduledUntil) : undefined, idempotencyKey: c.req.header('idempotency-key') },
        ifMatch,
      );
      c.header('etag', `"${view.version}"`);
      return c.json(present(view), 201);
    });
}
