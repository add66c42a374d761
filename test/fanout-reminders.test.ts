// Reminders and overdue notices: scheduled with each update, sent by the outbox on the injected clock, stopped by the next update.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createToken } from '../api/services/tokens.ts';
import { declare, examples, makeFixture, seedComponents, type Fixture } from './fixture.ts';
import { countRows, manualOutbox } from './fanout-support.ts';
import { manualHttpOutbox, startHttpSink, type HttpSink } from './cadence-support.ts';
import { startSmtpSink, type SmtpSink } from './smtp-sink.ts';
import { systemActor } from '../api/services/context.ts';

const minute = 60_000;
let f: Fixture;
let sink: SmtpSink;
let chat: HttpSink;
let outbox: ReturnType<typeof manualOutbox>;

async function setup(env: Record<string, string> = {}) {
  f = await makeFixture(env);
  await seedComponents(f);
  sink = await startSmtpSink();
  chat = await startHttpSink();
  outbox = manualOutbox(f, sink);
}

afterEach(async () => {
  await outbox.close();
  await sink.close();
  await chat.close();
  await f.close();
});

async function mailTo(address: string) {
  return (await sink.parsed()).filter((m) => m.envelopeTo.includes(address));
}

async function post(id: string, status: string, extra: Record<string, unknown> = {}) {
  const res = await f.call('POST', `/api/v1/incidents/${id}/updates`, {
    token: 'comms',
    body: { status, template: status === 'resolved' ? 'resolved' : status, variables: examples(f, status === 'resolved' ? 'resolved' : status), ...extra },
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { nextUpdateAt: string | null };
}

describe('reminders to the comms lead', () => {
  beforeEach(() => setup({ COMMS_EMAIL: 'duty@example.com' }));

  it('reminds 5 minutes before the next update is due, sends overdue notices at the cadence, and stops once an update is posted', async () => {
    const t0 = f.clock.now().getTime();
    const incident = await declare(f, { severity: 'SEV1', roles: { comms: 'Casey Comms <casey@example.com>' } });
    const casey = () => mailTo('casey@example.com');
    await outbox.drain();
    expect(await casey()).toHaveLength(0);

    f.clock.set(new Date(t0 + 9 * minute));
    await outbox.drain();
    expect(await casey()).toHaveLength(0);

    f.clock.set(new Date(t0 + 10 * minute));
    await outbox.drain();
    let mail = await casey();
    expect(mail).toHaveLength(1);
    expect(mail[0]!.subject).toContain('Update due at 12:15 UTC');
    expect(mail[0]!.subject).toContain('Payments DB connection pool exhausted');
    expect(mail[0]!.text).toContain('Incident: Checkout errors');
    expect(mail[0]!.text).toContain('Internal title: Payments DB connection pool exhausted');
    expect(mail[0]!.text).toContain('Investigating: Checkout errors');
    expect(mail[0]!.text).toContain(`Post update: https://status.example.com/internal/incidents/${incident.id}/`);
    // Delivery state is queryable: the reminder sent, the overdue notices waiting with their due times.
    const view = (await (await f.call('GET', `/api/v1/incidents/${incident.id}`)).json()) as { reminders: { kind: string; status: string; recipient: string; dueAt: string }[] };
    expect(view.reminders[0]).toMatchObject({ kind: 'due_reminder', status: 'sent', recipient: 'casey@example.com', dueAt: new Date(t0 + 10 * minute).toISOString() });
    expect(view.reminders[1]).toMatchObject({ kind: 'overdue', status: 'pending', dueAt: new Date(t0 + 15 * minute).toISOString() });

    f.clock.set(new Date(t0 + 14 * minute));
    await outbox.drain();
    expect(await casey()).toHaveLength(1);

    f.clock.set(new Date(t0 + 15 * minute));
    await outbox.drain();
    mail = await casey();
    expect(mail).toHaveLength(2);
    expect(mail[1]!.subject).toMatch(/^Overdue: Payments DB connection pool exhausted, update was due at 12:15 UTC/);

    f.clock.set(new Date(t0 + 30 * minute));
    await outbox.drain();
    mail = await casey();
    expect(mail).toHaveLength(3);
    expect(mail[2]!.subject).toContain('Overdue (notice 2)');

    f.clock.set(new Date(t0 + 31 * minute));
    const posted = await post(incident.id, 'identified', { nextUpdateInMinutes: 20 });
    expect(posted.nextUpdateAt).toBe(new Date(t0 + 51 * minute).toISOString());
    f.clock.set(new Date(t0 + 45 * minute));
    await outbox.drain();
    expect(await casey()).toHaveLength(3);

    f.clock.set(new Date(t0 + 46 * minute));
    await outbox.drain();
    mail = await casey();
    expect(mail).toHaveLength(4);
    expect(mail[3]!.subject).toContain('Update due at 12:51 UTC');
    expect(mail[3]!.text).toContain('What customers were told: Cause identified: Checkout errors');

    await post(incident.id, 'resolved');
    f.clock.set(new Date(t0 + 5 * 60 * minute));
    await outbox.drain();
    expect(await casey()).toHaveLength(4);
    expect(await countRows(f, 'deliveries', "kind IN ('due_reminder', 'overdue') AND status = 'pending'")).toBe(0);
  });

  it("reminds the publisher through their token's email when the incident names no comms lead email", async () => {
    const { token } = await createToken(f.services, systemActor('setup'), { role: 'comms', name: 'Pat Publisher', email: 'Pat@Example.com' });
    const t0 = f.clock.now().getTime();
    const res = await f.call('POST', '/api/v1/incidents', {
      token: null,
      headers: { authorization: `Bearer ${token}` },
      body: { title: 'Checkout errors', severity: 'SEV1', template: 'investigating', variables: examples(f, 'investigating'), components: [{ id: 'api', status: 'major_outage' }] },
    });
    expect(res.status).toBe(201);
    f.clock.set(new Date(t0 + 10 * minute));
    await outbox.drain();
    expect(await mailTo('pat@example.com')).toHaveLength(1);
    expect(await mailTo('duty@example.com')).toHaveLength(0);
  });

  it('takes the comms lead as { name, email } too, and shows it as "Name <address>"', async () => {
    const t0 = f.clock.now().getTime();
    const incident = await declare(f, { severity: 'SEV1', roles: { comms: { name: 'Robin Lead', email: 'robin@example.com' } } });
    const view = (await (await f.call('GET', `/api/v1/incidents/${incident.id}`)).json()) as { roles: { comms: string } };
    expect(view.roles.comms).toBe('Robin Lead <robin@example.com>');
    f.clock.set(new Date(t0 + 10 * minute));
    await outbox.drain();
    expect(await mailTo('robin@example.com')).toHaveLength(1);
    const bad = await f.call('POST', '/api/v1/incidents', {
      token: 'comms',
      body: { title: 'x', severity: 'SEV1', template: 'investigating', variables: examples(f, 'investigating'), components: [{ id: 'api', status: 'major_outage' }], roles: { comms: { email: 'nope' } } },
    });
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as { errors: { path: string }[] }).errors.map((e) => e.path)).toContain('roles.comms');
  });

  it('falls back to COMMS_EMAIL when the incident names no comms lead email and the publisher has none', async () => {
    const t0 = f.clock.now().getTime();
    await declare(f, { severity: 'SEV2', roles: { comms: 'Casey Comms' } });
    f.clock.set(new Date(t0 + 25 * minute));
    await outbox.drain();
    const mail = await mailTo('duty@example.com');
    expect(mail).toHaveLength(1);
    expect(mail[0]!.subject).toContain('Update due at 12:30 UTC');
  });

  it('repeats overdue notices at the interval an update chose with nextUpdateInMinutes, not the severity default', async () => {
    const t0 = f.clock.now().getTime();
    // SEV1's default cadence is 15 minutes; this update says the next one comes in 60.
    await declare(f, { severity: 'SEV1', nextUpdateInMinutes: 60, roles: { comms: 'Casey Comms <casey@example.com>' } });
    const overdue = async () => (await mailTo('casey@example.com')).map((m) => m.subject).filter((s) => s?.startsWith('Overdue'));
    f.clock.set(new Date(t0 + 60 * minute));
    await outbox.drain();
    expect(await overdue()).toHaveLength(1);
    f.clock.set(new Date(t0 + 75 * minute));
    await outbox.drain();
    expect(await overdue()).toHaveLength(1);
    f.clock.set(new Date(t0 + 120 * minute));
    await outbox.drain();
    expect(await overdue()).toEqual([expect.any(String), expect.stringContaining('Overdue (notice 2)')]);
  });

  it('schedules nothing for a severity without a cadence unless the update sets a next update time', async () => {
    await declare(f, { severity: 'SEV4' });
    expect(await countRows(f, 'deliveries', "kind IN ('due_reminder', 'overdue')")).toBe(0);
    const t0 = f.clock.now().getTime();
    await declare(f, { severity: 'SEV4', nextUpdateInMinutes: 10 });
    f.clock.set(new Date(t0 + 5 * minute));
    await outbox.drain();
    f.clock.set(new Date(t0 + 10 * minute));
    await outbox.drain();
    f.clock.set(new Date(t0 + 20 * minute));
    await outbox.drain();
    const subjects = (await mailTo('duty@example.com')).map((m) => m.subject);
    expect(subjects).toEqual([expect.stringContaining('Update due at 12:10 UTC'), expect.stringContaining('Overdue'), expect.stringContaining('Overdue (notice 2)')]);
  });
});

describe('reminders in chat channels', () => {
  beforeEach(() => setup());

  it('sends the reminder and the overdue notice to every channel, with the link to Post update', async () => {
    const res = await f.call('POST', '/api/v1/channels', { body: { kind: 'slack', url: `${chat.url}/slack`, name: 'incidents' } });
    expect(res.status).toBe(201);
    const http = manualHttpOutbox(f);
    try {
      const t0 = f.clock.now().getTime();
      const incident = await declare(f, { severity: 'SEV1' });
      await http.drain();
      const briefing = chat.posted.length;
      f.clock.set(new Date(t0 + 10 * minute));
      await http.drain();
      f.clock.set(new Date(t0 + 15 * minute));
      await http.drain();
      const notices = chat.posted.slice(briefing).map((p) => p.json as { text: string; blocks: { type: string; elements?: { url: string }[] }[] });
      expect(notices.map((n) => n.text)).toEqual([expect.stringContaining('Update due at 12:15 UTC'), expect.stringContaining('Overdue')]);
      const button = notices[0]!.blocks.find((b) => b.type === 'actions')!.elements![0]!;
      expect(button.url).toBe(`https://status.example.com/internal/incidents/${incident.id}/post-update`);
      // No email address anywhere: the channel still hears, and nothing is queued for a person.
      expect(await countRows(f, 'deliveries', "audience = 'comms'")).toBe(0);
    } finally {
      http.close();
    }
  });
});
