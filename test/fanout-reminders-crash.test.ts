// kill -9 between a reminder falling due and its send: the restarted worker sends it exactly once.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { declare, makeFixture, seedComponents, type Fixture } from './fixture.ts';
import { rows } from './fanout-support.ts';
import { startSmtpSink, type SmtpSink } from './smtp-sink.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
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

function startWorker(smtpUrl: string): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/worker.ts', '--lease-ms', '2000', '--poll-ms', '50'], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: f.config.databaseUrl, DATA_DIR: f.dir, SMTP_URL: smtpUrl, PUBLIC_URL: 'https://status.example.com' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  child.on('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGKILL' && signal !== 'SIGTERM') console.error(`worker exited ${code ?? signal}:\n${output}`);
  });
  children.push(child);
  return child;
}

const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000) {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

it('sends a reminder that was due and in flight when its worker was SIGKILLed exactly once after restart', async () => {
  // Declared 12 minutes ago (SEV1: next update in 15, reminder at 10): the reminder is due now, in real time.
  f.clock.set(new Date(Date.now() - 12 * minute));
  const incident = await declare(f, { severity: 'SEV1', roles: { comms: 'casey@example.com' } });
  const reminder = async () =>
    (await rows<{ status: string; lease_owner: string | null; attempts: number }>(f, "SELECT status, lease_owner, attempts FROM deliveries WHERE kind = 'due_reminder' AND audience = 'comms'"))[0]!;

  const first = startWorker(`smtp://127.0.0.1:${(stall.address() as AddressInfo).port}`);
  await until('the reminder to be leased and in flight', async () => (await reminder()).lease_owner !== null && sockets.length > 0);
  first.kill('SIGKILL');
  await exited(first);
  expect(await reminder()).toMatchObject({ status: 'pending', attempts: 0 });
  expect(sink.received).toHaveLength(0);

  const second = startWorker(sink.url);
  await sink.waitFor(() => sink.received.length >= 1, 30_000, 'the reminder');
  await until('the reminder to be recorded as sent', async () => (await reminder()).status === 'sent');
  // Once recorded as sent no worker claims it again, and the killed worker's connection never got a greeting.
  second.kill('SIGTERM');
  await exited(second);
  const mail = await sink.parsed();
  expect(mail).toHaveLength(1);
  expect(mail[0]!.envelopeTo).toEqual(['casey@example.com']);
  expect(mail[0]!.text).toContain(`/internal/incidents/${incident.id}/`);
  expect(await reminder()).toMatchObject({ status: 'sent', attempts: 1 });
});
