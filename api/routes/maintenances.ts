// /maintenances: schedule a window and post updates through scheduled → in_progress → verifying → completed.
import { createRoute, z } from '@hono/zod-openapi';
import { requireRole } from '../auth.ts';
import { apiRouter } from '../http/router.ts';
import { jsonify } from '../http/json.ts';
import { errorResponses, problemResponses } from '../http/problems.ts';
import { maintenanceStatuses } from '../domain.ts';
import type { Services } from '../services/context.ts';
import { maintenanceUpdateBody, scheduleBody } from '../services/schemas.ts';
import { moveMaintenanceWindow } from '../services/maintenance-window.ts';
import { getMaintenance, listMaintenances, postMaintenanceUpdate, scheduleMaintenance, windowBounds, type MaintenanceView } from '../services/maintenances.ts';
import { bearer, idParam, ifMatchHeader, json, parseIfMatch, updateSchema } from './schemas.ts';

const windowEnd = `End of the window: after scheduledFor and at most ${windowBounds.maxLengthDays} days after it (else 422).`;

export const windowChangeBody = z
  .object({
    scheduledFor: z.iso.datetime({ offset: true }).optional().openapi({
      description: `A new start, for a window not yet started: at most ${windowBounds.pastHours} hours ago and at most ${windowBounds.aheadDays} days ahead (else 422; 409 once started).`,
    }),
    scheduledUntil: z.iso.datetime({ offset: true }).optional().openapi({ description: windowEnd }),
  })
  .strict()
  .refine((b) => b.scheduledFor !== undefined || b.scheduledUntil !== undefined, { message: 'give scheduledFor or scheduledUntil', path: ['scheduledFor'] })
  .openapi('ChangeMaintenanceWindow');

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
    'Announces the window to subscribers now, and reminds them MAINTENANCE_REMINDER_HOURS (default 24) before it starts, ' +
    'each reminder whose moment is still ahead when the window is announced; they hear again when it starts and when it completes.',
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

const move = createRoute({
  method: 'patch',
  path: '/maintenances/{id}',
  tags: ['maintenances'],
  summary: 'Move a maintenance window',
  description:
    'Gives the window a new start and/or end. Subscribers hear of the new window (a maintenance-rescheduled update), ' +
    'their reminders follow the new start, and /maintenance.ics raises the event\'s SEQUENCE. A started window may move only its end.',
  security: bearer,
  middleware: [requireRole('comms')] as const,
  request: { params: idParam, headers: ifMatchHeader, body: { content: { 'application/json': { schema: windowChangeBody } }, required: true } },
  responses: { 200: json(maintenanceSchema, 'The window as it now stands'), ...errorResponses, 404: problemResponses[404], 409: problemResponses[409] },
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
    .openapi(move, async (c) => {
      const b = c.req.valid('json');
      const view = await moveMaintenanceWindow(
        s,
        c.get('actor')!,
        c.req.valid('param').id,
        { scheduledFor: b.scheduledFor ? new Date(b.scheduledFor) : undefined, scheduledUntil: b.scheduledUntil ? new Date(b.scheduledUntil) : undefined },
        parseIfMatch(c.req.valid('header')['if-match']),
      );
      c.header('etag', `"${view.version}"`);
      return c.json(present(view), 200);
    })
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
