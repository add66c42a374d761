// The use cases' input schemas (SPEC "One door"): one zod definition validates an API body and a console form and documents the OpenAPI.
import { z } from '@hono/zod-openapi';
import { isXmlText } from '../characters.ts';
import { impactStatuses, maintenanceStatuses, severities, updateStatuses } from '../domain.ts';
import { postmortemItemInput } from './action-items.ts';
import { channelKinds } from './channels.ts';
import { startedAtMaxAgeDays } from './incidents.ts';
import { windowBounds } from './maintenances.ts';

// ---- fields ----

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

// ---- incidents ----

export const declareBody = z
  .object({
    title: line(200).openapi({ description: 'External title: customers read it.', example: 'Checkout is failing for some customers' }),
    internalTitle: line(200).optional().openapi({ description: 'Internal title for executives and the internal page.' }),
    severity: z.enum(severities),
    status: z.enum(updateStatuses).optional(),
    template: slug.openapi({ example: 'investigating' }),
    variables: variables.default({}),
    components: z.array(componentChange).min(1, 'name at least one affected component').max(100),
    notify,
    roles: roles.optional(),
    startedAt: z.iso
      .datetime({ offset: true })
      .optional()
      .openapi({ description: `When impact began, if before the declaration: not in the future and at most ${startedAtMaxAgeDays} days ago (else 422).` }),
    nextUpdateInMinutes,
  })
  .strict()
  .openapi('DeclareIncident', {
    example: {
      title: 'Checkout is failing for some customers',
      internalTitle: 'Payment gateway certificate expired',
      severity: 'SEV1',
      template: 'investigating',
      variables: { symptom: 'Card payments fail at checkout with an error page.' },
      components: [{ id: 'checkout-api', status: 'major_outage' }],
    },
  });

export const updateBody = z
  .object({
    status: z.enum(updateStatuses),
    template: slug,
    variables: variables.default({}),
    components: z.array(componentChange).max(100).optional(),
    notify,
    roles: roles.optional(),
    nextUpdateInMinutes,
    reopen: z.boolean().optional().openapi({ description: 'Needed to move a resolved incident back to an open status.' }),
  })
  .strict()
  .openapi('PostUpdate', {
    example: {
      status: 'identified',
      template: 'identified',
      variables: { symptom: 'Card payments fail at checkout.', cause: 'A gateway certificate expired.', fix: 'A renewed certificate is being installed.' },
    },
  });

export const postmortemBody = z
  .object({
    externalSummary: text(20_000).min(1, 'must not be empty').openapi({ description: 'Public summary on the incident page and in feeds.' }),
    internalBody: text(100_000).min(1, 'must not be empty').openapi({ description: 'Timeline, contributing factors: executives only.' }),
    actionItems: z
      .array(postmortemItemInput)
      .max(100)
      .default([])
      .openapi({ description: 'Action items in the shape POST /incidents/{id}/action-items takes; each becomes a record (an item with the same title is updated).' }),
    template: slug.optional(),
    variables: variables.optional(),
    notify,
  })
  .strict()
  .openapi('PublishPostmortem');

// ---- maintenances ----

const windowEnd = `End of the window: after scheduledFor and at most ${windowBounds.maxLengthDays} days after it (else 422).`;

export const scheduleBody = z
  .object({
    title: line(200),
    internalTitle: line(200).optional(),
    scheduledFor: z.iso.datetime({ offset: true }).openapi({
      description: `Start of the window: at most ${windowBounds.pastHours} hours ago and at most ${windowBounds.aheadDays} days ahead (else 422).`,
    }),
    scheduledUntil: z.iso.datetime({ offset: true }).openapi({ description: windowEnd }),
    components: z.array(slug).min(1, 'name at least one component').max(100),
    template: slug.optional().openapi({ description: 'Defaults to maintenance-scheduled.' }),
    variables: variables.default({}),
    autoStart: z.boolean().optional().openapi({ description: 'Start at scheduledFor by itself (default true).' }),
    autoComplete: z.boolean().optional().openapi({ description: 'Complete at scheduledUntil by itself (default true).' }),
    notify,
  })
  .strict()
  .openapi('ScheduleMaintenance');

export const maintenanceUpdateBody = z
  .object({
    status: z.enum(maintenanceStatuses),
    template: slug,
    variables: variables.default({}),
    scheduledUntil: z.iso.datetime({ offset: true }).optional().openapi({ description: `A new end, e.g. when work overruns. ${windowEnd}` }),
    notify,
  })
  .strict()
  .openapi('PostMaintenanceUpdate');

// ---- catalogue and channels ----

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

export const channelInput = z
  .object({
    kind: z.enum(channelKinds, { error: `must be one of ${channelKinds.join(', ')}` }).openapi({ description: 'Which incoming-webhook format to speak: Slack blocks, a Discord embed, a Teams Adaptive Card, or plain JSON.' }),
    url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).max(2000).openapi({ example: 'https://hooks.slack.com/services/T000/B000/XXXX' }),
    name: line(120).optional(),
  })
  .strict()
  .openapi('ChannelInput');
