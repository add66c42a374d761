// Empty audiences are said out loud: declare/update answers carry who was reached, and start-up warns when no executive exists.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readConfig } from '../api/config.ts';
import { startServer } from '../api/server.ts';
import { audienceReach } from '../api/services/reach.ts';
import { count } from './api-support.ts';
import { addStakeholder, confirmedSubscriber } from './fanout-support.ts';
import { declare, examples, makeFixture, seedComponents, type Fixture } from './fixture.ts';

let f: Fixture;
beforeEach(async () => {
  f = await makeFixture();
  await seedComponents(f);
});
afterEach(() => f.close());

interface Published {
  id: string;
  status: string;
  version: number;
  reach: { public: boolean; subscribers: { included: boolean; count: number }; stakeholders: { included: boolean; count: number }; warnings: string[] };
  warnings: string[];
}

/** A comms lead with an email, so reminders have someone to reach and only the audience warnings are in play. */
const commsLead = { comms: { name: 'Casey', email: 'casey@example.com' } };

async function declareRaw(body: Record<string, unknown> = {}): Promise<Published> {
  const res = await f.call('POST', '/api/v1/incidents', {
    token: 'comms',
    body: {
      title: 'Checkout errors',
      severity: 'SEV1',
      template: 'investigating',
      variables: examples(f, 'investigating'),
      components: [{ id: 'api', status: 'major_outage' }],
      roles: commsLead,
      ...body,
    },
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as Published;
}

async function update(id: string, body: Record<string, unknown>): Promise<Published> {
  const res = await f.call('POST', `/api/v1/incidents/${id}/updates`, { token: 'comms', body });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as Published;
}

describe('reach in declare and update answers', () => {
  it('says plainly that a SEV1 on a fresh install briefs 0 executives and emails 0 subscribers, and keeps the usual fields', async () => {
    const body = await declareRaw();
    expect(body).toMatchObject({ status: 'investigating', version: 1 });
    expect(body.id).toMatch(/^[a-z0-9]+$/);
    expect(body.reach).toMatchObject({ public: true, subscribers: { included: true, count: 0 }, stakeholders: { included: true, count: 0 } });
    expect(body.warnings).toEqual(body.reach.warnings);
    const exec = body.warnings.find((w) => w.startsWith('0 executives will be briefed'));
    expect(exec).toContain('POST /api/v1/stakeholders {"email","name"}');
    expect(exec).toContain('Stakeholders screen');
    expect(body.warnings.some((w) => w.startsWith('0 subscribers will be emailed'))).toBe(true);
  });

  it('counts exactly the recipients the outbox enqueued, with the component filter applied, and warns about nobody', async () => {
    await addStakeholder(f, 'ceo@example.com', 'Cleo');
    await addStakeholder(f, 'cfo@example.com', 'Finn');
    await confirmedSubscriber(f, 'all@example.com');
    await confirmedSubscriber(f, 'api-only@example.com', ['api']);
    await confirmedSubscriber(f, 'webhooks-only@example.com', ['webhooks']);
    const body = await declareRaw();
    expect(body.reach).toEqual({ public: true, subscribers: { included: true, count: 2 }, stakeholders: { included: true, count: 2 }, warnings: [] });
    expect(body.warnings).toEqual([]);
    const [latest] = (await (await f.call('GET', `/api/v1/incidents/${body.id}`)).json()).updates;
    expect(await count(f, 'deliveries', `WHERE update_id = '${latest.id}' AND audience = 'subscriber'`)).toBe(2);
    expect(await count(f, 'deliveries', `WHERE update_id = '${latest.id}' AND audience = 'stakeholder'`)).toBe(2);
  });

  it('a SEV3 reaches executives only and warns only about them; a SEV4 reaches nobody and warns about nothing', async () => {
    const sev3 = await declareRaw({ severity: 'SEV3' });
    expect(sev3.reach).toMatchObject({ public: false, subscribers: { included: false, count: 0 }, stakeholders: { included: true, count: 0 } });
    expect(sev3.warnings).toHaveLength(1);
    expect(sev3.warnings[0]).toMatch(/^0 executives will be briefed/);
    const sev4 = await declareRaw({ severity: 'SEV4' });
    expect(sev4.reach).toMatchObject({ public: false, subscribers: { included: false }, stakeholders: { included: false } });
    expect(sev4.warnings).toEqual([]);
  });

  it('an update follows what it notified: notify:false and a same-status update brief nobody, so they warn about no executive', async () => {
    const { id } = await declare(f, { severity: 'SEV1', roles: commsLead });
    const quiet = await update(id, { status: 'identified', template: 'identified', variables: examples(f, 'identified'), notify: false });
    expect(quiet.reach.stakeholders).toEqual({ included: false, count: 0 });
    expect(quiet.warnings).toEqual([]);
    // Same status again: executives are briefed on status changes only; subscribers still hear.
    const again = await update(id, { status: 'identified', template: 'identified', variables: examples(f, 'identified') });
    expect(again.reach.stakeholders.included).toBe(false);
    expect(again.warnings).toEqual([expect.stringMatching(/^0 subscribers will be emailed/)]);
    const resolved = await update(id, { status: 'resolved', template: 'resolved', variables: examples(f, 'resolved') });
    expect(resolved.warnings.some((w) => w.startsWith('0 executives will be briefed'))).toBe(true);
  });

  it('says when nobody will be reminded of the next update, and stops saying it once someone will', async () => {
    const nobody = await declareRaw({ roles: undefined });
    const warning = nobody.warnings.find((w) => w.startsWith('Nobody will be reminded'));
    expect(warning, JSON.stringify(nobody.warnings)).toContain('COMMS_EMAIL');
    expect(nobody.reach.warnings).not.toContain(warning);
    const { reminders } = await (await f.call('GET', `/api/v1/incidents/${nobody.id}`)).json();
    expect(reminders).toEqual([]);
    const someone = await update(nobody.id, { status: 'identified', template: 'identified', variables: examples(f, 'identified'), roles: commsLead });
    expect(someone.warnings.some((w) => w.startsWith('Nobody will be reminded'))).toBe(false);
    // A SEV4 has no cadence by default (CADENCE SEV4:0): no next update, so nothing to remind anyone of.
    expect((await declareRaw({ severity: 'SEV4', roles: undefined })).warnings).toEqual([]);
  });

  it('is a service a preview can call before publishing', async () => {
    await confirmedSubscriber(f, 'webhooks-only@example.com', ['webhooks']);
    const reach = await audienceReach(f.services.db, { audiences: f.services.severityPolicy.SEV2, componentIds: ['webhooks', 'api'] });
    expect(reach.subscribers.count).toBe(1);
    expect(reach.stakeholders.count).toBe(0);
    expect(reach.warnings).toEqual([expect.stringMatching(/^0 executives/)]);
  });
});

describe('start-up log', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  async function startLogs(env: Record<string, string>): Promise<{ logs: string[]; stakeholders: number }> {
    const dir = mkdtempSync(join(tmpdir(), 'status-reach-'));
    dirs.push(dir);
    const logs: string[] = [];
    const running = await startServer(readConfig({ DATA_DIR: dir, PORT: '0', PUBLIC_URL: 'http://127.0.0.1', ...env }), {
      log: (m) => logs.push(m),
      schedulerIntervalMs: 0,
      outboxPollMs: 0,
    });
    try {
      const rs = await running.services.db.$client.execute('SELECT count(*) AS n FROM stakeholders');
      return { logs, stakeholders: Number(rs.rows[0]!.n) };
    } finally {
      await running.close();
    }
  }

  it('warns in one line when no stakeholder exists, naming the severities that would brief nobody and how to add one', async () => {
    const { logs } = await startLogs({ SEED_DEMO: 'false' });
    const line = logs.find((l) => l.startsWith('No stakeholders yet'));
    expect(line, logs.join('\n')).toBeDefined();
    expect(line).toContain('SEV1, SEV2, SEV3 incidents will brief nobody');
    expect(line).toContain('POST /api/v1/stakeholders {"email","name"}');
    expect(line).not.toContain('\n');
  }, 60_000);

  it('the demo seed includes a stakeholder, so a demo start-up does not warn', async () => {
    const { logs, stakeholders } = await startLogs({ SEED_DEMO: 'true' });
    expect(stakeholders).toBe(1);
    expect(logs.some((l) => l.startsWith('No stakeholders yet'))).toBe(false);
  }, 60_000);
});
