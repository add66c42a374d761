// Renders both wordings of a template without publishing anything, for the comms lead to read first.
import { NotFoundError, ValidationError } from '../errors.ts';
import { exampleBuiltins, renderTemplate, type Rendered } from '../templates.ts';
import type { Actor, Services } from './context.ts';
import type { IncidentStatus, ReachFlags } from '../domain.ts';
import { requireComponents } from './components.ts';
import { getIncident, nextUpdateAt, narrowReach, type DeclareInput, type UpdateInput } from './incidents.ts';
import { getMaintenance, maintenanceReach, type MaintenanceUpdateInput, type ScheduleInput } from './maintenances.ts';
import { authorize } from './use-cases.ts';
import { audienceReach } from './reach.ts';
import { incidentBuiltins, maintenanceBuiltins, pickTemplate } from './wording.ts';

/**
 * Renders both wordings of template `key` with `variables`: with example built-ins, or those of the incident or
 * maintenance `incidentId` names. Writes nothing. Errors: 404 unknown template, 422 unknown subject or bad variables.
 */
export async function previewTemplate(
  s: Services,
  actor: Actor | null,
  key: string,
  input: { variables: Record<string, string>; incidentId?: string | undefined },
): Promise<Rendered> {
  authorize(actor, 'previewTemplate');
  const template = s.templates.get(key);
  if (!template) throw new NotFoundError('template', key);
  const now = s.clock.now();
  if (input.incidentId === undefined) return renderTemplate(template, input.variables, exampleBuiltins(template.kind));
  if (template.kind === 'incident') {
    // An id in the body that names nothing is bad input (422, like the maintenance branch below), not a missing resource.
    const incident = await getIncident(s, input.incidentId).catch((e: unknown) => {
      if (!(e instanceof NotFoundError)) throw e;
      throw new ValidationError(`No incident with id "${input.incidentId}".`, [{ path: 'incidentId', message: 'unknown incident for an incident template' }]);
    });
    const builtins = incidentBuiltins(incident, s, now);
    return renderTemplate(template, input.variables, builtins);
  }
  const maintenance = await getMaintenance(s, input.incidentId).catch((e: unknown) => {
    if (!(e instanceof NotFoundError)) throw e;
    throw new ValidationError(`No maintenance with id "${input.incidentId}".`, [{ path: 'incidentId', message: 'unknown maintenance for a maintenance template' }]);
  });
  return renderTemplate(template, input.variables, maintenanceBuiltins({ ...maintenance, nextUpdateAt: null }, s, now));
}

export interface DeclarationPreview {
  rendered: Rendered;
  /** Who would hear, by the severity policy narrowed by `notify`. */
  audiences: ReachFlags;
  /** How many would receive it by email now: confirmed subscribers of the affected components, and executives. */
  recipients: { subscribers: number; stakeholders: number };
  /** One sentence per notified group (reach flag) that nobody is in (reach.ts), e.g. no stakeholder to brief. */
  warnings: string[];
}

/**
 * Renders a declaration as it would be published, with the title, components and next update time it names,
 * and counts who would receive it. Publishes nothing. Errors as declareIncident: ValidationError (422) with the fields.
 */
export async function previewDeclaration(
  s: Services,
  actor: Actor | null,
  input: Pick<DeclareInput, 'title' | 'internalTitle' | 'severity' | 'status' | 'template' | 'variables' | 'components' | 'roles' | 'nextUpdateInMinutes' | 'notify'>,
): Promise<DeclarationPreview> {
  authorize(actor, 'previewDeclaration');
  const now = s.clock.now();
  const { template, status } = pickTemplate(s.templates, input.template, 'incident', input.status);
  const known = await requireComponents(s.db, input.components.map((c) => c.id), 'components', 'changes');
  const components = input.components.map((c) => ({ name: known.get(c.id)!.name, status: c.status }));
  const builtins = incidentBuiltins(
    {
      id: 'preview',
      title: input.title,
      internalTitle: input.internalTitle ?? input.title,
      severity: input.severity,
      startedAt: now,
      nextUpdateAt: nextUpdateAt(s.cadence, now, status as IncidentStatus, input.severity, input.nextUpdateInMinutes),
      roles: input.roles ?? {},
      components,
    },
    s,
    now,
  );
  const rendered = renderTemplate(template, input.variables, builtins);
  const audiences = narrowReach(s.severityPolicy[input.severity], input.notify);
  const reach = await audienceReach(s.db, { audiences, componentIds: input.components.map((c) => c.id) });
  return { rendered, audiences, recipients: { subscribers: reach.subscribers.count, stakeholders: reach.stakeholders.count }, warnings: reach.warnings };
}

/** Who a publish would reach and how many: the same reach flags the publish records, counted now. */
async function counted(s: Services, rendered: Rendered, audiences: ReachFlags, componentIds: string[]): Promise<DeclarationPreview> {
  const reach = await audienceReach(s.db, { audiences, componentIds });
  return { rendered, audiences, recipients: { subscribers: reach.subscribers.count, stakeholders: reach.stakeholders.count }, warnings: reach.warnings };
}

/**
 * What posting `input` to incident `id` would publish and reach, by postUpdate's own rule: the incident's reach flags
 * narrowed by `notify`, executives briefed only on a status change or a published draft. Writes nothing.
 */
export async function previewUpdate(s: Services, actor: Actor | null, id: string, input: Pick<UpdateInput, 'status' | 'template' | 'variables' | 'components' | 'notify'>): Promise<DeclarationPreview> {
  authorize(actor, 'previewUpdate');
  const incident = await getIncident(s, id);
  const rendered = await previewTemplate(s, actor, input.template, { variables: input.variables, incidentId: id });
  const flags = narrowReach(incident.audiences, input.notify);
  const brief = input.status !== incident.status || incident.draft;
  const componentIds = [...new Set([...incident.components.map((c) => c.id), ...(input.components ?? []).map((c) => c.id)])];
  return counted(s, rendered, { ...flags, stakeholders: flags.stakeholders && brief }, componentIds);
}

/** What scheduling `input` would publish and reach (scheduleMaintenance's rule: public, subscribers unless `notify` says not). Writes nothing. */
export async function previewMaintenance(s: Services, actor: Actor | null, input: ScheduleInput): Promise<DeclarationPreview> {
  authorize(actor, 'previewMaintenance');
  const now = s.clock.now();
  const { template } = pickTemplate(s.templates, input.template ?? 'maintenance-scheduled', 'maintenance', 'scheduled');
  const known = await requireComponents(s.db, input.components, 'components', 'ids');
  const facts = {
    id: 'preview',
    title: input.title,
    internalTitle: input.internalTitle ?? input.title,
    scheduledFor: input.scheduledFor,
    scheduledUntil: input.scheduledUntil,
    startedAt: null,
    nextUpdateAt: null,
    components: input.components.map((id) => ({ id, name: known.get(id)!.name })),
  };
  const rendered = renderTemplate(template, input.variables, maintenanceBuiltins(facts, s, now));
  return counted(s, rendered, maintenanceReach(input.notify), input.components);
}

/** What posting `input` to maintenance `id` would publish and reach, by postMaintenanceUpdate's rule. Writes nothing. */
export async function previewMaintenanceUpdate(s: Services, actor: Actor | null, id: string, input: Pick<MaintenanceUpdateInput, 'template' | 'variables' | 'notify'>): Promise<DeclarationPreview> {
  authorize(actor, 'previewMaintenanceUpdate');
  const m = await getMaintenance(s, id);
  const rendered = await previewTemplate(s, actor, input.template, { variables: input.variables, incidentId: id });
  return counted(s, rendered, maintenanceReach(input.notify), m.components.map((c) => c.id));
}
