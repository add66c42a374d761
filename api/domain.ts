// The domain vocabulary in one place: statuses with their rank and label, named status sets, lifecycles, and the severity policy.

/** The reach flags (glossary: reach): who may be told about something; recorded on each incident and update from the severity policy. The API field and column keep SPEC's name `audiences`. */
export interface ReachFlags {
  public: boolean;
  subscribers: boolean;
  stakeholders: boolean;
}

/** Who reads a page or a status (glossary: reader): anonymous readers are always `public`; signed-in insiders `internal`. */
const readerNames = ['public', 'internal'] as const;
export type Reader = (typeof readerNames)[number];


/**
 * What a delivery (one row of the outbox) is, in one place: the column is typed by this list, so a kind written or
 * compared anywhere is one of these. update: an update to subscribers, webhooks; briefing: executives, channels;
 * confirmation, manage_link: a subscriber's own links; reminder: a maintenance window's reminder; due_reminder, overdue,
 * alerts_resolved, alerts_still_firing: the cadence's and the alert intake's notices to the comms lead and channels; component_update: a component's webhook;
 * sign-in: a member's or stakeholder's emailed link.
 */
export const deliveryKinds = ['update', 'briefing', 'confirmation', 'manage_link', 'reminder', 'due_reminder', 'overdue', 'alerts_resolved', 'alerts_still_firing', 'component_update', 'sign-in', 'action_item_due', 'action_item_overdue', 'reliability_briefing'] as const;
export type DeliveryKind = (typeof deliveryKinds)[number];

/** Who a delivery goes to. */
export const deliveryAudiences = ['subscriber', 'stakeholder', 'member', 'comms', 'channel', 'webhook', 'owner'] as const;
export type DeliveryAudience = (typeof deliveryAudiences)[number];

export const severities = ['SEV1', 'SEV2', 'SEV3', 'SEV4'] as const;
export type Severity = (typeof severities)[number];

export const incidentStatuses = ['investigating', 'identified', 'monitoring', 'resolved', 'postmortem'] as const;
export type IncidentStatus = (typeof incidentStatuses)[number];
/** Statuses an update may post; `postmortem` is reached only by publishing a postmortem. */
export const updateStatuses = ['investigating', 'identified', 'monitoring', 'resolved'] as const;

export const maintenanceStatuses = ['scheduled', 'in_progress', 'verifying', 'completed', 'cancelled'] as const;
export type MaintenanceStatus = (typeof maintenanceStatuses)[number];

/** Every status an update can carry: an incident's or a maintenance's. */
export const updateStatusValues = [...incidentStatuses, ...maintenanceStatuses] as const;
export type UpdateStatusValue = (typeof updateStatusValues)[number];

// ---- named status sets: one list each, used by TypeScript and by SQL (`inArray(col, set)`) alike ----

/** Incidents that still affect their components. */
export const activeIncidentStatuses = ['investigating', 'identified', 'monitoring'] as const satisfies readonly IncidentStatus[];
/** Incidents that are over: resolved, or resolved with a postmortem. */
export const closedIncidentStatuses = ['resolved', 'postmortem'] as const satisfies readonly IncidentStatus[];
/** Maintenance windows that are not started yet. */
export const upcomingMaintenanceStatuses = ['scheduled'] as const satisfies readonly MaintenanceStatus[];
/** Maintenance windows in progress: their components show `under_maintenance`. */
export const activeMaintenanceStatuses = ['in_progress', 'verifying'] as const satisfies readonly MaintenanceStatus[];
/** Maintenance windows that are over, done or called off. */
export const finishedMaintenanceStatuses = ['completed', 'cancelled'] as const satisfies readonly MaintenanceStatus[];
/** Maintenance windows whose work began: in progress, or completed (a cancelled window never started). */
export const startedMaintenanceStatuses = [...activeMaintenanceStatuses, 'completed'] as const satisfies readonly MaintenanceStatus[];

/**
 * Component statuses as an enum that carries its own facts (Cachet's ComponentStatusEnum): the label people read,
 * the rank that decides which impact wins (worst last), the Statuspage `status` name (the same words), and the
 * Statuspage incident `impact` a component in that status gives (none, minor, major, critical).
 */
export const componentStatusEnum = {
  operational: { label: 'Operational', rank: 0, statuspage: 'operational', impact: 'none' },
  under_maintenance: { label: 'Under maintenance', rank: 1, statuspage: 'under_maintenance', impact: 'none' },
  degraded_performance: { label: 'Degraded performance', rank: 2, statuspage: 'degraded_performance', impact: 'minor' },
  partial_outage: { label: 'Partial outage', rank: 3, statuspage: 'partial_outage', impact: 'major' },
  major_outage: { label: 'Major outage', rank: 4, statuspage: 'major_outage', impact: 'critical' },
} as const satisfies Record<string, { label: string; rank: number; statuspage: string; impact: IncidentImpact }>;

/** Component statuses, worst last; the rank decides which impact wins when several apply. */
export const componentStatuses = ['operational', 'under_maintenance', 'degraded_performance', 'partial_outage', 'major_outage'] as const;
export type ComponentStatus = (typeof componentStatuses)[number];
/** An incident names one of these for each component it affects. */
export const impactStatuses = ['degraded_performance', 'partial_outage', 'major_outage', 'under_maintenance'] as const;
export type ImpactStatus = (typeof impactStatuses)[number];

/** Statuspage's incident impact, least first: what an incident does to the page (maintenance has its own, `maintenance`). */
export const incidentImpacts = ['none', 'minor', 'major', 'critical'] as const;
export type IncidentImpact = (typeof incidentImpacts)[number];

/**
 * Incident statuses with their label and Statuspage name (Statuspage has the same five, `postmortem` included).
 */
export const incidentStatusEnum = {
  investigating: { label: 'Investigating', statuspage: 'investigating' },
  identified: { label: 'Identified', statuspage: 'identified' },
  monitoring: { label: 'Monitoring', statuspage: 'monitoring' },
  resolved: { label: 'Resolved', statuspage: 'resolved' },
  postmortem: { label: 'Postmortem', statuspage: 'postmortem' },
} as const satisfies Record<IncidentStatus, { label: string; statuspage: string }>;

/** Maintenance statuses with their label and Statuspage name: Statuspage has no `cancelled`, a cancelled window reads as `completed`. */
export const maintenanceStatusEnum = {
  scheduled: { label: 'Scheduled', statuspage: 'scheduled' },
  in_progress: { label: 'In progress', statuspage: 'in_progress' },
  verifying: { label: 'Verifying', statuspage: 'verifying' },
  completed: { label: 'Completed', statuspage: 'completed' },
  cancelled: { label: 'Cancelled', statuspage: 'completed' },
} as const satisfies Record<MaintenanceStatus, { label: string; statuspage: string }>;

/**
 * Severities with their rank (SEV1 worst) and the Statuspage impact of an incident that names no impaired component
 * (SPEC "One door": SEV1 `critical`, SEV2 `major`; SEV3 and SEV4, seen only by insiders, `minor`).
 */
export const severityEnum = {
  SEV1: { rank: 4, impact: 'critical', status: 'major_outage' },
  SEV2: { rank: 3, impact: 'major', status: 'partial_outage' },
  SEV3: { rank: 2, impact: 'minor', status: 'degraded_performance' },
  SEV4: { rank: 1, impact: 'minor', status: 'degraded_performance' },
} as const satisfies Record<Severity, { rank: number; impact: IncidentImpact; status: ComponentStatus }>;

/**
 * The status an incident's impact reads as, on a card or in a briefing: the worst impairing impact on the components
 * it names, else, while it is active, its severity's (severityEnum.status: SEV1 major outage, SEV2 partial outage),
 * so an open incident that names no component never reads "Operational" (SPEC "One door"). `severity` null (a
 * maintenance) or an incident that is over: operational when it impairs nothing.
 */
export function incidentImpactStatus(severity: string | null, impacts: readonly ComponentStatus[], active: boolean): ComponentStatus {
  const worst = worstStatus(impacts.filter((s) => s !== 'under_maintenance'));
  if (worst !== 'operational' || !active || !severity || !(severity in severityEnum)) return worstStatus(impacts);
  return severityEnum[severity as Severity].status;
}

/** Whether `to` is a worse (higher) severity than `from`: SEV1 is worse than SEV2. */
export function isEscalation(from: Severity, to: Severity): boolean {
  return severityEnum[to].rank > severityEnum[from].rank;
}

const labels = <K extends string>(e: Record<K, { label: string }>) => Object.fromEntries(Object.entries<{ label: string }>(e).map(([k, v]) => [k, v.label])) as Record<K, string>;
export const componentStatusLabel: Record<ComponentStatus, string> = labels(componentStatusEnum);
export const incidentStatusLabel: Record<IncidentStatus, string> = labels(incidentStatusEnum);
export const maintenanceStatusLabel: Record<MaintenanceStatus, string> = labels(maintenanceStatusEnum);

/** An update's status in Statuspage's enums: an incident's as it is, a maintenance's through maintenanceStatusEnum. */
export function statuspageUpdateStatus(status: UpdateStatusValue): string {
  return status in maintenanceStatusEnum ? maintenanceStatusEnum[status as MaintenanceStatus].statuspage : incidentStatusEnum[status as IncidentStatus].statuspage;
}

export function componentRank(status: ComponentStatus): number {
  return componentStatusEnum[status].rank;
}

/** The worst of several component statuses; operational when there are none. */
export function worstStatus(statuses: Iterable<ComponentStatus>): ComponentStatus {
  let worst: ComponentStatus = 'operational';
  for (const s of statuses) if (componentRank(s) > componentRank(worst)) worst = s;
  return worst;
}

/** The worst of several Statuspage impacts; `none` when there are none. */
export function worstImpact(impacts: Iterable<IncidentImpact>): IncidentImpact {
  let worst: IncidentImpact = 'none';
  for (const i of impacts) if (incidentImpacts.indexOf(i) > incidentImpacts.indexOf(worst)) worst = i;
  return worst;
}

export function isActiveIncident(status: IncidentStatus): boolean {
  return (activeIncidentStatuses as readonly string[]).includes(status);
}

/**
 * What an incident does to one component now: its recorded impact while the incident is active, else nothing.
 * The one rule behind every component status (see api/status.ts).
 */
export function currentImpact(incident: IncidentStatus, impact: ComponentStatus): ComponentStatus {
  return isActiveIncident(incident) ? impact : 'operational';
}

const incidentOrder: Record<IncidentStatus, number> = {
  investigating: 0,
  identified: 1,
  monitoring: 2,
  resolved: 3,
  postmortem: 4,
};

/**
 * Incidents move forward only, may skip steps, and may repeat their current status (a follow-up update).
 * A resolved incident goes back to an open status only when the caller says `reopen`.
 */
export function incidentTransitionError(from: IncidentStatus, to: IncidentStatus, reopen = false): string | null {
  if (to === 'postmortem') return 'an incident enters postmortem only by publishing a postmortem';
  const closed = from === 'resolved' || from === 'postmortem';
  if (closed && to !== 'resolved') {
    return reopen ? null : `a ${from} incident can be reopened only explicitly (send "reopen": true)`;
  }
  if (closed && to === 'resolved') return from === 'resolved' ? null : 'the incident is already resolved';
  if (incidentOrder[to] < incidentOrder[from]) return `cannot move an incident from ${from} back to ${to}`;
  return null;
}

const maintenanceNext: Record<MaintenanceStatus, readonly MaintenanceStatus[]> = {
  scheduled: ['scheduled', 'in_progress', 'verifying', 'completed', 'cancelled'],
  in_progress: ['in_progress', 'verifying', 'completed'],
  verifying: ['verifying', 'in_progress', 'completed'],
  completed: [],
  cancelled: [],
};

export function maintenanceTransitionError(from: MaintenanceStatus, to: MaintenanceStatus): string | null {
  if (maintenanceNext[from].includes(to)) return null;
  return maintenanceNext[from].length === 0
    ? `a ${from} maintenance cannot change any more`
    : `cannot move a maintenance from ${from} to ${to}`;
}

export function isActiveMaintenance(status: MaintenanceStatus): boolean {
  return (activeMaintenanceStatuses as readonly string[]).includes(status);
}

// ---- the page's overall status ----

/** Statuspage's top-level indicator, with `maintenance` for planned work when nothing is worse. */
const indicators = ['none', 'maintenance', 'minor', 'major', 'critical'] as const;
export type Indicator = (typeof indicators)[number];

export interface PageStatus {
  indicator: Indicator;
  /** Statuspage's wording of the blended status, e.g. "Partial System Outage". */
  description: string;
  /** The worst component status, or the one an active incident's impact stands for: the colour of the banner. */
  worst: ComponentStatus;
  /** Whether every component has the worst status, or only some do. */
  scope: 'all' | 'some';
}

/** An active incident as the page status reads it: its severity, and the impacts in force on the components it names. */
export interface ActiveIncidentImpact {
  severity: Severity;
  impacts: readonly ComponentStatus[];
}

/**
 * What an active incident does to the page on its own (SPEC "One door"): nothing more than its components already
 * say when it impairs at least one; when it names no component, or set them all back to operational, the impact its
 * severity stands for (severityEnum: SEV1 critical, SEV2 major), so an incident a reader can see is never "none".
 */
export function incidentPageImpact(incident: ActiveIncidentImpact): IncidentImpact {
  const impairs = incident.impacts.some((s) => s !== 'operational' && s !== 'under_maintenance');
  return impairs ? 'none' : severityEnum[incident.severity].impact;
}

/** What each incident impact reads as when an incident, not a component, sets the page status. */
const incidentPage: Record<Exclude<IncidentImpact, 'none'>, Omit<PageStatus, 'scope'>> = {
  minor: { indicator: 'minor', description: 'Minor Service Outage', worst: 'degraded_performance' },
  major: { indicator: 'major', description: 'Partial System Outage', worst: 'partial_outage' },
  critical: { indicator: 'critical', description: 'Major System Outage', worst: 'major_outage' },
};

/**
 * The page's status (SPEC "One door" and "Agreement: one status truth"): the worst of the blend of every component's
 * status and the impact of each active incident the reader sees (incidentPageImpact). Read by the banner,
 * `status.indicator` in /api/v2 and webhooks, and anything else that shows the page's status; api/status.ts
 * `readPageStatus` feeds it from the database.
 *
 * The blend follows Statuspage (docs/decisions/006-statuspage-values.md): a status held by every component counts in
 * full, one held by some counts one step lower.
 * major_outage: all → critical "Major System Outage", some → major "Partial System Outage";
 * partial_outage: all → major "Partial System Outage", some → minor "Minor Service Outage";
 * degraded_performance: all (of two or more) → minor "Degraded System Service", else minor "Partially Degraded Service";
 * under_maintenance and nothing worse → maintenance "Service Under Maintenance"; else none "All Systems Operational".
 * An incident's impact wins when its indicator is worse (docs/decisions/014-page-status-counts-incidents.md).
 */
export function pageStatus(statuses: readonly ComponentStatus[], incidents: readonly ActiveIncidentImpact[] = []): PageStatus {
  const blended = blend(statuses);
  const impact = worstImpact(incidents.map(incidentPageImpact));
  if (impact === 'none' || indicators.indexOf(incidentPage[impact].indicator) <= indicators.indexOf(blended.indicator)) return blended;
  return { ...incidentPage[impact], scope: 'some' };
}

function blend(statuses: readonly ComponentStatus[]): PageStatus {
  const worst = worstStatus(statuses);
  const scope = statuses.length > 0 && statuses.every((s) => s === worst) ? 'all' : 'some';
  const all = scope === 'all';
  const page = (indicator: Indicator, description: string): PageStatus => ({ indicator, description, worst, scope });
  switch (worst) {
    case 'major_outage':
      return all ? page('critical', 'Major System Outage') : page('major', 'Partial System Outage');
    case 'partial_outage':
      return all ? page('major', 'Partial System Outage') : page('minor', 'Minor Service Outage');
    case 'degraded_performance':
      return page('minor', all && statuses.length > 1 ? 'Degraded System Service' : 'Partially Degraded Service');
    case 'under_maintenance':
      return page('maintenance', 'Service Under Maintenance');
    case 'operational':
      return page('none', 'All Systems Operational');
  }
}

/** Default severity policy: who hears about an incident of each severity. */
export const defaultSeverityPolicy: Record<Severity, ReachFlags> = {
  SEV1: { public: true, subscribers: true, stakeholders: true },
  SEV2: { public: true, subscribers: true, stakeholders: true },
  SEV3: { public: false, subscribers: false, stakeholders: true },
  SEV4: { public: false, subscribers: false, stakeholders: false },
};

/** Maintenance is planned and public by nature; executives hear through the internal page. */
export const maintenanceReachFlags: ReachFlags = { public: true, subscribers: true, stakeholders: false };

/** Minutes between updates by severity when the comms lead does not say (CADENCE overrides); 0 is none. */
export const defaultCadenceMinutes: Record<Severity, number> = {
  SEV1: 15,
  SEV2: 30,
  SEV3: 60,
  SEV4: 0,
};

// ---- learning from incidents ----

/** An action item's priority, most urgent first (SPEC "Learning from incidents"). */
export const actionItemPriorities = ['P1', 'P2', 'P3', 'P4'] as const;
export type ActionItemPriority = (typeof actionItemPriorities)[number];
/** An action item is open until it is done, or until the team decides it won't do it. */
export const actionItemStatuses = ['open', 'done', 'wont_do'] as const;
export type ActionItemStatus = (typeof actionItemStatuses)[number];
export const actionItemStatusLabel: Record<ActionItemStatus, string> = { open: 'Open', done: 'Done', wont_do: "Won't do" };

/**
 * How much of a component's time an incident's impact counts as down, for uptime: a major outage fully, a partial
 * outage at 30 % (as Statuspage and Instatus weigh it), anything else (degraded, maintenance) not at all.
 */
export const downtimeWeight: Record<ComponentStatus, number> = {
  operational: 0,
  under_maintenance: 0,
  degraded_performance: 0,
  partial_outage: 0.3,
  major_outage: 1,
};

/** Open after its due day has ended, read in UTC: an item due 2026-12-01 is overdue from 2026-12-02T00:00Z. */
export function isActionItemOverdue(item: { status: string; dueOn: string }, now: Date): boolean {
  return item.status === 'open' && item.dueOn < now.toISOString().slice(0, 10);
}
