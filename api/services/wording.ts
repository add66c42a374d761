// Renders a template for an incident or maintenance: computes the built-in variables for each audience.
import { componentStatusLabel, worstStatus, type ComponentStatus } from '../domain.ts';
import { ValidationError } from '../errors.ts';
import type { Builtins, Template, TemplateCatalog, TemplateKind } from '../templates.ts';

export interface IncidentFacts {
  id: string;
  title: string;
  internalTitle: string;
  severity: string;
  startedAt: Date;
  nextUpdateAt: Date | null;
  roles: { ic?: string | undefined };
  /** Every component on the incident; those back to operational are left out of the wording. */
  components: { name: string; status: string }[];
}

export interface MaintenanceFacts {
  id: string;
  title: string;
  internalTitle: string;
  scheduledFor: Date;
  scheduledUntil: Date;
  startedAt: Date | null;
  nextUpdateAt: Date | null;
  components: { name: string }[];
}

/** "API", "API and Dashboard", "API, Dashboard and Webhooks". */
export function joinNames(names: string[]): string {
  if (names.length <= 1) return names[0] ?? '';
  return `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

/** "1 hour 5 minutes"; whole minutes, because nobody reads seconds during an outage. */
export function humanDuration(ms: number): string {
  const minutes = Math.max(0, Math.floor(ms / 60_000));
  if (minutes < 1) return 'less than a minute';
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  const part = (n: number, unit: string) => (n === 0 ? '' : `${n} ${unit}${n === 1 ? '' : 's'}`);
  return [part(days, 'day'), part(hours, 'hour'), days > 0 ? '' : part(mins, 'minute')].filter(Boolean).join(' ');
}

/** "14:30 UTC" today, "Tue 24 Nov 14:30 UTC" on another day: always UTC, with the zone named. */
export function formatUtc(at: Date, now: Date): string {
  const time = at.toISOString().slice(11, 16);
  if (at.toISOString().slice(0, 10) === now.toISOString().slice(0, 10)) return `${time} UTC`;
  const day = new Intl.DateTimeFormat('en-GB', { weekday: 'short', day: 'numeric', month: 'short', timeZone: 'UTC' })
    .format(at)
    .replace(',', '');
  return `${day} ${time} UTC`;
}

export interface Links {
  publicUrl: string;
}

export function incidentBuiltins(facts: IncidentFacts, links: Links, now: Date): Builtins {
  const impaired = facts.components.filter((c) => c.status !== 'operational');
  const shared = {
    components: joinNames(impaired.map((c) => c.name)),
    next_update: facts.nextUpdateAt ? formatUtc(facts.nextUpdateAt, now) : '',
    duration: humanDuration(now.getTime() - facts.startedAt.getTime()),
  };
  const impact = worstStatus(impaired.map((c) => c.status as ComponentStatus));
  return {
    external: { ...shared, title: facts.title, incident_url: `${links.publicUrl}/incidents/${facts.id}/` },
    internal: {
      ...shared,
      title: facts.internalTitle,
      incident_url: `${links.publicUrl}/internal/incidents/${facts.id}/`,
      severity: facts.severity,
      ic: facts.roles.ic ?? '',
      impact: componentStatusLabel[impact].toLowerCase(),
    },
  };
}

export function maintenanceBuiltins(facts: MaintenanceFacts, links: Links, now: Date): Builtins {
  const shared = {
    components: joinNames(facts.components.map((c) => c.name)),
    next_update: facts.nextUpdateAt ? formatUtc(facts.nextUpdateAt, now) : '',
    duration: humanDuration(now.getTime() - (facts.startedAt ?? now).getTime()),
    starts_at: formatUtc(facts.scheduledFor, now),
    ends_at: formatUtc(facts.scheduledUntil, now),
  };
  return {
    external: { ...shared, title: facts.title, incident_url: `${links.publicUrl}/maintenances/${facts.id}/` },
    internal: { ...shared, title: facts.internalTitle, incident_url: `${links.publicUrl}/internal/maintenances/${facts.id}/` },
  };
}

/** Finds a template for a kind of subject and a status, refusing mismatches with the field named. */
export function pickTemplate(catalog: TemplateCatalog, key: string, kind: TemplateKind, status: string | undefined): { template: Template; status: string } {
  const template = catalog.get(key);
  if (!template) {
    throw new ValidationError(`Unknown template "${key}".`, [{ path: 'template', message: `no template with key "${key}"` }]);
  }
  if (template.kind !== kind) {
    throw new ValidationError(`Template "${key}" is for ${template.kind} updates, not ${kind} updates.`, [
      { path: 'template', message: `${template.kind === 'incident' ? 'an' : 'a'} ${template.kind} template cannot post ${kind === 'incident' ? 'an' : 'a'} ${kind} update` },
    ]);
  }
  const chosen = status ?? template.statuses[0]!;
  if (!template.statuses.includes(chosen)) {
    throw new ValidationError(`Template "${key}" posts ${template.statuses.join(' or ')}, not ${chosen}.`, [
      { path: 'status', message: `template "${key}" may post: ${template.statuses.join(', ')}` },
    ]);
  }
  return { template, status: chosen };
}

