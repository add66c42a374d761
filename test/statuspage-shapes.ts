// Statuspage's shapes as its widgets, aggregators and webhook consumers read them: shared by the /api/v2 and the webhook tests.
import { z } from 'zod';

export const isoTime = z.iso.datetime({ offset: true });
export const componentStatus = z.enum(['operational', 'degraded_performance', 'partial_outage', 'major_outage', 'under_maintenance']);
export const indicator = z.enum(['none', 'maintenance', 'minor', 'major', 'critical']);

export const statuspageComponent = z
  .object({
    id: z.string(),
    name: z.string(),
    status: componentStatus,
    created_at: isoTime,
    updated_at: isoTime,
    position: z.number().int().min(1),
    description: z.string().nullable(),
    showcase: z.boolean(),
    start_date: z.string().nullable(),
    group_id: z.string().nullable(),
    page_id: z.string(),
    group: z.boolean(),
    only_show_if_degraded: z.boolean(),
    components: z.array(z.string()).optional(),
  })
  .strict();

export const statuspageUpdate = z
  .object({
    id: z.string(),
    status: z.string(),
    body: z.string(),
    incident_id: z.string(),
    created_at: isoTime,
    updated_at: isoTime,
    display_at: isoTime,
    affected_components: z.array(z.object({ code: z.string(), name: z.string(), old_status: componentStatus, new_status: componentStatus }).strict()),
    deliver_notifications: z.boolean(),
    custom_tweet: z.string().nullable(),
    tweet_id: z.string().nullable(),
    // Statuspage's webhook documentation adds these.
    wants_twitter_update: z.boolean(),
    twitter_updated_at: isoTime.nullable(),
  })
  .strict();

const incidentFields = {
  id: z.string(),
  name: z.string(),
  created_at: isoTime,
  updated_at: isoTime,
  monitoring_at: isoTime.nullable(),
  resolved_at: isoTime.nullable(),
  shortlink: z.url(),
  started_at: isoTime,
  page_id: z.string(),
  incident_updates: z.array(statuspageUpdate),
  components: z.array(statuspageComponent),
  // The keys Statuspage's webhook documentation adds; a consumer reads them whether or not they apply (null then).
  scheduled_remind_prior: z.boolean(),
  scheduled_reminded_at: isoTime.nullable(),
  scheduled_auto_in_progress: z.boolean(),
  scheduled_auto_completed: z.boolean(),
  scheduled_auto_transition: z.boolean(),
  impact_override: z.string().nullable(),
  backfilled: z.boolean(),
  metadata: z.object({}).strict(),
  reminder_intervals: z.string().nullable(),
  postmortem_body: z.string().nullable(),
  postmortem_body_last_updated_at: isoTime.nullable(),
  postmortem_published_at: isoTime.nullable(),
};

export const statuspageIncident = z
  .object({
    ...incidentFields,
    status: z.enum(['investigating', 'identified', 'monitoring', 'resolved', 'postmortem']),
    impact: z.enum(['none', 'minor', 'major', 'critical']),
    scheduled_for: z.null(),
    scheduled_until: z.null(),
  })
  .strict();

export const statuspageMaintenance = z
  .object({
    ...incidentFields,
    status: z.enum(['scheduled', 'in_progress', 'verifying', 'completed']),
    impact: z.literal('maintenance'),
    scheduled_for: isoTime,
    scheduled_until: isoTime,
  })
  .strict();

/** A webhook envelope's `page`. */
export const webhookPageShape = z.object({ id: z.string(), status_indicator: indicator, status_description: z.string() }).strict();
