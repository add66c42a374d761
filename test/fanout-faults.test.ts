import { performance } from 'node:perf_hooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { classifyError } from '../api/mail/transport.ts';
import { backoffMs } from '../api/outbox/worker.ts';
import { declare, type Fixture } from './fixture.ts';
import { addStakeholder, confirmedSubscriber, countRows, mailFixture, rows, runningWorker } from './fanout-support.ts';
import type { SmtpSink } from './smtp-sink.ts';
import { until } from './until.ts';

let f: Fixture;
let sink: SmtpSink;
let close: () => Promise<void>;
let worker: ReturnType<typeof runningWorker> | undefined;
const recipients = ['a@example.com', 'b@example.com', 'c@example.com', 'd@example.com', 'exec@example.com'];

beforeEach(async () => {
  ({ f, sink, close } = await mailFixture());
  for (const r of recipients.slice(0, 4)) await confirmedSubscriber(f, r);
  await addStakeholder(f, 'exec@example.com', 'Eve Exec');
  // The confirmations of these test subscribers are not part of what is measured here.
  await f.services.db.$client.execute("DELETE FROM deliveries WHERE kind = 'confirmation'");
});
afterEach(async () => {
  await worker?.stop();
  worker = undefined;
  await close();
});

const deliveredTo = () => sink.received.flatMap((r) => r.to);
const everyoneOnce = () => recipients.every((r) => deliveredTo().includes(r));
const settled = async () => (await countRows(f, 'deliveries', "status = 'pending'")) === 0;

const waitUntilSettled = () => until(settled, 'no delivery pending');

describe('mail server faults', () => {
  it('retries 451 and 421 answers with back-off until the server recovers, then delivers each once', async () => {
    // Each address is refused twice: a@ and b@ with 451 (try later), the rest with 421 (closing the channel).
    sink.setFault((address, attempt) => (attempt > 2 ? null : address < 'c' ? 451 : 421));
    worker = runningWorker(f, sink);
    await declare(f);
    await sink.waitFor(everyoneOnce, 15_000, 'every recipient');
    await waitUntilSettled();
    expect(deliveredTo().sort()).toEqual([...recipients].sort());
    const attempts = await rows<{ email: string; attempts: number; status: string }>(f, 'SELECT email, attempts, status FROM deliveries');
    // Each was retried (the pool may also retry once itself when a 421 drops the connection). A 451 is this message's
    // failure and spends an attempt; a 421 is the server closing, which spends none: the worker backs off instead.
    for (const a of attempts) {
      expect(a.status, a.email).toBe('sent');
      expect(a.attempts, a.email).toBeGreaterThanOrEqual(a.email < 'c' ? 3 : 1);
      expect(sink.attempts.filter((t) => t === a.email).length, a.email).toBeGreaterThanOrEqual(3);
    }
  });

  it('marks a 550 failed at once, and stops mailing an address after repeated hard bounces', async () => {
    sink.setFault((address) => (address === 'b@example.com' ? 550 : null));
    worker = runningWorker(f, sink);
    for (let i = 1; i <= 3; i++) {
      await declare(f, { title: `Incident ${i}` });
      await sink.waitFor(() => sink.received.length === 4 * i, 10_000, `incident ${i}`);
      await waitUntilSettled();
      const [row] = await rows<{ status: string; attempts: number; last_error: string }>(
        f,
        "SELECT d.status, d.attempts, d.last_error FROM deliveries d JOIN updates u ON u.id = d.update_id JOIN incidents i ON i.id = u.incident_id WHERE d.email = 'b@example.com' AND i.title = ?",
        [`Incident ${i}`],
      );
      expect(row).toMatchObject({ status: 'failed', attempts: 1 });
      expect(row!.last_error).toContain('550');
    }
    expect(sink.attempts.filter((a) => a === 'b@example.com')).toHaveLength(3);
    const [sub] = await rows<{ hard_bounces: number; suppressed_at: number | null }>(f, "SELECT hard_bounces, suppressed_at FROM subscribers WHERE email = 'b@example.com'");
    expect(sub!.hard_bounces).toBe(3);
    expect(sub!.suppressed_at).not.toBeNull();

    // Suppressed: the next update is not even queued for it.
    await declare(f, { title: 'Incident 4' });
    await sink.waitFor(() => sink.received.length === 16, 10_000, 'incident 4');
    await waitUntilSettled();
    expect(sink.attempts.filter((a) => a === 'b@example.com')).toHaveLength(3);
    expect(await countRows(f, 'deliveries', "email = 'b@example.com'")).toBe(3);
  });

  it('delivers everything once the server is back after being down for a while, spending no attempt on the outage', async () => {
    await sink.down();
    const logs: string[] = [];
    worker = runningWorker(f, sink, { log: (m) => logs.push(m), serverBackoffMs: 20 });
    await declare(f);
    await declare(f, { title: 'Second' });
    // Let the worker hit the closed port and back off, three tries of the server.
    await until(() => logs.filter((l) => l.includes('unavailable')).length >= 3, 'three tries against the closed port');
    expect(sink.received).toHaveLength(0);
    expect(await countRows(f, 'deliveries', "status = 'pending' AND last_error IS NOT NULL")).toBeGreaterThan(0);
    expect(await countRows(f, 'deliveries', 'attempts > 0')).toBe(0);
    expect(await countRows(f, 'deliveries', "status = 'failed'")).toBe(0);
    await sink.up();
    await sink.waitFor(() => sink.received.length === 10, 15_000, 'all ten emails');
    await waitUntilSettled();
    expect(await countRows(f, 'deliveries', "status = 'sent'")).toBe(10);
    // Exactly one copy each: nothing lost, nothing doubled.
    const perRecipient = new Map<string, number>();
    for (const r of deliveredTo()) perRecipient.set(r, (perRecipient.get(r) ?? 0) + 1);
    expect([...perRecipient.values()]).toEqual([2, 2, 2, 2, 2]);
  });

  it('keeps sending after the mail server goes away mid-fan-out and comes back, without a restart (issue 17)', async () => {
    // The reported input: 453 messages, the server gone after about 40, back a little later; production back-off.
    const count = 453;
    const now = Date.now();
    await f.services.db.$client.execute({
      sql: `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
            INSERT INTO subscribers (id, email, confirmed_at, unsubscribe_token, created_at)
            SELECT 'sub' || i, 'reader' || i || '@example.com', ?, 'token-' || i, ? FROM n`,
      args: [count, now, now],
    });
    const logs: string[] = [];
    const concurrency = 25;
    worker = runningWorker(f, sink, { log: (m) => logs.push(m), retry: {}, concurrency });
    await declare(f, { severity: 'SEV2' });
    await sink.waitFor(() => sink.received.length >= 40, 30_000, 'the first 40 messages');
    await sink.down();
    const atDown = sink.received.length;
    await until(() => logs.filter((l) => l.includes('unavailable')).length >= 2, 'two tries against the server while it is down', 30_000);
    const backAt = performance.now();
    await sink.up();
    const readers = () => new Set(sink.received.flatMap((r) => r.to).filter((to) => to.startsWith('reader')));
    await sink.waitFor(() => readers().size === count, 60_000, `all ${count} subscribers`);
    const recoveredMs = performance.now() - backAt;
    await waitUntilSettled();
    const duplicates = sink.received.filter((r) => r.to[0]!.startsWith('reader')).length - count;
    console.log(`SMTP blip: down after ${atDown} of ${count} messages, ${logs.filter((l) => l.includes('unavailable')).length} tries while down; every message delivered ${(recoveredMs / 1000).toFixed(1)} s after the server came back; ${duplicates} duplicates`);
    expect(logs.some((l) => l.includes('is back'))).toBe(true);
    // The server is tried again within the first back-offs (1 s, 2 s, 4 s …), not after minutes.
    expect(recoveredMs).toBeLessThan(20_000);
    // Only messages the server accepted as its connection dropped can go twice: at most one per concurrent sender.
    expect(duplicates).toBeLessThanOrEqual(concurrency);
    expect(await countRows(f, 'deliveries', "status = 'failed'")).toBe(0);
  });

  it('gives up on a message after the configured number of transient failures', async () => {
    sink.setFault((address) => (address === 'c@example.com' ? 451 : null));
    worker = runningWorker(f, sink, { retry: { baseMs: 5, maxMs: 20, maxAttempts: 4 } });
    await declare(f);
    await waitUntilSettled();
    const [row] = await rows<{ status: string; attempts: number }>(f, "SELECT status, attempts FROM deliveries WHERE email = 'c@example.com'");
    expect(row).toMatchObject({ status: 'failed', attempts: 4 });
    // A transient refusal is not a bounce: the address stays subscribed.
    const [sub] = await rows<{ hard_bounces: number }>(f, "SELECT hard_bounces FROM subscribers WHERE email = 'c@example.com'");
    expect(sub!.hard_bounces).toBe(0);
  });
});

describe('back-off', () => {
  it('doubles per attempt with jitter in the upper half, up to the cap', () => {
    const policy = { baseMs: 1_000, maxMs: 60_000 };
    expect(backoffMs(1, policy, () => 0)).toBe(500);
    expect(backoffMs(1, policy, () => 1)).toBe(1_000);
    expect(backoffMs(4, policy, () => 0)).toBe(4_000);
    expect(backoffMs(4, policy, () => 1)).toBe(8_000);
    expect(backoffMs(30, policy, () => 1)).toBe(60_000);
    expect(backoffMs(30, policy, () => 0)).toBe(30_000);
  });
});

describe('reading an SMTP failure', () => {
  const failure = (fields: Record<string, unknown>) => {
    const f = classifyError(Object.assign(new Error('refused'), fields));
    return { permanent: f.permanent, bounce: f.bounce, server: f.server };
  };
  it('counts a 5xx to RCPT TO as a bounce, but not a policy refusal (5.7.x)', () => {
    expect(failure({ responseCode: 550, permanent: true, command: 'RCPT TO', response: '550 5.1.1 no such user' })).toEqual({ permanent: true, bounce: true, server: false });
    expect(failure({ responseCode: 550, permanent: true, command: 'RCPT TO', response: '550 5.7.1 relaying denied' })).toEqual({ permanent: true, bounce: false, server: false });
    expect(failure({ responseCode: 554, permanent: true, command: 'DATA', response: '554 rejected as spam' })).toEqual({ permanent: true, bounce: false, server: false });
  });
  it('retries 4xx, and pauses for no reply, 421, refused credentials or a refused sender', () => {
    expect(failure({ responseCode: 451, permanent: false, command: 'RCPT TO' })).toEqual({ permanent: false, bounce: false, server: false });
    expect(failure({ responseCode: 421, permanent: false, code: 'ECONNECTION' })).toEqual({ permanent: false, bounce: false, server: true });
    expect(failure({ code: 'ESOCKET', originalCode: 'ECONNREFUSED' })).toEqual({ permanent: false, bounce: false, server: true });
    expect(failure({ code: 'ETIMEDOUT' })).toEqual({ permanent: false, bounce: false, server: true });
    expect(failure({ code: 'EAUTH', responseCode: 535, permanent: true })).toEqual({ permanent: false, bounce: false, server: true });
    expect(failure({ responseCode: 553, permanent: true, command: 'MAIL FROM' })).toEqual({ permanent: false, bounce: false, server: true });
  });
});
