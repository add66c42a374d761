// kill -9 between a reminder falling due and its send: the restarted worker sends it exactly once.
import type { ChildProcess } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { declare, makeFixture, seedComponents, type Fixture } from './fixture.ts';
import { exited, rows, startWorkerProcess } from './fanout-support.ts';
import { until } from './until.ts';
import { startSmtpSink, type SmtpSink } from './smtp-sink.ts';

const minute = 60_000;
let f: Fixture;
let sink: SmtpSink;
let stall: Server;
const sockets: Socket[] = [];
const children: ChildProcess[] = [];

beforeEach(async () => {
  f = await makeFixture();
  await seedComponents(f);
  sink = await startSmtpSink();
  // A mail server that accepts the connection and never greets: the send stays in flight until the kill.
  stall = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => stall.listen(0, '127.0.0.1', () => resolve()));
});
afterEach(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => stall.close(() => resolve()));
  await sink.close();
  await f.close();
});

const startWorker = (smtpUrl: string) => startWorkerProcess(f, smtpUrl, ['--lease-ms', '2000', '--poll-ms', '50'], children);

it('sends a reminder that was due and in flight when its worker was SIGKILLed exactly once after restart', async () => {
  // Declared 12 minutes ago (SEV1: next update in 15, reminder at 10): the reminder is due now, in real time.
  f.clock.set(new Date(Date.now() - 12 * minute));
  const incident = await declare(f, { severity: 'SEV1', roles: { comms: 'casey@example.com' } });
  const reminder = async () =>
    (await rows<{ status: string; lease_owner: string | null; attempts: number }>(f, "SELECT status, lease_owner, attempts FROM deliveries WHERE kind = 'due_reminder' AND audience = 'comms'"))[0]!;

  const first = startWorker(`smtp://127.0.0.1:${(stall.address() as AddressInfo).port}`);
  await until(async () => (await reminder()).lease_owner !== null && sockets.length > 0, 'the reminder to be leased and in flight', 30_000);
  first.kill('SIGKILL');
  await exited(first);
  expect(await reminder()).toMatchObject({ status: 'pending', attempts: 0 });
  expect(sink.received).toHaveLength(0);

  const second = startWorker(sink.url);
  await sink.waitFor(() => sink.received.length >= 1, 30_000, 'the reminder');
  await until(async () => (await reminder()).status === 'sent', 'the reminder to be recorded as sent', 30_000);
  // Once recorded as sent no worker claims it again, and the killed worker's connection never got a greeting.
  second.kill('SIGTERM');
  await exited(second);
  const mail = await sink.parsed();
  expect(mail).toHaveLength(1);
  expect(mail[0]!.envelopeTo).toEqual(['casey@example.com']);
  expect(mail[0]!.text).toContain(`/internal/incidents/${incident.id}/`);
  expect(await reminder()).toMatchObject({ status: 'sent', attempts: 1 });
});
