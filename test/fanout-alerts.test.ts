// Alert-driven declare: Alertmanager and Grafana payloads make one incident per group, published or drafted per ALERT_POLICY.
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createToken } from '../api/services/tokens.ts';
import { countRows, manualOutbox, rows } from './fanout-support.ts';
import { manualHttpOutbox, startHttpSink, type HttpSink } from './cadence-support.ts';
import { examples, makeSiteFixture, postUpdate, type SiteFixture } from './site-fixture.ts';
import { startSmtpSink, type SmtpSink } from './smtp-sink.ts';
import { systemActor } from '../api/services/context.ts';

let f: SiteFixture;
let smtp: SmtpSink;
let hooks: HttpSink;

beforeEach(async () => {
  f = await makeSiteFixture({ COMMS_EMAIL: 'duty@example.com', WEBHOOK_ALLOW_PRIVATE: 'true' });
  smtp = await startSmtpSink();
  hooks = await startHttpSink();
});
afterEach(async () => {
  await hooks.close();
  await smtp.close();
  await f.close();
});

/** The example payload from the Alertmanager documentation (webhook_config, version 4), with our two labels added. */
function alertmanager(status: 'firing' | 'resolved', labels: Record<string, string>, groupKey = '{}/{severity="critical"}:{alertname="ProbeFailure"}', startsAt = '2023-02-06T13:08:45.828Z') {
  const common = { alertname: 'ProbeFailure', instance: 'https://server.example.org', job: 'http_checks', monitor: 'master', ...labels };
  return {
    receiver: 'statusdesk',
    status,
    alerts: [
      {
        status,
        labels: common,
        annotations: {
          description: 'Instance https://server.example.org has been down for over 5m. Job: http_checks',
          summary: 'BlackBox Probe Failure: https://server.example.org',
        },
        startsAt,
        endsAt: status === 'resolved' ? '2023-02-06T13:28:45.828Z' : '0001-01-01T00:00:00Z',
        generatorURL: 'http://prometheus.example.org:9090/graph?g0.expr=probe_success+%3D%3D+0&g0.tab=1',
        fingerprint: '1a30ba71cca2921f',
      },
    ],
    groupLabels: { alertname: 'ProbeFailure' },
    commonLabels: common,
    commonAnnotations: {
      description: 'Instance https://server.example.org has been down for over 5m. Job: http_checks',
      summary: 'BlackBox Probe Failure: https://server.example.org',
    },
    externalURL: 'http://prometheus.example.org:9093',
    version: '4',
    groupKey,
    truncatedAlerts: 0,
  };
}

/** The example body from Grafana's webhook notifier documentation, with our labels added. */
function grafana(labels: Record<string, string>) {
  return {
    receiver: 'My Super Webhook',
    status: 'firing',
    orgId: 1,
    alerts: [
      {
        status: 'firing',
        labels: { alertname: 'High memory usage', team: 'blue', zone: 'us-1', ...labels },
        annotations: { description: 'The system has high memory usage', runbook_url: 'https://myrunbook.com/runbook/1234', summary: 'This alert was triggered for zone us-1' },
        startsAt: '2021-10-12T09:51:03.157076+02:00',
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'https://play.grafana.org/alerting/1afz29v7z/edit',
        fingerprint: 'c6eadffa33fcdf37',
        silenceURL: 'https://play.grafana.org/alerting/silence/new',
        dashboardURL: '',
        panelURL: '',
        values: { B: 44.23943737541908, C: 1 },
      },
    ],
    groupLabels: { alertname: 'High memory usage' },
    commonLabels: { alertname: 'High memory usage', team: 'blue', zone: 'us-1', ...labels },
    commonAnnotations: {},
    externalURL: 'https://play.grafana.org/',
    version: '1',
    groupKey: '{}:{alertname="High memory usage"}',
    truncatedAlerts: 0,
    title: '[FIRING:1] High memory usage (blue us-1)',
    state: 'alerting',
    message: '**Firing**',
  };
}

async function alert(path: 'alertmanager' | 'grafana', body: unknown, token: 'comms' | 'viewer' | null = 'comms') {
  return f.call('POST', `/api/v1/alerts/${path}`, { token, body });
}

/** Every file of the public release as text. */
function publicText() {
  return [...f.files().entries()].map(([path, bytes]) => `${path}\n${bytes.toString('utf8')}`).join('\n');
}

describe('Alertmanager', () => {
  it("declares and publishes a SEV1 from the documented example payload; the public page shows it; a repeat adds nothing", async () => {
    const res = await alert('alertmanager', alertmanager('firing', { severity: 'critical', component: 'api' }));
    expect(res.status).toBe(201);
    const out = (await res.json()) as { outcome: string; incidentId: string; severity: string };
    expect(out).toMatchObject({ outcome: 'declared', severity: 'SEV1' });
    await f.rendered();
    const home = await (await f.get('/')).text();
    expect(home).toContain('Disruption to Api');
    const summary = (await (await f.get('/api/v2/summary.json')).json()) as { incidents: { id: string; impact: string }[] };
    expect(summary.incidents.map((i) => i.id)).toEqual([out.incidentId]);
    // The alert's own words are internal: never in a public file.
    expect(publicText()).not.toContain('BlackBox Probe Failure');

    const again = await alert('alertmanager', alertmanager('firing', { severity: 'critical', component: 'api' }));
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ outcome: 'repeat', incidentId: out.incidentId });
    expect(await countRows(f, 'incidents')).toBe(1);
    expect(await countRows(f, 'updates')).toBe(1);
  });

  it("declares from the README's Alertmanager example, body as pasted", async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const example = /curl -s \$URL\/api\/v1\/alerts\/alertmanager [^\n]* -d '(\{[\s\S]*?\})'\n/.exec(readme);
    expect(example, 'README has an Alertmanager curl example').not.toBeNull();
    const res = await alert('alertmanager', JSON.parse(example![1]!));
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ outcome: 'declared', severity: 'SEV1', unknownComponents: [] });
  });

  it('makes a draft of a SEV2 that no public output, email or webhook shows until an update publishes it', async () => {
    const sub = await f.call('POST', '/api/v1/subscribers', { token: null, body: { webhook: `${hooks.url}/hook` } });
    expect(sub.status).toBe(201);
    await f.services.db.$client.execute(
      "INSERT INTO subscribers (id, email, confirmed_at, unsubscribe_token, created_at) VALUES ('s1', 'reader@example.com', 1, 'tok-1', 1)",
    );
    const res = await alert('alertmanager', alertmanager('firing', { severity: 'warning', component: 'dashboard' }, 'group-2'));
    expect(res.status).toBe(201);
    const { incidentId, outcome } = (await res.json()) as { incidentId: string; outcome: string };
    expect(outcome).toBe('drafted');

    const list = (await (await f.call('GET', '/api/v1/incidents', { token: 'viewer' })).json()) as { incidents: { id: string; draft: boolean }[] };
    expect(list.incidents).toEqual([expect.objectContaining({ id: incidentId, draft: true })]);
    await f.rendered();
    const text = publicText();
    expect(text).not.toContain(incidentId);
    expect(text).not.toContain('Disruption to Dashboard');
    const components = (await (await f.get('/api/v2/components.json')).json()) as { components: { id: string; status: string }[] };
    expect(components.components.find((c) => c.id === 'dashboard')!.status).toBe('operational');
    const internal = await (await f.get(`/internal/incidents/${incidentId}/`, { authorization: `Bearer ${f.tokens.viewer}` })).text();
    expect(internal).toContain('Not published');

    const mail = manualOutbox(f, smtp);
    const http = manualHttpOutbox(f);
    try {
      await mail.drain();
      await http.drain();
      expect(smtp.received).toHaveLength(0);
      expect(hooks.posted).toHaveLength(0);

      // Publishing: the comms lead posts an update.
      await postUpdate(f, incidentId, 'investigating');
      await f.rendered();
      expect(await (await f.get('/')).text()).toContain('Disruption to Dashboard');
      await mail.drain();
      await http.drain();
      expect(smtp.received.map((r) => r.to).flat()).toContain('reader@example.com');
      // The incident envelope, and the component_update for Dashboard, whose public status the publish changed.
      expect(hooks.posted.map((p) => Object.keys(p.json as object).at(-1)).sort()).toEqual(['component', 'incident']);
    } finally {
      await mail.close();
      http.close();
    }
  });

  it('never resolves an incident when its alerts resolve: it tells the comms lead and the internal page says "Alerts resolved"', async () => {
    const fired = (await (await alert('alertmanager', alertmanager('firing', { severity: 'critical', component: 'api' }))).json()) as { incidentId: string };
    const res = await alert('alertmanager', alertmanager('resolved', { severity: 'critical', component: 'api' }));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ outcome: 'resolved', incidentId: fired.incidentId });
    const view = (await (await f.call('GET', `/api/v1/incidents/${fired.incidentId}`)).json()) as { status: string; alerts: { status: string }[] };
    expect(view.status).toBe('investigating');
    expect(view.alerts).toEqual([expect.objectContaining({ status: 'resolved' })]);

    const mail = manualOutbox(f, smtp);
    try {
      await mail.drain();
    } finally {
      await mail.close();
    }
    const told = (await smtp.parsed()).filter((m) => m.envelopeTo.includes('duty@example.com'));
    expect(told.map((m) => m.subject)).toEqual(['Alerts resolved: BlackBox Probe Failure: https://server.example.org']);
    await f.rendered();
    const internal = await (await f.get(`/internal/incidents/${fired.incidentId}/`, { authorization: `Bearer ${f.tokens.viewer}` })).text();
    expect(internal).toContain('Alerts resolved');
    // A second resolved notification for the same group says nothing new.
    expect(await (await alert('alertmanager', alertmanager('resolved', { severity: 'critical', component: 'api' }))).json()).toMatchObject({ outcome: 'ignored' });
  });

  it("tells the incident's last publisher when its alerts resolve, not the token that posted the alert", async () => {
    const fired = (await (await alert('alertmanager', alertmanager('firing', { severity: 'critical', component: 'api' }))).json()) as { incidentId: string };
    // A person takes over: their token carries an email, the incident names no comms lead.
    const { token } = await createToken(f.services, systemActor('setup'), { role: 'comms', name: 'Pat Publisher', email: 'pat@example.com' });
    const posted = await f.call('POST', `/api/v1/incidents/${fired.incidentId}/updates`, {
      token: null,
      headers: { authorization: `Bearer ${token}` },
      body: { status: 'identified', template: 'identified', variables: examples(f, 'identified') },
    });
    expect(posted.status, await posted.clone().text()).toBe(201);
    expect((await alert('alertmanager', alertmanager('resolved', { severity: 'critical', component: 'api' }))).status).toBe(200);
    const mail = manualOutbox(f, smtp);
    try {
      await mail.drain();
    } finally {
      await mail.close();
    }
    const told = (await smtp.parsed()).filter((m) => m.subject?.startsWith('Alerts resolved'));
    expect(told.map((m) => m.envelopeTo)).toEqual([['pat@example.com']]);
  });

  it('declares once when deliveries of one group overlap: an HA pair after the incident closed, and a reservation an older version left behind', async () => {
    const firing = (startsAt?: string) => alert('alertmanager', alertmanager('firing', { severity: 'critical', component: 'api' }, 'g-ha', startsAt));
    const first = (await (await firing()).json()) as { incidentId: string };
    expect((await f.call('POST', `/api/v1/incidents/${first.incidentId}/updates`, { token: 'comms', body: { status: 'resolved', template: 'resolved', variables: examples(f, 'resolved') } })).status).toBe(201);
    // The group fires anew after its incident closed (its alert starts after the resolve), and both replicas of an HA
    // Alertmanager deliver it at once.
    f.clock.advance(60_000);
    const anew = f.clock.now().toISOString();
    const both = await Promise.all([firing(anew), firing(anew)]);
    expect(both.map((r) => r.status).sort()).toEqual([200, 201]);
    expect(await countRows(f, 'incidents')).toBe(2);

    // A reservation (no incident id) committed by a version that declared in two transactions and died between them:
    // the next delivery declares at once instead of waiting for it to go stale.
    const now = f.clock.now().getTime();
    await rows(f, "INSERT INTO alert_groups (id, source, group_key, incident_id, status, firing_at, last_received_at) VALUES ('grp-busy', 'alertmanager', 'g-busy', '', 'firing', ?, ?)", [now, now]);
    const late = await alert('alertmanager', alertmanager('firing', { severity: 'critical', component: 'api' }, 'g-busy'));
    expect(late.status).toBe(201);
    const declared = (await late.json()) as { incidentId: string };
    expect(await rows(f, "SELECT incident_id FROM alert_groups WHERE id = 'grp-busy'")).toEqual([expect.objectContaining({ incident_id: declared.incidentId })]);
    expect(await countRows(f, 'incidents')).toBe(3);
  });

  it('escalates a warning group that turns critical: its SEV2 draft becomes a published SEV1 that subscribers, webhooks and executives hear of', async () => {
    // Issue 17's input: warning → draft, then a critical alert in the same group stayed a non-public draft.
    expect((await f.call('POST', '/api/v1/subscribers', { token: null, body: { webhook: `${hooks.url}/hook` } })).status).toBe(201);
    await f.services.db.$client.execute("INSERT INTO subscribers (id, email, confirmed_at, unsubscribe_token, created_at) VALUES ('s1', 'reader@example.com', 1, 'tok-1', 1)");
    expect((await f.call('POST', '/api/v1/stakeholders', { token: 'admin', body: { email: 'exec@example.com', name: 'Exec' } })).status).toBe(201);
    const warning = await alert('alertmanager', alertmanager('firing', { severity: 'warning', component: 'api' }, 'g-esc'));
    const { incidentId } = (await warning.json()) as { incidentId: string };
    const mail = manualOutbox(f, smtp);
    const http = manualHttpOutbox(f);
    try {
      await mail.drain();
      await http.drain();
      expect(smtp.received).toHaveLength(0);
      expect(hooks.posted).toHaveLength(0);

      const critical = await alert('alertmanager', alertmanager('firing', { severity: 'critical', component: 'api' }, 'g-esc'));
      expect(critical.status).toBe(200);
      expect(await critical.json()).toMatchObject({ outcome: 'escalated', incidentId, severity: 'SEV1' });
      const view = (await (await f.call('GET', `/api/v1/incidents/${incidentId}`)).json()) as { severity: string; draft: boolean; audiences: { public: boolean }; audit: { action: string; detail: unknown }[]; components: { id: string; status: string }[] };
      expect(view).toMatchObject({ severity: 'SEV1', draft: false, audiences: { public: true } });
      expect(view.audit).toContainEqual(expect.objectContaining({ action: 'incident.escalated', detail: { from: 'SEV2', to: 'SEV1' } }));
      expect(view.components).toEqual([expect.objectContaining({ id: 'api', status: 'major_outage' })]);
      await f.rendered();
      expect(await (await f.get('/')).text()).toContain('Disruption to Api');
      const summary = (await (await f.get('/api/v2/summary.json')).json()) as { incidents: { id: string }[]; status: { indicator: string } };
      expect(summary.incidents.map((i) => i.id)).toEqual([incidentId]);
      await mail.drain();
      await http.drain();
      const to = smtp.received.flatMap((r) => r.to);
      expect(to).toContain('reader@example.com');
      expect(to).toContain('exec@example.com');
      expect(hooks.posted.some((p) => (p.json as { incident?: { id: string } }).incident?.id === incidentId)).toBe(true);

      // The same critical alert again is a repeat: nothing more is published.
      const updatesBefore = await countRows(f, 'updates');
      expect(await (await alert('alertmanager', alertmanager('firing', { severity: 'critical', component: 'api' }, 'g-esc'))).json()).toMatchObject({ outcome: 'repeat', incidentId });
      expect(await countRows(f, 'updates')).toBe(updatesBefore);
    } finally {
      await mail.close();
      http.close();
    }
  });

  it('escalates an open incident without publishing a draft whose new severity is still drafted (SEV3 → SEV2)', async () => {
    const minor = (await (await alert('alertmanager', alertmanager('firing', { severity: 'minor', component: 'api' }, 'g-minor'))).json()) as { incidentId: string; outcome: string };
    expect(minor.outcome).toBe('drafted');
    const warning = await alert('alertmanager', alertmanager('firing', { severity: 'warning', component: 'api' }, 'g-minor'));
    expect(await warning.json()).toMatchObject({ outcome: 'escalated', severity: 'SEV2', incidentId: minor.incidentId });
    const view = (await (await f.call('GET', `/api/v1/incidents/${minor.incidentId}`)).json()) as { severity: string; draft: boolean; updates: unknown[] };
    expect(view).toMatchObject({ severity: 'SEV2', draft: true });
    expect(view.updates).toHaveLength(1);
    // A lower severity later never lowers it.
    expect(await (await alert('alertmanager', alertmanager('firing', { severity: 'minor', component: 'api' }, 'g-minor'))).json()).toMatchObject({ outcome: 'repeat' });
  });

  it('keeps quiet when a group whose incident a person resolved keeps firing: nothing declared, the comms lead told once; a new firing opens a new incident', async () => {
    // Issue 17's input: the next ordinary Alertmanager repeat declared a new public SEV1 and told everyone again.
    expect((await f.call('POST', '/api/v1/subscribers', { token: null, body: { webhook: `${hooks.url}/hook` } })).status).toBe(201);
    await f.services.db.$client.execute("INSERT INTO subscribers (id, email, confirmed_at, unsubscribe_token, created_at) VALUES ('s1', 'reader@example.com', 1, 'tok-1', 1)");
    expect((await f.call('POST', '/api/v1/stakeholders', { token: 'admin', body: { email: 'exec@example.com', name: 'Exec' } })).status).toBe(201);
    const startsAt = f.clock.now().toISOString();
    const repeat = () => alert('alertmanager', alertmanager('firing', { severity: 'critical', component: 'api' }, 'g-kept', startsAt));
    const fired = (await (await repeat()).json()) as { incidentId: string };
    f.clock.advance(10 * 60_000);
    const resolved = await f.call('POST', `/api/v1/incidents/${fired.incidentId}/updates`, { token: 'comms', body: { status: 'resolved', template: 'resolved', variables: examples(f, 'resolved') } });
    expect(resolved.status).toBe(201);
    const mail = manualOutbox(f, smtp);
    const http = manualHttpOutbox(f);
    try {
      await mail.drain();
      await http.drain();
      const [mailed, posted] = [smtp.received.length, hooks.posted.length];

      // Alertmanager's repeat_interval: the same firing alert, twice.
      for (let i = 0; i < 2; i++) {
        f.clock.advance(4 * 3600_000);
        const res = await repeat();
        expect(res.status).toBe(200);
        expect(await res.json()).toMatchObject({ outcome: 'still_firing', incidentId: fired.incidentId });
      }
      expect(await countRows(f, 'incidents')).toBe(1);
      await mail.drain();
      await http.drain();
      expect(hooks.posted).toHaveLength(posted);
      const told = smtp.received.slice(mailed);
      expect(told.map((m) => m.to)).toEqual([['duty@example.com']]);
      expect((await smtp.parsed()).at(-1)!.subject).toMatch(/^Alerts still firing after resolve: /);

      // An alert of the group that starts after the resolve is a new problem: a new incident.
      const anew = await alert('alertmanager', alertmanager('firing', { severity: 'critical', component: 'api' }, 'g-kept', f.clock.now().toISOString()));
      expect(anew.status).toBe(201);
      const second = (await anew.json()) as { outcome: string; incidentId: string };
      expect(second.outcome).toBe('declared');
      expect(second.incidentId).not.toBe(fired.incidentId);
      expect(await countRows(f, 'incidents')).toBe(2);
      // The group follows its new incident: a repeat of the new firing is a plain repeat.
      expect(await (await alert('alertmanager', alertmanager('firing', { severity: 'critical', component: 'api' }, 'g-kept', f.clock.now().toISOString()))).json()).toMatchObject({ outcome: 'repeat', incidentId: second.incidentId });
    } finally {
      await mail.close();
      http.close();
    }
  });

  it('refuses a viewer at the use case itself, whatever door it came through, storing nothing', async () => {
    const { receiveAlerts } = await import('../api/services/alerts.ts');
    const viewer = { kind: 'token' as const, id: 'v', name: 'Viewer', email: null, role: 'viewer' as const };
    const batch = { source: 'alertmanager', groupKey: 'g-v', status: 'firing', alerts: [{ status: 'firing', labels: { severity: 'critical' }, annotations: {} }], commonLabels: {}, commonAnnotations: {} };
    await expect(receiveAlerts(f.services, viewer, batch)).rejects.toMatchObject({ status: 403 });
    await expect(receiveAlerts(f.services, { ...viewer, role: 'comms' }, { ...batch, alerts: [] })).rejects.toMatchObject({ status: 422, errors: [expect.objectContaining({ path: 'alerts' })] });
    expect(await countRows(f, 'alert_groups')).toBe(0);
  });

  it('declares with the known components only, and with none when the labels name none', async () => {
    const res = await alert('alertmanager', alertmanager('firing', { severity: 'critical', component: 'api, nope ,webhooks' }, 'g-3'));
    const out = (await res.json()) as { incidentId: string; unknownComponents: string[] };
    expect(out.unknownComponents).toEqual(['nope']);
    const view = (await (await f.call('GET', `/api/v1/incidents/${out.incidentId}`)).json()) as { components: { id: string; status: string }[] };
    expect(view.components.map((c) => c.id).sort()).toEqual(['api', 'webhooks']);
    const bare = await alert('alertmanager', alertmanager('firing', { severity: 'critical' }, 'g-4'));
    expect(bare.status).toBe(201);
  });

  it('maps component label values through ALERT_COMPONENT_MAP, taking other values as ids', async () => {
    const mapped = await makeSiteFixture({ ALERT_COMPONENT_MAP: 'checkout-svc:api,pg-primary:webhooks' });
    try {
      const res = await mapped.call('POST', '/api/v1/alerts/alertmanager', { token: 'comms', body: alertmanager('firing', { severity: 'critical', component: 'checkout-svc,pg-primary,dashboard,Checkout-svc' }, 'g-5') });
      expect(res.status).toBe(201);
      const out = (await res.json()) as { incidentId: string; unknownComponents: string[] };
      // Label values are matched as sent: "Checkout-svc" is neither mapped nor an id.
      expect(out.unknownComponents).toEqual(['Checkout-svc']);
      const view = (await (await mapped.call('GET', `/api/v1/incidents/${out.incidentId}`)).json()) as { components: { id: string }[] };
      expect(view.components.map((c) => c.id).sort()).toEqual(['api', 'dashboard', 'webhooks']);
    } finally {
      await mapped.close();
    }
  });

  it('needs a comms token, and refuses a payload that is not version 4 with 422 naming the field, storing nothing', async () => {
    expect((await alert('alertmanager', alertmanager('firing', { severity: 'critical' }), null)).status).toBe(401);
    expect((await alert('alertmanager', alertmanager('firing', { severity: 'critical' }), 'viewer')).status).toBe(403);
    const bad = await alert('alertmanager', { ...alertmanager('firing', { severity: 'critical' }), version: '3' });
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as { errors: { path: string }[] }).errors.map((e) => e.path)).toEqual(['version']);
    const empty = await alert('alertmanager', { ...alertmanager('firing', { severity: 'critical' }), alerts: [] });
    expect(empty.status).toBe(422);
    expect(await countRows(f, 'incidents')).toBe(0);
    expect(await countRows(f, 'alert_groups')).toBe(0);
  });
});

describe('Grafana', () => {
  it('maps the documented payload through the same labels: minor is a SEV3 draft, critical publishes', async () => {
    const minor = await alert('grafana', grafana({ severity: 'minor', component: 'webhooks' }));
    expect(await minor.json()).toMatchObject({ outcome: 'drafted', severity: 'SEV3' });
    const critical = await alert('grafana', { ...grafana({ severity: 'critical', component: 'api' }), groupKey: undefined, groupLabels: { alertname: 'Other' } });
    expect(critical.status).toBe(201);
    expect(await critical.json()).toMatchObject({ outcome: 'declared', severity: 'SEV1' });
    const [row] = await rows<{ n: number }>(f, 'SELECT count(*) AS n FROM alert_groups');
    expect(Number(row!.n)).toBe(2);
  });
});
