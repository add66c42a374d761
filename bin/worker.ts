// npm run worker: one more outbox worker process beside the server, sharing the database's outbox through leases.
import { parseArgs } from 'node:util';
import { openDatabase } from '../db/client.ts';
import { systemClock } from '../api/clock.ts';
import { ConfigError, readConfig } from '../api/config.ts';
import { mailSettings } from '../api/mail/compose.ts';
import { mailTransport } from '../api/mail/transport.ts';
import { startHttpWorker, startOutboxWorker } from '../api/outbox/worker.ts';

const usage = `Usage: npm run worker -- [--batch 100] [--concurrency 25] [--lease-ms 60000] [--poll-ms 1000]
                           [--retry-base-ms 30000] [--retry-max-ms 60000] [--max-attempts 1440]
Reads DATABASE_URL, DATA_DIR, SMTP_URL, MAIL_FROM, PUBLIC_URL and WEBHOOK_ALLOW_PRIVATE like npm start.`;

function numbers(values: Record<string, string | boolean | undefined>) {
  const out: Record<string, number | undefined> = {};
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined || typeof value === 'boolean') continue;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new ConfigError(`--${name} must be a positive whole number, not ${JSON.stringify(value)}`);
    out[name] = n;
  }
  return out;
}

try {
  const { values } = parseArgs({
    options: {
      batch: { type: 'string' },
      concurrency: { type: 'string' },
      'lease-ms': { type: 'string' },
      'poll-ms': { type: 'string' },
      'retry-base-ms': { type: 'string' },
      'retry-max-ms': { type: 'string' },
      'max-attempts': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const n = numbers(values);
  const config = readConfig();
  const db = await openDatabase({ url: config.databaseUrl, authToken: config.databaseAuthToken, lockWaitMs: config.databaseLockWaitMs });
  const log = (m: string) => console.log(m);
  const transport = mailTransport(config, log);
  // Both workers, email and HTTP, run with the same tuning.
  const tuning = {
    db,
    clock: systemClock,
    log,
    batchSize: n.batch,
    concurrency: n.concurrency,
    leaseMs: n['lease-ms'],
    pollMs: n['poll-ms'],
    retry: { baseMs: n['retry-base-ms'], maxMs: n['retry-max-ms'], maxAttempts: n['max-attempts'] },
  };
  const worker = startOutboxWorker({ ...tuning, transport, mail: mailSettings(config) });
  const posts = startHttpWorker({ ...tuning, publicUrl: config.publicUrl, timeZone: config.timeZone, webhookAllowPrivate: config.webhookAllowPrivate });
  console.log(`Outbox worker ${worker.owner} sending through ${transport.description}, and to channels and webhooks over HTTP.`);
  const stop = async () => {
    await Promise.all([worker.stop(), posts.stop()]);
    await transport.close();
    db.$client.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // Keeps a standalone worker alive whatever its timers are doing between runs.
  setInterval(() => {}, 1 << 30);
} catch (e) {
  if (e instanceof ConfigError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    console.error((e as Error).message);
    console.error(usage);
    process.exit(1);
  }
  throw e;
}
