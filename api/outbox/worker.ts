// The outbox worker loop: leases due deliveries, hands them to a courier (email or HTTP), and records each outcome.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Database } from '../../db/client.ts';
import type { Clock } from '../clock.ts';
import type { MailSettings } from '../mail/compose.ts';
import { SendFailure, type MailTransport } from '../mail/transport.ts';
import type { Courier, Prepared } from './courier.ts';
import { createLeaseStore, type Claimed } from './leases.ts';
import { mailCourier } from './messages.ts';
import { httpCourier, type HttpCourierOptions } from './posts.ts';
import { createSupervisor } from '../supervisor.ts';
import { afterFailure, retryPolicy, type RetryPolicy } from './retry.ts';
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
  /** Rows leased per claim. */
  batchSize?: number;
  /**
   * Messages in flight at once, each sender waiting for its own record: also the most a crash can send twice.
   * Above the SMTP pool size so the pool never waits on us.
   */
  concurrency?: number;
  /** A send that has not settled after this long counts as the server being down (default 120 s). */
  sendTimeoutMs?: number;
  /** The first wait before trying a server that is down again, in ms (1 s); it doubles up to 60 s. */
  serverBackoffMs?: number;
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
  /** Why the server as a whole failed during this drain, or null. */
  serverDown: string | null;
}

interface Item<P> {
  row: Claimed;
  prepared: Prepared<P>;
}

/** Thrown by a drain that stopped because the other side as a whole is down: its supervisor backs off, then tries again. */
export class ServerUnavailable extends Error {}

/**
 * The claim, send and settle steps around one database and one courier. `drain` sends until nothing is due;
 * a server-wide failure (refused connection, 421, no answer in time) stops it with ServerUnavailable instead of
 * spending every queued message's attempts against a server that is down: those messages keep their attempts and
 * stay due, and the supervisor (runWorker) tries the server again after its back-off.
 */
export function createWorker<P>(o: WorkerOptions, courier: Courier<P>) {
  const log = o.log ?? console.log;
  const owner = o.owner ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const batchSize = o.batchSize ?? 100;
  const concurrency = o.concurrency ?? 25;
  const leaseMs = o.leaseMs ?? 60_000;
  const sendTimeoutMs = o.sendTimeoutMs ?? 120_000;
  const retry = retryPolicy(o.retry);
  const bounceLimit = o.hardBounceLimit ?? 3;
  const store = createLeaseStore({ db: o.db, clock: o.clock, owner, recipientKinds: courier.recipientKinds, batchSize, leaseMs });
  const life = { stopping: false };

  async function failed(item: Item<P>, failure: SendFailure, stats: DrainStats) {
    if (failure.server) {
      // Not this message's fault: it keeps its attempts and stays due; the server is tried again after the back-off.
      await store.settle(item.row.id, 'pending', failure.message, item.row.attempts);
      stats.serverDown ??= failure.message;
      return;
    }
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
  }

  /** The courier's send, given up as a server-wide failure if it has not settled in sendTimeoutMs, so a drain always ends. */
  async function send(payload: P): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new SendFailure(`no answer from the ${courier.name} in ${sendTimeoutMs / 1000} s`, false, false, true)), sendTimeoutMs);
    });
    try {
      await Promise.race([courier.send(payload), late]);
    } finally {
      clearTimeout(timer);
    }
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
      await send(prepared.payload);
    } catch (e) {
      await failed(item, e instanceof SendFailure ? e : new SendFailure(String((e as Error)?.message ?? e), false, false, false), stats);
      return;
    }
    await store.acknowledge(row.id, prepared.messageId);
    if (prepared.bounced && isSuppressible(row.audience)) await clearFailures(o.db, row.audience, row.recipientId);
    stats.sent++;
  }

  /** Sends until nothing is due, the server is down (ServerUnavailable), the database fails, or it is stopping. */
  async function drain(): Promise<DrainStats> {
    const stats: DrainStats = { sent: 0, retried: 0, failed: 0, suppressed: 0, serverDown: null };
    if (life.stopping || !(await store.hasDue())) return stats;
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
      while (!life.stopping && stats.serverDown === null && feed.broken === null) {
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
          // The database failed us: stop this drain; leased rows are given back or expire, and the supervisor retries.
          feed.broken = e;
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
    await feed.claiming?.catch(() => {});
    await store.giveBack(queue.splice(0).map((i) => i.row.id));
    if (feed.broken !== null) throw feed.broken;
    if (stats.serverDown !== null) throw Object.assign(new ServerUnavailable(stats.serverDown), { stats });
    return stats;
  }

  return {
    owner,
    name: courier.name,
    drain,
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

/**
 * Runs a worker in the background under a supervisor (api/supervisor.ts), woken by publishes and polling so a retry, a
 * due reminder or a crashed peer's rows are never stranded. A drain that fails (the server is down, the database is
 * busy) is tried again after the one back-off, at most 60 s later; a wake meanwhile waits for that retry.
 */
export function runWorker(o: WorkerOptions, outbox: ReturnType<typeof createWorker<unknown>>): OutboxWorker {
  const log = o.log ?? console.log;
  const state = { down: false };
  const supervisor = createSupervisor({
    run: async () => {
      const stats = await outbox.drain();
      if (state.down && stats.sent > 0) {
        log(`outbox: ${outbox.name} is back; sending`);
        state.down = false;
      }
    },
    pollMs: o.pollMs ?? 1_000,
    baseBackoffMs: o.serverBackoffMs,
    onFailure: (e, attempt, retryIn) => {
      if (e instanceof ServerUnavailable) {
        state.down = true;
        log(`outbox: ${outbox.name} unavailable (${e.message}); trying again in ${Math.round(retryIn / 1000)} s (try ${attempt})`);
      } else log(`outbox: ${outbox.name} worker failed (try ${attempt}, again in ${Math.round(retryIn / 1000)} s): ${e.stack ?? e.message}`);
    },
  });
  supervisor.wake(0);
  return {
    owner: outbox.owner,
    wake: () => supervisor.wake(0),
    async stop() {
      outbox.stop();
      await supervisor.close();
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
