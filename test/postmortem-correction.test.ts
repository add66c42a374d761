// Correcting a postmortem (a second PUT) replaces the published text everywhere — timeline, feed, JSON, pages and
// emails sent afterwards — while the audit keeps the first and the corrected text.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addStakeholder, confirmedSubscriber, manualOutbox } from './fanout-support.ts';
import { declare, examples, makeSiteFixture, postUpdate, type SiteFixture } from './site-fixture.ts';
import { startSmtpSink, type SmtpSink } from './smtp-sink.ts';

let f: SiteFixture;
let sink: SmtpSink;
let outbox: ReturnType<typeof manualOutbox>;
beforeEach(async () => {
  f = await makeSiteFixture();
  sink = await startSmtpSink();
  outbox = manualOutbox(f, sink);
});
afterEach(async () => {
  await outbox.close();
  await sink.close();
  await f.close();
});

const typo = 'Teh databse pool ran dry during a retry storm.';
const fixed = 'The database pool ran dry during a retry storm.';
const first = {
  externalSummary: typo,
  internalBody: 'Pool size 20 was exhasuted by the cart service.',
  actionItems: [{ title: 'Alert on pool saturation', owner: 'payments@example.com', dueOn: '2026-12-01' }],
  variables: { action_items: 'One action item: alert on pol saturation.' },
};
const corrected = {
  ...first,
  externalSummary: fixed,
  internalBody: 'Pool size 20 was exhausted by the cart service.',
  variables: { action_items: 'One action item: alert on pool saturation.' },
};

async function putPostmortem(id: string, body: unknown) {
  const res = await f.call('PUT', `/api/v1/incidents/${id}/postmortem`, { token: 'comms', body });
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json() as Promise<{ updates: { status: string; external: { body: string }; internal: { body: string } }[]; audit: { action: string; detail: Record<string, any> }[] }>;
}

/** Every public and internal place the postmortem's words can be read, as text. */
async function everywhere(id: string) {
  await f.rendered();
  const files = f.files();
  // The internal view's audit keeps the first text on purpose (see below): compare its timeline and postmortem.
  const view = (await (await f.call('GET', `/api/v1/incidents/${id}`, { token: 'viewer' })).json()) as { updates: unknown; postmortem: unknown };
  const api = JSON.stringify({ updates: view.updates, postmortem: view.postmortem });
  const internal = await (await f.get(`/internal/incidents/${id}/`, { authorization: `Bearer ${f.tokens.viewer}` })).text();
  return {
    page: files.get(`incidents/${id}/index.html`)!.toString('utf8'),
    feed: files.get('feed.xml')!.toString('utf8'),
    incidentsJson: files.get('api/v2/incidents.json')!.toString('utf8'),
    api,
    internal,
  };
}

describe('postmortem correction', () => {
  it('replaces the first text in the timeline, feed, JSON, pages and in emails sent after the correction', async () => {
    await confirmedSubscriber(f, 'reader@example.com');
    await addStakeholder(f, 'ceo@example.com', 'Chris CEO');
    const incident = await declare(f);
    await postUpdate(f, incident.id, 'resolved', { variables: examples(f, 'resolved') });
    await outbox.drain();
    sink.received.length = 0;

    const published = await putPostmortem(incident.id, first);
    expect(published.updates[0]!.external.body).toContain(typo);
    let seen = await everywhere(incident.id);
    for (const [where, text] of Object.entries(seen)) expect(text, where).toContain('Teh databse');

    f.clock.advance(60 * 60_000);
    const after = await putPostmortem(incident.id, corrected);
    // Still one announcement, now worded with the correction.
    const announcements = after.updates.filter((u) => u.status === 'postmortem');
    expect(announcements).toHaveLength(1);
    expect(announcements[0]!.external.body).toContain(fixed);
    expect(announcements[0]!.internal.body).toContain('alert on pool saturation');

    seen = await everywhere(incident.id);
    for (const [where, text] of Object.entries(seen)) {
      expect(text, where).toContain('The database pool ran dry');
      expect(text, where).not.toContain('Teh databse');
    }

    // The deliveries queued by the first PUT go out now, after the correction: they carry the corrected text.
    const stats = await outbox.drain();
    expect(stats.sent).toBe(2);
    const mails = await sink.parsed();
    expect(mails.map((m) => m.envelopeTo[0]).sort()).toEqual(['ceo@example.com', 'reader@example.com']);
    for (const m of mails) {
      const text = `${m.subject}\n${m.text}\n${typeof m.html === 'string' ? m.html : ''}`;
      expect(text).not.toContain('Teh databse');
      expect(text).not.toContain('pol saturation');
    }
    expect(mails.find((m) => m.envelopeTo[0] === 'reader@example.com')!.text).toContain(fixed);
    expect(mails.find((m) => m.envelopeTo[0] === 'ceo@example.com')!.text).toContain('alert on pool saturation');
  });

  it('a delivery retried after the correction carries the corrected text, though the worker read the update before', async () => {
    await confirmedSubscriber(f, 'early@example.com');
    await confirmedSubscriber(f, 'late@example.com');
    const incident = await declare(f);
    await postUpdate(f, incident.id, 'resolved', { variables: examples(f, 'resolved') });
    await outbox.drain();
    sink.received.length = 0;
    await putPostmortem(incident.id, first);
    // The late reader's server asks to try again later: the same worker reads the update now and retries later.
    sink.setFault((address) => (address === 'late@example.com' ? 451 : null));
    await outbox.drain();
    expect((await sink.parsed()).map((m) => m.envelopeTo[0])).toEqual(['early@example.com']);
    expect((await sink.parsed())[0]!.text).toContain(typo);

    await putPostmortem(incident.id, corrected);
    sink.setFault(null);
    f.clock.advance(60_000);
    expect((await outbox.drain()).sent).toBe(1);
    const late = (await sink.parsed()).find((m) => m.envelopeTo[0] === 'late@example.com')!;
    expect(late.text).toContain(fixed);
    expect(late.text).not.toContain('Teh databse');
  });

  it('keeps both versions in the audit, and sends nothing again for the correction', async () => {
    await confirmedSubscriber(f, 'reader@example.com');
    const incident = await declare(f);
    await postUpdate(f, incident.id, 'resolved', { variables: examples(f, 'resolved') });
    await putPostmortem(incident.id, first);
    await outbox.drain();
    const sent = sink.received.length;

    const after = await putPostmortem(incident.id, corrected);
    expect((await outbox.drain()).sent).toBe(0);
    expect(sink.received.length).toBe(sent);

    const published = after.audit.find((a) => a.action === 'postmortem.published')!;
    const revised = after.audit.find((a) => a.action === 'postmortem.revised')!;
    expect(published.detail.current).toMatchObject({ externalSummary: typo, internalBody: first.internalBody });
    expect(revised.detail.previous).toMatchObject({ externalSummary: typo, internalBody: first.internalBody });
    expect(revised.detail.previous.announcement.external).toContain(typo);
    expect(revised.detail.current).toMatchObject({ externalSummary: fixed, internalBody: corrected.internalBody });
    expect(revised.detail.current.announcement.external).toContain(fixed);
    expect(revised.detail.current.announcement.internal).toContain('alert on pool saturation');
  });

  it('refuses a correction whose variables do not fit the template with 422 and changes nothing', async () => {
    const incident = await declare(f);
    await postUpdate(f, incident.id, 'resolved', { variables: examples(f, 'resolved') });
    const before = await putPostmortem(incident.id, first);
    const res = await f.call('PUT', `/api/v1/incidents/${incident.id}/postmortem`, {
      token: 'comms',
      body: { ...corrected, variables: { ...corrected.variables, no_such_variable: 'x' } },
    });
    expect(res.status).toBe(422);
    const view = await (await f.call('GET', `/api/v1/incidents/${incident.id}`, { token: 'viewer' })).json();
    expect(view.postmortem.externalSummary).toBe(typo);
    expect(view.updates).toEqual(before.updates);
  });
});
