// /members: the team members who sign in (emailed link or SSO) with a role; admins manage them.
import { createRoute, z } from '@hono/zod-openapi';
import { requireRole } from '../auth.ts';
import { apiRouter } from '../http/router.ts';
import { errorResponses, problemResponses } from '../http/problems.ts';
import type { Services } from '../services/context.ts';
import { addMember, listMembers, memberChange, memberInput, removeMember, updateMember, type Member } from '../services/members.ts';
import { roles } from '../services/tokens.ts';
import { bearer, idParam, json } from './schemas.ts';

const member = z
  .object({ id: z.string(), email: z.string(), name: z.string(), role: z.enum(roles), createdAt: z.string(), lastSignedInAt: z.string().nullable() })
  .openapi('Member');

const present = (m: Member) => ({
  id: m.id,
  email: m.email,
  name: m.name,
  role: m.role as (typeof roles)[number],
  createdAt: m.createdAt.toISOString(),
  lastSignedInAt: m.lastSignedInAt?.toISOString() ?? null,
});

const list = createRoute({
  method: 'get',
  path: '/members',
  tags: ['members'],
  summary: 'List team members',
  security: bearer,
  middleware: [requireRole('admin')] as const,
  responses: { 200: json(z.object({ members: z.array(member) }), 'Members'), ...errorResponses },
});

const add = createRoute({
  method: 'post',
  path: '/members',
  tags: ['members'],
  summary: 'Add a team member and email them a one-time sign-in link (they sign in by emailed link or SSO)',
  security: bearer,
  middleware: [requireRole('admin')] as const,
  request: { body: { content: { 'application/json': { schema: memberInput } }, required: true } },
  responses: { 201: json(member, 'Added'), ...errorResponses, 409: problemResponses[409] },
});

const change = createRoute({
  method: 'patch',
  path: '/members/{id}',
  tags: ['members'],
  summary: "Change a member's name or role (a role change ends their sessions)",
  security: bearer,
  middleware: [requireRole('admin')] as const,
  request: { params: idParam, body: { content: { 'application/json': { schema: memberChange } }, required: true } },
  responses: { 200: json(member, 'Changed'), ...errorResponses, 404: problemResponses[404], 409: problemResponses[409] },
});

const remove = createRoute({
  method: 'delete',
  path: '/members/{id}',
  tags: ['members'],
  summary: 'Remove a member and end their sessions',
  security: bearer,
  middleware: [requireRole('admin')] as const,
  request: { params: idParam },
  responses: { 204: { description: 'Removed' }, ...errorResponses, 404: problemResponses[404], 409: problemResponses[409] },
});

export function memberRoutes(s: Services) {
  return apiRouter()
    .openapi(list, async (c) => c.json({ members: (await listMembers(s, c.get('actor')!)).map(present) }, 200))
    .openapi(add, async (c) => c.json(present(await addMember(s, c.get('actor')!, c.req.valid('json'))), 201))
    .openapi(change, async (c) => c.json(present(await updateMember(s, c.get('actor')!, c.req.valid('param').id, c.req.valid('json'))), 200))
    .openapi(remove, async (c) => {
      await removeMember(s, c.get('actor')!, c.req.valid('param').id);
      return c.body(null, 204);
    });
}
