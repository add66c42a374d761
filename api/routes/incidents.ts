// /incidents: declare, read the internal view, post updates, publish the postmortem.
import { createRoute, z } from '@hono/zod-openapi';
import { requireRole } from '../auth.ts';
import { apiRouter } from '../http/router.ts';
import { jsonify } from '../http/json.ts';
import { errorResponses, problemResponses } from '../http/problems.ts';
import { incidentStatuses, severities } from '../domain.ts';
import type { Services } from '../services/context.ts';
import { declareBody, postmortemBody, updateBody } from '../services/schemas.ts';
import { declareIncident, getIncident, listIncidents, postUpdate, publishPostmortem, type IncidentView } from '../services/incidents.ts';
import { updateReach } from '../services/reach.ts';
import { affected, audiences, bearer, counts, idParam, ifMatchHeader, json, parseIfMatch, actionItemSchema, roles, updateSchema } from './schemas.ts';

const incidentSchema = z
  .object({
    id: z.string(),
    title: z.string(),
    internalTitle: z.string(),
    severity: z.enum(severities),
    status: z.enum(incidentStatuses),
    version: z.number(),
    audiences,
    roles,
    components: z.array(affected),
    startedAt: z.string(),
    acknowledgedAt: z.string(),
    identifiedAt: z.string().nullable(),
    mitigatedAt: z.string().nullable(),
    resolvedAt: z.string().nullable(),
    nextUpdateAt: z.string().nullable(),
    overdue: z.boolean(),
    draft: z.boolean().openapi({ description: 'Made from an alert and not yet published: no public output shows it. Post an update to publish it.' }),
    alerts: z
      .array(z.object({ source: z.string(), groupKey: z.string(), status: z.enum(['firing', 'resolved']), firingAt: z.string(), resolvedAt: z.string().nullable() }))
      .openapi({ description: 'Alert groups behind this incident; "resolved" means the alerts resolved, not the incident.' }),
    reminders: z
      .array(
        z.object({
          kind: z.enum(['due_reminder', 'overdue', 'alerts_resolved']),
          seq: z.number(),
          recipientKind: z.string(),
          recipient: z.string(),
          status: z.enum(['pending', 'sent', 'failed', 'suppressed']),
          dueAt: z.string(),
          sentAt: z.string().nullable(),
          lastError: z.string().nullable(),
        }),
      )
      .openapi({ description: 'Reminders to the comms lead and the channels, by due time: pending, sent or failed (cancelled ones are left out).' }),
    durations: z.object({ toAcknowledge: z.number(), toMitigate: z.number().nullable(), toResolve: z.number().nullable() }),
    updates: z.array(updateSchema),
    postmortem: z
      .object({
        externalSummary: z.string(),
        internalBody: z.string(),
        actionItems: z.array(actionItemSchema),
        author: z.string(),
        publishedAt: z.string(),
        updatedAt: z.string(),
      })
      .nullable(),
    deliveries: counts,
    audit: z.array(z.object({ at: z.string(), actor: z.string(), action: z.string(), detail: z.record(z.string(), z.unknown()) })),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Incident');

const reachSchema = z
  .object({
    public: z.boolean(),
    subscribers: z.object({ included: z.boolean(), count: z.number().int() }),
    stakeholders: z.object({ included: z.boolean(), count: z.number().int() }),
    warnings: z.array(z.string()),
  })
  .openapi('Reach', { description: 'Who this publish reached: the public page, how many subscribers and executives.' });

/** A declare or update answer: the incident, plus who the update just published reached and any notified group with nobody in it. */
const publishedSchema = incidentSchema
  .extend({
    reach: reachSchema,
    warnings: z.array(z.string()).openapi({ description: 'Plain sentences for each notified group with no recipients, e.g. "0 executives will be briefed — …".' }),
  })
  .openapi('PublishedIncident');

const summarySchema = incidentSchema
  .pick({ id: true, title: true, internalTitle: true, severity: true, status: true, version: true, startedAt: true, resolvedAt: true, nextUpdateAt: true, overdue: true, draft: true })
  .openapi('IncidentSummary');

const present = (view: IncidentView) => jsonify(view) as z.infer<typeof incidentSchema>;

/** The incident with the reach of its newest update (the one just published). */
async function presentPublished(s: Services, view: IncidentView): Promise<z.infer<typeof publishedSchema>> {
  const latest = view.updates[0];
  const reach = latest
    ? await updateReach(s.db, latest)
    : { public: view.audiences.public, subscribers: { included: false, count: 0 }, stakeholders: { included: false, count: 0 }, warnings: [] };
  return { ...present(view), reach, warnings: [...reach.warnings, ...cadenceWarnings(view)] };
}

/**
 * Says out loud when an update is due but nobody will be reminded of it: no comms lead email in the incident's roles,
 * no email on the publishing token, no COMMS_EMAIL and no chat channel (SPEC "Cadence"), so no reminder was scheduled.
 */
function cadenceWarnings(view: IncidentView): string[] {
  if (!view.nextUpdateAt || view.draft || view.status === 'resolved' || view.status === 'postmortem') return [];
  if (view.reminders.some((r) => r.status === 'pending' && (r.kind === 'due_reminder' || r.kind === 'overdue'))) return [];
  return [
    'Nobody will be reminded before the next update is due — give the comms lead an email (roles.comms: { "name", "email" }), ' +
      'create your token with --email, set COMMS_EMAIL, or add a chat channel (POST /api/v1/channels).',
  ];
}

const listRoute = createRoute({
  method: 'get',
  path: '/incidents',
  tags: ['incidents'],
  summary: 'List incidents, newest first (internal view)',
  security: bearer,
  middleware: [requireRole('viewer')] as const,
  request: {
    query: z.object({
      status: z.enum(['active', 'resolved']).optional(),
      limit: z.coerce.number().int().min(1).max(200).default(50),
      before: z.iso.datetime({ offset: true }).optional().openapi({ description: 'Cursor: incidents that started before this time.' }),
    }),
  },
  responses: { 200: json(z.object({ incidents: z.array(summarySchema) }), 'Incidents'), ...errorResponses },
});

const declareRoute = createRoute({
  method: 'post',
  path: '/incidents',
  tags: ['incidents'],
  summary: 'Declare an incident from a template',
  security: bearer,
  middleware: [requireRole('comms')] as const,
  request: { body: { content: { 'application/json': { schema: declareBody } }, required: true } },
  responses: { 201: json(publishedSchema, 'Declared and published'), ...errorResponses },
});

const getRoute = createRoute({
  method: 'get',
  path: '/incidents/{id}',
  tags: ['incidents'],
  summary: 'The internal view of an incident: both wordings, audiences, delivery counts, durations',
  security: bearer,
  middleware: [requireRole('viewer')] as const,
  request: { params: idParam },
  responses: { 200: json(incidentSchema, 'The incident'), ...errorResponses, 404: problemResponses[404] },
});

const updateRoute = createRoute({
  method: 'post',
  path: '/incidents/{id}/updates',
  tags: ['incidents'],
  summary: 'Post an update: status, template, variables, optional component changes',
  security: bearer,
  middleware: [requireRole('comms')] as const,
  request: { params: idParam, headers: ifMatchHeader, body: { content: { 'application/json': { schema: updateBody } }, required: true } },
  responses: { 201: json(publishedSchema, 'Published'), ...errorResponses, 404: problemResponses[404], 409: problemResponses[409] },
});

const postmortemRoute = createRoute({
  method: 'put',
  path: '/incidents/{id}/postmortem',
  tags: ['incidents'],
  summary: 'Publish or revise the postmortem of a resolved incident',
  description:
    'The first PUT publishes the postmortem and announces it once. A later PUT is a correction: it replaces the published text ' +
    'everywhere (timeline, feed, JSON, emails not yet sent) without announcing again; the audit keeps the previous and the new text.',
  security: bearer,
  middleware: [requireRole('comms')] as const,
  request: { params: idParam, headers: ifMatchHeader, body: { content: { 'application/json': { schema: postmortemBody } }, required: true } },
  responses: { 200: json(incidentSchema, 'Published'), ...errorResponses, 404: problemResponses[404], 409: problemResponses[409] },
});

export function incidentRoutes(s: Services) {
  return apiRouter()
    .openapi(listRoute, async (c) => {
      const q = c.req.valid('query');
      const rows = await listIncidents(s, { status: q.status, limit: q.limit, before: q.before ? new Date(q.before) : undefined });
      return c.json({ incidents: jsonify(rows) }, 200);
    })
    .openapi(declareRoute, async (c) => {
      const body = c.req.valid('json');
      const view = await declareIncident(s, c.get('actor')!, { ...body, startedAt: body.startedAt ? new Date(body.startedAt) : undefined, idempotencyKey: c.req.header('idempotency-key') });
      c.header('location', `/api/v1/incidents/${view.id}`);
      c.header('etag', `"${view.version}"`);
      return c.json(await presentPublished(s, view), 201);
    })
    .openapi(getRoute, async (c) => {
      const view = await getIncident(s, c.req.valid('param').id);
      c.header('etag', `"${view.version}"`);
      return c.json(present(view), 200);
    })
    .openapi(updateRoute, async (c) => {
      const ifMatch = parseIfMatch(c.req.valid('header')['if-match']);
      const view = await postUpdate(s, c.get('actor')!, c.req.valid('param').id, { ...c.req.valid('json'), idempotencyKey: c.req.header('idempotency-key') }, ifMatch);
      c.header('etag', `"${view.version}"`);
      return c.json(await presentPublished(s, view), 201);
    })
    .openapi(postmortemRoute, async (c) => {
      const ifMatch = parseIfMatch(c.req.valid('header')['if-match']);
      const view = await publishPostmortem(s, c.get('actor')!, c.req.valid('param').id, { ...c.req.valid('json'), idempotencyKey: c.req.header('idempotency-key') }, ifMatch);
      c.header('etag', `"${view.version}"`);
      return c.json(present(view), 200);
    });
}
