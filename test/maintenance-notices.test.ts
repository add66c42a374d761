// Maintenance notices to subscribers, through the real outbox into a real SMTP server: announced, reminded MAINTENANCE_REMINDER_HOURS ahead, started, completed, moved, cancelled.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, readConfig } from '../api/config.ts';
import { advanceMaintenances } from '../api/services/maintenances.ts';
import { count, expectProblem, snapshot } from './api-support.ts';
import { confirmedSubscriber, manualOutbox } from './fanout-support.ts';
import { examples, makeFixture, seedComponents, type Fixture } from './fixture.ts';
import { startSmtpSink, type SmtpSink } from './smtp-sink.ts';

const hour = 60 * 60_000;
let f: Fixture;
let sink: SmtpSink;
let outbox: ReturnType<typeof manualOutbox>;

async function start(env: Record<string, string> = {}) {
  f = await makeFixture(env);
  await seedComponents(f);
  sink = await startSmtpSink();
  outbox = manualOutbox(f, sink);
  await confirmedSubscriber(f, 'reader@example.com');
  await confirmedSubscriber(f, 'webhooks-only@example.com', ['webhooks']);
  await outbox.drain();
  sink.received.length = 0;
}
afterEach(async () => {
  await outbox.close();
  await sink.close();
  await f.close();
});

const at = (hoursFromNow: number) => new Date(f.clock.now().getTime() + hoursFromNow * hour).toISOString();

async function schedule(startsIn: number, lasts = 2) {
  const res = await f.call('POST', '/api/v1/maintenances', {
    token: 'comms',
    body: { title: 'Database upgrade', scheduledFor: at(startsIn), scheduledUntil: at(startsIn + lasts), components: ['api'], variables: examples(f, 'maintenance-scheduled') },
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { id: string; version: number };
}

/** Subjects of the emails the reader got so far, after sending whatever is due at the clock's now. */
async function readerSubjects() {
  await outbox.drain();
  const mails = await sink.parsed();
  return mails.filter((m) => m.envelopeTo.includes('reader@example.com')).map((m) => m.subject ?? '');
}

/** Moves the clock to `iso` and lets the scheduler start or complete windows. */
async function clockTo(iso: string) {
  f.clock.set(iso);
  await advanceMaintenances(f.services);
}

describe('maintenance notices, end to end', () => {
  beforeEach(() => start({ MAINTENANCE_REMINDER_HOURS: '24,1' }));

  it('tells subscribers when scheduled, 24 hours and 1 hour before, when it starts and when it completes', async () => {
    const m = await schedule(48);
    const startsAt = at(48);
    const endsAt = at(50);
    expect(await readerSubjects()).toEqual([expect.stringMatching(/^Scheduled maintenance: Database upgrade/)]);

    await clockTo(new Date(Date.parse(startsAt) - 24 * hour - 60_000).toISOString());
    expect(await readerSubjects()).toHaveLength(1);
    await clockTo(new Date(Date.parse(startsAt) - 24 * hour).toISOString());
    const dayBefore = await readerSubjects();
    expect(dayBefore).toHaveLength(2);
    expect(dayBefore[1]).toMatch(/^Reminder: Scheduled maintenance: Database upgrade/);

    await clockTo(new Date(Date.parse(startsAt) - hour).toISOString());
    expect(await readerSubjects()).toHaveLength(3);
    await clockTo(startsAt);
    await clockTo(endsAt);
    const all = await readerSubjects();
    expect(all.slice(2)).toEqual([
      expect.stringMatching(/^Reminder: Scheduled maintenance/),
      'Maintenance in progress: Database upgrade',
      'Maintenance completed: Database upgrade',
    ]);
    const mails = (await sink.parsed()).filter((x) => x.envelopeTo.includes('reader@example.com'));
    // Two reminders, two emails: each its own Message-ID and its own lead, in the announcement's thread.
    const [day, last] = [mails[1]!, mails[2]!];
    expect(day.messageId).not.toBe(last.messageId);
    expect(day.text).toContain('starts in 24 hours');
    expect(last.text).toContain('starts in an hour');
    expect(day.inReplyTo).toBe(mails[0]!.inReplyTo);
    // A subscriber of other components hears nothing of it.
    expect((await sink.parsed()).some((x) => x.envelopeTo.includes('webhooks-only@example.com'))).toBe(false);
    expect(await count(f, 'deliveries', `WHERE kind = 'reminder' AND status = 'sent' AND update_id IN (SELECT id FROM updates WHERE maintenance_id = '${m.id}')`)).toBe(2);
  });

  it('says how long is really left when a reminder goes late: after a mail outage the 24-hour reminder says 3 hours', async () => {
    await schedule(48);
    expect(await readerSubjects()).toHaveLength(1);
    // The outbox sends nothing from the 24-hour moment until 3 hours before the start (a mail outage, say).
    await clockTo(at(45));
    await outbox.drain();
    const reminder = (await sink.parsed()).filter((m) => m.envelopeTo.includes('reader@example.com'))[1]!;
    expect(reminder.subject).toMatch(/^Reminder: Scheduled maintenance/);
    expect(reminder.text).toContain('starts in 3 hours');
    expect(reminder.text).not.toContain('24 hours');
  });

  it('withdraws a reminder not yet sent when the window starts: no reminder arrives after the start', async () => {
    await schedule(48);
    // The outbox sends nothing while the clock runs past both reminder moments to the start (a mail outage, say).
    await clockTo(at(48));
    expect(await readerSubjects()).toEqual([expect.stringMatching(/^Scheduled maintenance/), 'Maintenance in progress: Database upgrade']);
    expect(await count(f, 'deliveries', "WHERE kind = 'reminder' AND status = 'suppressed' AND last_error = 'the window is in progress'")).toBe(2);
  });

  it('reminds whenever the moment is after the announcement, even by a minute, and not when it is before', async () => {
    await schedule(24 + 1 / 60);
    expect(await count(f, 'deliveries', "WHERE kind = 'reminder' AND seq = 24")).toBe(1);
    await schedule(24 - 1 / 60);
    // The second window gets only its 1-hour reminder; the first has both.
    expect(await count(f, 'deliveries', "WHERE kind = 'reminder' AND seq = 24")).toBe(1);
    expect(await count(f, 'deliveries', "WHERE kind = 'reminder' AND seq = 1")).toBe(2);
  });

  it('tells subscribers of a moved window, and reminds them for the new start only', async () => {
    const m = await schedule(48);
    const newStart = at(72);
    const res = await f.call('PATCH', `/api/v1/maintenances/${m.id}`, { token: 'comms', body: { scheduledFor: newStart, scheduledUntil: at(74) } });
    expect(res.status, await res.clone().text()).toBe(200);
    const moved = await res.json();
    expect(moved).toMatchObject({ scheduledFor: newStart, scheduledUntil: at(74), version: m.version + 1, status: 'scheduled' });
    expect(res.headers.get('etag')).toBe(`"${m.version + 1}"`);
    expect(moved.updates[0].template).toBe('maintenance-rescheduled');
    expect(await count(f, 'audit_events', "WHERE action = 'maintenance.rescheduled'")).toBe(1);

    const subjects = await readerSubjects();
    expect(subjects[1]).toMatch(/^Maintenance window changed: Database upgrade, now /);
    // The old window's 24-hour moment passes: nothing. The new one's arrives: one reminder.
    await clockTo(at(24));
    expect(await readerSubjects()).toHaveLength(2);
    f.clock.set(new Date(Date.parse(newStart) - 24 * hour).toISOString());
    const after = await readerSubjects();
    expect(after).toHaveLength(3);
    expect(after[2]).toMatch(/^Reminder: Maintenance window changed/);
    expect(await count(f, 'deliveries', "WHERE kind = 'reminder' AND status = 'suppressed'")).toBe(2);
  });

  it('tells subscribers of a cancelled window and withdraws its reminders', async () => {
    const m = await schedule(48);
    const res = await f.call('POST', `/api/v1/maintenances/${m.id}/updates`, {
      token: 'comms',
      body: { status: 'cancelled', template: 'maintenance-cancelled', variables: examples(f, 'maintenance-cancelled') },
    });
    expect(res.status).toBe(201);
    expect((await readerSubjects())[1]).toMatch(/^Maintenance cancelled: Database upgrade/);
    await clockTo(at(47.5));
    expect(await readerSubjects()).toHaveLength(2);
    expect(await count(f, 'deliveries', "WHERE kind = 'reminder' AND status = 'pending'")).toBe(0);
  });

  it('moves only the end of a window in progress, refuses to move a finished one, and refuses bad input storing nothing', async () => {
    const m = await schedule(1);
    const before = await snapshot(f);
    await expectProblem(await f.call('PATCH', `/api/v1/maintenances/${m.id}`, { token: 'comms', body: {} }), 422, 'scheduledFor');
    await expectProblem(await f.call('PATCH', `/api/v1/maintenances/${m.id}`, { token: 'comms', body: { scheduledFor: 'tomorrow' } }), 422, 'scheduledFor');
    await expectProblem(await f.call('PATCH', `/api/v1/maintenances/${m.id}`, { token: 'comms', body: { scheduledUntil: at(0.5) } }), 422, 'scheduledUntil');
    await expectProblem(await f.call('PATCH', `/api/v1/maintenances/${m.id}`, { token: 'comms', body: { scheduledUntil: at(1000) } }), 422, 'scheduledUntil');
    await expectProblem(await f.call('PATCH', `/api/v1/maintenances/${m.id}`, { token: 'comms', body: { title: 'x', scheduledUntil: at(5) } }), 422);
    await expectProblem(await f.call('PATCH', `/api/v1/maintenances/${m.id}`, { token: 'viewer', body: { scheduledUntil: at(5) } }), 403);
    await expectProblem(await f.call('PATCH', `/api/v1/maintenances/${m.id}`, { token: 'comms', body: { scheduledUntil: at(5) }, headers: { 'if-match': '"7"' } }), 409);
    await expectProblem(await f.call('PATCH', '/api/v1/maintenances/nosuchwindow', { token: 'comms', body: { scheduledUntil: at(5) } }), 404);
    expect(await snapshot(f)).toEqual(before);

    await clockTo(at(1));
    await expectProblem(await f.call('PATCH', `/api/v1/maintenances/${m.id}`, { token: 'comms', body: { scheduledFor: at(2) } }), 409);
    const longer = await f.call('PATCH', `/api/v1/maintenances/${m.id}`, { token: 'comms', body: { scheduledUntil: at(3) } });
    expect(longer.status, await longer.clone().text()).toBe(200);
    expect(await longer.json()).toMatchObject({ status: 'in_progress', scheduledUntil: at(3) });
    await clockTo(at(3));
    await expectProblem(await f.call('PATCH', `/api/v1/maintenances/${m.id}`, { token: 'comms', body: { scheduledUntil: at(5) } }), 409);
  });
});

describe('MAINTENANCE_REMINDER_HOURS', () => {
  it('is 24 by default, takes a comma list, and 0 for none', async () => {
    await start();
    expect(f.config.maintenanceReminderHours).toEqual([24]);
    expect(readConfig({ MAINTENANCE_REMINDER_HOURS: '1, 72,24' }).maintenanceReminderHours).toEqual([72, 24, 1]);
    expect(readConfig({ MAINTENANCE_REMINDER_HOURS: '0' }).maintenanceReminderHours).toEqual([]);
  });

  it('refuses a bad value at start-up with one clear line', () => {
    for (const bad of ['abc', '24,', '1.5', '0,24', '-1', '9000']) {
      let error: unknown;
      try {
        readConfig({ MAINTENANCE_REMINDER_HOURS: bad });
      } catch (e) {
        error = e;
      }
      expect(error, bad).toBeInstanceOf(ConfigError);
      expect((error as Error).message, bad).toMatch(/^Configuration error: MAINTENANCE_REMINDER_HOURS=.+ (gives|mixes) /);
      expect((error as Error).message).not.toContain('\n');
    }
  });

  it('sends no reminder with 0', async () => {
    await start({ MAINTENANCE_REMINDER_HOURS: '0' });
    await schedule(48);
    expect(await count(f, 'deliveries', "WHERE kind = 'reminder'")).toBe(0);
  });
});

describe('maintenance emails carry the brand and TIME_ZONE', () => {
  it('names the window in TIME_ZONE, and shows the logo, the accent and the support and home links', async () => {
    await start({
      TIME_ZONE: 'Europe/Berlin',
      BRAND_LOGO: 'https://cdn.example.com/logo.png',
      BRAND_ACCENT: '#5b2a86',
      SUPPORT_URL: 'https://help.example.com/',
      HOMEPAGE_URL: 'https://www.example.com/',
    });
    // 48 hours after 12:00 UTC on Monday 23 November: 13:00 in Berlin on Wednesday 25 November.
    await schedule(48);
    await outbox.drain();
    const [mail] = (await sink.parsed()).filter((m) => m.envelopeTo.includes('reader@example.com'));
    expect(mail!.subject).toBe('Scheduled maintenance: Database upgrade, Wed 25 Nov 13:00 CET');
    expect(mail!.text).toContain('from Wed 25 Nov 13:00 CET to Wed 25 Nov 15:00 CET');
    expect(mail!.html).toContain('<img src="https://cdn.example.com/logo.png" alt="Example Status"');
    expect(mail!.html).toContain('<a href="https://help.example.com/">Get support</a>');
    expect(mail!.html).toContain('<a href="https://www.example.com/">www.example.com</a>');
  });
});
