// /components: the catalogue customers see; status is derived, so it is never accepted as input.
import { createRoute, z } from '@hono/zod-openapi';
import { requireRole } from '../auth.ts';
import { apiRouter } from '../app.ts';
import { componentStatuses } from '../domain.ts';
import { archiveComponent, createComponent, listComponents, updateComponent, type ComponentView } from '../services/components.ts';
import type { Services } from '../services/context.ts';
import { bearer, errorResponses, idParam, json, line, slug, text } from './schemas.ts';

export const componentBody = z
  .object({
    id: slug,
    name: line(120),
    description: text(1000).optional(),
    group: line(120).nullable().optional(),
    order: z.number().int().min(-10000).max(10000).optional(),
  })
  .strict()
  .openapi('ComponentInput');

const componentPatch = componentBody.omit({ id: true }).partial().strict().openapi('ComponentPatch');

const component = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    group: z.string().nullable(),
    order: z.number(),
    status: z.enum(componentStatuses),
    version: z.number(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Component');

function present(c: ComponentView) {
  return {
    id: c.id,
    name: c.name,
    description: c.description,
    group: c.group,
    order: c.order,
    status: c.status,
    version: c.updatedAt.getTime(),
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}

const list = createRoute({
  method: 'get',
  path: '/components',
  tags: ['components'],
  summary: 'List components with their derived status',
  responses: { 200: json(z.object({ components: z.array(component) }), 'Components in display order') },
});

const create = createRoute({
  method: 'post',
  path: '/components',
  tags: ['components'],
  summary: 'Add a component',
  security: bearer,
  middleware: [requireRole('admin')] as const,
  request: { body: { content: { 'application/json': { schema: componentBody } }, required: true } },
  responses: { 201: json(component, 'Created'), ...errorResponses, 409: errorResponses[422] },
});

const patch = createRoute({
  method: 'patch',
  path: '/components/{id}',
  tags: ['components'],
  summary: 'Rename, describe, regroup or reorder a component',
  security: bearer,
  middleware: [requireRole('admin')] as const,
  request: { params: idParam, body: { content: { 'application/json': { schema: componentPatch } }, required: true } },
  responses: { 200: json(component, 'Updated'), ...errorResponses, 404: errorResponses[422] },
});

const remove = createRoute({
  method: 'delete',
  path: '/components/{id}',
  tags: ['components'],
  summary: 'Archive a component (past incidents keep naming it)',
  security: bearer,
  middleware: [requireRole('admin')] as const,
  request: { params: idParam },
  responses: { 204: { description: 'Archived' }, ...errorResponses, 404: errorResponses[422], 409: errorResponses[422] },
});

export function componentRoutes(s: Services) {
  return apiRouter()
    .openapi(list, async (c) => c.json({ components: (await listComponents(s.db)).map(present) }, 200))
    .openapi(create, async (c) => {
      const actor = c.get('principal')!;
      return c.json(present(await createComponent(s, actor.name, c.req.valid('json'))), 201);
    })
    .openapi(patch, async (c) => {
      const actor = c.get('principal')!;
      return c.json(present(await updateComponent(s, actor.name, c.req.valid('param').id, c.req.valid('json'))), 200);
    })
    .openapi(remove, async (c) => {
      await archiveComponent(s, c.get('principal')!.name, c.req.valid('param').id);
      return c.body(null, 204);
    });
}
