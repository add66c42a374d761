import type { ChildProcess } from 'node:child_process';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { declare, type Fixture } from './fixture.ts';
import { countRows, exited, mailFixture, startWorkerProcess } from './fanout-support.ts';
import type { SmtpSink } from './smtp-sink.ts';

const subscriberCount = 1_200;
const concurrency = 10;
const batch = 50;

let f: Fixture;
let sink: SmtpSink;
let close: () => Promise<void>;
const children: ChildProcess[] = [];

beforeEach(async () => {
  ({ f, sink, close } = await mailFixture());
});
afterEach(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await close();
});

/** The standalone worker as its own process: one node process, so SIGKILL hits the worker itself. */
const startWorker = () =>
  startWorkerProcess(f, sink.url, ['--lease-ms', '3000', '--poll-ms', '100', '--batch', String(batch), '--concurrency', String(concurrency)], children);

it(`loses nothing when the worker is SIGKILLed mid-batch of ${subscriberCount} and restarted; only the sends in flight go twice`, async () => {
  // Confirmed subscribers written straight to the table: the opt-in flow is tested elsewhere.
  const now = Date.now();
  await f.services.db.$client.execute({
    sql: `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
          INSERT INTO subscribers (id, email, confirmed_at, unsubscribe_token, created_at)
          SELECT 'sub' || i, 'reader' || i || '@example.com', ?, 'token-' || i, ? FROM n`,
    args: [subscriberCount, now, now],
  });
  f.clock.set(new Date(now));
  await declare(f, { severity: 'SEV2' });
  expect(await countRows(f, 'deliveries', "kind = 'update' AND status = 'pending'")).toBe(subscriberCount);

  const first = startWorker();
  await sink.waitFor(() => sink.received.length >= subscriberCount / 3, 30_000, 'a third of the batch');
  first.kill('SIGKILL');
  await exited(first);
  const receivedAtKill = sink.received.length;
  const sentAtKill = await countRows(f, 'deliveries', "status = 'sent'");
  const leasedAtKill = await countRows(f, 'deliveries', "status = 'pending' AND lease_owner IS NOT NULL");
  expect(receivedAtKill).toBeLessThan(subscriberCount);

  const second = startWorker();
  const unique = () => new Set(sink.received.flatMap((r) => r.to)).size;
  await sink.waitFor(() => unique() === subscriberCount, 60_000, 'every subscriber');
  const until = Date.now() + 10_000;
  while ((await countRows(f, 'deliveries', "status = 'pending'")) > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  second.kill('SIGTERM');
  await exited(second);

  const duplicates = sink.received.length - unique();
  console.log(
    `SIGKILL test: ${subscriberCount} recipients; at the kill ${receivedAtKill} accepted by SMTP, ${sentAtKill} recorded as sent, ` +
      `${leasedAtKill} leased by the dead worker; after restart ${sink.received.length} accepted in all, ${duplicates} duplicates ` +
      `(bound: the ${concurrency} concurrent sends, each waiting for its own record; never the batch of ${batch})`,
  );
  expect(await countRows(f, 'deliveries', "status = 'sent'")).toBe(subscriberCount);
  expect(duplicates).toBe(receivedAtKill - sentAtKill);
  expect(duplicates).toBeLessThanOrEqual(concurrency);
});
