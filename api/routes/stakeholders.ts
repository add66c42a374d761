// /stakeholders: the executives who receive briefings; admins manage them.
import { createRoute, z } from '@hono/zod-openapi';
import { requireRole } from '../auth.ts';
import { apiRouter } from '../http/router.ts';
import { errorResponses, problemResponses } from '../http/problems.ts';
import type { Services } from '../services/context.ts';
import { addStakeholder, listStakeholders, removeStakeholder } from '../services/stakeholders.ts';
import { bearer, email, idParam, json, line } from './schemas.ts';

const stakeholder = z
  .object({ id: z.string(), email: z.string(), name: z.string(), suppressed: z.boolean(), createdAt: z.string() })
  .openapi('Stakeholder');

type Row = Awaited<ReturnType<typeof listStakeholders>>[number];
const present = (r: Row) => ({ id: r.id, email: r.email, name: r.name, suppressed: r.suppressedAt !== null, createdAt: r.createdAt.toISOString() });

const list = createRoute({
  method: 'get',
  path: '/stakeholders',
  tags: ['stakeholders'],
  summary: 'List stakeholders',
  security: bearer,
  middleware: [requireRole('admin')] as const,
  responses: { 200: json(z.object({ stakeholders: z.array(stakeholder) }), 'Stakeholders'), ...errorResponses },
});

const add = createRoute({
  method: 'post',
  path: '/stakeholders',
  tags: ['stakeholders'],
  summary: 'Add a stakeholder who receives briefings',
  security: bearer,
  middleware: [requireRole('admin')] as const,
  request: {
    body: { content: { 'application/json': { schema: z.object({ email, name: line(120) }).strict().openapi('StakeholderInput') } }, required: true },
  },
  responses: { 201: json(stakeholder, 'Added'), ...errorResponses, 409: problemResponses[409] },
});

const remove = createRoute({
  method: 'delete',
  path: '/stakeholders/{id}',
  tags: ['stakeholders'],
  summary: 'Remove a stakeholder',
  security: bearer,
  middleware: [requireRole('admin')] as const,
  request: { params: idParam },
  responses: { 204: { description: 'Removed' }, ...errorResponses, 404: problemResponses[404] },
});

export function stakeholderRoutes(s: Services) {
  return apiRouter()
    .openapi(list, async (c) => c.json({ stakeholders: (await listStakeholders(s)).map(present) }, 200))
    .openapi(add, async (c) => c.json(present(await addStakeholder(s, c.get('actor')!, c.req.valid('json'))), 201))
    .openapi(remove, async (c) => {
      await removeStakeholder(s, c.get('actor')!, c.req.valid('param').id);
      return c.body(null, 204);
    });
}
