// Renders a template for an incident or maintenance: computes the built-in variables for each wording.
import { worstStatus, type ComponentStatus, type IncidentStatus, type MaintenanceStatus } from '../domain.ts';
import { ValidationError } from '../errors.ts';
import { absolute, paths } from '../links.ts';
import { componentStatusPhrase, formatIn, humanDuration, joinNames } from '../text.ts';
import type { Builtins, Template, TemplateCatalog, TemplateKind } from '../templates.ts';

interface IncidentFacts {
  id: string;
  title: string;
  internalTitle: string;
  severity: string;
  startedAt: Date;
  nextUpdateAt: Date | null;
  roles: { ic?: string | undefined };
  /** Every component on the incident; those back to operational are left out of the wording. */
  components: { name: string; status: ComponentStatus }[];
}

interface MaintenanceFacts {
  id: string;
  title: string;
  internalTitle: string;
  scheduledFor: Date;
  scheduledUntil: Date;
  startedAt: Date | null;
  nextUpdateAt: Date | null;
  components: { name: string }[];
}

interface Links {
  publicUrl: string;
  /** TIME_ZONE: the zone times in wording are written in (named); UTC when absent. */
  timeZone?: string | undefined;
}

export function incidentBuiltins(facts: IncidentFacts, links: Links, now: Date): Builtins {
  const impaired = facts.components.filter((c) => c.status !== 'operational');
  const shared = {
    components: joinNames(impaired.map((c) => c.name)),
    next_update: facts.nextUpdateAt ? formatIn(facts.nextUpdateAt, now, links.timeZone) : '',
    duration: humanDuration(now.getTime() - facts.startedAt.getTime()),
  };
  const impact = worstStatus(impaired.map((c) => c.status));
  return {
    external: { ...shared, title: facts.title, incident_url: absolute(links.publicUrl, paths.incident('public', facts.id)) },
    internal: {
      ...shared,
      title: facts.internalTitle,
      incident_url: absolute(links.publicUrl, paths.incident('internal', facts.id)),
      severity: facts.severity,
      ic: facts.roles.ic ?? '',
      impact: componentStatusPhrase(impact),
    },
  };
}

export function maintenanceBuiltins(facts: MaintenanceFacts, links: Links, now: Date): Builtins {
  const shared = {
    components: joinNames(facts.components.map((c) => c.name)),
    next_update: facts.nextUpdateAt ? formatIn(facts.nextUpdateAt, now, links.timeZone) : '',
    duration: humanDuration(now.getTime() - (facts.startedAt ?? now).getTime()),
    starts_at: formatIn(facts.scheduledFor, now, links.timeZone),
    ends_at: formatIn(facts.scheduledUntil, now, links.timeZone),
  };
  const external = absolute(links.publicUrl, paths.maintenance('public', facts.id));
  const internal = absolute(links.publicUrl, paths.maintenance('internal', facts.id));
  // `incident_url` stays for templates written before `maintenance_url` existed; both name the maintenance page.
  return {
    external: { ...shared, title: facts.title, maintenance_url: external, incident_url: external },
    internal: { ...shared, title: facts.internalTitle, maintenance_url: internal, incident_url: internal },
  };
}

/** Finds a template for a kind of subject and a status, refusing mismatches with the field named. */
export function pickTemplate<K extends TemplateKind>(
  catalog: TemplateCatalog,
  key: string,
  kind: K,
  status: string | undefined,
): { template: Template; status: K extends 'incident' ? IncidentStatus : MaintenanceStatus } {
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
  // Start-up checked every template's statuses against its kind's lifecycle (api/templates.ts).
  return { template, status: chosen as K extends 'incident' ? IncidentStatus : MaintenanceStatus };
}

