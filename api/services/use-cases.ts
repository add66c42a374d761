// The use cases and the role each needs (SPEC "One door"): one registry that every use case checks its actor against.
import { ForbiddenError, UnauthorizedError } from '../errors.ts';
import { roleAllows, type Actor, type Role } from './context.ts';

/**
 * Every thing a person does, by the service function that does it, with the least role allowed to do it. Resolve and
 * reopen are `postUpdate` (status `resolved`; `reopen: true`); cancelling a maintenance is `postMaintenanceUpdate`
 * (status `cancelled`). The API, the console and statusctl call these functions, and each function calls
 * `authorize` with its own name first, so no door can do more than the role allows. The role matrix test
 * (test/architecture.test.ts) runs every entry with every role: an entry without a case there fails it.
 */
export const useCaseRoles = {
  declareIncident: 'comms',
  postUpdate: 'comms',
  correctLastUpdate: 'comms',
  publishPostmortem: 'comms',
  scheduleMaintenance: 'comms',
  postMaintenanceUpdate: 'comms',
  previewTemplate: 'viewer',
  previewDeclaration: 'viewer',
  previewUpdate: 'viewer',
  previewMaintenance: 'viewer',
  previewMaintenanceUpdate: 'viewer',
  createComponent: 'admin',
  updateComponent: 'admin',
  archiveComponent: 'admin',
  renameComponentGroup: 'admin',
  addStakeholder: 'admin',
  removeStakeholder: 'admin',
  removeSubscriber: 'admin',
  createToken: 'admin',
  revokeToken: 'admin',
  addChannel: 'admin',
  removeChannel: 'admin',
  moveMaintenanceWindow: 'comms',
  escalateIncident: 'comms',
  receiveAlerts: 'comms',
  incidentActionItems: 'viewer',
  listActionItems: 'viewer',
  getActionItem: 'viewer',
  createActionItem: 'comms',
  changeActionItem: 'comms',
  reliabilityReport: 'viewer',
  reportIncidentsCsv: 'viewer',
  listMembers: 'admin',
  addMember: 'admin',
  updateMember: 'admin',
  removeMember: 'admin',
} as const satisfies Record<string, Role>;

export type UseCase = keyof typeof useCaseRoles;

/** Whether `actor` may run `useCase`; for screens that hide what the role may not do (the use case still checks). */
export function mayRun(actor: Actor | null, useCase: UseCase): boolean {
  return actor !== null && roleAllows(actor.role, useCaseRoles[useCase]);
}

/**
 * Refuses an actor whose role is below what `useCase` needs: UnauthorizedError (401) for nobody, ForbiddenError
 * (403) naming the role needed and held. Every use case in `useCaseRoles` calls this before it reads its input.
 */
export function authorize(actor: Actor | null, useCase: UseCase): asserts actor is Actor {
  if (!actor) throw new UnauthorizedError();
  const needed = useCaseRoles[useCase];
  if (!roleAllows(actor.role, needed)) {
    const who = actor.kind === 'token' ? `the token "${actor.name}"` : actor.kind === 'system' ? `the ${actor.name}` : `${actor.kind} "${actor.name}"`;
    throw new ForbiddenError(`This needs the ${needed} role; ${who} has ${actor.role}. Nothing was changed.`);
  }
}
