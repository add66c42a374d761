// /templates: the prewritten updates a comms lead picks from, and a preview of both wordings.
import { createRoute, z } from '@hono/zod-openapi';
import { requireRole } from '../auth.ts';
import { apiRouter } from '../http/router.ts';
import { errorResponses, problemResponses } from '../http/problems.ts';
import type { Services } from '../services/context.ts';
import { previewTemplate } from '../services/preview.ts';
import { internalBuiltins, maintenanceBuiltins, sharedBuiltins } from '../templates.ts';
import { bearer, json, variables } from './schemas.ts';

const templateSchema = z
  .object({
    key: z.string(),
    kind: z.enum(['incident', 'maintenance']),
    name: z.string(),
    description: z.string(),
    statuses: z.array(z.string()),
    variables: z.array(
      z.object({ name: z.string(), description: z.string(), required: z.boolean(), example: z.string(), audience: z.enum(['both', 'internal']) }),
    ),
    builtins: z.object({ both: z.array(z.string()), internalOnly: z.array(z.string()) }),
  })
  .openapi('Template');

const wording = z.object({ subject: z.string(), body: z.string() });
const previewSchema = z.object({ external: wording, internal: wording }).openapi('Preview');

const list = createRoute({
  method: 'get',
  path: '/templates',
  tags: ['templates'],
  summary: 'List templates with their variables',
  security: bearer,
  middleware: [requireRole('viewer')] as const,
  responses: { 200: json(z.object({ templates: z.array(templateSchema) }), 'Every loaded template'), ...errorResponses },
});

const preview = createRoute({
  method: 'post',
  path: '/templates/{key}/preview',
  tags: ['templates'],
  summary: 'Render both wordings without publishing',
  security: bearer,
  middleware: [requireRole('viewer')] as const,
  request: {
    params: z.object({ key: z.string().max(64).openapi({ param: { name: 'key', in: 'path' } }) }),
    body: {
      content: {
        'application/json': {
          schema: z
            .object({ variables: variables.default({}), incidentId: z.string().max(64).optional() })
            .strict()
            .openapi('PreviewInput'),
        },
      },
      required: true,
    },
  },
  responses: { 200: json(previewSchema, 'Both wordings, rendered'), ...errorResponses, 404: problemResponses[404] },
});

export function templateRoutes(s: Services) {
  return apiRouter()
    .openapi(list, (c) =>
      c.json(
        {
          templates: s.templates.list().map((t) => ({
            key: t.key,
            kind: t.kind,
            name: t.name,
            description: t.description,
            statuses: t.statuses,
            variables: t.variables,
            builtins: {
              both: [...sharedBuiltins, ...(t.kind === 'maintenance' ? maintenanceBuiltins : [])],
              internalOnly: t.kind === 'incident' ? [...internalBuiltins] : [],
            },
          })),
        },
        200,
      ),
    )
    .openapi(preview, async (c) => c.json(await previewTemplate(s, c.req.valid('param').key, c.req.valid('json')), 200));
}
