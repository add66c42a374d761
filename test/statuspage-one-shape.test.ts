// One Statuspage shape (SPEC "One door"): an incident, a maintenance and a component read the same through /api/v2 and through a webhook.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualHttpOutbox, startHttpSink, type HttpSink } from './cadence-support.ts';
import { declare, examples, makeSiteFixture, postUpdate, type SiteFixture } from './site-fixture.ts';
import { statuspageComponent, statuspageIncident, statuspageMaintenance } from './statuspage-shapes.ts';

type Json = Record<string, unknown> & { id: string };

let f: SiteFixture;
let sink: HttpSink;
let incidentId: string;
let maintenanceId: string;
let reviewedId: string;

const v2 = async (name: string) => (await f.get(`/api/v2/${name}`)).json() as Promise<Record<string, Json[] & Json>>;
/** The newest webhook body about this subject that carries `key` (`incident` or `component`). */
const lastPosted = (key: string, id: string) =>
  sink.posted
    .map((p) => p.json as Record<string, Json>)
    .filter((j) => j[key]?.id === id)
    .at(-1);

beforeAll(async () => {
  f = await makeSiteFixture({ WEBHOOK_ALLOW_PRIVATE: 'true' });
  sink = await startHttpSink();
  const sub = await f.call('POST', '/api/v1/subscribers', { token: null, body: { webhook: `${sink.url}/hook` } });
  expect(sub.status).toBe(201);
  const incident = await declare(f, { title: 'Checkout failing', severity: 'SEV1', components: [{ id: 'api', status: 'major_outage' }] });
  incidentId = incident.id;
  f.clock.advance(60_000);
  await postUpdate(f, incidentId, 'identified', { components: [{ id: 'api', status: 'partial_outage' }] });
  f.clock.advance(60_000);
  const from = f.clock.now().getTime() + 3600_000;
  const scheduled = await f.call('POST', '/api/v1/maintenances', {
    token: 'comms',
    body: {
      title: 'Database upgrade',
      scheduledFor: new Date(from).toISOString(),
      scheduledUntil: new Date(from + 7200_000).toISOString(),
      components: ['dashboard'],
      variables: examples(f, 'maintenance-scheduled'),
    },
  });
  expect(scheduled.status).toBe(201);
  maintenanceId = ((await scheduled.json()) as { id: string }).id;
  // A resolved incident with its postmortem: the public summary is Statuspage's postmortem_body.
  const reviewed = await declare(f, { title: 'Slow dashboard', severity: 'SEV2', components: [{ id: 'dashboard', status: 'degraded_performance' }] });
  reviewedId = reviewed.id;
  await postUpdate(f, reviewedId, 'resolved');
  const pm = await f.call('PUT', `/api/v1/incidents/${reviewedId}/postmortem`, {
    token: 'comms',
    body: { externalSummary: 'A configuration change slowed the dashboard; we now test such changes first.', internalBody: 'CANARY-PM-INTERNAL root cause notes', actionItems: [], variables: examples(f, 'postmortem-published') },
  });
  expect(pm.status, await pm.clone().text()).toBe(200);
  const http = manualHttpOutbox(f);
  try {
    await http.drain();
  } finally {
    http.close();
  }
  await f.rendered();
}, 60_000);
afterAll(async () => {
  await sink.close();
  await f.close();
});

describe('one Statuspage serializer', () => {
  it('sends the incident exactly as incidents.json serves it, scheduled_for and scheduled_until null (a consumer reading them gets no KeyError)', async () => {
    const served = (await v2('incidents.json')).incidents!.find((i) => i.id === incidentId);
    const sent = lastPosted('incident', incidentId)!.incident!;
    expect(statuspageIncident.parse(sent)).toBeTruthy();
    expect(sent).toEqual(served);
    expect(sent).toHaveProperty('scheduled_for', null);
    expect(sent).toHaveProperty('scheduled_until', null);
  });

  it('carries the public postmortem summary as postmortem_body, the same in both, never the internal body', async () => {
    const served = (await v2('incidents.json')).incidents!.find((i) => i.id === reviewedId);
    const sent = lastPosted('incident', reviewedId)!.incident!;
    expect(sent).toEqual(served);
    expect(sent.postmortem_body).toBe('A configuration change slowed the dashboard; we now test such changes first.');
    expect(sent.postmortem_published_at).not.toBeNull();
    expect(JSON.stringify(sink.posted.map((p) => p.json))).not.toContain('CANARY-PM-INTERNAL');
  });

  it('sends a maintenance exactly as scheduled-maintenances.json serves it', async () => {
    const served = (await v2('scheduled-maintenances.json')).scheduled_maintenances!.find((m) => m.id === maintenanceId);
    const sent = lastPosted('incident', maintenanceId)!.incident!;
    expect(statuspageMaintenance.parse(sent)).toBeTruthy();
    expect(sent).toEqual(served);
  });

  it("sends a component with components.json's position and values, and the page status status.json reports", async () => {
    const served = (await v2('components.json')).components!.find((c) => c.id === 'api')!;
    const envelope = lastPosted('component', 'api')!;
    expect(statuspageComponent.parse(envelope.component)).toBeTruthy();
    expect(envelope.component).toEqual(served);
    expect(served.position).toBeGreaterThanOrEqual(1);
    // Every component an incident envelope names carries its components.json position too.
    const positions = Object.fromEntries((await v2('components.json')).components!.map((c) => [c.id, c.position]));
    for (const c of lastPosted('incident', incidentId)!.incident!.components as unknown as Json[]) expect(c.position).toBe(positions[c.id]);
    const status = (await v2('status.json')).status as unknown as { indicator: string; description: string };
    expect(lastPosted('incident', maintenanceId)!.page).toMatchObject({ status_indicator: status.indicator, status_description: status.description });
  });
});
