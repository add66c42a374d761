import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readConfig } from '../api/config.ts';
import { fileTransport } from '../api/mail/transport.ts';
import { createOutbox } from '../api/outbox/worker.ts';
import { startServer } from '../api/server.ts';
import { mailSettings } from '../api/mail/compose.ts';
import { createToken } from '../api/services/tokens.ts';
import { manualClock } from '../api/clock.ts';
import { declare, examples, type Fixture } from './fixture.ts';
import { addStakeholder, confirmedSubscriber, countRows, mailFixture, rows } from './fanout-support.ts';
import type { SmtpSink } from './smtp-sink.ts';
import { systemActor } from '../api/services/context.ts';

let f: Fixture;
let sink: SmtpSink;
let outbox: Awaited<ReturnType<typeof mailFixture>>['outbox'];
let close: () => Promise<void>;
beforeEach(async () => {
  ({ f, sink, outbox, close } = await mailFixture());
});
afterEach(() => close());

type Mail = ParsedMail & { envelopeTo: string[] };
const to = (mails: Mail[], address: string) => mails.filter((m) => m.envelopeTo.includes(address));
const header = (m: Mail, name: string) => m.headerLines.find((h) => h.key === name.toLowerCase())?.line.replace(/^[^:]+:\s*/, '').replace(/\r?\n\s+/g, ' ');
/** Every place a canary could hide: decoded subject, both parts and every header, plus the raw bytes. */
const everything = (m: Mail, raw: Buffer) => [m.subject, m.text, m.html, ...m.headerLines.map((h) => h.line), raw.toString('utf8')].join('\n');

async function receivedBy() {
  const mails = await sink.parsed();
  return { mails, raw: (m: Mail) => sink.received[mails.indexOf(m)]!.raw };
}

const canaries = {
  internalTitle: 'INTCANARY-title pool exhausted',
  hypothesis: 'INTCANARY-hypothesis the 13:52 deploy',
  leadership_ask: 'INTCANARY-ask hold the launch email',
  ic: 'INTCANARY-ic Dana Reyes',
};

describe('subscriber email and executive briefing', () => {
  beforeEach(async () => {
    await confirmedSubscriber(f, 'everything@example.com');
    await confirmedSubscriber(f, 'api-only@example.com', ['api']);
    await confirmedSubscriber(f, 'dashboard-only@example.com', ['dashboard']);
    await addStakeholder(f, 'ceo@example.com', 'Chris CEO');
    await addStakeholder(f, 'cto@example.com', 'Tess CTO');
  });

  it('gives subscribers the external wording only and executives the internal briefing (canaries both ways)', async () => {
    const incident = await declare(f, {
      internalTitle: canaries.internalTitle,
      variables: { ...examples(f, 'investigating'), symptom: 'EXTCANARY-symptom: sign-in <b>fails</b> & retries', hypothesis: canaries.hypothesis, leadership_ask: canaries.leadership_ask },
      roles: { ic: canaries.ic },
    });
    const stats = await outbox.drain();
    expect(stats.sent).toBe(4); // two subscribers whose filter matches api, two executives
    const { mails, raw } = await receivedBy();

    for (const address of ['everything@example.com', 'api-only@example.com']) {
      const [mail] = to(mails, address);
      expect(mail, address).toBeDefined();
      const all = everything(mail!, raw(mail!));
      expect(all).not.toContain('INTCANARY');
      expect(all).not.toContain('SEV1');
      expect(mail!.subject).toBe('Investigating: Checkout errors');
      expect(mail!.text).toContain('EXTCANARY-symptom: sign-in <b>fails</b> & retries');
      // Values are escaped in HTML, and the paragraphs of the wording become <p>.
      expect(mail!.html).toContain('EXTCANARY-symptom: sign-in &lt;b&gt;fails&lt;/b&gt; &amp; retries');
      expect(mail!.html).not.toContain('<b>fails</b>');
      expect(mail!.html).toMatch(/<p[^>]*>We're investigating|<p[^>]*>We&#39;re investigating/);
      expect(mail!.text).toContain(`https://status.example.com/incidents/${incident.id}/`);
    }
    expect(to(mails, 'dashboard-only@example.com')).toHaveLength(0);

    for (const address of ['ceo@example.com', 'cto@example.com']) {
      const [mail] = to(mails, address);
      const text = mail!.text!;
      expect(mail!.subject).toContain('SEV1');
      expect(text).toContain(canaries.internalTitle);
      expect(text).toContain(canaries.hypothesis);
      expect(text).toContain(canaries.leadership_ask);
      expect(text).toContain(`Incident commander: ${canaries.ic}`);
      expect(text).toContain('Severity: SEV1');
      expect(text).toContain('Impact: Major outage');
      expect(text).toContain('Affected: Api (major outage)');
      expect(text).toContain('Next update due: 12:15 UTC');
      expect(text).toContain('Running for: less than a minute');
      expect(text).toContain('Time to mitigate: Not mitigated yet');
      // What customers were told, quoted.
      expect(text).toMatch(/What customers were told:\n> Investigating: Checkout errors\n>\n> We're investigating a problem affecting Api\. EXTCANARY-symptom/);
      expect(mail!.html).toContain('<blockquote');
      expect(mail!.html).toContain('INTCANARY-ic Dana Reyes');
      expect(header(mail!, 'List-Unsubscribe')).toBeUndefined();
    }
  });

  it('threads every email about one incident, with a stable Message-ID and one-click unsubscribe per recipient', async () => {
    const incident = await declare(f);
    await outbox.drain();
    f.clock.advance(40 * 60_000);
    const res = await f.call('POST', `/api/v1/incidents/${incident.id}/updates`, {
      token: 'comms',
      body: { status: 'monitoring', template: 'monitoring', variables: examples(f, 'monitoring') },
    });
    expect(res.status).toBe(201);
    await outbox.drain();
    const { mails } = await receivedBy();
    const mine = to(mails, 'everything@example.com');
    expect(mine).toHaveLength(2);
    const [sub] = await rows<{ id: string; unsubscribe_token: string }>(f, "SELECT id, unsubscribe_token FROM subscribers WHERE email = 'everything@example.com'");
    const unsubscribe = `https://status.example.com/api/v1/subscribers/unsubscribe?token=${sub!.unsubscribe_token}`;
    for (const m of mine) {
      expect(header(m, 'List-Unsubscribe')).toBe(`<${unsubscribe}>`);
      expect(header(m, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
      expect(m.text).toContain(unsubscribe);
      expect(m.text).toContain('/api/v1/subscribers/manage?token=');
      expect(m.inReplyTo).toBe(`<incident.${incident.id}@status.example.com>`);
      expect(m.references).toContain(`<incident.${incident.id}@status.example.com>`);
      expect(m.messageId).toMatch(new RegExp(`^<update\\.[a-z0-9]+\\.${sub!.id}@status\\.example\\.com>$`));
    }
    expect(new Set(mine.map((m) => m.messageId)).size).toBe(2);
    const others = to(mails, 'api-only@example.com');
    expect(header(others[0]!, 'List-Unsubscribe')).not.toBe(header(mine[0]!, 'List-Unsubscribe'));
    // The message id recorded on the delivery is the one the recipient saw.
    const recorded = await rows<{ message_id: string }>(f, "SELECT message_id FROM deliveries WHERE email = 'everything@example.com' AND kind = 'update' ORDER BY id");
    expect(recorded.map((r) => r.message_id)).toEqual(mine.map((m) => m.messageId));

    // Executives' briefing for the status change reports time to mitigate.
    const briefing = to(mails, 'ceo@example.com').at(-1)!;
    expect(briefing.text).toContain('Time to mitigate: 40 minutes');
    expect(briefing.text).toContain('Status: Monitoring');
    expect(briefing.inReplyTo).toBe(`<incident.${incident.id}.briefing@status.example.com>`);
  });

  it('tells executives how long it took once the incident is resolved', async () => {
    const incident = await declare(f);
    f.clock.advance(25 * 60_000);
    await f.call('POST', `/api/v1/incidents/${incident.id}/updates`, { token: 'comms', body: { status: 'monitoring', template: 'monitoring', variables: examples(f, 'monitoring') } });
    f.clock.advance(50 * 60_000);
    await f.call('POST', `/api/v1/incidents/${incident.id}/updates`, { token: 'comms', body: { status: 'resolved', template: 'resolved', variables: examples(f, 'resolved') } });
    await outbox.drain();
    const { mails } = await receivedBy();
    const briefings = to(mails, 'cto@example.com');
    expect(briefings.map((m) => m.subject)).toHaveLength(3);
    const last = briefings.at(-1)!.text!;
    expect(last).toContain('Status: Resolved');
    expect(last).toContain('Time to mitigate: 25 minutes');
    expect(last).toContain('Time to resolve: 1 hour 15 minutes');
    expect(last).toContain('Next update due: None scheduled');
  });

  it('respects component filters', async () => {
    await declare(f, { components: [{ id: 'dashboard', status: 'partial_outage' }] });
    await outbox.drain();
    const { mails } = await receivedBy();
    const subscribersMailed = mails.filter((m) => !m.envelopeTo[0]!.match(/^c[et]o@/)).flatMap((m) => m.envelopeTo).sort();
    expect(subscribersMailed).toEqual(['dashboard-only@example.com', 'everything@example.com']);
  });

  it('briefs executives on a SEV3 and tells subscribers nothing', async () => {
    await declare(f, { severity: 'SEV3', internalTitle: canaries.internalTitle });
    await outbox.drain();
    const { mails } = await receivedBy();
    expect(mails.flatMap((m) => m.envelopeTo).sort()).toEqual(['ceo@example.com', 'cto@example.com']);
    expect(mails[0]!.text).toContain('Nothing: this update was not published to customers.');
    expect(mails[0]!.text).toContain(canaries.internalTitle);
  });

  it('sends no briefing for a follow-up in the same status, but still tells subscribers', async () => {
    const incident = await declare(f);
    await outbox.drain();
    sink.received.length = 0;
    await f.call('POST', `/api/v1/incidents/${incident.id}/updates`, {
      token: 'comms',
      body: { status: 'investigating', template: 'investigating', variables: examples(f, 'investigating') },
    });
    await outbox.drain();
    expect(sink.received.flatMap((r) => r.to).sort()).toEqual(['api-only@example.com', 'everything@example.com']);
  });

  it('reminds subscribers of maintenance 24 hours ahead (the default), reusing the scheduled wording', async () => {
    const start = new Date(f.clock.now().getTime() + 26 * 60 * 60_000);
    const res = await f.call('POST', '/api/v1/maintenances', {
      token: 'comms',
      body: {
        title: 'Database upgrade',
        internalTitle: 'INTCANARY-maintenance pg 17 upgrade',
        scheduledFor: start.toISOString(),
        scheduledUntil: new Date(start.getTime() + 60 * 60_000).toISOString(),
        components: ['dashboard'],
        template: 'maintenance-scheduled',
        variables: { ...examples(f, 'maintenance-scheduled'), maintenance_lead: 'INTCANARY-lead Sam' },
      },
    });
    expect(res.status).toBe(201);
    await outbox.drain();
    f.clock.advance(2.5 * 60 * 60_000);
    await outbox.drain();
    const { mails, raw } = await receivedBy();
    const mine = to(mails, 'dashboard-only@example.com');
    expect(mine.map((m) => m.subject)).toEqual([
      expect.stringMatching(/^Scheduled maintenance: Database upgrade/),
      expect.stringMatching(/^Reminder: Scheduled maintenance: Database upgrade/),
    ]);
    expect(mine[1]!.messageId).not.toBe(mine[0]!.messageId);
    expect(mine[1]!.inReplyTo).toBe(mine[0]!.inReplyTo);
    for (const m of mails) expect(everything(m, raw(m))).not.toContain('INTCANARY');
    expect(to(mails, 'api-only@example.com')).toHaveLength(0);
  });
});

describe('the outbox', () => {
  beforeEach(async () => {
    for (let i = 0; i < 5; i++) await confirmedSubscriber(f, `s${i}@example.com`);
  });

  it('never sends a message again once it is recorded as sent', async () => {
    const incident = await declare(f);
    expect((await outbox.drain()).sent).toBe(5);
    // Even with the lease data wiped, a sent row is not due.
    await f.services.db.$client.execute('UPDATE deliveries SET lease_owner = NULL, lease_until = NULL, next_attempt_at = 0');
    expect((await outbox.drain()).sent).toBe(0);
    expect(sink.received).toHaveLength(5);
    const view = await (await f.call('GET', `/api/v1/incidents/${incident.id}`, { token: 'viewer' })).json();
    expect(view.updates[0].deliveries).toEqual({ pending: 0, sent: 5, failed: 0, suppressed: 0 });
  });

  it('takes over rows leased by a worker that died once the lease runs out', async () => {
    await declare(f);
    const until = f.clock.now().getTime() + 60_000;
    await f.services.db.$client.execute({ sql: "UPDATE deliveries SET lease_owner = 'dead-worker', lease_until = ? WHERE kind = 'update'", args: [until] });
    expect((await outbox.drain()).sent).toBe(0);
    f.clock.advance(61_000);
    expect((await outbox.drain()).sent).toBe(5);
    expect(await countRows(f, 'deliveries', "status = 'sent' AND lease_owner IS NULL")).toBe(5);
  });

  it('suppresses queued mail for an address that unsubscribed, with one click', async () => {
    await declare(f);
    const [sub] = await rows<{ unsubscribe_token: string }>(f, "SELECT unsubscribe_token FROM subscribers WHERE email = 's0@example.com'");
    const res = await f.call('POST', `/api/v1/subscribers/unsubscribe?token=${sub!.unsubscribe_token}`, {
      token: null,
      raw: 'List-Unsubscribe=One-Click',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(200);
    await outbox.drain();
    await declare(f, { title: 'Second incident' });
    await outbox.drain();
    expect(sink.received.flatMap((r) => r.to)).not.toContain('s0@example.com');
    expect(sink.received).toHaveLength(8);
    expect(await countRows(f, 'deliveries', "email = 's0@example.com' AND kind = 'update' AND status = 'suppressed'")).toBe(1);
  });

  it('writes .eml files under DATA_DIR/mail when no SMTP server is configured', async () => {
    const logged: string[] = [];
    const dir = join(f.dir, 'mail');
    const files = createOutbox({ db: f.services.db, clock: f.clock, transport: fileTransport(dir, (m) => logged.push(m)), mail: mailSettings(f.config), log: () => {} });
    await declare(f);
    expect((await files.drain()).sent).toBe(5);
    const written = readdirSync(dir).filter((n) => n.endsWith('.eml'));
    expect(written).toHaveLength(5);
    const parsed = await simpleParser(readFileSync(join(dir, written[0]!)));
    expect(parsed.subject).toBe('Investigating: Checkout errors');
    expect(parsed.html).toBeTruthy();
    expect(logged[0]).toMatch(/^mail: wrote .*\.eml to s\d@example\.com: Investigating: Checkout errors$/);
  });
});

describe('the server', () => {
  it('starts a worker that mails on publish, woken by the publish hook', async () => {
    const config = readConfig({ DATA_DIR: f.dir, PORT: '0', PUBLIC_URL: 'https://status.example.com', SEED_DEMO: 'false', SMTP_URL: sink.url, DATABASE_URL: f.config.databaseUrl });
    const clock = manualClock(new Date());
    // A long poll: only the publish hook can make this fast.
    const running = await startServer(config, { clock, log: () => {}, schedulerIntervalMs: 0, outboxPollMs: 60_000 });
    try {
      await confirmedSubscriber({ ...f, services: running.services }, 'live@example.com');
      const { token } = await createToken(running.services, systemActor('test'), { role: 'comms', name: 'live' });
      const res = await fetch(`${running.url}/api/v1/incidents`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'Live', severity: 'SEV2', template: 'investigating', variables: examples(f, 'investigating'), components: [{ id: 'api', status: 'partial_outage' }] }),
      });
      expect(res.status).toBe(201);
      await sink.waitFor(() => sink.received.some((r) => r.to.includes('live@example.com') && r.raw.includes('Investigating: Live')), 5_000, 'the update email');
    } finally {
      await running.close();
    }
  });
});

describe('header injection', () => {
  it('refuses CR/LF in every field that reaches a mail header, storing nothing', async () => {
    const attempts = [
      await f.call('POST', '/api/v1/stakeholders', { body: { email: 'boss@example.com\r\nBcc: all@example.com', name: 'Boss' } }),
      await f.call('POST', '/api/v1/stakeholders', { body: { email: 'boss@example.com', name: 'Boss\r\nBcc: all@example.com' } }),
      await f.call('POST', '/api/v1/subscribers', { token: null, body: { email: 'reader@example.com\nBcc: all@example.com' } }),
      await f.call('POST', '/api/v1/incidents', {
        token: 'comms',
        body: { title: 'Outage\r\nBcc: all@example.com', severity: 'SEV1', template: 'investigating', variables: examples(f, 'investigating'), components: [{ id: 'api', status: 'major_outage' }] },
      }),
    ];
    for (const res of attempts) {
      expect(res.status).toBe(422);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
    expect(await countRows(f, 'stakeholders')).toBe(0);
    expect(await countRows(f, 'subscribers')).toBe(0);
    expect(await countRows(f, 'incidents')).toBe(0);
    expect(await countRows(f, 'deliveries')).toBe(0);
  });

  it('keeps a stored subject on one line even if a line break got into it', async () => {
    await confirmedSubscriber(f, 'reader@example.com');
    await declare(f);
    // Defence in depth: pretend an older version stored a subject with a line break.
    await f.services.db.$client.execute("UPDATE updates SET external_subject = 'Outage' || char(13) || char(10) || 'Bcc: all@example.com'");
    await outbox.drain();
    const { mails } = await receivedBy();
    const [mail] = to(mails, 'reader@example.com').filter((m) => m.subject?.startsWith('Outage'));
    expect(mail!.subject).toBe('Outage Bcc: all@example.com');
    expect(mail!.headerLines.some((h) => h.key === 'bcc')).toBe(false);
    expect(sink.received.flatMap((r) => r.to)).not.toContain('all@example.com');
  });
});

describe('emails in TIME_ZONE', () => {
  it('shows every time of an executive briefing in TIME_ZONE, named, as the update text does: none in UTC', async () => {
    const zoned = await mailFixture({ TIME_ZONE: 'Asia/Kolkata' });
    try {
      await addStakeholder(zoned.f, 'cto@example.com', 'Cleo');
      await declare(zoned.f, { nextUpdateInMinutes: 30 });
      await zoned.outbox.drain();
      const briefing = (await zoned.sink.parsed()).find((m) => m.envelopeTo.includes('cto@example.com'))!;
      const text = briefing.text!;
      // The fixture's clock is 12:00 UTC: 17:30 in Kolkata, the next update due 18:00.
      expect(text).toMatch(/Next update due: 18:00 GMT\+5:30/);
      expect(text).toMatch(/since 17:30 GMT\+5:30/);
      // (The example variables' own text names UTC; the facts we write do not.)
      for (const fact of text.split('\n').filter((l) => /^(Next update due|Running for):/.test(l))) expect(fact).not.toContain('UTC');
    } finally {
      await zoned.close();
    }
  });
});
