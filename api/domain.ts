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
 * alerts_resolved: the cadence's notices to the comms lead and channels; component_update: a component's webhook;
 * sign-in: a stakeholder's emailed link.
 */
export const deliveryKinds = ['update', 'briefing', 'confirmation', 'manage_link', 'reminder', 'due_reminder', 'overdue', 'alerts_resolved', 'component_update', 'sign-in'] as const;
export type DeliveryKind = (typeof deliveryKinds)[number];

/** Who a delivery goes to. */
export const deliveryAudiences = ['subscriber', 'stakeholder', 'comms', 'channel', 'webhook'] as const;
export type DeliveryAudience = (typeof deliveryAudiences)[number];

/** Team roles, weakest first (SPEC "People"): admin can do everything comms can; comms everything viewer can. */
export const roles = ['viewer', 'comms', 'admin'] as const;
export type Role = (typeof roles)[number];

/** Whether a `held` role is at least the `needed` one. */
export function roleAllows(held: Role, needed: Role): boolean {
  return roles.indexOf(held) >= roles.indexOf(needed);
}

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

/** Component statuses, worst last; the rank decides which impact wins when several apply. */
export const componentStatuses = [
  'operational',
  'under_maintenance',
  'degraded_performance',
  'partial_outage',
  'major_outage',
] as const;
export type ComponentStatus = (typeof componentStatuses)[number];
/** An incident names one of these for each component it affects. */
export const impactStatuses = ['degraded_performance', 'partial_outage', 'major_outage', 'under_maintenance'] as const;
export type ImpactStatus = (typeof impactStatuses)[number];

export const componentStatusLabel: Record<ComponentStatus, string> = {
  operational: 'Operational',
  under_maintenance: 'Under maintenance',
  degraded_performance: 'Degraded performance',
  partial_outage: 'Partial outage',
  major_outage: 'Major outage',
};

export const incidentStatusLabel: Record<IncidentStatus, string> = {
  investigating: 'Investigating',
  identified: 'Identified',
  monitoring: 'Monitoring',
  resolved: 'Resolved',
  postmortem: 'Postmortem',
};

export const maintenanceStatusLabel: Record<MaintenanceStatus, string> = {
  scheduled: 'Scheduled',
  in_progress: 'In progress',
  verifying: 'Verifying',
  completed: 'Completed',
  cancelled: 'Cancelled',
};

export function componentRank(status: ComponentStatus): number {
  return componentStatuses.indexOf(status);
}

/** The worst of several component statuses; operational when there are none. */
export function worstStatus(statuses: Iterable<ComponentStatus>): ComponentStatus {
  let worst: ComponentStatus = 'operational';
  for (const s of statuses) if (componentRank(s) > componentRank(worst)) worst = s;
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
  /** The worst component status: the colour of the banner. */
  worst: ComponentStatus;
  /** Whether every component has the worst status, or only some do. */
  scope: 'all' | 'some';
}

/**
 * Blends every component's status into the page's status, as Statuspage does (docs/decisions/006-statuspage-values.md):
 * a status held by every component counts in full, one held by some counts one step lower.
 * major_outage: all → critical "Major System Outage", some → major "Partial System Outage";
 * partial_outage: all → major "Partial System Outage", some → minor "Minor Service Outage";
 * degraded_performance: all (of two or more) → minor "Degraded System Service", else minor "Partially Degraded Service";
 * under_maintenance and nothing worse → maintenance "Service Under Maintenance"; else none "All Systems Operational".
 */
export function pageStatus(statuses: readonly ComponentStatus[]): PageStatus {
  const worst = worstStatus(statuses);
  const scope = statuses.length > 0 && statuses.every((s) => s === worst) ? 'all' : 'some';
  const all = scope === 'all';
  const blend = (indicator: Indicator, description: string): PageStatus => ({ indicator, description, worst, scope });
  switch (worst) {
    case 'major_outage':
      return all ? blend('critical', 'Major System Outage') : blend('major', 'Partial System Outage');
    case 'partial_outage':
      return all ? blend('major', 'Partial System Outage') : blend('minor', 'Minor Service Outage');
    case 'degraded_performance':
      return blend('minor', all && statuses.length > 1 ? 'Degraded System Service' : 'Partially Degraded Service');
    case 'under_maintenance':
      return blend('maintenance', 'Service Under Maintenance');
    case 'operational':
      return blend('none', 'All Systems Operational');
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
