// The outbox worker loop: leases due deliveries, hands them to a courier (email or HTTP), and records each outcome.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Database } from '../../db/client.ts';
import type { Clock } from '../clock.ts';
import type { MailSettings } from '../mail/compose.ts';
import { SendFailure, type MailTransport } from '../mail/transport.ts';
import type { Courier, Prepared } from './courier.ts';
import { createLeaseStore, type Claimed } from './leases.ts';
import { mailCourier } from './messages.ts';
import { httpCourier, type HttpCourierOptions } from './posts.ts';
import { afterFailure, backoffMs, retryPolicy, type RetryPolicy } from './retry.ts';
import { clearFailures, isSuppressible, recordFailure } from './suppression.ts';

export { backoffMs, defaultRetry, type RetryPolicy } from './retry.ts';
export type { Claimed } from './leases.ts';
export type { Courier, Prepared } from './courier.ts';

export interface WorkerOptions {
  db: Database;
  /** Times written to the outbox (next attempt, lease, sent at) come from the same clock as publishing. */
  clock: Clock;
  log?: (message: string) => void;
  /** Names this worker in lease_owner; unique per process by default. */
  owner?: string;
  /** Rows leased per claim; also the most a crash can send twice (messages in flight plus those not yet recorded). */
  batchSize?: number;
  /** Messages in flight at once; well above the SMTP pool size so the pool never waits on us. */
  concurrency?: number;
  /** How long acknowledgements gather before one UPDATE records them all as sent. */
  ackWindowMs?: number;
  /** How long a claim holds its rows; a crashed worker's rows are taken over after this. */
  leaseMs?: number;
  /** How often an idle worker looks for due rows, besides being woken by a publish. */
  pollMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Consecutive hard bounces (email) or given-up deliveries (webhooks) after which a recipient is suppressed. */
  hardBounceLimit?: number;
}

export interface OutboxOptions extends WorkerOptions {
  transport: MailTransport;
  mail: MailSettings;
}

export interface DrainStats {
  sent: number;
  retried: number;
  failed: number;
  suppressed: number;
}

interface Item<P> {
  row: Claimed;
  prepared: Prepared<P>;
}

/** Pauses a courier after server-wide failures (a mail server that is down), in real time, not the domain clock. */
function serverPause(retry: RetryPolicy, log: (m: string) => void, name: string) {
  const state = { until: 0, failures: 0 };
  return {
    paused: () => performance.now() < state.until,
    failed(reason: string) {
      state.failures++;
      const pause = backoffMs(state.failures, retry);
      if (performance.now() >= state.until) log(`outbox: ${name} unavailable (${reason}); pausing ${Math.round(pause / 1000)} s`);
      state.until = Math.max(state.until, performance.now() + pause);
    },
    succeeded() {
      if (state.failures === 0) return;
      log(`outbox: ${name} is back; sending`);
      state.failures = 0;
    },
  };
}

/**
 * The claim, send and settle steps around one database and one courier. `drain` sends until nothing is due;
 * a server-wide failure (refused connection, 421) pauses the whole worker with back-off instead of spending
 * every queued message's attempts against a server that is down.
 */
export function createWorker<P>(o: WorkerOptions, courier: Courier<P>) {
  const log = o.log ?? console.log;
  const owner = o.owner ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const batchSize = o.batchSize ?? 100;
  const concurrency = o.concurrency ?? 25;
  const leaseMs = o.leaseMs ?? 60_000;
  const retry = retryPolicy(o.retry);
  const bounceLimit = o.hardBounceLimit ?? 3;
  // In flight plus recorded-but-unwritten stays within one batch: the most a crash can send twice.
  const store = createLeaseStore({
    db: o.db,
    clock: o.clock,
    owner,
    recipientKinds: courier.recipientKinds,
    batchSize,
    leaseMs,
    ackWindowMs: o.ackWindowMs ?? 50,
    unwrittenLimit: Math.max(1, batchSize - concurrency),
  });
  const pause = serverPause(retry, log, courier.name);
  const life = { stopping: false };

  async function failed(item: Item<P>, e: unknown, stats: DrainStats) {
    const failure = e instanceof SendFailure ? e : new SendFailure(String((e as Error)?.message ?? e), false, false, false);
    const outcome = afterFailure(failure, item.row.attempts, retry, o.clock.now().getTime());
    if (outcome.status === 'failed') {
      await store.settle(item.row.id, 'failed', failure.message, outcome.attempts);
      if (failure.bounce && isSuppressible(item.row.audience)) {
        if (await recordFailure(o.db, item.row.audience, item.row.recipientId, bounceLimit, o.clock.now())) {
          log(`outbox: ${item.row.audience} ${item.row.recipientId} suppressed after ${bounceLimit} consecutive failures`);
        }
      }
      stats.failed++;
    } else {
      await store.settle(item.row.id, 'pending', failure.message, outcome.attempts, outcome.nextAttemptAt);
      stats.retried++;
    }
    if (failure.server) pause.failed(failure.message);
  }

  async function deliver(item: Item<P>, stats: DrainStats) {
    const { row, prepared } = item;
    if ('skip' in prepared) {
      await store.settle(row.id, 'suppressed', prepared.skip, row.attempts);
      stats.suppressed++;
      return;
    }
    // Too close to the end of the lease: another worker may take the row over, so leave it to them.
    if (o.clock.now().getTime() > row.leaseUntil - Math.min(leaseMs / 4, 15_000)) {
      await store.giveBack([row.id]);
      return;
    }
    try {
      await courier.send(prepared.payload);
    } catch (e) {
      await failed(item, e, stats);
      return;
    }
    pause.succeeded();
    await store.acknowledge(row.id, prepared.messageId);
    if (prepared.bounced && isSuppressible(row.audience)) await clearFailures(o.db, row.audience, row.recipientId);
    stats.sent++;
  }

  /** Sends until nothing is due, a server failure pauses the worker, or it is stopping. */
  async function drain(): Promise<DrainStats> {
    const stats: DrainStats = { sent: 0, retried: 0, failed: 0, suppressed: 0 };
    if (life.stopping || pause.paused() || !(await store.hasDue())) return stats;
    const queue: Item<P>[] = [];
    const feed = { exhausted: false, claiming: null as Promise<void> | null, broken: null as unknown };
    const refill = () =>
      (feed.claiming ??= (async () => {
        try {
          const rows = await store.claim();
          if (rows.length === 0) feed.exhausted = true;
          const prepared = await courier.prepare(rows, o.clock.now());
          rows.forEach((row, i) => queue.push({ row, prepared: prepared[i]! }));
        } finally {
          feed.claiming = null;
        }
      })());
    const lane = async () => {
      while (!life.stopping && !pause.paused() && feed.broken === null && !store.failed()) {
        const item = queue.shift();
        try {
          if (!item) {
            if (feed.exhausted) return;
            await refill();
            continue;
          }
          // Claim the next batch while this one is still sending, so the transport never idles between batches.
          if (queue.length < concurrency && !feed.exhausted) void refill().catch(() => {});
          await deliver(item, stats);
        } catch (e) {
          // The database failed us: stop this drain; leased rows are given back or expire, and a later poll retries.
          feed.broken = e;
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
    await store.flush().catch((e: unknown) => (feed.broken ??= e));
    await feed.claiming?.catch(() => {});
    await store.giveBack(queue.splice(0).map((i) => i.row.id));
    if (feed.broken !== null) throw feed.broken;
    return stats;
  }

  return {
    owner,
    drain,
    paused: pause.paused,
    stop() {
      life.stopping = true;
    },
  };
}

/** The email outbox: confirmations, subscriber updates, briefings, and reminders to the comms lead. */
export function createOutbox(o: OutboxOptions) {
  return createWorker(o, mailCourier(o.db, o.mail, o.transport));
}

export interface OutboxWorker {
  owner: string;
  /** Look for due rows now, e.g. right after a publish. */
  wake(): void;
  /** Finishes the messages in flight, gives back the rest of its leases, and stops. */
  stop(): Promise<void>;
}

/** Runs a worker in the background: woken by publishes, and polling so a retry, a due reminder or a crashed peer's rows are never stranded. */
export function runWorker(o: WorkerOptions, outbox: ReturnType<typeof createWorker<unknown>>): OutboxWorker {
  const log = o.log ?? console.log;
  const state = { running: null as Promise<void> | null, again: false, stopped: false };

  const wake = () => {
    if (state.stopped) return;
    if (state.running) {
      state.again = true;
      return;
    }
    state.running = (async () => {
      do {
        state.again = false;
        await outbox.drain();
      } while (state.again && !state.stopped && !outbox.paused());
    })()
      .catch((e: unknown) => log(`outbox: ${(e as Error).stack ?? String(e)}`))
      .finally(() => {
        state.running = null;
      });
  };

  const timer = setInterval(wake, o.pollMs ?? 1_000);
  timer.unref();
  wake();
  return {
    owner: outbox.owner,
    wake,
    async stop() {
      state.stopped = true;
      clearInterval(timer);
      outbox.stop();
      await state.running;
    },
  };
}

export type HttpOutboxOptions = WorkerOptions & Omit<HttpCourierOptions, 'db'>;

/** The HTTP outbox: chat channels and webhook subscribers. `close` ends its keep-alive connections. */
export function createHttpOutbox(o: HttpOutboxOptions) {
  const courier = httpCourier({ ...o, db: o.db });
  return { ...createWorker(o, courier), close: () => courier.close() };
}

/** The HTTP outbox running in the background; stopping it also closes its connections. */
export function startHttpWorker(o: HttpOutboxOptions): OutboxWorker {
  const outbox = createHttpOutbox(o);
  const worker = runWorker(o, outbox as unknown as ReturnType<typeof createWorker<unknown>>);
  return {
    owner: worker.owner,
    wake: worker.wake,
    async stop() {
      await worker.stop();
      outbox.close();
    },
  };
}

/** The email outbox running in the background. */
export function startOutboxWorker(o: OutboxOptions): OutboxWorker {
  return runWorker(o, createOutbox(o) as ReturnType<typeof createWorker<unknown>>);
}
