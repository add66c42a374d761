// /channels: the internal chat channels (Slack, Discord, Teams, plain JSON) that receive briefings and reminders; admins manage them.
import { createRoute, z } from '@hono/zod-openapi';
import { requireRole } from '../auth.ts';
import { apiRouter } from '../http/router.ts';
import { errorResponses, problemResponses } from '../http/problems.ts';
import { addChannel, channelKinds, listChannels, removeChannel, type ChannelRow } from '../services/channels.ts';
import type { Services } from '../services/context.ts';
import { channelInput } from '../services/schemas.ts';
import { bearer, idParam, json } from './schemas.ts';

const channel = z
  .object({ id: z.string(), kind: z.enum(channelKinds), url: z.string(), name: z.string(), createdBy: z.string(), createdAt: z.string() })
  .openapi('Channel');

const present = (r: ChannelRow) => ({ id: r.id, kind: r.kind as (typeof channelKinds)[number], url: r.url, name: r.name, createdBy: r.createdBy, createdAt: r.createdAt.toISOString() });

const list = createRoute({
  method: 'get',
  path: '/channels',
  tags: ['channels'],
  summary: 'List chat channels',
  security: bearer,
  middleware: [requireRole('admin')] as const,
  responses: { 200: json(z.object({ channels: z.array(channel) }), 'Channels'), ...errorResponses },
});

const add = createRoute({
  method: 'post',
  path: '/channels',
  tags: ['channels'],
  summary: 'Add a chat channel that receives briefings (internal wording), reminders and overdue notices',
  security: bearer,
  middleware: [requireRole('admin')] as const,
  request: { body: { content: { 'application/json': { schema: channelInput } }, required: true } },
  responses: { 201: json(channel, 'Added'), ...errorResponses },
});

const remove = createRoute({
  method: 'delete',
  path: '/channels/{id}',
  tags: ['channels'],
  summary: 'Remove a chat channel; what was still queued for it is not sent',
  security: bearer,
  middleware: [requireRole('admin')] as const,
  request: { params: idParam },
  responses: { 204: { description: 'Removed' }, ...errorResponses, 404: problemResponses[404] },
});

export function channelRoutes(s: Services) {
  return apiRouter()
    .openapi(list, async (c) => c.json({ channels: (await listChannels(s)).map(present) }, 200))
    .openapi(add, async (c) => c.json(present(await addChannel(s, c.get('actor')!, c.req.valid('json'))), 201))
    .openapi(remove, async (c) => {
      await removeChannel(s, c.get('actor')!, c.req.valid('param').id);
      return c.body(null, 204);
    });
}
