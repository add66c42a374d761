// Alert-driven declare: an Alertmanager or Grafana alert group becomes one incident, published or kept as a draft per ALERT_POLICY.
import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import { alertGroups, channels, components, deliveries, incidents, updates } from '../../db/schema.ts';
import { isActiveIncident, type ImpactStatus, type Severity } from '../domain.ts';
import { newId } from '../ids.ts';
import { type Actor, type Services, withTransaction } from './context.ts';
import { plural } from '../text.ts';
import { declareIncident } from './incidents.ts';
import { commsRecipient, roleEmail, scheduledCommsRecipient } from './reminders.ts';

export type AlertSource = 'alertmanager' | 'grafana';

interface Alert {
  status: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** The parts of an Alertmanager (version 4) or Grafana webhook payload this uses. */
export interface AlertBatch {
  source: AlertSource;
  groupKey: string;
  status: 'firing' | 'resolved';
  alerts: Alert[];
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
}

interface AlertOutcome {
  /** declared: published at once; drafted: a draft incident; repeat: the group already has an incident; resolved: the comms lead is told; ignored: nothing to do. */
  outcome: 'declared' | 'drafted' | 'repeat' | 'resolved' | 'ignored';
  incidentId: string | null;
  severity: Severity | null;
  /** `component` label values that name no component; they are left out rather than refusing the alert. */
  unknownComponents: string[];
}

const impactBySeverity: Record<Severity, ImpactStatus> = {
  SEV1: 'major_outage',
  SEV2: 'partial_outage',
  SEV3: 'degraded_performance',
  SEV4: 'degraded_performance',
};
/**
 * How long a group's reservation (incident not recorded yet) stands for a declare in progress; past this, the
 * declaring process is taken to have died and the next delivery declares instead.
 */
const declaringMs = 60_000;

/** Without a `severity` label that maps, an alert is a SEV3: nothing is published without a clear signal. */
const fallbackSeverity: Severity = 'SEV3';

const rank = (s: Severity) => ['SEV4', 'SEV3', 'SEV2', 'SEV1'].indexOf(s);
const cut = (text: string, max: number) => {
  const line = text.replace(/[\x00-\x1f\x7f]+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
};

/** The worst severity the `severity` labels of the firing alerts map to (ALERT_SEVERITY_MAP), else SEV3. */
function alertSeverity(batch: AlertBatch, map: Record<string, Severity>): Severity {
  const labels = [batch.commonLabels.severity, ...batch.alerts.filter((a) => a.status !== 'resolved').map((a) => a.labels.severity)];
  const mapped = labels.flatMap((l) => (l && map[l.trim().toLowerCase()] ? [map[l.trim().toLowerCase()]!] : []));
  return mapped.length ? mapped.reduce((w, x) => (rank(x) > rank(w) ? x : w)) : fallbackSeverity;
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

/** The intake acts as the alert, with the rights and email of the token the alerting system posted with. */
function alertActor(poster: Actor, source: AlertSource): Actor {
  return poster.kind === 'token' ? { ...poster, kind: 'alert', source } : poster;
}

/**
 * Receives one alert group notification. Firing and new: declares an incident from the "investigating"
 * template, published or as a draft per ALERT_POLICY. Firing again: nothing (a repeat). Resolved: the incident
 * stays open, the comms lead and the channels are told, and the internal page shows "alerts resolved".
 */
export async function receiveAlerts(s: Services, poster: Actor, batch: AlertBatch): Promise<AlertOutcome> {
  const actor = alertActor(poster, batch.source);
  const now = s.clock.now();
  const [existing] = await s.db.select().from(alertGroups).where(and(eq(alertGroups.source, batch.source), eq(alertGroups.groupKey, batch.groupKey)));
  const firing = batch.status === 'firing' || batch.alerts.some((a) => a.status === 'firing');
  if (!firing) return existing ? alertsResolved(s, actor, existing, now) : { outcome: 'ignored', incidentId: null, severity: null, unknownComponents: [] };

  if (existing) {
    if (existing.incidentId) {
      const [incident] = await s.db.select({ status: incidents.status }).from(incidents).where(eq(incidents.id, existing.incidentId));
      if (incident && isActiveIncident(incident.status)) {
        await s.db.update(alertGroups).set({ status: 'firing', resolvedAt: null, lastReceivedAt: now }).where(eq(alertGroups.id, existing.id));
        return { outcome: 'repeat', incidentId: existing.incidentId, severity: null, unknownComponents: [] };
      }
    } else if (now.getTime() - existing.lastReceivedAt.getTime() < declaringMs) {
      // Another delivery of this group is declaring its incident right now: an HA Alertmanager sends each
      // notification from every replica, and any server process may take it.
      return { outcome: 'repeat', incidentId: null, severity: null, unknownComponents: [] };
    }
    // The group's incident is closed (this firing is a new incident), or a declare died half-way: take the group over
    // in one conditional statement, so of two deliveries doing this at once only one declares.
    const [taken] = await s.db
      .update(alertGroups)
      .set({ incidentId: '', lastReceivedAt: now })
      .where(and(eq(alertGroups.id, existing.id), eq(alertGroups.incidentId, existing.incidentId), eq(alertGroups.lastReceivedAt, existing.lastReceivedAt)))
      .returning({ id: alertGroups.id });
    if (!taken) return { outcome: 'repeat', incidentId: null, severity: null, unknownComponents: [] };
  }
  // Reserve the group first, so two deliveries of one new group declare one incident.
  const id = existing?.id ?? newId();
  if (!existing) {
    const [reserved] = await s.db
      .insert(alertGroups)
      .values({ id, source: batch.source, groupKey: batch.groupKey, incidentId: '', status: 'firing', firingAt: now, lastReceivedAt: now })
      .onConflictDoNothing()
      .returning();
    if (!reserved) return { outcome: 'repeat', incidentId: null, severity: null, unknownComponents: [] };
  }
  try {
    return await declareFromAlerts(s, actor, batch, id, now);
  } catch (e) {
    // Leave the group free for the sender's retry: a new reservation goes, a taken-over one is marked abandoned.
    if (!existing) await s.db.delete(alertGroups).where(eq(alertGroups.id, id));
    else await s.db.update(alertGroups).set({ lastReceivedAt: new Date(0) }).where(and(eq(alertGroups.id, id), eq(alertGroups.incidentId, '')));
    throw e;
  }
}

async function declareFromAlerts(s: Services, actor: Actor, batch: AlertBatch, groupId: string, now: Date): Promise<AlertOutcome> {
  const severity = alertSeverity(batch, s.alerts.severityMap);
  const named = alertComponentIds(batch, s.alerts.componentMap);
  const known = named.length ? await s.db.select({ id: components.id, name: components.name }).from(components).where(inArray(components.id, named)) : [];
  const knownIds = new Set(known.map((c) => c.id));
  const unknownComponents = named.filter((c) => !knownIds.has(c));
  const first = batch.alerts.find((a) => a.status === 'firing') ?? batch.alerts[0];
  const summary = batch.commonAnnotations.summary ?? first?.annotations.summary ?? batch.commonLabels.alertname ?? first?.labels.alertname ?? 'Alert';
  const description = batch.commonAnnotations.description ?? first?.annotations.description;
  const names = known.map((c) => c.name);
  const draft = s.alerts.policy[severity] === 'draft';
  // The alert's own words go to the internal wording only: the external title and symptom are written here, plainly.
  const view = await declareIncident(s, actor, {
    title: names.length ? `Disruption to ${names.join(', ')}` : 'Service disruption',
    internalTitle: cut(`${summary}`, 200),
    severity,
    template: 'investigating',
    variables: {
      symptom: 'Our monitoring alerted us to a problem, and we are checking what customers are seeing.',
      hypothesis: cut(`From ${batch.source} (${batch.alerts.length} ${plural(batch.alerts.length, 'alert')}): ${summary}${description ? `. ${description}` : ''}`, 4000),
    },
    components: known.map((c) => ({ id: c.id, status: impactBySeverity[severity] })),
    draft,
    allowNoComponents: true,
  });
  await s.db.update(alertGroups).set({ incidentId: view.id, status: 'firing', resolvedAt: null, firingAt: now, lastReceivedAt: now }).where(eq(alertGroups.id, groupId));
  return { outcome: draft ? 'drafted' : 'declared', incidentId: view.id, severity, unknownComponents };
}

/** The alerts of a group resolved: record it, and tell the comms lead and the channels; the incident stays as it is. */
async function alertsResolved(s: Services, actor: Actor, group: typeof alertGroups.$inferSelect, now: Date): Promise<AlertOutcome> {
  if (group.status === 'resolved') return { outcome: 'ignored', incidentId: group.incidentId, severity: null, unknownComponents: [] };
  await withTransaction(s, async (tx) => {
    await tx.update(alertGroups).set({ status: 'resolved', resolvedAt: now, lastReceivedAt: now }).where(eq(alertGroups.id, group.id));
    const [incident] = await tx.select().from(incidents).where(eq(incidents.id, group.incidentId));
    const [latest] = await tx.select({ id: updates.id }).from(updates).where(eq(updates.incidentId, group.incidentId)).orderBy(desc(updates.createdAt), desc(sql`rowid`)).limit(1);
    if (!incident || !latest) return;
    // The incident's comms lead, else its last publisher (who its latest update's reminders were for), else COMMS_EMAIL;
    // the token posting the alert is only the publisher when nobody else has posted.
    const person =
      roleEmail(incident.roles.comms) ?? (await scheduledCommsRecipient(tx, latest.id)) ?? commsRecipient(incident.roles, actor, s.cadence.commsEmail);
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
  });
  s.hook.emit({ kind: 'incident', subjectId: group.incidentId, public: false, at: now });
  return { outcome: 'resolved', incidentId: group.incidentId, severity: null, unknownComponents: [] };
}
