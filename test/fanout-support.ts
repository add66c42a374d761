// Shared steps for the fan-out tests: the fixture with a real SMTP sink, confirmed subscribers, stakeholders, outboxes wired to the sink, and the standalone worker as a process.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { eq } from 'drizzle-orm';
import { subscribers } from '../db/schema.ts';
import { systemClock, type Clock } from '../api/clock.ts';
import { mailSettings } from '../api/mail/compose.ts';
import { smtpTransport } from '../api/mail/transport.ts';
import { createOutbox, startOutboxWorker, type OutboxOptions } from '../api/outbox/worker.ts';
import { confirmationToken, confirmSubscription, subscribe } from '../api/services/subscribers.ts';
import { makeFixture, seedComponents, type Fixture } from './fixture.ts';
import { startSmtpSink, type SmtpSink } from './smtp-sink.ts';

/**
 * What every fan-out test starts from: the fixture with components api, dashboard and webhooks, a real SMTP sink
 * in-process, and an outbox the test drains by hand into that sink. `close` stops all three.
 */
export async function mailFixture(env: Record<string, string> = {}) {
  const f = await makeFixture(env);
  await seedComponents(f);
  const sink = await startSmtpSink();
  const outbox = manualOutbox(f, sink);
  return {
    f,
    sink,
    outbox,
    async close() {
      await outbox.close();
      await sink.close();
      await f.close();
    },
  };
}

/** Subscribes through the service and confirms with the token the confirmation email would carry. */
export async function confirmedSubscriber(f: Fixture, email: string, components?: string[]) {
  await subscribe(f.services, { email, components });
  const [row] = await f.services.db.select().from(subscribers).where(eq(subscribers.email, email));
  const result = await confirmSubscription(f.services, confirmationToken(row!, row!.confirmExpiresAt!));
  if (result.outcome !== 'confirmed') throw new Error(`could not confirm ${email}: ${result.outcome}`);
  return row!;
}

export async function addStakeholder(f: Fixture, email: string, name: string) {
  const res = await f.call('POST', '/api/v1/stakeholders', { body: { email, name } });
  if (res.status !== 201) throw new Error(`stakeholder: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: string };
}

/** Fast back-off so fault tests take seconds, not hours. */
export const quickRetry = { baseMs: 20, maxMs: 200, maxAttempts: 50 };

export function outboxOptions(f: Fixture, sink: SmtpSink, overrides: Partial<OutboxOptions> = {}): OutboxOptions {
  return {
    db: f.services.db,
    clock: f.clock,
    transport: smtpTransport(sink.url, { timeoutMs: 5_000 }),
    mail: mailSettings(f.config),
    log: () => {},
    retry: quickRetry,
    ...overrides,
  };
}

/** An outbox drained by hand: the test decides when mail goes out. */
export function manualOutbox(f: Fixture, sink: SmtpSink, overrides: Partial<OutboxOptions> = {}) {
  const options = outboxOptions(f, sink, overrides);
  const outbox = createOutbox(options);
  return { ...outbox, close: () => options.transport.close() };
}

/** A running worker on the real clock, as in production; the fixture's clock is moved to now so rows are due. */
export function runningWorker(f: Fixture, sink: SmtpSink, overrides: Partial<OutboxOptions> = {}, clock: Clock = systemClock) {
  f.clock.set(new Date());
  const options = outboxOptions(f, sink, { clock, pollMs: 20, ...overrides });
  const worker = startOutboxWorker(options);
  const unhook = f.services.hook.subscribe(() => worker.wake());
  return {
    ...worker,
    async stop() {
      unhook();
      await worker.stop();
      await options.transport.close();
    },
  };
}

export async function rows<T = Record<string, unknown>>(f: Fixture, query: string, args: (string | number)[] = []): Promise<T[]> {
  return (await f.services.db.$client.execute({ sql: query, args })).rows as unknown as T[];
}

export async function countRows(f: Fixture, table: string, where = '1 = 1', args: (string | number)[] = []): Promise<number> {
  const [r] = await rows<{ n: number }>(f, `SELECT count(*) AS n FROM ${table} WHERE ${where}`, args);
  return Number(r!.n);
}

/**
 * The standalone worker (npm run worker: bin/worker.ts) as its own node process on the fixture's database, sending
 * to `smtpUrl`, so a SIGKILL hits the worker itself. `args` are its flags (`--lease-ms 3000` …). The process is pushed
 * onto `children` for the test to kill in afterEach; its output is printed if it exits other than by a signal.
 */
export function startWorkerProcess(f: Fixture, smtpUrl: string, args: string[], children: ChildProcess[]): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/worker.ts', ...args], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
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

/** Resolves once the process has exited (at once if it already has). */
export const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
