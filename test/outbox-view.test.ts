// Admins read the outbox: every message with recipient, state and attempts, filterable by incident, and one composed as its recipient sees it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mailSettings } from '../api/mail/compose.ts';
import { listOutbox, renderOutboxMessage } from '../api/services/outbox-view.ts';
import { redactedSecret, requestSignInLink } from '../api/services/stakeholder-sign-in.ts';
import { subscribe } from '../api/services/subscribers.ts';
import { addStakeholder, confirmedSubscriber, manualOutbox, rows } from './fanout-support.ts';
import { declare, examples, makeFixture, seedComponents, type Fixture } from './fixture.ts';
import { startSmtpSink, type SmtpSink } from './smtp-sink.ts';

let f: Fixture;
let sink: SmtpSink;
let outbox: ReturnType<typeof manualOutbox>;
beforeEach(async () => {
  f = await makeFixture();
  await seedComponents(f);
  sink = await startSmtpSink();
  outbox = manualOutbox(f, sink);
});
afterEach(async () => {
  await outbox.close();
  await sink.close();
  await f.close();
});

const settings = () => mailSettings(f.config);
const canary = 'CANARY-internal-only-7f3a';

describe('the outbox as admins read it', () => {
  it('lists every message newest first with recipient, state and attempts, and filters by incident', async () => {
    await confirmedSubscriber(f, 'reader@example.com');
    await addStakeholder(f, 'ceo@example.com', 'Cleo');
    const first = await declare(f, { severity: 'SEV1' });
    await outbox.drain();
    const second = await declare(f, { severity: 'SEV3' });

    const all = await listOutbox(f.services.db);
    expect(all.entries.map((e) => e.id)).toEqual([...all.entries.map((e) => e.id)].sort((a, b) => b - a));
    // Confirmed by hand before the outbox ran, so its confirmation was suppressed, not sent.
    expect(all.entries.find((e) => e.kind === 'confirmation')).toMatchObject({ email: 'reader@example.com', audience: 'subscriber', status: 'suppressed', attempts: 0, incidentId: null });

    const one = await listOutbox(f.services.db, { incidentId: first.id });
    expect(one.entries.map((e) => [e.kind, e.email, e.status, e.attempts]).sort()).toEqual([
      ['briefing', 'ceo@example.com', 'sent', 1],
      ['update', 'reader@example.com', 'sent', 1],
    ]);
    expect(one.counts).toEqual({ pending: 0, sent: 2, failed: 0, suppressed: 0 });
    expect(one.entries.find((e) => e.kind === 'update')!.subject).toBe(await updateSubject(first.updates[0]!.id, 'external'));
    expect(one.entries.find((e) => e.kind === 'briefing')!.subject).toBe(await updateSubject(first.updates[0]!.id, 'internal'));

    const other = await listOutbox(f.services.db, { incidentId: second.id });
    expect(other.entries).toHaveLength(1);
    expect(other.entries[0]).toMatchObject({ kind: 'briefing', status: 'pending', attempts: 0, sentAt: null });
    expect((await listOutbox(f.services.db, { status: 'pending' })).entries.map((e) => e.incidentId)).toEqual([second.id]);
  });

  it('composes a subscriber email as that subscriber sees it (external wording, their own unsubscribe link) and a briefing with the internal wording', async () => {
    const reader = await confirmedSubscriber(f, 'reader@example.com');
    await addStakeholder(f, 'ceo@example.com', 'Cleo');
    const incident = await declare(f, { severity: 'SEV1', variables: { ...examples(f, 'investigating'), hypothesis: canary } });
    const { entries } = await listOutbox(f.services.db, { incidentId: incident.id });

    const update = await renderOutboxMessage(f.services.db, settings(), entries.find((e) => e.kind === 'update')!.id, f.clock.now());
    if (!update || !('message' in update)) throw new Error(`not rendered: ${JSON.stringify(update)}`);
    expect(update.message.to).toBe('reader@example.com');
    expect(update.message.text).toContain(`unsubscribe?token=${encodeURIComponent(reader.unsubscribeToken)}`);
    expect(update.message.html).toContain('<!doctype html>');
    expect(update.message.headers['List-Unsubscribe']).toContain(reader.unsubscribeToken);
    expect(update.message.text + update.message.html).not.toContain(canary);

    const briefing = await renderOutboxMessage(f.services.db, settings(), entries.find((e) => e.kind === 'briefing')!.id, f.clock.now());
    if (!briefing || !('message' in briefing)) throw new Error('briefing not rendered');
    expect(briefing.message.text).toContain(canary);
    expect(briefing.entry.status).toBe('pending');
    // Reading sends nothing.
    expect(sink.received).toHaveLength(0);
    expect(await renderOutboxMessage(f.services.db, settings(), 987654, f.clock.now())).toBeNull();
  });

  it('shows a sign-in email with its secret replaced, and leaves the mailed link working', async () => {
    await addStakeholder(f, 'ceo@example.com', 'Cleo');
    await requestSignInLink(f.services, { email: 'ceo@example.com' });
    await outbox.drain();
    const [before] = await rows<{ hash: string }>(f, 'SELECT hash FROM sign_in_links');
    const { entries } = await listOutbox(f.services.db);
    const shown = await renderOutboxMessage(f.services.db, settings(), entries[0]!.id, f.clock.now());
    if (!shown || !('message' in shown)) throw new Error('sign-in email not rendered');
    expect(shown.entry).toMatchObject({ kind: 'sign-in', status: 'sent' });
    expect(shown.message.text).toContain(`token=${redactedSecret}`);
    const [after] = await rows<{ hash: string }>(f, 'SELECT hash FROM sign_in_links');
    expect(after!.hash).toBe(before!.hash);
  });

  it('says why a message would not be sent now instead of composing it', async () => {
    await subscribe(f.services, { email: 'later@example.com' });
    await f.services.db.$client.execute("UPDATE subscribers SET confirmed_at = 1 WHERE email = 'later@example.com'");
    const { entries } = await listOutbox(f.services.db);
    const shown = await renderOutboxMessage(f.services.db, settings(), entries[0]!.id, f.clock.now());
    expect(shown).toMatchObject({ notRendered: 'already confirmed' });
  });
});

async function updateSubject(id: string, wording: 'external' | 'internal'): Promise<string> {
  const [row] = await rows<{ s: string }>(f, `SELECT ${wording}_subject AS s FROM updates WHERE id = ?`, [id]);
  return row!.s;
}
