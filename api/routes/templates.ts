// /templates: the prewritten updates a comms lead picks from, and a preview of both wordings.
import { createRoute, z } from '@hono/zod-openapi';
import { requireRole } from '../auth.ts';
import { apiRouter } from '../http/router.ts';
import { errorResponses, problemResponses } from '../http/problems.ts';
import type { Services } from '../services/context.ts';
import { previewDeclaration, previewTemplate } from '../services/preview.ts';
import { internalBuiltins, maintenanceBuiltins, sharedBuiltins } from '../templates.ts';
import { audiences, bearer, componentChange, json, line, nextUpdateInMinutes, variables } from './schemas.ts';
import { severities, updateStatuses } from '../domain.ts';

const templateSchema = z
  .object({
    key: z.string(),
    kind: z.enum(['incident', 'maintenance']),
    name: z.string(),
    description: z.string(),
    statuses: z.array(z.string()),
    variables: z.array(
      z.object({
        name: z.string(),
        label: z.string().openapi({ description: 'Plain words for a form field: the template\'s `label`, else the name in words ("what_happened" → "What happened").' }),
        description: z.string(),
        required: z.boolean(),
        example: z.string(),
        audience: z.enum(['both', 'internal']),
      }),
    ),
    builtins: z.object({ both: z.array(z.string()), internalOnly: z.array(z.string()) }),
  })
  .openapi('Template');

const wording = z.object({ subject: z.string(), body: z.string() });
const previewSchema = z
  .object({
    external: wording,
    internal: wording,
    audiences: audiences.optional().openapi({ description: 'With a declaration: who would be told, by the severity policy.' }),
    recipients: z
      .object({ subscribers: z.number(), stakeholders: z.number() })
      .optional()
      .openapi({ description: 'With a declaration: how many subscribers and executives would get an email now.' }),
    warnings: z.array(z.string()).optional().openapi({ description: 'With a declaration: one sentence per notified group that nobody is in.' }),
  })
  .openapi('Preview');

/** An incident not declared yet: the preview then names its real title and components, and counts who would be told. */
const declaration = z
  .object({
    title: line(200),
    internalTitle: line(200).optional(),
    severity: z.enum(severities),
    status: z.enum(updateStatuses).optional(),
    components: z.array(componentChange).min(1, 'name at least one affected component').max(100),
    nextUpdateInMinutes,
  })
  .strict()
  .openapi('PreviewDeclaration', {
    example: { title: 'Checkout is failing for some customers', severity: 'SEV1', components: [{ id: 'checkout-api', status: 'major_outage' }] },
  });

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
            .object({ variables: variables.default({}), incidentId: z.string().max(64).optional(), declaration: declaration.optional() })
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
    .openapi(preview, async (c) => {
      const { key } = c.req.valid('param');
      const { declaration: d, ...input } = c.req.valid('json');
      if (!d) return c.json(await previewTemplate(s, c.get('actor'), key, input), 200);
      const p = await previewDeclaration(s, c.get('actor'), { ...d, template: key, variables: input.variables });
      return c.json({ ...p.rendered, audiences: p.audiences, recipients: p.recipients, warnings: p.warnings }, 200);
    });
}
