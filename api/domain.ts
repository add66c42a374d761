// The domain vocabulary in one place: statuses with their rank and label, lifecycles, and the severity policy.
import type { Audiences } from '../db/schema.ts';

export const severities = ['SEV1', 'SEV2', 'SEV3', 'SEV4'] as const;
export type Severity = (typeof severities)[number];

export const incidentStatuses = ['investigating', 'identified', 'monitoring', 'resolved', 'postmortem'] as const;
export type IncidentStatus = (typeof incidentStatuses)[number];
/** Statuses an update may post; `postmortem` is reached only by publishing a postmortem. */
export const updateStatuses = ['investigating', 'identified', 'monitoring', 'resolved'] as const;
export type UpdateStatus = (typeof updateStatuses)[number];

export const maintenanceStatuses = ['scheduled', 'in_progress', 'verifying', 'completed', 'cancelled'] as const;
export type MaintenanceStatus = (typeof maintenanceStatuses)[number];

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

export function isActiveIncident(status: string): boolean {
  return status !== 'resolved' && status !== 'postmortem';
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

export function isActiveMaintenance(status: string): boolean {
  return status === 'in_progress' || status === 'verifying';
}

/** Default severity policy: who hears about an incident of each severity. */
export const defaultSeverityPolicy: Record<Severity, Audiences> = {
  SEV1: { public: true, subscribers: true, stakeholders: true },
  SEV2: { public: true, subscribers: true, stakeholders: true },
  SEV3: { public: false, subscribers: false, stakeholders: true },
  SEV4: { public: false, subscribers: false, stakeholders: false },
};

/** Maintenance is planned and public by nature; executives hear through the internal page. */
export const maintenanceAudiences: Audiences = { public: true, subscribers: true, stakeholders: false };

/** Minutes between updates by severity when the comms lead does not say (CADENCE overrides); 0 is none. */
export const defaultCadenceMinutes: Record<Severity, number> = {
  SEV1: 15,
  SEV2: 30,
  SEV3: 60,
  SEV4: 0,
};
