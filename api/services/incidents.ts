// What a comms lead does with incidents: declare one, post updates through its lifecycle, publish a postmortem.
import { and, asc, desc, eq, inArray, lt, sql, type SQL } from 'drizzle-orm';
import type { Queryable, Tx } from '../../db/client.ts';
import { auditEvents, components, incidentComponents, incidents, postmortems, updates, type Roles } from '../../db/schema.ts';
import { actionItemsOf, recordPostmortemItems, type ActionItemView } from './action-items.ts';
import {
  activeIncidentStatuses,
  closedIncidentStatuses,
  currentImpact,
  incidentTransitionError,
  isActiveIncident,
  isEscalation,
  type ComponentStatus,
  type ImpactStatus,
  type IncidentStatus,
  type ReachFlags,
  type Severity,
} from '../domain.ts';
import { componentStatuses } from '../status.ts';
import { touchChangedComponents } from './components.ts';
import { enqueueComponentUpdates } from './webhooks.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import { newId } from '../ids.ts';
import { renderTemplate, type Template } from '../templates.ts';
import type { CadenceSettings } from '../config.ts';
import { alertGroups } from '../../db/schema.ts';
import { recordAudit } from './audit.ts';
import { claimOnce } from './outcomes.ts';
import { requireComponents } from './components.ts';
import { type Actor, type Services, withTransaction } from './context.ts';
import { deliveryCounts, type DeliveryCounts } from './deliveries.ts';
import { cadenceDeliveries, scheduleCadence, type CadenceDelivery } from './reminders.ts';
import { storeUpdate, updateView, type UpdateRow, type UpdateView } from './updates.ts';
import { incidentBuiltins, pickTemplate } from './wording.ts';
import { authorize } from './use-cases.ts';

/** Limit notifications below what the severity policy allows; never widen it. */
export type Notify = boolean | { subscribers?: boolean | undefined; stakeholders?: boolean | undefined };

interface ComponentChange {
  id: string;
  status: ImpactStatus | 'operational';
}

export interface DeclareInput {
  title: string;
  internalTitle?: string | undefined;
  severity: Severity;
  status?: IncidentStatus | undefined;
  template: string;
  variables: Record<string, string>;
  components: ComponentChange[];
  notify?: Notify | undefined;
  roles?: Roles | undefined;
  startedAt?: Date | undefined;
  /** Minutes until the next update is due; null for none; omitted for the severity's default cadence. */
  nextUpdateInMinutes?: number | null | undefined;
  /** A draft (from an alert) shows on no public output and notifies no one until an update publishes it. */
  draft?: boolean | undefined;
  /** Alerts may name no known component; people declaring must name at least one. */
  allowNoComponents?: boolean | undefined;
  /** Publish once for this key (an API Idempotency-Key, a console form key): a repeat answers with what the first did. */
  idempotencyKey?: string | undefined;
}

export interface UpdateInput {
  status: IncidentStatus;
  template: string;
  variables: Record<string, string>;
  components?: ComponentChange[] | undefined;
  notify?: Notify | undefined;
  roles?: Roles | undefined;
  nextUpdateInMinutes?: number | null | undefined;
  /** Required to move a resolved incident back to an open status. */
  reopen?: boolean | undefined;
  /** Publish once for this key (an API Idempotency-Key, a console form key): a repeat answers with what the first did. */
  idempotencyKey?: string | undefined;
}

export interface PostmortemInput {
  externalSummary: string;
  internalBody: string;
  /** Action items in the shape `POST …/action-items` takes; they become records of the incident (api/services/action-items.ts). */
  actionItems: unknown[];
  template?: string | undefined;
  variables?: Record<string, string> | undefined;
  notify?: Notify | undefined;
  /** Publish once for this key (an API Idempotency-Key, a console form key): a repeat answers with what the first did. */
  idempotencyKey?: string | undefined;
}

type IncidentRow = typeof incidents.$inferSelect;

/**
 * How far back `startedAt` may reach, in days: as far as the 90-day bars do. An older start is a history record, not
 * an incident to declare, and a start in 1926 would spread the history over a century of month pages.
 */
export const startedAtMaxAgeDays = 90;

const day = 24 * 60 * 60 * 1000;

/** Who hears about an update: the policy, narrowed (never widened) by `notify`. */
export function narrowReach(policy: ReachFlags, notify: Notify | undefined): ReachFlags {
  const n = notify === undefined ? {} : typeof notify === 'boolean' ? { subscribers: notify, stakeholders: notify } : notify;
  return {
    public: policy.public,
    subscribers: policy.subscribers && (n.subscribers ?? true),
    stakeholders: policy.stakeholders && (n.stakeholders ?? true),
  };
}

/** When the next update is due: `minutes` from now, the severity's cadence (CADENCE) when omitted, none when 0 or null or closed. */
export function nextUpdateAt(cadence: CadenceSettings, now: Date, status: IncidentStatus, severity: Severity, minutes: number | null | undefined): Date | null {
  if (!isActiveIncident(status)) return null;
  const m = minutes === undefined ? cadence.minutes[severity] : minutes;
  return m === null || m === 0 ? null : new Date(now.getTime() + m * 60_000);
}

/** Milestone times move only forward: the first monitoring is time to mitigate, whatever happens after. */
function milestones(row: Pick<IncidentRow, 'identifiedAt' | 'mitigatedAt' | 'resolvedAt'>, status: IncidentStatus, now: Date) {
  const reached = (s: IncidentStatus) => ['identified', 'monitoring', 'resolved'].indexOf(status) >= ['identified', 'monitoring', 'resolved'].indexOf(s);
  return {
    identifiedAt: row.identifiedAt ?? (reached('identified') ? now : null),
    mitigatedAt: row.mitigatedAt ?? (reached('monitoring') ? now : null),
    resolvedAt: status === 'resolved' ? (row.resolvedAt ?? now) : null,
  };
}

/**
 * Records each change's impact on the incident's components. A component set to operational that the incident never
 * named is not added: "everything is operational again" on a resolve must not make an untouched component one this
 * incident affected (in the JSON's `components`, the API, the briefings).
 */
async function applyComponentChanges(tx: Tx, incidentId: string, changes: ComponentChange[]) {
  for (const c of changes) {
    if (c.status === 'operational') {
      await tx.update(incidentComponents).set({ impact: c.status }).where(and(eq(incidentComponents.incidentId, incidentId), eq(incidentComponents.componentId, c.id)));
      continue;
    }
    await tx
      .insert(incidentComponents)
      .values({ incidentId, componentId: c.id, impact: c.status })
      .onConflictDoUpdate({ target: [incidentComponents.incidentId, incidentComponents.componentId], set: { impact: c.status } });
  }
}

/** The components an incident names, each with the impact recorded on it (in force only while the incident is active). */
async function affectedComponents(db: Queryable, incidentId: string) {
  return db
    .select({ id: components.id, name: components.name, status: incidentComponents.impact })
    .from(incidentComponents)
    .innerJoin(components, eq(components.id, incidentComponents.componentId))
    .where(eq(incidentComponents.incidentId, incidentId))
    .orderBy(asc(components.order), asc(components.name));
}

interface PublishStep {
  incident: IncidentRow;
  template: Template;
  status: IncidentStatus;
  variables: Record<string, string>;
  audiences: ReachFlags;
  brief: boolean;
  /** nextUpdateInMinutes as the comms lead gave it, for the overdue cadence. */
  chosenMinutes?: number | null | undefined;
  now: Date;
}

/**
 * Publishes one update of an incident: the built-ins come from the incident as it stands after the change.
 * The reminders for the next update are committed with it, and those for the previous one cancelled.
 */
async function publishUpdate(s: Services, tx: Tx, actor: Actor, step: PublishStep): Promise<UpdateRow> {
  const { incident, now } = step;
  const named = await affectedComponents(tx, incident.id);
  const update = await storeUpdate(tx, actor, {
    subject: { type: 'incident', id: incident.id },
    template: step.template,
    status: step.status,
    variables: step.variables,
    // The wording names what was impaired ("resolved the problem affecting API"); the update records what is in force now.
    builtins: incidentBuiltins({ ...incident, components: named }, s, now),
    components: named.map((c) => ({ ...c, status: currentImpact(step.status, c.status) })),
    audiences: step.audiences,
    brief: step.brief,
    nextUpdateAt: incident.nextUpdateAt,
    now,
  });
  await scheduleCadence(tx, s.cadence, {
    incidentId: incident.id,
    severity: incident.severity as Severity,
    roles: incident.roles,
    draft: incident.draft,
    updateId: update.id,
    nextUpdateAt: incident.nextUpdateAt,
    chosenMinutes: step.chosenMinutes,
    actor,
    now,
  });
  return update;
}

const silent: ReachFlags = { public: false, subscribers: false, stakeholders: false };

export async function declareIncident(s: Services, actor: Actor, input: DeclareInput): Promise<IncidentView> {
  authorize(actor, 'declareIncident');
  const now = s.clock.now();
  const { template, status } = pickTemplate(s.templates, input.template, 'incident', input.status);
  if (input.components.length === 0 && !input.allowNoComponents) {
    throw new ValidationError('An incident affects at least one component.', [{ path: 'components', message: 'name at least one component' }]);
  }
  if (input.startedAt && input.startedAt.getTime() > now.getTime()) {
    throw new ValidationError('An incident cannot start in the future.', [{ path: 'startedAt', message: 'must not be in the future' }]);
  }
  if (input.startedAt && now.getTime() - input.startedAt.getTime() > startedAtMaxAgeDays * day) {
    throw new ValidationError(`An incident starts at most ${startedAtMaxAgeDays} days before it is declared.`, [
      { path: 'startedAt', message: `must be within the last ${startedAtMaxAgeDays} days` },
    ]);
  }
  const incidentStatus = status;
  const policy = s.severityPolicy[input.severity];
  const audiences = input.draft ? silent : narrowReach(policy, input.notify);
  const id = newId();
  const { idempotencyKey, ...asked } = input;
  const done = await withTransaction(s, async (tx) => {
    const earlier = await claimOnce(tx, actor, { key: idempotencyKey, useCase: 'declareIncident', input: asked }, id, now);
    if (earlier) return { earlier, update: null };
    await requireComponents(tx, input.components.map((c) => c.id), 'components', 'changes');
    const before = await componentStatuses(tx, 'public');
    const [incident] = await tx
      .insert(incidents)
      .values({
        id,
        title: input.title,
        internalTitle: input.internalTitle ?? input.title,
        severity: input.severity,
        status: incidentStatus,
        audiences: policy,
        roles: input.roles ?? {},
        startedAt: input.startedAt ?? now,
        acknowledgedAt: now,
        ...milestones({ identifiedAt: null, mitigatedAt: null, resolvedAt: null }, incidentStatus, now),
        nextUpdateAt: nextUpdateAt(s.cadence, now, incidentStatus, input.severity, input.nextUpdateInMinutes),
        draft: input.draft ?? false,
        createdBy: actor.name,
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    await applyComponentChanges(tx, id, input.components);
    await touchChangedComponents(tx, before, now);
    await recordAudit(tx, {
      at: now,
      actor,
      action: 'incident.declared',
      subjectType: 'incident',
      subjectId: id,
      detail: { severity: input.severity, status: incidentStatus, policy, ...(input.draft ? { draft: true } : {}) },
    });
    const update = await publishUpdate(s, tx, actor, {
      incident: incident!,
      template,
      status: incidentStatus,
      variables: input.variables,
      audiences,
      brief: true,
      chosenMinutes: input.nextUpdateInMinutes,
      now,
    });
    await enqueueComponentUpdates(tx, { before, updateId: update.id, actor, now });
    return { earlier: null, update };
  });
  if (done.earlier !== null) return getIncident(s, done.earlier);
  s.hook.emit({ kind: 'incident', subjectId: id, updateId: done.update.id, public: policy.public && !input.draft, at: now });
  return getIncident(s, id);
}

export async function postUpdate(s: Services, actor: Actor, id: string, input: UpdateInput, ifMatch?: number): Promise<IncidentView> {
  authorize(actor, 'postUpdate');
  const now = s.clock.now();
  const { template } = pickTemplate(s.templates, input.template, 'incident', input.status);
  const { idempotencyKey, ...asked } = input;
  const update = await withTransaction(s, async (tx) => {
    if (await claimOnce(tx, actor, { key: idempotencyKey, useCase: 'postUpdate', input: { id, ...asked } }, id, now)) return null;
    const [current] = await tx.select().from(incidents).where(eq(incidents.id, id));
    if (!current) throw new NotFoundError('incident', id);
    if (ifMatch !== undefined && ifMatch !== current.version) {
      throw new ConflictError(`The incident is at version ${current.version}, not ${ifMatch}; reload it and try again.`);
    }
    const from = current.status;
    const problem = incidentTransitionError(from, input.status, input.reopen);
    if (problem) throw new ConflictError(`Cannot post "${input.status}" to this incident: ${problem}.`);
    if (input.components) await requireComponents(tx, input.components.map((c) => c.id), 'components', 'changes');
    const before = await componentStatuses(tx, 'public');

    const severity = current.severity;
    const reopening = !isActiveIncident(from) && isActiveIncident(input.status);
    const [incident] = await tx
      .update(incidents)
      .set({
        status: input.status,
        roles: input.roles ? { ...current.roles, ...input.roles } : current.roles,
        ...milestones(reopening ? { ...current, resolvedAt: null } : current, input.status, now),
        nextUpdateAt: nextUpdateAt(s.cadence, now, input.status, severity, input.nextUpdateInMinutes),
        // Posting an update to a draft is what publishes it.
        draft: false,
        version: current.version + 1,
        updatedAt: now,
      })
      // The version check in the WHERE makes a concurrent writer lose cleanly instead of overwriting.
      .where(and(eq(incidents.id, id), eq(incidents.version, current.version)))
      .returning();
    if (!incident) throw new ConflictError('The incident changed while this update was being published; reload it and try again.');
    if (input.components) await applyComponentChanges(tx, id, input.components);
    if (current.draft) {
      await recordAudit(tx, { at: now, actor: actor, action: 'incident.draft_published', subjectType: 'incident', subjectId: id, detail: {} });
    }
    await touchChangedComponents(tx, before, now);
    if (from !== input.status) {
      await recordAudit(tx, {
        at: now,
        actor,
        action: reopening ? 'incident.reopened' : 'incident.status_changed',
        subjectType: 'incident',
        subjectId: id,
        detail: { from, to: input.status },
      });
    }
    const update = await publishUpdate(s, tx, actor, {
      incident,
      template,
      status: input.status,
      variables: input.variables,
      audiences: narrowReach(current.audiences, input.notify),
      // A published draft briefs executives as a declaration would.
      brief: from !== input.status || current.draft,
      chosenMinutes: input.nextUpdateInMinutes,
      now,
    });
    await enqueueComponentUpdates(tx, { before, updateId: update.id, actor, now });
    return update;
  });
  if (update) s.hook.emit({ kind: 'incident', subjectId: id, updateId: update.id, public: update.audiences.public, at: now });
  return getIncident(s, id);
}

/**
 * Publishes the postmortem of a resolved incident, announced once through its template (default
 * `postmortem-published`). A second call is a correction: the postmortem and the announcement's rendered wording are
 * replaced in place, so the timeline, feed, JSON and every email sent afterwards carry the corrected text, and the
 * audit row `postmortem.revised` keeps the previous and the new text. Errors: 404 unknown id, 409 while the incident
 * is open or on a stale `ifMatch`, 422 for a template or variables that do not fit.
 */
export async function publishPostmortem(s: Services, actor: Actor, id: string, input: PostmortemInput, ifMatch?: number): Promise<IncidentView> {
  authorize(actor, 'publishPostmortem');
  const now = s.clock.now();
  const { idempotencyKey, ...asked } = input;
  const update = await withTransaction(s, async (tx) => {
    if (await claimOnce(tx, actor, { key: idempotencyKey, useCase: 'publishPostmortem', input: { id, ...asked } }, id, now)) return 'replayed' as const;
    const [current] = await tx.select().from(incidents).where(eq(incidents.id, id));
    if (!current) throw new NotFoundError('incident', id);
    if (ifMatch !== undefined && ifMatch !== current.version) {
      throw new ConflictError(`The incident is at version ${current.version}, not ${ifMatch}; reload it and try again.`);
    }
    if (isActiveIncident(current.status)) {
      throw new ConflictError(`A postmortem is published after resolution; this incident is ${current.status}.`);
    }
    const [existing] = await tx.select().from(postmortems).where(eq(postmortems.incidentId, id));
    const [announced] = existing
      ? await tx
          .select()
          .from(updates)
          .where(and(eq(updates.incidentId, id), eq(updates.status, 'postmortem')))
          .orderBy(desc(updates.createdAt), desc(sql`rowid`))
          .limit(1)
      : [];
    const { template } = pickTemplate(s.templates, input.template ?? announced?.template ?? 'postmortem-published', 'incident', 'postmortem');
    const values = { externalSummary: input.externalSummary, internalBody: input.internalBody, author: actor.name, updatedAt: now };
    await tx
      .insert(postmortems)
      .values({ incidentId: id, ...values, publishedAt: now })
      .onConflictDoUpdate({ target: postmortems.incidentId, set: values });
    await recordPostmortemItems(tx, actor, id, input.actionItems, now);
    const [incident] = await tx
      .update(incidents)
      .set({ status: 'postmortem', version: current.version + 1, updatedAt: now, nextUpdateAt: null })
      .where(and(eq(incidents.id, id), eq(incidents.version, current.version)))
      .returning();
    if (!incident) throw new ConflictError('The incident changed while the postmortem was being published; reload it and try again.');
    // A correction replaces the announcement's wording in place (not announced again); the audit keeps both texts.
    const revised = announced ? await reviseAnnouncement(s, tx, incident, announced, template, input) : null;
    const version = (p: PostmortemInput | typeof existing, u: UpdateRow | null) =>
      p && { externalSummary: p.externalSummary, internalBody: p.internalBody, ...('actionItems' in p ? { actionItems: p.actionItems } : {}), ...(u ? { announcement: { external: u.externalBody, internal: u.internalBody } } : {}) };
    await recordAudit(tx, {
      at: now,
      actor,
      action: existing ? 'postmortem.revised' : 'postmortem.published',
      subjectType: 'incident',
      subjectId: id,
      detail: existing
        ? { actionItems: input.actionItems.length, updateId: announced?.id, previous: version(existing, announced ?? null), current: version(input, revised) }
        : { actionItems: input.actionItems.length, current: version(input, null) },
    });
    if (revised) return revised;
    return publishUpdate(s, tx, actor, {
      incident,
      template,
      status: 'postmortem',
      variables: postmortemVariables(template, input),
      audiences: narrowReach(current.audiences, input.notify),
      brief: true,
      now,
    });
  });
  const view = await getIncident(s, id);
  if (update === 'replayed') return view;
  s.hook.emit({ kind: 'postmortem', subjectId: id, updateId: update?.id, public: view.audiences.public, at: now });
  return view;
}

/**
 * Renders the postmortem announcement again from the corrected postmortem and stores the new wording in the same
 * update row (same id, time and deliveries), keeping the variables a correction does not name.
 */
async function reviseAnnouncement(s: Services, tx: Tx, incident: IncidentRow, announced: UpdateRow, template: Template, input: PostmortemInput) {
  // The first summary gives way to the corrected one unless the correction names it; other variables carry over.
  const kept = Object.entries(announced.variables).filter(([k]) => k !== 'summary' && template.variables.some((v) => v.name === k));
  const variables = postmortemVariables(template, { ...input, variables: { ...Object.fromEntries(kept), ...input.variables } });
  const rendered = renderTemplate(template, variables, incidentBuiltins({ ...incident, components: announced.components }, s, announced.createdAt));
  const [row] = await tx
    .update(updates)
    .set({
      template: template.key,
      variables,
      externalSubject: rendered.external.subject,
      externalBody: rendered.external.body,
      internalSubject: rendered.internal.subject,
      internalBody: rendered.internal.body,
    })
    .where(eq(updates.id, announced.id))
    .returning();
  return row!;
}

/** A postmortem template may take its `summary` from the external summary, so the comms lead writes it once. */
function postmortemVariables(template: Template, input: PostmortemInput): Record<string, string> {
  const variables = { ...input.variables };
  if (variables.summary === undefined && template.variables.some((v) => v.name === 'summary')) variables.summary = input.externalSummary;
  return variables;
}

// ---- reading ----

export interface IncidentView {
  id: string;
  title: string;
  internalTitle: string;
  severity: Severity;
  status: IncidentStatus;
  version: number;
  audiences: ReachFlags;
  roles: Roles;
  components: { id: string; name: string; status: ComponentStatus }[];
  startedAt: Date;
  acknowledgedAt: Date;
  identifiedAt: Date | null;
  mitigatedAt: Date | null;
  resolvedAt: Date | null;
  nextUpdateAt: Date | null;
  /** True when an update was due and none has been posted. */
  overdue: boolean;
  /** Made from an alert and not yet published: no public output shows it. */
  draft: boolean;
  /** Alert groups behind this incident; a resolved one means "alerts resolved", never that the incident is. */
  alerts: { source: string; groupKey: string; status: string; firingAt: Date; resolvedAt: Date | null }[];
  /** Reminders, overdue notices and "alerts resolved" notices not cancelled, by due time: the delivery state of the cadence. */
  reminders: CadenceDelivery[];
  /** Seconds from start of impact to each milestone, once reached. */
  durations: { toAcknowledge: number; toMitigate: number | null; toResolve: number | null };
  updates: UpdateView[];
  postmortem: { externalSummary: string; internalBody: string; actionItems: ActionItemView[]; author: string; publishedAt: Date; updatedAt: Date } | null;
  deliveries: DeliveryCounts;
  /** Every state change and publish, oldest first, with its time and actor. */
  audit: { at: Date; actor: string; action: string; detail: Record<string, unknown> }[];
  createdAt: Date;
  updatedAt: Date;
}

/** The fields every listing shows; `overdue` is true when an update was due and none has been posted. */
function summarize(r: IncidentRow, now: Date) {
  return {
    id: r.id,
    title: r.title,
    internalTitle: r.internalTitle,
    severity: r.severity,
    status: r.status,
    version: r.version,
    startedAt: r.startedAt,
    resolvedAt: r.resolvedAt,
    nextUpdateAt: r.nextUpdateAt,
    overdue: r.nextUpdateAt !== null && r.nextUpdateAt.getTime() < now.getTime(),
    draft: r.draft,
  };
}

const seconds = (from: Date, to: Date | null) => (to ? Math.round((to.getTime() - from.getTime()) / 1000) : null);

function toView(
  row: IncidentRow,
  components: IncidentView['components'],
  timeline: UpdateRow[],
  counts: Map<string, DeliveryCounts>,
  postmortem: IncidentView['postmortem'],
  audit: IncidentView['audit'],
  alerts: IncidentView['alerts'],
  reminders: CadenceDelivery[],
  now: Date,
): IncidentView {
  const updatesView = timeline.map((u) => updateView(u, counts));
  const total = emptyCounts();
  for (const u of updatesView) for (const k of Object.keys(total) as (keyof DeliveryCounts)[]) total[k] += u.deliveries[k];
  return {
    ...summarize(row, now),
    audiences: row.audiences,
    roles: row.roles,
    components,
    acknowledgedAt: row.acknowledgedAt,
    identifiedAt: row.identifiedAt,
    mitigatedAt: row.mitigatedAt,
    durations: {
      toAcknowledge: seconds(row.startedAt, row.acknowledgedAt)!,
      toMitigate: seconds(row.startedAt, row.mitigatedAt),
      toResolve: seconds(row.startedAt, row.resolvedAt),
    },
    updates: updatesView,
    postmortem,
    deliveries: total,
    audit,
    alerts,
    reminders,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

function emptyCounts(): DeliveryCounts {
  return { pending: 0, sent: 0, failed: 0, suppressed: 0 };
}

export async function getIncident(s: Pick<Services, 'db' | 'tx' | 'clock'>, id: string): Promise<IncidentView> {
  // Inside a caller's transaction (joinTransaction), read what it has written so far.
  const db = s.tx ?? s.db;
  const [row] = await db.select().from(incidents).where(eq(incidents.id, id));
  if (!row) throw new NotFoundError('incident', id);
  const [components, timeline, [pm], counts, audit, alerts, reminders, items] = await Promise.all([
    affectedComponents(db, id),
    // Ids are random: within one millisecond only the insertion order (rowid) tells which update came last.
    db.select().from(updates).where(eq(updates.incidentId, id)).orderBy(desc(updates.createdAt), desc(sql`rowid`)),
    db.select().from(postmortems).where(eq(postmortems.incidentId, id)),
    deliveryCounts(db, id),
    db
      .select({ at: auditEvents.at, actor: auditEvents.actor, action: auditEvents.action, detail: auditEvents.detail })
      .from(auditEvents)
      .where(and(eq(auditEvents.subjectType, 'incident'), eq(auditEvents.subjectId, id)))
      .orderBy(asc(auditEvents.at), asc(auditEvents.id)),
    db
      .select({ source: alertGroups.source, groupKey: alertGroups.groupKey, status: alertGroups.status, firingAt: alertGroups.firingAt, resolvedAt: alertGroups.resolvedAt })
      .from(alertGroups)
      .where(eq(alertGroups.incidentId, id))
      .orderBy(asc(alertGroups.firingAt)),
    cadenceDeliveries(db, id),
    actionItemsOf(db, [id], s.clock.now()),
  ]);
  const postmortem = pm ? { externalSummary: pm.externalSummary, internalBody: pm.internalBody, actionItems: items.get(id) ?? [], author: pm.author, publishedAt: pm.publishedAt, updatedAt: pm.updatedAt } : null;
  return toView(row, components, timeline, counts, postmortem, audit, alerts, reminders, s.clock.now());
}

interface ListQuery {
  status?: 'active' | 'resolved' | undefined;
  limit: number;
  /** Cursor: only incidents that started before this time. */
  before?: Date | undefined;
}

export async function listIncidents(s: Pick<Services, 'db' | 'clock'>, query: ListQuery) {
  const filters: SQL[] = [];
  if (query.status === 'active') filters.push(inArray(incidents.status, activeIncidentStatuses));
  if (query.status === 'resolved') filters.push(inArray(incidents.status, closedIncidentStatuses));
  if (query.before) filters.push(lt(incidents.startedAt, query.before));
  const rows = await s.db
    .select()
    .from(incidents)
    .where(and(...filters))
    .orderBy(desc(incidents.startedAt), asc(incidents.id))
    .limit(query.limit);
  const now = s.clock.now();
  return rows.map((r) => summarize(r, now));
}

// ---- correcting ----

/**
 * Corrects the wording of an incident's latest update (a typo, a wrong time): both wordings are rendered again from
 * the same template with `variables`, as of the update's own time, so "duration" and "next update" read as they did.
 * The status, audiences and deliveries stay: emails already sent are not sent again; queued ones go out corrected.
 * The previous texts are kept in the `update.corrected` audit row. Errors: NotFoundError (404) for an unknown
 * incident; ConflictError (409) for a stale `ifMatch` or an incident with no update; ValidationError (422) naming
 * missing or unknown variables.
 */
export async function correctLastUpdate(s: Services, actor: Actor, id: string, variables: Record<string, string>, ifMatch?: number): Promise<IncidentView> {
  authorize(actor, 'correctLastUpdate');
  const now = s.clock.now();
  const corrected = await withTransaction(s, async (tx) => {
    const [current] = await tx.select().from(incidents).where(eq(incidents.id, id));
    if (!current) throw new NotFoundError('incident', id);
    if (ifMatch !== undefined && ifMatch !== current.version) {
      throw new ConflictError(`The incident is at version ${current.version}, not ${ifMatch}; reload it and try again.`);
    }
    const [latest] = await tx.select().from(updates).where(eq(updates.incidentId, id)).orderBy(desc(updates.createdAt), desc(sql`rowid`)).limit(1);
    if (!latest) throw new ConflictError('This incident has no update to correct.');
    const template = s.templates.get(latest.template);
    if (!template) throw new ConflictError(`The template "${latest.template}" of the latest update is no longer loaded; post a new update instead.`);
    const facts = { ...current, nextUpdateAt: latest.nextUpdateAt, components: latest.components };
    const rendered = renderTemplate(template, variables, incidentBuiltins(facts, s, latest.createdAt));
    await tx
      .update(updates)
      .set({
        variables,
        externalSubject: rendered.external.subject,
        externalBody: rendered.external.body,
        internalSubject: rendered.internal.subject,
        internalBody: rendered.internal.body,
      })
      .where(eq(updates.id, latest.id));
    const [bumped] = await tx
      .update(incidents)
      .set({ version: current.version + 1, updatedAt: now })
      .where(and(eq(incidents.id, id), eq(incidents.version, current.version)))
      .returning();
    if (!bumped) throw new ConflictError('The incident changed while the correction was being saved; reload it and try again.');
    await recordAudit(tx, {
      at: now,
      actor,
      action: 'update.corrected',
      subjectType: 'incident',
      subjectId: id,
      detail: { updateId: latest.id, before: { external: latest.externalBody, internal: latest.internalBody, variables: latest.variables } },
    });
    return latest;
  });
  s.hook.emit({ kind: 'incident', subjectId: id, updateId: corrected.id, public: corrected.audiences.public, at: now });
  return getIncident(s, id);
}

// ---- escalating ----

/**
 * Raises an incident's severity, never lowers it (an alert group escalated: SPEC "Faults"). Its reach becomes the
 * wider of what it had and what the new severity's policy gives (SEVERITY_POLICY), so a SEV3 draft escalated to SEV1
 * is public once published. Writes the `incident.escalated` audit row (detail: from, to) in the caller's transaction
 * when there is one. Returns false, changing nothing, when `severity` is not higher. Errors: NotFoundError (404).
 * A draft stays a draft: publishing it is the caller's decision (an update, postUpdate).
 */
export async function escalateIncident(s: Services, actor: Actor, id: string, severity: Severity): Promise<boolean> {
  authorize(actor, 'escalateIncident');
  const now = s.clock.now();
  const escalated = await withTransaction(s, async (tx) => {
    const [current] = await tx.select().from(incidents).where(eq(incidents.id, id));
    if (!current) throw new NotFoundError('incident', id);
    if (!isEscalation(current.severity, severity)) return null;
    const policy = s.severityPolicy[severity];
    const audiences = { public: current.audiences.public || policy.public, subscribers: current.audiences.subscribers || policy.subscribers, stakeholders: current.audiences.stakeholders || policy.stakeholders };
    await tx.update(incidents).set({ severity, audiences, version: current.version + 1, updatedAt: now }).where(eq(incidents.id, id));
    await recordAudit(tx, { at: now, actor: actor, action: 'incident.escalated', subjectType: 'incident', subjectId: id, detail: { from: current.severity, to: severity } });
    return { public: audiences.public && !current.draft };
  });
  if (!escalated) return false;
  // The page status of an incident that impairs no component follows its severity: re-render.
  s.hook.emit({ kind: 'incident', subjectId: id, public: escalated.public, at: now });
  return true;
}
