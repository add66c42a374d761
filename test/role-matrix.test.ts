// Every use case in the registry, run directly with every kind of actor: what a role may not do is refused by the use case itself (SPEC "One door").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ForbiddenError, UnauthorizedError } from '../api/errors.ts';
import { roleAllows, type Role } from '../api/services/context.ts';
import { changeActionItem, createActionItem, getActionItem, incidentActionItems, listActionItems } from '../api/services/action-items.ts';
import { receiveAlerts } from '../api/services/alerts.ts';
import { addChannel, removeChannel } from '../api/services/channels.ts';
import { archiveComponent, createComponent, listComponentGroups, renameComponentGroup, updateComponent } from '../api/services/components.ts';
import { systemActor, type Actor, type Services } from '../api/services/context.ts';
import { correctLastUpdate, declareIncident, escalateIncident, postUpdate, publishPostmortem } from '../api/services/incidents.ts';
import { moveMaintenanceWindow } from '../api/services/maintenance-window.ts';
import { addMember, listMembers, removeMember, updateMember } from '../api/services/members.ts';
import { reliabilityReport, reportIncidentsCsv } from '../api/services/reliability.ts';
import { postMaintenanceUpdate, scheduleMaintenance } from '../api/services/maintenances.ts';
import { previewDeclaration, previewMaintenance, previewMaintenanceUpdate, previewTemplate, previewUpdate } from '../api/services/preview.ts';
import { addStakeholder, removeStakeholder } from '../api/services/stakeholders.ts';
import { findSubscribers, removeSubscriber, subscribe } from '../api/services/subscribers.ts';
import { createToken, revokeToken } from '../api/services/tokens.ts';
import { useCaseRoles, type UseCase } from '../api/services/use-cases.ts';
import { count } from './api-support.ts';
import { examples, makeFixture, seedComponents, type Fixture } from './fixture.ts';

let f: Fixture;
const root = systemActor('test setup');
let n = 0;
const next = () => ++n;

beforeAll(async () => {
  f = await makeFixture();
  await seedComponents(f);
});
afterAll(() => f.close());

const declareInput = () => ({
  title: `Errors ${next()}`,
  severity: 'SEV3' as const,
  template: 'investigating',
  variables: examples(f, 'investigating'),
  components: [{ id: 'api', status: 'partial_outage' as const }],
});
const declared = async () => (await declareIncident(f.services, root, declareInput())).id;
const windowInput = () => {
  const start = f.clock.now().getTime() + 24 * 3600_000;
  return { title: `Upgrade ${next()}`, scheduledFor: new Date(start), scheduledUntil: new Date(start + 3600_000), components: ['api'], variables: examples(f, 'maintenance-scheduled') };
};
const actionItemInput = () => ({ title: `Add an alert ${next()}`, owner: 'owner@example.com', dueOn: '2026-12-31', priority: 'P2' });
const scheduled = async () => (await scheduleMaintenance(f.services, root, windowInput())).id;

/** One valid call per use case, its prerequisites made by the system; a missing entry fails to type-check and the test below. */
const runs: Record<UseCase, (s: Services, actor: Actor) => Promise<unknown>> = {
  declareIncident: (s, a) => declareIncident(s, a, declareInput()),
  postUpdate: async (s, a) => postUpdate(s, a, await declared(), { status: 'identified', template: 'identified', variables: examples(f, 'identified') }),
  correctLastUpdate: async (s, a) => correctLastUpdate(s, a, await declared(), examples(f, 'investigating')),
  publishPostmortem: async (s, a) => {
    const id = await declared();
    await postUpdate(s, root, id, { status: 'resolved', template: 'resolved', variables: examples(f, 'resolved') });
    return publishPostmortem(s, a, id, { externalSummary: 'A certificate expired.', internalBody: 'Timeline.', actionItems: [], variables: examples(f, 'postmortem-published') });
  },
  scheduleMaintenance: (s, a) => scheduleMaintenance(s, a, windowInput()),
  postMaintenanceUpdate: async (s, a) => postMaintenanceUpdate(s, a, await scheduled(), { status: 'cancelled', template: 'maintenance-cancelled', variables: {} }),
  previewTemplate: (s, a) => previewTemplate(s, a, 'investigating', { variables: examples(f, 'investigating') }),
  previewDeclaration: (s, a) => previewDeclaration(s, a, declareInput()),
  previewUpdate: async (s, a) => previewUpdate(s, a, await declared(), { status: 'identified', template: 'identified', variables: examples(f, 'identified') }),
  previewMaintenance: (s, a) => previewMaintenance(s, a, windowInput()),
  previewMaintenanceUpdate: async (s, a) => previewMaintenanceUpdate(s, a, await scheduled(), { template: 'maintenance-cancelled', variables: {} }),
  createComponent: (s, a) => createComponent(s, a, { id: `c${next()}`, name: `Component ${n}` }),
  updateComponent: (s, a) => updateComponent(s, a, 'api', { description: `Edited ${next()}` }),
  archiveComponent: async (s, a) => {
    const id = `gone${next()}`;
    await createComponent(s, root, { id, name: `Gone ${n}` });
    return archiveComponent(s, a, id);
  },
  renameComponentGroup: async (s, a) => {
    await createComponent(s, root, { id: `g${next()}`, name: `Grouped ${n}`, group: `Group ${n}` });
    const group = (await listComponentGroups(s.db)).find((g) => g.name === `Group ${n}`)!;
    return renameComponentGroup(s, a, group.id, `Renamed ${next()}`);
  },
  addStakeholder: (s, a) => addStakeholder(s, a, { email: `exec${next()}@example.com`, name: 'Exec' }),
  removeStakeholder: async (s, a) => removeStakeholder(s, a, (await addStakeholder(s, root, { email: `gone${next()}@example.com`, name: 'Gone' })).id),
  removeSubscriber: async (s, a) => {
    const email = `reader${next()}@example.com`;
    await subscribe(s, { email });
    const [row] = await findSubscribers(s, { search: email });
    return removeSubscriber(s, a, row!.id);
  },
  createToken: (s, a) => createToken(s, a, { role: 'viewer', name: `Bot ${next()}` }),
  revokeToken: async (s, a) => revokeToken(s, a, (await createToken(s, root, { role: 'viewer', name: `Old ${next()}` })).id),
  addChannel: (s, a) => addChannel(s, a, { kind: 'generic', url: `https://hooks.example.com/${next()}` }),
  removeChannel: async (s, a) => removeChannel(s, a, (await addChannel(s, root, { kind: 'generic', url: `https://hooks.example.com/${next()}` })).id),
  moveMaintenanceWindow: async (s, a) => {
    const id = await scheduled();
    return moveMaintenanceWindow(s, a, id, { scheduledUntil: new Date(f.clock.now().getTime() + 48 * 3600_000) });
  },
  escalateIncident: async (s, a) => escalateIncident(s, a, await declared(), 'SEV2'),
  receiveAlerts: (s, a) =>
    receiveAlerts(s, a, {
      source: 'alertmanager',
      groupKey: `group-${next()}`,
      status: 'firing',
      alerts: [{ status: 'firing', labels: { alertname: 'HighErrorRate', severity: 'warning', component: 'api' }, annotations: { summary: 'Errors are up' } }],
      commonLabels: { severity: 'warning', component: 'api' },
      commonAnnotations: { summary: 'Errors are up' },
    }),
  incidentActionItems: async (s, a) => incidentActionItems(s, a, await declared()),
  listActionItems: (s, a) => listActionItems(s, a, { status: 'open' }),
  getActionItem: async (s, a) => getActionItem(s, a, (await createActionItem(s, root, await declared(), actionItemInput())).id),
  createActionItem: async (s, a) => createActionItem(s, a, await declared(), actionItemInput()),
  changeActionItem: async (s, a) => changeActionItem(s, a, (await createActionItem(s, root, await declared(), actionItemInput())).id, { status: 'done' }),
  reliabilityReport: (s, a) => reliabilityReport(s, a, { from: '2026-01-01', to: '2026-03-31' }),
  reportIncidentsCsv: (s, a) => reportIncidentsCsv(s, a, { from: '2026-01-01', to: '2026-03-31' }),
  listMembers: (s, a) => listMembers(s, a),
  addMember: (s, a) => addMember(s, a, { email: `member${next()}@example.com`, name: 'New member', role: 'comms' }),
  updateMember: async (s, a) => updateMember(s, a, (await addMember(s, root, { email: `member${next()}@example.com`, name: 'Renamed', role: 'comms' })).id, { name: `Renamed ${n}` }),
  removeMember: async (s, a) => removeMember(s, a, (await addMember(s, root, { email: `member${next()}@example.com`, name: 'Leaving', role: 'viewer' })).id),
};

/** Who may knock: each kind of signed-in actor and role, and nobody. */
const actors: { label: string; actor: Actor | null; role: Role | null }[] = [
  { label: 'admin token', actor: { kind: 'token', id: 't-admin', name: 'Ada token', email: null, role: 'admin' }, role: 'admin' },
  { label: 'admin member', actor: { kind: 'member', id: 'm-admin', name: 'Ada member', email: 'ada@example.com', role: 'admin' }, role: 'admin' },
  { label: 'comms token', actor: { kind: 'token', id: 't-comms', name: 'Cy token', email: 'cy@example.com', role: 'comms' }, role: 'comms' },
  { label: 'comms member', actor: { kind: 'member', id: 'm-comms', name: 'Cy member', email: 'cy@example.com', role: 'comms' }, role: 'comms' },
  { label: 'alert intake', actor: { kind: 'alert', id: 't-alert', name: 'Alertmanager', email: null, role: 'comms', source: 'alertmanager' }, role: 'comms' },
  { label: 'viewer token', actor: { kind: 'token', id: 't-viewer', name: 'Vi token', email: null, role: 'viewer' }, role: 'viewer' },
  { label: 'viewer member', actor: { kind: 'member', id: 'm-viewer', name: 'Vi member', email: 'vi@example.com', role: 'viewer' }, role: 'viewer' },
  { label: 'stakeholder (emailed link)', actor: { kind: 'stakeholder', id: 's-1', name: 'Exec', email: 'exec@example.com', role: 'viewer' }, role: 'viewer' },
  { label: 'nobody', actor: null, role: null },
];

describe('role matrix: every use case refuses every actor below its role, whatever door called it', () => {
  it('has a run for every use case in the registry and nothing else', () => {
    expect(Object.keys(runs).sort()).toEqual(Object.keys(useCaseRoles).sort());
  });

  for (const useCase of Object.keys(useCaseRoles) as UseCase[]) {
    const needed = useCaseRoles[useCase];
    for (const { label, actor, role } of actors) {
      const allowed = role !== null && roleAllows(role, needed);
      it(`${useCase} (${needed}) by ${label}: ${allowed ? 'runs' : 'refused'}`, async () => {
        if (allowed) {
          await expect(runs[useCase](f.services, actor!)).resolves.not.toThrow();
          return;
        }
        const named = async () => (actor ? (await count(f, 'audit_events', `WHERE actor = '${actor.name}'`)) + (await count(f, 'updates', `WHERE author = '${actor.name}'`)) : 0);
        const before = await named();
        const error = await runs[useCase](f.services, actor as Actor).then(
          () => null,
          (e: unknown) => e,
        );
        expect(error, `${useCase} by ${label}`).toBeInstanceOf(role === null ? UnauthorizedError : ForbiddenError);
        if (role !== null) expect((error as Error).message).toMatch(new RegExp(`needs the ${needed} role`));
        // Nothing the refused actor did was stored: no new audit row or update names it.
        expect(await named()).toBe(before);
      });
    }
  }
});
