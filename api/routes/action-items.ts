// /incidents/{id}/action-items and /action-items: add, change and list the follow-ups incidents taught.
import { createRoute, z } from '@hono/zod-openapi';
import { requireRole } from '../auth.ts';
import { apiRouter } from '../http/router.ts';
import { jsonify } from '../http/json.ts';
import { errorResponses, problemResponses } from '../http/problems.ts';
import type { Services } from '../services/context.ts';
import { actionItemChange, actionItemFilter, changeActionItem, createActionItem, incidentActionItems, listActionItems } from '../services/action-items.ts';
import { actionItemBody, actionItemSchema, bearer, idParam, ifMatchHeader, json, parseIfMatch } from './schemas.ts';

const listSchema = z.object({ actionItems: z.array(actionItemSchema) }).openapi('ActionItemList');

const incidentListRoute = createRoute({
  method: 'get',
  path: '/incidents/{id}/action-items',
  tags: ['action items'],
  summary: "An incident's action items, soonest due first",
  security: bearer,
  middleware: [requireRole('viewer')] as const,
  request: { params: idParam },
  responses: { 200: json(listSchema, 'Action items'), ...errorResponses, 404: problemResponses[404] },
});

const createItemRoute = createRoute({
  method: 'post',
  path: '/incidents/{id}/action-items',
  tags: ['action items'],
  summary: 'Add an action item to an incident; its owner is reminded the day before it is due and weekly while overdue',
  security: bearer,
  middleware: [requireRole('comms')] as const,
  request: { params: idParam, body: { content: { 'application/json': { schema: actionItemBody } }, required: true } },
  responses: { 201: json(actionItemSchema, 'Added'), ...errorResponses, 404: problemResponses[404] },
});

const changeRoute = createRoute({
  method: 'patch',
  path: '/action-items/{id}',
  tags: ['action items'],
  summary: 'Change an action item: mark it done or won’t do, move its due day, hand it to another owner',
  security: bearer,
  middleware: [requireRole('comms')] as const,
  request: {
    params: idParam,
    headers: ifMatchHeader,
    body: { content: { 'application/json': { schema: actionItemChange } }, required: true },
  },
  responses: { 200: json(actionItemSchema, 'Changed'), ...errorResponses, 404: problemResponses[404], 409: problemResponses[409] },
});

const listRoute = createRoute({
  method: 'get',
  path: '/action-items',
  tags: ['action items'],
  summary: 'Action items across incidents: open, done or overdue (open past the due day, UTC)',
  security: bearer,
  middleware: [requireRole('viewer')] as const,
  request: { query: z.object({ status: actionItemFilter.optional(), limit: z.coerce.number().int().min(1).max(1000).default(500) }) },
  responses: { 200: json(listSchema, 'Action items'), ...errorResponses },
});

export function actionItemRoutes(s: Services) {
  return apiRouter()
    .openapi(incidentListRoute, async (c) => {
      const items = await incidentActionItems(s, c.get('actor')!, c.req.valid('param').id);
      return c.json({ actionItems: jsonify(items) }, 200);
    })
    .openapi(createItemRoute, async (c) => {
      const item = await createActionItem(s, c.get('actor')!, c.req.valid('param').id, c.req.valid('json'));
      c.header('location', `/api/v1/action-items/${item.id}`);
      c.header('etag', `"${item.version}"`);
      return c.json(jsonify(item), 201);
    })
    .openapi(changeRoute, async (c) => {
      const ifMatch = parseIfMatch(c.req.valid('header')['if-match']);
      const item = await changeActionItem(s, c.get('actor')!, c.req.valid('param').id, c.req.valid('json'), ifMatch);
      c.header('etag', `"${item.version}"`);
      return c.json(jsonify(item), 200);
    })
    .openapi(listRoute, async (c) => {
      const q = c.req.valid('query');
      return c.json({ actionItems: jsonify(await listActionItems(s, c.get('actor')!, { status: q.status, limit: q.limit })) }, 200);
    });
}
