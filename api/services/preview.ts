// Renders both wordings of a template without publishing anything, for the comms lead to read first.
import { NotFoundError, ValidationError } from '../errors.ts';
import { exampleBuiltins, renderTemplate, type Rendered } from '../templates.ts';
import type { Services } from './context.ts';
import { getIncident } from './incidents.ts';
import { getMaintenance } from './maintenances.ts';
import { incidentBuiltins, maintenanceBuiltins } from './wording.ts';

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
