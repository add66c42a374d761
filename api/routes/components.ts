// /components: the catalogue customers see; status is derived, so it is never accepted as input.
import { createRoute, z } from '@hono/zod-openapi';
import { requireRole } from '../auth.ts';
import { jsonify } from '../http/json.ts';
import { apiRouter } from '../http/router.ts';
import { errorResponses, problemResponses } from '../http/problems.ts';
import { componentStatuses } from '../domain.ts';
import {
  archiveComponent,
  createComponent,
  listComponentGroups,
  listComponents,
  renameComponentGroup,
  updateComponent,
} from '../services/components.ts';
import type { Services } from '../services/context.ts';
import { componentBody } from '../services/schemas.ts';
import type { ComponentState } from '../status.ts';
import { bearer, idParam, json, line } from './schemas.ts';

const componentPatch = componentBody.omit({ id: true }).partial().strict().openapi('ComponentPatch');

const component = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    group: z.string().nullable(),
    groupId: z.string().nullable().openapi({ description: 'Stable id of the group; it survives a rename of the group.' }),
    order: z.number(),
    status: z.enum(componentStatuses).openapi({ description: 'Derived: anonymous callers see the public status, signed-in callers the internal one.' }),
    version: z.number(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Component');

const componentGroup = z.object({ id: z.string(), name: z.string(), components: z.array(z.string()) }).openapi('ComponentGroup');
const groupPatch = z.object({ name: line(120) }).strict().openapi('ComponentGroupPatch');

function present(c: ComponentState) {
  // jsonify: names stored before the input rule lose characters XML 1.0 forbids, as on every output.
  return jsonify({
    id: c.id,
    name: c.name,
    description: c.description,
    group: c.group,
    groupId: c.groupId,
    order: c.order,
    status: c.status,
    version: c.updatedAt.getTime(),
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  });
}

const list = createRoute({
  method: 'get',
  path: '/components',
  tags: ['components'],
  summary: 'List components with their derived status',
  description: 'Anonymous callers read the public status (internal-only incidents never show); a token reads the internal status.',
  responses: { 200: json(z.object({ components: z.array(component) }), 'Components in display order') },
});

const listGroups = createRoute({
  method: 'get',
  path: '/component-groups',
  tags: ['components'],
  summary: 'List component groups with their stable ids',
  responses: { 200: json(z.object({ groups: z.array(componentGroup) }), 'Groups in display order') },
});

const renameGroup = createRoute({
  method: 'patch',
  path: '/component-groups/{id}',
  tags: ['components'],
  summary: 'Rename a component group; its id stays',
  security: bearer,
  middleware: [requireRole('admin')] as const,
  request: { params: z.object({ id: z.string().min(1).max(64) }), body: { content: { 'application/json': { schema: groupPatch } }, required: true } },
  responses: { 200: json(componentGroup, 'Renamed'), ...errorResponses, 404: problemResponses[404], 409: problemResponses[409] },
});

const create = createRoute({
  method: 'post',
  path: '/components',
  tags: ['components'],
  summary: 'Add a component',
  security: bearer,
  middleware: [requireRole('admin')] as const,
  request: { body: { content: { 'application/json': { schema: componentBody } }, required: true } },
  responses: { 201: json(component, 'Created'), ...errorResponses, 409: problemResponses[409] },
});

const patch = createRoute({
  method: 'patch',
  path: '/components/{id}',
  tags: ['components'],
  summary: 'Rename, describe, regroup or reorder a component',
  security: bearer,
  middleware: [requireRole('admin')] as const,
  request: { params: idParam, body: { content: { 'application/json': { schema: componentPatch } }, required: true } },
  responses: { 200: json(component, 'Updated'), ...errorResponses, 404: problemResponses[404] },
});

const remove = createRoute({
  method: 'delete',
  path: '/components/{id}',
  tags: ['components'],
  summary: 'Archive a component (past incidents keep naming it)',
  security: bearer,
  middleware: [requireRole('admin')] as const,
  request: { params: idParam },
  responses: { 204: { description: 'Archived' }, ...errorResponses, 404: problemResponses[404], 409: problemResponses[409] },
});

export function componentRoutes(s: Services) {
  return apiRouter()
    .openapi(list, async (c) => {
      // Anonymous callers always read as the public reader (SPEC "Agreement: one status truth").
      const reader = c.get('actor') ? 'internal' : 'public';
      return c.json({ components: (await listComponents(s.db, reader)).map(present) }, 200);
    })
    .openapi(listGroups, async (c) => c.json({ groups: await listComponentGroups(s.db) }, 200))
    .openapi(create, async (c) => {
      const actor = c.get('actor')!;
      return c.json(present(await createComponent(s, actor, c.req.valid('json'))), 201);
    })
    .openapi(patch, async (c) => {
      const actor = c.get('actor')!;
      return c.json(present(await updateComponent(s, actor, c.req.valid('param').id, c.req.valid('json'))), 200);
    })
    .openapi(remove, async (c) => {
      await archiveComponent(s, c.get('actor')!, c.req.valid('param').id);
      return c.body(null, 204);
    })
    .openapi(renameGroup, async (c) => {
      const actor = c.get('actor')!;
      return c.json(await renameComponentGroup(s, actor, c.req.valid('param').id, c.req.valid('json').name), 200);
    });
}
