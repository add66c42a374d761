// Starts everything on one port: migrations, templates, demo seed, the API, the site and the background workers.
import { createServer, type RequestListener } from 'node:http';
import { fileURLToPath } from 'node:url';
import { serve, type ServerType } from '@hono/node-server';
import { openDatabase, type Database } from '../db/client.ts';
import { createApp } from './app.ts';
import { systemClock, type Clock } from './clock.ts';
import type { Config } from './config.ts';
import { mailSettings } from './mail/compose.ts';
import { mailTransport } from './mail/transport.ts';
import { startHttpWorker, startOutboxWorker } from './outbox/worker.ts';
import { createPublishHook } from './publish.ts';
import { isEmpty, seedDemo } from './seed.ts';
import type { Services } from './services/context.ts';
import { advanceMaintenances } from './services/maintenances.ts';
import { queueReliabilityBriefing } from './services/reliability.ts';
import { startupReachWarning } from './services/reach.ts';
import { issueFirstAdminLink } from './services/stakeholder-sign-in.ts';
import { oidcSignIn } from './services/oidc.ts';
import { loadTemplates } from './templates.ts';
import { consoleMount } from './console/routes.ts';
import { startSite } from './site/start.ts';
import { createSupervisor } from './supervisor.ts';
import { housekeeping } from './services/housekeeping.ts';

export const templatesDir = fileURLToPath(new URL('../templates', import.meta.url));

export interface Running {
  url: string;
  services: Services;
  close(): Promise<void>;
}

interface StartOptions {
  clock?: Clock;
  log?: (message: string) => void;
  /** How often the clock starts and completes maintenance windows; 0 turns it off (tests drive it by hand). */
  schedulerIntervalMs?: number;
  /** How often the outbox worker looks for due emails besides being woken by each publish; 0 turns it off. */
  outboxPollMs?: number;
}

export async function openServices(config: Config, options: StartOptions = {}): Promise<Services & { db: Database }> {
  const log = options.log ?? console.log;
  const templates = loadTemplates(templatesDir);
  const db = await openDatabase({ url: config.databaseUrl, authToken: config.databaseAuthToken, lockWaitMs: config.databaseLockWaitMs });
  return {
    db,
    templates,
    clock: options.clock ?? systemClock,
    hook: createPublishHook((m) => log(m)),
    publicUrl: config.publicUrl,
    severityPolicy: config.severityPolicy,
    cadence: config.cadence,
    webhookAllowPrivate: config.webhookAllowPrivate,
    alerts: config.alerts,
    trustedProxies: config.trustedProxies,
    maintenanceReminderHours: config.maintenanceReminderHours,
    timeZone: config.timeZone,
    pageName: config.pageName,
    brand: config.brand,
  };
}

export async function startServer(config: Config, options: StartOptions = {}): Promise<Running> {
  const log = options.log ?? console.log;
  const services = await openServices(config, options);
  if ((config.seedDemo ?? true) && (await isEmpty(services))) {
    await seedDemo(services);
    log('Seeded a demo status page (SEED_DEMO=false to start empty).');
  }
  const emptyAudience = await startupReachWarning(services.db, services.severityPolicy);
  if (emptyAudience) log(emptyAudience);
  const app = createApp(services);
  const stops: (() => Promise<void> | void)[] = [];
  // The public site and /internal/: rendered now, and again on every publish.
  const sso = config.oidc ? oidcSignIn(config.oidc, config.publicUrl) : undefined;
  const site = await startSite(services, config, { log, sso, console: (parts) => consoleMount({ services, mailFrom: config.mailFrom, ...parts }) });
  app.route('/', site.routes);
  stops.push(() => site.close());

  const interval = options.schedulerIntervalMs ?? 15_000;
  if (interval > 0) {
    const tidy = housekeeping(services);
    const scheduler = createSupervisor({
      run: async () => {
        await advanceMaintenances(services);
        await queueReliabilityBriefing(services, config.reportDay);
        await tidy();
      },
      pollMs: interval,
      onFailure: (e, attempt, retryIn) => log(`scheduler failed (try ${attempt}, again in ${Math.round(retryIn / 1000)} s): ${e.message}`),
    });
    stops.push(() => scheduler.close());
  }

  const outboxPollMs = options.outboxPollMs ?? 1_000;
  if (outboxPollMs > 0) {
    const transport = mailTransport(config, log);
    const outbox = startOutboxWorker({ db: services.db, clock: services.clock, transport, mail: mailSettings(config), log, pollMs: outboxPollMs });
    // Chat channels and webhook subscribers have their own worker, so a mail outage never holds them up.
    const posts = startHttpWorker({
      db: services.db,
      clock: services.clock,
      log,
      pollMs: outboxPollMs,
      publicUrl: config.publicUrl,
      timeZone: config.timeZone,
      webhookAllowPrivate: config.webhookAllowPrivate,
    });
    const unhook = services.hook.subscribe(() => {
      outbox.wake();
      posts.wake();
    });
    log(`Outbox worker sending through ${transport.description}.`);
    stops.push(async () => {
      unhook();
      await Promise.all([outbox.stop(), posts.stop()]);
      await transport.close();
    });
  }

  const server = await new Promise<ServerType>((resolve) => {
    // Public site requests are answered from memory before the app sees them (api/site/serve.ts, siteFastPath).
    const withFastPath = ((options: object, listener: RequestListener) =>
      createServer(options, (req, res) => {
        if (!site.fastPath(req, res)) void listener(req, res);
      })) as typeof createServer;
    const s = serve({ fetch: app.fetch, port: config.port, hostname: config.host, createServer: withFastPath }, () => resolve(s));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  // First run (SPEC "People"): while no admin member exists, one line with a one-time link that makes its user the
  // first admin. Minted once the port is known: a PUBLIC_URL left to default on PORT=0 names no port anyone can open.
  const linkBase = /:0$/.test(config.publicUrl) ? url : config.publicUrl;
  const firstAdmin = await issueFirstAdminLink({ ...services, publicUrl: linkBase });
  if (firstAdmin) log(`No admin yet: sign in as the first admin within 15 minutes, once, at ${firstAdmin.url}`);
  return {
    url,
    services,
    async close() {
      for (const stop of stops.reverse()) await stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      services.db.$client.close();
    },
  };
}
