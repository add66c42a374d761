// Field shapes shared by several resources: one definition serves validation and the OpenAPI document.
import { z } from '@hono/zod-openapi';
import { isXmlText } from '../characters.ts';
import { actionItemPriorities, actionItemStatuses, componentStatuses, impactStatuses } from '../domain.ts';
import { actionItemInput, postmortemItemInput } from '../services/action-items.ts';

/** Every text field refuses what XML 1.0 forbids (api/characters.ts), so no stored text can break feed.xml or a page. */
const xmlMessage = 'must not contain U+FFFE, U+FFFF or unpaired surrogates (XML 1.0 forbids them)';

/** One line of text: it may reach a mail header, so control characters (CR/LF among them) are refused. */
export const line = (max: number) =>
  z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .regex(/^[^\x00-\x1f\x7f]*$/, 'must be a single line without control characters')
    .refine(isXmlText, xmlMessage);

/** Free text: line breaks and tabs are fine, other control characters are not. */
export const text = (max: number) =>
  z
    .string()
    .max(max, `must be at most ${max} characters`)
    .regex(/^[^\x00-\x08\x0b-\x1f\x7f]*$/, 'must not contain control characters')
    .refine(isXmlText, xmlMessage);

export const slug = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lowercase letters, digits and dashes')
  .openapi({ example: 'checkout-api' });

export const variables = z
  .record(z.string().regex(/^[a-z][a-z0-9_]*$/, 'variable names are snake_case').max(64), text(4000))
  .refine((v) => Object.keys(v).length <= 50, 'at most 50 variables')
  .openapi({ example: { symptom: 'Some customers cannot sign in' } });

export const componentChange = z
  .object({ id: slug, status: z.enum([...impactStatuses, 'operational']) })
  .strict()
  .openapi('ComponentChange');

export const notify = z
  .union([z.boolean(), z.object({ subscribers: z.boolean().optional(), stakeholders: z.boolean().optional() }).strict()])
  .optional()
  .openapi({ description: 'Narrow who is notified below the severity policy (never wider). false sends no email.' });


export const nextUpdateInMinutes = z
  .number()
  .int()
  .min(0)
  .max(7 * 24 * 60)
  .nullable()
  .optional()
  .openapi({ description: 'When the next update is due, in minutes; null or 0 for none; omitted for the default cadence of the severity.' });

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

/** An address that will reach a mail header: one line, a plausible shape, at most 254 characters (RFC 5321). */
export const email = z
  .string()
  .trim()
  .max(254, 'must be at most 254 characters')
  .regex(/^[^\x00-\x1f\x7f]*$/, 'must be a single line without control characters')
  .refine(isXmlText, xmlMessage)
  .pipe(z.email('must be an email address'))
  .openapi({ example: 'ops-lead@example.com' });

/**
 * A person in a role: a name, "Name <address>", or `{ name?, email }` (stored as "Name <address>"). An address
 * in the comms lead's role is where reminders go (api/services/reminders.ts).
 */
const person = z.union([
  line(120),
  z
    .object({ name: line(120).optional(), email })
    .strict()
    .transform((p) => (p.name ? `${p.name} <${p.email}>` : p.email)),
]);

export const roles = z
  .object({ ic: person.optional(), comms: person.optional(), smes: z.array(person).max(20).optional() })
  .strict()
  .openapi('Roles');

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
