// Field shapes shared by several resources: one definition serves validation and the OpenAPI document.
import { z } from '@hono/zod-openapi';
import { actionItemPriorities, actionItemStatuses, componentStatuses } from '../domain.ts';
import { actionItemInput, postmortemItemInput } from '../services/action-items.ts';

export { componentChange, email, line, nextUpdateInMinutes, notify, roles, slug, text, variables } from '../services/schemas.ts';

export const idParam = z.object({ id: z.string().min(1).max(64).openapi({ param: { name: 'id', in: 'path' } }) });

export const ifMatchHeader = z.object({
  'if-match': z
    .string()
    // A version is a count of changes: 15 digits is more than any will reach, and stays an exact number.
    .regex(/^(W\/)?"?\d{1,15}"?$/, 'must be the incident version, e.g. "3"')
    .optional()
    .openapi({ description: 'The version you last saw; a stale one is refused with 409.' }),
});

export function parseIfMatch(value: string | undefined): number | undefined {
  return value === undefined ? undefined : Number(value.replace(/\D/g, ''));
}

export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

export const bearer = [{ bearer: [] }];

// ---- response shapes shared by incidents and maintenances ----

const wording = z.object({ subject: z.string(), body: z.string() });
export const counts = z.object({ pending: z.number(), sent: z.number(), failed: z.number(), suppressed: z.number() });
export const audiences = z.object({ public: z.boolean(), subscribers: z.boolean(), stakeholders: z.boolean() });
export const affected = z.object({ id: z.string(), name: z.string(), status: z.enum(componentStatuses) });

export const updateSchema = z
  .object({
    id: z.string(),
    status: z.string(),
    template: z.string(),
    variables: z.record(z.string(), z.string()),
    external: wording,
    internal: wording,
    components: z.array(affected),
    audiences,
    author: z.string(),
    createdAt: z.string(),
    nextUpdateAt: z.string().nullable(),
    deliveries: counts,
  })
  .openapi('Update');

/** An action item as POST /incidents/{id}/action-items and PUT …/postmortem take it (SPEC "Learning from incidents"). */
export const actionItemBody = actionItemInput;
/** An action item inside PUT …/postmortem: priority and status may be left unstated (a new item is P3 and open). */
export const postmortemItemBody = postmortemItemInput;

/** An action item as every read answers it. */
export const actionItemSchema = z
  .object({
    id: z.string(),
    incidentId: z.string(),
    incidentTitle: z.string().openapi({ description: "The incident's internal title." }),
    title: z.string(),
    owner: z.string(),
    dueOn: z.string(),
    priority: z.enum(actionItemPriorities),
    status: z.enum(actionItemStatuses),
    url: z.string().nullable(),
    overdue: z.boolean().openapi({ description: 'Open after its due day ended (UTC).' }),
    closedAt: z.string().nullable(),
    version: z.number(),
    createdBy: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('ActionItem');
