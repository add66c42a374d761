// Renders both wordings of a template without publishing anything, for the comms lead to read first.
import { NotFoundError, ValidationError } from '../errors.ts';
import { exampleBuiltins, renderTemplate, type Rendered } from '../templates.ts';
import type { Services } from './context.ts';
import type { Audiences } from '../../db/schema.ts';
import type { IncidentStatus } from '../domain.ts';
import { requireComponents } from './components.ts';
import { getIncident, nextUpdateAt, notifyAudiences, type DeclareInput } from './incidents.ts';
import { getMaintenance } from './maintenances.ts';
import { audienceReach } from './reach.ts';
import { incidentBuiltins, maintenanceBuiltins, pickTemplate } from './wording.ts';

export async function previewTemplate(
  s: Services,
  key: string,
  input: { variables: Record<string, string>; incidentId?: string | undefined },
): Promise<Rendered> {
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
  audiences: Audiences;
  /** How many would receive it by email now: confirmed subscribers of the affected components, and executives. */
  recipients: { subscribers: number; stakeholders: number };
  /** One sentence per included audience that nobody is in (reach.ts), e.g. no stakeholder to brief. */
  warnings: string[];
}

/**
 * Renders a declaration as it would be published, with the title, components and next update time it names,
 * and counts who would receive it. Publishes nothing. Errors as declareIncident: ValidationError (422) with the fields.
 */
export async function previewDeclaration(
  s: Services,
  input: Pick<DeclareInput, 'title' | 'internalTitle' | 'severity' | 'status' | 'template' | 'variables' | 'components' | 'roles' | 'nextUpdateInMinutes' | 'notify'>,
): Promise<DeclarationPreview> {
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
  const audiences = notifyAudiences(s.severityPolicy[input.severity], input.notify);
  const reach = await audienceReach(s.db, { audiences, componentIds: input.components.map((c) => c.id) });
  return { rendered, audiences, recipients: { subscribers: reach.subscribers.count, stakeholders: reach.stakeholders.count }, warnings: reach.warnings };
}
