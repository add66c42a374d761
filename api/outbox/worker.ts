// The outbox worker: leases due deliveries, sends them, and records each outcome, so several processes can share the work.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.ts';
import type { Clock } from '../clock.ts';
import type { MailSettings } from '../mail/compose.ts';
import { classifyError, type MailTransport } from '../mail/transport.ts';
import { createPreparer, type Claimed, type Prepared } from './messages.ts';

export interface RetryPolicy {
  /** Delay after the first failure; it doubles per attempt, with jitter, up to maxMs. */
  baseMs: number;
  maxMs: number;
  /** Transient failures after which a delivery is given up as failed. */
  maxAttempts: number;
}

export interface OutboxOptions {
  db: Database;
  /** Times written to the outbox (next attempt, lease, sent at) come from the same clock as publishing. */
  clock: Clock;
  transport: MailTransport;
  mail: MailSettings;
  log?: (message: string) => void;
  /** Names this worker in lease_owner; unique per process by default. */
  owner?: string;
  /** Rows leased per claim; also the most a crash can send twice (messages in flight plus those not yet recorded). */
  batchSize?: number;
  /** Messages in flight at once; well above the SMTP pool size so the pool never waits on us. */
  concurrency?: number;
  /** How long acknowledgements gather before one UPDATE records them all as sent; at most a batch is ever unrecorded. */
  ackWindowMs?: number;
  /** How long a claim holds its rows; a crashed worker's rows are taken over after this. */
  leaseMs?: number;
  /** How often an idle worker looks for due rows, besides being woken by a publish. */
  pollMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Hard bounces after which an address is suppressed and receives nothing more. */
  hardBounceLimit?: number;
}

export interface DrainStats {
  sent: number;
  retried: number;
  failed: number;
  suppressed: number;
}

export const defaultRetry: RetryPolicy = { baseMs: 30_000, maxMs: 60 * 60_000, maxAttempts: 15 };

/** Exponential back-off with "equal jitter": half the delay is fixed, half random, so retries spread out. */
export function backoffMs(attempt: number, policy: Pick<RetryPolicy, 'baseMs' | 'maxMs'>, random = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

interface Item {
  row: Claimed;
  prepared: Prepared;
}

/**
 * The claim, send and settle steps around one database and one transport. `drain` sends until nothing is
 * due; a server-wide failure (refused connection, 421) pauses the whole worker with back-off instead of
 * spending every queued message's attempts against a server that is down.
 */
export function createOutbox(o: OutboxOptions) {
  const log = o.log ?? console.log;
  const owner = o.owner ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const batchSize = o.batchSize ?? 100;
  const concurrency = o.concurrency ?? 25;
  const leaseMs = o.leaseMs ?? 60_000;
  const ackWindowMs = o.ackWindowMs ?? 50;
  // In flight plus recorded-but-unwritten stays within one batch: the most a crash can send twice.
  const unwrittenLimit = Math.max(1, batchSize - concurrency);
  const retry: RetryPolicy = {
    baseMs: o.retry?.baseMs ?? defaultRetry.baseMs,
    maxMs: o.retry?.maxMs ?? defaultRetry.maxMs,
    maxAttempts: o.retry?.maxAttempts ?? defaultRetry.maxAttempts,
  };
  const bounceLimit = o.hardBounceLimit ?? 3;
  const prepare = createPreparer(o.db, o.mail);
  // The pause is about the mail server in real time, not the domain clock.
  let pausedUntil = 0;
  let serverFailures = 0;
  let stopping = false;

  const paused = () => performance.now() < pausedUntil;

  async function hasDue(): Promise<boolean> {
    const now = o.clock.now().getTime();
    const rows = await o.db.all(sql`
      SELECT 1 FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ${now}
        AND (lease_until IS NULL OR lease_until < ${now}) LIMIT 1`);
    return rows.length > 0;
  }

  /** One statement leases up to batchSize due rows; SQLite runs it under the write lock, so no two workers get one row. */
  async function claim(): Promise<Claimed[]> {
    const now = o.clock.now().getTime();
    const rows = await o.db.all<{
      id: number;
      update_id: string | null;
      kind: string;
      audience: string;
      recipient_id: string;
      email: string;
      attempts: number;
      lease_until: number;
    }>(sql`
      UPDATE deliveries SET lease_owner = ${owner}, lease_until = ${now + leaseMs}
      WHERE id IN (
        SELECT id FROM deliveries
        WHERE status = 'pending' AND next_attempt_at <= ${now} AND (lease_until IS NULL OR lease_until < ${now})
        ORDER BY next_attempt_at, id LIMIT ${batchSize})
      RETURNING id, update_id, kind, audience, recipient_id, email, attempts, lease_until`);
    return rows
      .map((r) => ({
        id: Number(r.id),
        updateId: r.update_id,
        kind: r.kind,
        audience: r.audience,
        recipientId: r.recipient_id,
        email: r.email,
        attempts: Number(r.attempts),
        leaseUntil: Number(r.lease_until),
      }))
      .sort((a, b) => a.id - b.id);
  }

  /**
   * Recorded as sent right after the server accepted it, whoever holds the lease now: from then on it is never
   * sent again. Acknowledgements are written together every `ackWindowMs`, one UPDATE for all of them: each
   * statement (and each rewrite of the same pages) costs far more than each row. Senders move on without
   * waiting unless `batchSize - concurrency` acknowledgements are still unwritten, so what a crash can send
   * twice (in flight plus unwritten) is at most one batch.
   */
  const acks: { id: number; messageId: string }[] = [];
  let unwritten = 0;
  let writing: Promise<void> | null = null;
  let ackError: unknown = null;

  function writeAcks(): Promise<void> {
    if (writing) return writing;
    if (acks.length === 0) return Promise.resolve();
    const write = async () => {
      while (acks.length > 0) {
        const batch = acks.splice(0);
        const now = o.clock.now().getTime();
        try {
          await o.db.run(sql`
            UPDATE deliveries SET status = 'sent', attempts = attempts + 1, sent_at = ${now}, message_id = json_extract(a.value, '$[1]'),
              last_error = NULL, lease_owner = NULL, lease_until = NULL
            FROM json_each(${JSON.stringify(batch.map((a) => [a.id, a.messageId]))}) AS a
            WHERE deliveries.id = json_extract(a.value, '$[0]')`);
        } finally {
          // On failure these rows stay leased and pending: they are sent again after the lease, never lost.
          unwritten -= batch.length;
        }
      }
    };
    writing = write()
      .catch((e: unknown) => {
        ackError = e;
        throw e;
      })
      .finally(() => {
        writing = null;
      });
    return writing;
  }

  let timer: NodeJS.Timeout | null = null;
  async function markSent(item: Item, messageId: string) {
    acks.push({ id: item.row.id, messageId });
    unwritten++;
    if (unwritten >= unwrittenLimit) {
      await writeAcks();
      return;
    }
    timer ??= setTimeout(() => {
      timer = null;
      writeAcks().catch(() => {});
    }, ackWindowMs);
  }

  /** Every acknowledgement written, before a drain ends or the worker stops. */
  async function settleAcks() {
    if (timer) clearTimeout(timer);
    timer = null;
    while (writing || acks.length > 0) await writeAcks();
  }

  /** Only consecutive hard bounces count: a mailbox that works again starts from zero. */
  async function clearBounces(item: Item) {
    if (!('bounced' in item.prepared) || !item.prepared.bounced) return;
    const table = item.prepared.audience === 'subscriber' ? sql`subscribers` : sql`stakeholders`;
    await o.db.run(sql`UPDATE ${table} SET hard_bounces = 0 WHERE id = ${item.row.recipientId}`);
  }

  async function settle(id: number, status: 'pending' | 'failed' | 'suppressed', reason: string, attempts: number, nextAttemptAt?: number) {
    await o.db.run(sql`
      UPDATE deliveries SET status = ${status}, attempts = ${attempts}, last_error = ${reason.slice(0, 500)},
        next_attempt_at = coalesce(${nextAttemptAt ?? null}, next_attempt_at), lease_owner = NULL, lease_until = NULL
      WHERE id = ${id} AND status = 'pending' AND lease_owner = ${owner}`);
  }

  async function recordBounce(row: Claimed) {
    const now = o.clock.now().getTime();
    const table = row.audience === 'subscriber' ? sql`subscribers` : sql`stakeholders`;
    const [r] = await o.db.all<{ suppressed_at: number | null }>(sql`
      UPDATE ${table} SET hard_bounces = hard_bounces + 1,
        suppressed_at = CASE WHEN hard_bounces + 1 >= ${bounceLimit} THEN coalesce(suppressed_at, ${now}) ELSE suppressed_at END
      WHERE id = ${row.recipientId} RETURNING suppressed_at`);
    if (r?.suppressed_at) log(`outbox: ${row.audience} ${row.recipientId} suppressed after ${bounceLimit} hard bounces`);
  }

  /** Gives rows back without spending an attempt: used on pause, on stop, and when a lease is about to run out. */
  async function release(ids: number[]) {
    if (ids.length === 0) return;
    await o.db.run(sql`
      UPDATE deliveries SET lease_owner = NULL, lease_until = NULL
      WHERE lease_owner = ${owner} AND status = 'pending' AND id IN (SELECT value FROM json_each(${JSON.stringify(ids)}))`);
  }

  async function deliver(item: Item, stats: DrainStats) {
    const { row, prepared } = item;
    if ('skip' in prepared) {
      await settle(row.id, 'suppressed', prepared.skip, row.attempts);
      stats.suppressed++;
      return;
    }
    // Too close to the end of the lease: another worker may take the row over, so leave it to them.
    if (o.clock.now().getTime() > row.leaseUntil - Math.min(leaseMs / 4, 15_000)) {
      await release([row.id]);
      return;
    }
    try {
      await o.transport.send(prepared.message);
    } catch (e) {
      const failure = classifyError(e);
      const attempts = row.attempts + 1;
      if (failure.permanent || attempts >= retry.maxAttempts) {
        await settle(row.id, 'failed', failure.message, attempts);
        if (failure.bounce) await recordBounce(row);
        stats.failed++;
      } else {
        const next = o.clock.now().getTime() + backoffMs(attempts, retry);
        await settle(row.id, 'pending', failure.message, attempts, next);
        stats.retried++;
      }
      if (failure.server) {
        serverFailures++;
        const pause = backoffMs(serverFailures, retry);
        if (!paused()) log(`outbox: mail server unavailable (${failure.message}); pausing ${Math.round(pause / 1000)} s`);
        pausedUntil = Math.max(pausedUntil, performance.now() + pause);
      }
      return;
    }
    if (serverFailures > 0) {
      log('outbox: mail server is back; sending');
      serverFailures = 0;
    }
    await markSent(item, prepared.message.messageId);
    await clearBounces(item);
    stats.sent++;
  }

  /** Sends until nothing is due, a server failure pauses the worker, or it is stopping. */
  async function drain(): Promise<DrainStats> {
    const stats: DrainStats = { sent: 0, retried: 0, failed: 0, suppressed: 0 };
    if (stopping || paused() || !(await hasDue())) return stats;
    const queue: Item[] = [];
    let exhausted = false;
    let claiming: Promise<void> | null = null;
    const refill = () =>
      (claiming ??= (async () => {
        try {
          const rows = await claim();
          if (rows.length === 0) exhausted = true;
          const prepared = await prepare(rows, o.clock.now());
          rows.forEach((row, i) => queue.push({ row, prepared: prepared[i]! }));
        } finally {
          claiming = null;
        }
      })());
    let broken: unknown = null;
    const lane = async () => {
      while (!stopping && !paused() && broken === null && ackError === null) {
        const item = queue.shift();
        try {
          if (!item) {
            if (exhausted) return;
            await refill();
            continue;
          }
          // Claim the next batch while this one is still sending, so the pool never idles between batches.
          if (queue.length < concurrency && !exhausted) void refill().catch(() => {});
          await deliver(item, stats);
        } catch (e) {
          // The database failed us: stop this drain; leased rows are given back or expire, and a later poll retries.
          broken = e;
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
    await settleAcks().catch((e: unknown) => (broken ??= e));
    if (ackError !== null) {
      broken ??= ackError;
      ackError = null;
    }
    // (a prefetch may still be claiming; TS cannot see the assignment made inside refill)
    await (claiming as Promise<void> | null)?.catch(() => {});
    await release(queue.splice(0).map((i) => i.row.id));
    if (broken !== null) throw broken;
    return stats;
  }

  return {
    owner,
    drain,
    paused,
    stop() {
      stopping = true;
    },
  };
}

export interface OutboxWorker {
  owner: string;
  /** Look for due rows now, e.g. right after a publish. */
  wake(): void;
  /** Finishes the messages in flight, gives back the rest of its leases, and stops. */
  stop(): Promise<void>;
}

/** Runs the outbox in the background: woken by publishes, and polling so a retry or a crashed peer's rows are never stranded. */
export function startOutboxWorker(o: OutboxOptions): OutboxWorker {
  const log = o.log ?? console.log;
  const outbox = createOutbox(o);
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = false;

  const wake = () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        await outbox.drain();
      } while (again && !stopped && !outbox.paused());
    })()
      .catch((e: unknown) => log(`outbox: ${(e as Error).stack ?? String(e)}`))
      .finally(() => {
        running = null;
      });
  };

  const timer = setInterval(wake, o.pollMs ?? 1_000);
  timer.unref();
  wake();
  return {
    owner: outbox.owner,
    wake,
    async stop() {
      stopped = true;
      clearInterval(timer);
      outbox.stop();
      await running;
    },
  };
}
