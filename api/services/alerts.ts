// Alert intake (a use case, SPEC "One door" and "Faults"): an Alertmanager or Grafana alert group becomes one incident for its life, published or drafted per ALERT_POLICY.
import { authorize } from './use-cases.ts';
import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Tx } from '../../db/client.ts';
import { alertGroups, channels, components, deliveries, incidents, updates } from '../../db/schema.ts';
import { isActiveIncident, isEscalation, severityEnum, type ImpactStatus, type Severity } from '../domain.ts';
import { ValidationError } from '../errors.ts';
import { newId } from '../ids.ts';
import { type Actor, type Services, joinTransaction, withTransaction } from './context.ts';
import { plural } from '../text.ts';
import { declareIncident, escalateIncident, postUpdate } from './incidents.ts';
import { commsRecipient, roleEmail, scheduledCommsRecipient } from './reminders.ts';

export const alertSources = ['alertmanager', 'grafana'] as const;
export type AlertSource = (typeof alertSources)[number];

const labels = z.record(z.string(), z.string());

/**
 * The alert intake's input: the parts of an Alertmanager (version 4) or Grafana webhook payload it uses, after the
 * adapter (api/routes/alerts.ts) has read the sender's own shape. `startsAt` is RFC 3339; Alertmanager always sends
 * it, and it tells a repeat of a firing that a person resolved from a new firing.
 */
export const alertBatchSchema = z.object({
  source: z.enum(alertSources),
  groupKey: z.string().min(1).max(4000),
  status: z.enum(['firing', 'resolved']),
  alerts: z
    .array(z.object({ status: z.enum(['firing', 'resolved']), labels, annotations: labels, startsAt: z.string().max(64).optional() }))
    .min(1, 'at least one alert')
    .max(1000),
  commonLabels: labels,
  commonAnnotations: labels,
});
export type AlertBatch = z.infer<typeof alertBatchSchema>;

export const alertOutcomes = ['declared', 'drafted', 'escalated', 'repeat', 'still_firing', 'resolved', 'ignored'] as const;

interface AlertOutcome {
  /**
   * declared: published at once; drafted: a draft incident; escalated: the group's open incident took a higher
   * severity (and was published when its new severity's policy says so); repeat: the group already has an incident;
   * still_firing: a person resolved the group's incident while its alerts kept firing, nothing is declared and the
   * comms lead is told once; resolved: the alerts resolved, the comms lead is told; ignored: nothing to do.
   */
  outcome: (typeof alertOutcomes)[number];
  incidentId: string | null;
  severity: Severity | null;
  /** `component` label values that name no component; they are left out rather than refusing the alert. */
  unknownComponents: string[];
}

/** The impact an alert puts on the components it names: its severity's (domain.ts severityEnum, SEV1 major outage). */
const impactOf = (severity: Severity): ImpactStatus => severityEnum[severity].status;

/** Without a `severity` label that maps, an alert is a SEV3: nothing is published without a clear signal. */
const fallbackSeverity: Severity = 'SEV3';

const cut = (text: string, max: number) => {
  const line = text.replace(/[\x00-\x1f\x7f]+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
};

/** The worst severity the `severity` labels of the firing alerts map to (ALERT_SEVERITY_MAP), else SEV3. */
function alertSeverity(batch: AlertBatch, map: Record<string, Severity>): Severity {
  const labels = [batch.commonLabels.severity, ...batch.alerts.filter((a) => a.status !== 'resolved').map((a) => a.labels.severity)];
  const mapped = labels.flatMap((l) => (l && map[l.trim().toLowerCase()] ? [map[l.trim().toLowerCase()]!] : []));
  return mapped.length ? mapped.reduce((w, x) => (isEscalation(w, x) ? x : w)) : fallbackSeverity;
}

/**
 * Component ids named by `component` labels (several may be comma-separated), in order, without repeats; a value
 * ALERT_COMPONENT_MAP names becomes its component id, any other value is taken as an id.
 */
function alertComponentIds(batch: AlertBatch, map: Record<string, string>): string[] {
  const values = [batch.commonLabels.component, ...batch.alerts.map((a) => a.labels.component)];
  const named = values.flatMap((v) => (v ? v.split(',').map((x) => x.trim()).filter(Boolean) : []));
  return [...new Set(named.map((v) => (Object.hasOwn(map, v) ? map[v]! : v)))];
}

/** When each firing alert started (ms); alerts without a readable `startsAt` (or Go's zero time) are left out. */
function firingStarts(batch: AlertBatch): number[] {
  return batch.alerts.flatMap((a) => {
    const t = a.status === 'firing' && a.startsAt ? Date.parse(a.startsAt) : NaN;
    return Number.isFinite(t) && t > 0 ? [t] : [];
  });
}

/** The intake acts as the alert, with the rights and email of the token the alerting system posted with. */
function alertActor(poster: Actor, source: AlertSource): Actor {
  return poster.kind === 'token' ? { ...poster, kind: 'alert', source } : poster;
}

type GroupRow = typeof alertGroups.$inferSelect;

/**
 * Receives one alert group notification (SPEC "Cadence, channels, webhooks, alerts" and "Faults": alert groups).
 * Validates `input` against alertBatchSchema (422 naming the field), refuses an actor below `comms` (403), and does
 * everything in ONE transaction that first claims the group's row, so two deliveries of one group (an HA pair, a
 * retry, any number of processes) queue on the write lock and the second sees what the first committed, and a kill -9
 * anywhere leaves nothing half-done for the sender's retry.
 * - Firing, no incident yet: declares one from the "investigating" template, published or drafted per ALERT_POLICY.
 * - Firing, its incident open: a repeat; when the alerts now map to a higher severity the incident is escalated
 *   (escalateIncident), and a draft whose new severity's policy is `publish` is published.
 * - Firing, its incident resolved by a person: when every firing alert started before that resolve, nothing is
 *   declared and the comms lead is told once ("alerts still firing"); an alert that started after it opens a new
 *   incident, which the group follows from then on.
 * - Resolved: the incident stays as it is; the comms lead and the channels are told.
 */
export async function receiveAlerts(s: Services, poster: Actor, input: unknown): Promise<AlertOutcome> {
  authorize(poster, 'receiveAlerts');
  const parsed = alertBatchSchema.safeParse(input);
  if (!parsed.success) {
    throw new ValidationError('The alert notification does not fit.', parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
  }
  const batch = parsed.data;
  const actor = alertActor(poster, batch.source);
  const now = s.clock.now();
  const firing = batch.status === 'firing' || batch.alerts.some((a) => a.status === 'firing');
  let flush = () => {};
  const outcome = await withTransaction(s, async (tx) => {
    const joined = joinTransaction(s, tx);
    flush = joined.flush;
    const t = joined.services;
    // The first statement writes, so this transaction holds the write lock before it reads anything.
    const [claimed] = await tx
      .update(alertGroups)
      .set({ lastReceivedAt: now })
      .where(and(eq(alertGroups.source, batch.source), eq(alertGroups.groupKey, batch.groupKey)))
      .returning();
    if (!firing) return claimed?.incidentId ? alertsResolved(t, tx, actor, claimed, now) : ignored(claimed?.incidentId || null);
    const group =
      claimed ??
      (
        await tx
          .insert(alertGroups)
          .values({ id: newId(), source: batch.source, groupKey: batch.groupKey, incidentId: '', status: 'firing', firingAt: now, lastReceivedAt: now })
          .returning()
      )[0]!;
    // An empty incident id is a reservation left by an older version that died mid-declare: declare now.
    const [incident] = group.incidentId ? await tx.select().from(incidents).where(eq(incidents.id, group.incidentId)) : [];
    if (!incident) return declareFromAlerts(t, tx, actor, batch, group.id, now);
    await tx.update(alertGroups).set({ status: 'firing', resolvedAt: null }).where(eq(alertGroups.id, group.id));
    if (isActiveIncident(incident.status)) return escalateFromAlerts(t, tx, actor, batch, incident);
    const resolvedAt = (incident.resolvedAt ?? incident.updatedAt).getTime();
    const starts = firingStarts(batch);
    // Without a start time, a firing that follows the group's own "resolved" notification is new.
    const startedAfter = starts.length ? starts.some((at) => at > resolvedAt) : group.status === 'resolved' && (group.resolvedAt?.getTime() ?? 0) > resolvedAt;
    if (startedAfter) return declareFromAlerts(t, tx, actor, batch, group.id, now);
    return stillFiring(t, tx, actor, incident, now);
  });
  flush();
  return outcome;
}

const ignored = (incidentId: string | null): AlertOutcome => ({ outcome: 'ignored', incidentId, severity: null, unknownComponents: [] });

/** The known components the batch names, and the label values that name none. */
async function namedComponents(s: Services, tx: Tx, batch: AlertBatch) {
  const named = alertComponentIds(batch, s.alerts.componentMap);
  const known = named.length ? await tx.select({ id: components.id, name: components.name }).from(components).where(inArray(components.id, named)) : [];
  const knownIds = new Set(known.map((c) => c.id));
  return { known, unknownComponents: named.filter((c) => !knownIds.has(c)) };
}

/** The "investigating" template's variables for an alert: the alert's own words go to the internal wording only. */
function alertVariables(batch: AlertBatch) {
  const first = batch.alerts.find((a) => a.status === 'firing') ?? batch.alerts[0];
  const summary = batch.commonAnnotations.summary ?? first?.annotations.summary ?? batch.commonLabels.alertname ?? first?.labels.alertname ?? 'Alert';
  const description = batch.commonAnnotations.description ?? first?.annotations.description;
  return {
    summary,
    variables: {
      symptom: 'Our monitoring alerted us to a problem, and we are checking what customers are seeing.',
      hypothesis: cut(`From ${batch.source} (${batch.alerts.length} ${plural(batch.alerts.length, 'alert')}): ${summary}${description ? `. ${description}` : ''}`, 4000),
    },
  };
}

async function declareFromAlerts(s: Services, tx: Tx, actor: Actor, batch: AlertBatch, groupId: string, now: Date): Promise<AlertOutcome> {
  const severity = alertSeverity(batch, s.alerts.severityMap);
  const { known, unknownComponents } = await namedComponents(s, tx, batch);
  const { summary, variables } = alertVariables(batch);
  const names = known.map((c) => c.name);
  const draft = s.alerts.policy[severity] === 'draft';
  // The external title and symptom are written here, plainly.
  const view = await declareIncident(s, actor, {
    title: names.length ? `Disruption to ${names.join(', ')}` : 'Service disruption',
    internalTitle: cut(`${summary}`, 200),
    severity,
    template: 'investigating',
    variables,
    components: known.map((c) => ({ id: c.id, status: impactOf(severity) })),
    draft,
    allowNoComponents: true,
  });
  await tx.update(alertGroups).set({ incidentId: view.id, status: 'firing', resolvedAt: null, firingAt: now, lastReceivedAt: now }).where(eq(alertGroups.id, groupId));
  return { outcome: draft ? 'drafted' : 'declared', incidentId: view.id, severity, unknownComponents };
}

/**
 * A firing repeat of a group whose incident is open: a repeat, unless the alerts now map to a higher severity. Then
 * the incident is escalated, and a draft whose new severity's policy is `publish` is published by an update from the
 * "investigating" template, raising the named components' impact to the new severity's (never lowering it).
 */
async function escalateFromAlerts(s: Services, tx: Tx, actor: Actor, batch: AlertBatch, incident: typeof incidents.$inferSelect): Promise<AlertOutcome> {
  const severity = alertSeverity(batch, s.alerts.severityMap);
  if (!isEscalation(incident.severity, severity)) return { outcome: 'repeat', incidentId: incident.id, severity: null, unknownComponents: [] };
  await escalateIncident(s, actor, incident.id, severity);
  const { known, unknownComponents } = await namedComponents(s, tx, batch);
  if (incident.draft && s.alerts.policy[severity] === 'publish') {
    const impact = impactOf(severity);
    const { variables } = alertVariables(batch);
    await postUpdate(s, actor, incident.id, {
      status: incident.status,
      template: 'investigating',
      variables,
      components: known.map((c) => ({ id: c.id, status: impact })),
    });
  }
  return { outcome: 'escalated', incidentId: incident.id, severity, unknownComponents };
}

/** The comms lead of an incident: its comms role, else its last publisher, else COMMS_EMAIL (or the alert's token). */
async function commsLeadOf(s: Services, tx: Tx, actor: Actor, incident: typeof incidents.$inferSelect, latestUpdateId: string): Promise<string | null> {
  return roleEmail(incident.roles.comms) ?? (await scheduledCommsRecipient(tx, latestUpdateId)) ?? commsRecipient(incident.roles, actor, s.cadence.commsEmail);
}

const latestUpdate = async (tx: Tx, incidentId: string) =>
  (await tx.select({ id: updates.id }).from(updates).where(eq(updates.incidentId, incidentId)).orderBy(desc(updates.createdAt), desc(sql`rowid`)).limit(1))[0];

/**
 * The group keeps firing after a person resolved its incident: nothing is declared; the comms lead is told once per
 * resolve (one `alerts_still_firing` delivery keyed on the incident's latest update, seq 0: a repeat adds nothing).
 */
async function stillFiring(s: Services, tx: Tx, actor: Actor, incident: typeof incidents.$inferSelect, now: Date): Promise<AlertOutcome> {
  const latest = await latestUpdate(tx, incident.id);
  const person = latest ? await commsLeadOf(s, tx, actor, incident, latest.id) : null;
  if (latest && person) {
    await tx
      .insert(deliveries)
      .values({ updateId: latest.id, kind: 'alerts_still_firing', seq: 0, audience: 'comms', recipientId: person, email: person, status: 'pending', nextAttemptAt: now, createdAt: now })
      .onConflictDoNothing();
  }
  return { outcome: 'still_firing', incidentId: incident.id, severity: null, unknownComponents: [] };
}

/** The alerts of a group resolved: record it, and tell the comms lead and the channels; the incident stays as it is. */
async function alertsResolved(s: Services, tx: Tx, actor: Actor, group: GroupRow, now: Date): Promise<AlertOutcome> {
  if (group.status === 'resolved') return ignored(group.incidentId);
  await tx.update(alertGroups).set({ status: 'resolved', resolvedAt: now, lastReceivedAt: now }).where(eq(alertGroups.id, group.id));
  const [incident] = await tx.select().from(incidents).where(eq(incidents.id, group.incidentId));
  const latest = await latestUpdate(tx, group.incidentId);
  if (incident && latest) {
    // The incident's comms lead, else its last publisher (who its latest update's reminders were for), else COMMS_EMAIL;
    // the token posting the alert is only the publisher when nobody else has posted.
    const person = await commsLeadOf(s, tx, actor, incident, latest.id);
    const targets = [
      ...(person ? [{ audience: 'comms' as const, recipientId: person, email: person }] : []),
      ...(await tx.select({ id: channels.id, url: channels.url }).from(channels)).map((c) => ({ audience: 'channel' as const, recipientId: c.id, email: c.url })),
    ];
    // seq: the how-many-th resolution of this group, so a group that fires and resolves again is told again.
    const [{ n }] = (await tx.all<{ n: number }>(sql`SELECT count(*) AS n FROM deliveries WHERE update_id = ${latest.id} AND kind = 'alerts_resolved'`)) as [{ n: number }];
    if (targets.length) {
      await tx
        .insert(deliveries)
        .values(targets.map((t) => ({ updateId: latest.id, kind: 'alerts_resolved' as const, seq: Number(n), ...t, status: 'pending', nextAttemptAt: now, createdAt: now })))
        .onConflictDoNothing();
    }
  }
  // Emitted after the intake's commit (joinTransaction): the internal page shows "alerts resolved".
  s.hook.emit({ kind: 'incident', subjectId: group.incidentId, public: false, at: now });
  return { outcome: 'resolved', incidentId: group.incidentId, severity: null, unknownComponents: [] };
}
