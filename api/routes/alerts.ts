// /alerts: Prometheus Alertmanager (webhook version 4) and Grafana alerting post here; an adapter over the alert intake use case (services/alerts.ts).
import { createHash } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import { requireRole } from '../auth.ts';
import { apiRouter } from '../http/router.ts';
import { errorResponses } from '../http/problems.ts';
import { alertOutcomes, receiveAlerts, type AlertBatch, type AlertSource } from '../services/alerts.ts';
import type { Services } from '../services/context.ts';
import { bearer, json } from './schemas.ts';

const labels = z.record(z.string(), z.string()).default({});

const alert = z.looseObject({
  status: z.enum(['firing', 'resolved']),
  labels,
  annotations: labels,
  startsAt: z.string().optional(),
  endsAt: z.string().optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().optional(),
});

/** Alertmanager's webhook payload, version 4 (prometheus.io, "Configuration", webhook_config); unknown fields are kept out of the way, not refused. */
const alertmanagerPayload = z
  .looseObject({
    version: z.literal('4', { error: 'only version "4" of the Alertmanager webhook payload is understood' }),
    groupKey: z.string().min(1).max(4000),
    truncatedAlerts: z.number().int().min(0).optional(),
    status: z.enum(['firing', 'resolved']),
    receiver: z.string().optional(),
    groupLabels: labels,
    commonLabels: labels,
    commonAnnotations: labels,
    externalURL: z.string().optional(),
    alerts: z.array(alert).min(1, 'at least one alert').max(1000),
  })
  .openapi('AlertmanagerPayload');

/** Grafana alerting's webhook contact point payload (Grafana docs, "Configure the webhook notifier"): Alertmanager's shape plus orgId, title, state, message. */
const grafanaPayload = z
  .looseObject({
    groupKey: z.string().min(1).max(4000).optional(),
    status: z.enum(['firing', 'resolved']),
    receiver: z.string().optional(),
    orgId: z.number().optional(),
    groupLabels: labels,
    commonLabels: labels,
    commonAnnotations: labels,
    title: z.string().optional(),
    message: z.string().optional(),
    alerts: z.array(alert).min(1, 'at least one alert').max(1000),
  })
  .openapi('GrafanaPayload');

const outcome = z
  .object({
    outcome: z.enum(alertOutcomes),
    incidentId: z.string().nullable(),
    severity: z.string().nullable(),
    unknownComponents: z.array(z.string()),
  })
  .openapi('AlertOutcome');

const route = (source: AlertSource, schema: typeof alertmanagerPayload | typeof grafanaPayload, summary: string) =>
  createRoute({
    method: 'post',
    path: `/alerts/${source}`,
    tags: ['alerts'],
    summary,
    description:
      'Labels pick the incident: `severity` (critical → SEV1, warning/major → SEV2, minor → SEV3, info → SEV4; ALERT_SEVERITY_MAP adds more) and ' +
      '`component` (component ids, comma-separated). ALERT_POLICY decides per severity whether the "investigating" template is published at once or a draft is made. ' +
      'One incident for the life of a group: a repeat adds nothing, unless its alerts now map to a higher severity: then the incident is escalated ' +
      '(and a draft is published when the new severity\'s policy says `publish`). A repeat of a group whose incident a person resolved while its alerts ' +
      'kept firing (`startsAt` before the resolve) declares nothing and tells the comms lead once; an alert that starts after the resolve opens a new incident. ' +
      'A resolved group never resolves the incident, it tells the comms lead.',
    security: bearer,
    middleware: [requireRole('comms')] as const,
    request: { body: { content: { 'application/json': { schema } }, required: true } },
    responses: { 200: json(outcome, 'Repeat, escalated, still firing, resolved or ignored'), 201: json(outcome, 'An incident was declared or drafted'), ...errorResponses },
  });

function batch(source: AlertSource, p: z.infer<typeof grafanaPayload>): AlertBatch {
  // Grafana before 9 sends no groupKey: the group labels stand for the group.
  const groupKey = p.groupKey ?? `labels:${createHash('sha256').update(JSON.stringify(Object.entries(p.groupLabels).sort())).digest('hex')}`;
  return { source, groupKey, status: p.status, alerts: p.alerts, commonLabels: p.commonLabels, commonAnnotations: p.commonAnnotations };
}

export function alertRoutes(s: Services) {
  return apiRouter()
    .openapi(route('alertmanager', alertmanagerPayload, 'Receive a Prometheus Alertmanager webhook (version 4)'), async (c) => {
      const result = await receiveAlerts(s, c.get('actor')!, batch('alertmanager', c.req.valid('json')));
      return c.json(result, result.outcome === 'declared' || result.outcome === 'drafted' ? 201 : 200);
    })
    .openapi(route('grafana', grafanaPayload, 'Receive a Grafana alerting webhook'), async (c) => {
      const result = await receiveAlerts(s, c.get('actor')!, batch('grafana', c.req.valid('json')));
      return c.json(result, result.outcome === 'declared' || result.outcome === 'drafted' ? 201 : 200);
    });
}
