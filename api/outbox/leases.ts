// The lease and acknowledgement store: claims due deliveries for one worker, records outcomes, gives rows back.
import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.ts';
import type { Clock } from '../clock.ts';

/** A delivery row as a worker claimed it. */
export interface Claimed {
  id: number;
  updateId: string | null;
  kind: string;
  audience: string;
  recipientId: string;
  /** The address: an email address, or a channel's or webhook subscriber's URL. */
  email: string;
  /** Position in a series (the nth overdue notice); 0 when absent. */
  seq?: number;
  attempts: number;
  /** Epoch ms at which the lease runs out. */
  leaseUntil: number;
}

export interface LeaseOptions {
  db: Database;
  clock: Clock;
  /** Names this worker in lease_owner. */
  owner: string;
  /** Which recipient kinds this store claims: the email worker and the HTTP worker each take their own. */
  recipientKinds: readonly string[];
  /** Rows leased per claim. */
  batchSize: number;
  /** How long a claim holds its rows, in ms; a crashed worker's rows are taken over after this. */
  leaseMs: number;
}

/**
 * Every statement the worker runs against the outbox. A message is recorded as sent right after its server
 * accepted it, whoever holds the lease now; the records of all senders waiting at that moment are written together
 * in one UPDATE (each statement costs far more than each row; decision 005), and each sender waits for its own.
 */
export function createLeaseStore(o: LeaseOptions) {
  // A literal IN list: SQLite plans it better than a json_each subquery on every claim.
  const kinds = sql.join(o.recipientKinds.map((a) => sql`${a}`), sql`, `);
  const acks = { queue: [] as { id: number; messageId: string; written: () => void; failed: (e: unknown) => void }[], writing: null as Promise<void> | null };

  async function hasDue(): Promise<boolean> {
    const now = o.clock.now().getTime();
    const rows = await o.db.all(sql`
      SELECT 1 FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ${now}
        AND (lease_until IS NULL OR lease_until < ${now}) AND audience IN (${kinds}) LIMIT 1`);
    return rows.length > 0;
  }

  /** One statement leases up to batchSize due rows; SQLite runs it under the write lock, so no two workers get one row. */
  async function claim(): Promise<Claimed[]> {
    const now = o.clock.now().getTime();
    const rows = await o.db.all<Record<string, string | number | null>>(sql`
      UPDATE deliveries SET lease_owner = ${o.owner}, lease_until = ${now + o.leaseMs}
      WHERE id IN (
        SELECT id FROM deliveries
        WHERE status = 'pending' AND next_attempt_at <= ${now} AND (lease_until IS NULL OR lease_until < ${now})
          AND audience IN (${kinds})
        ORDER BY next_attempt_at, id LIMIT ${o.batchSize})
      RETURNING id, update_id, kind, audience, recipient_id, email, seq, attempts, lease_until`);
    return rows
      .map((r) => ({
        id: Number(r.id),
        updateId: r.update_id as string | null,
        kind: String(r.kind),
        audience: String(r.audience),
        recipientId: String(r.recipient_id),
        email: String(r.email),
        seq: Number(r.seq),
        attempts: Number(r.attempts),
        leaseUntil: Number(r.lease_until),
      }))
      .sort((a, b) => a.id - b.id);
  }

  /** Writes every waiting acknowledgement in one UPDATE, then the ones that arrived meanwhile, until none wait. */
  function writeAcks(): Promise<void> {
    if (acks.writing) return acks.writing;
    const write = async () => {
      while (acks.queue.length > 0) {
        const batch = acks.queue.splice(0);
        const now = o.clock.now().getTime();
        try {
          await o.db.run(sql`
            UPDATE deliveries SET status = 'sent', attempts = attempts + 1, sent_at = ${now}, message_id = json_extract(a.value, '$[1]'),
              last_error = NULL, lease_owner = NULL, lease_until = NULL
            FROM json_each(${JSON.stringify(batch.map((a) => [a.id, a.messageId]))}) AS a
            WHERE deliveries.id = json_extract(a.value, '$[0]')`);
          for (const a of batch) a.written();
        } catch (e) {
          // These rows stay leased and pending: they are sent again after the lease, never lost.
          for (const a of batch) a.failed(e);
        }
      }
    };
    acks.writing = write().finally(() => {
      acks.writing = null;
    });
    return acks.writing;
  }

  /**
   * Records one delivery as sent and resolves once that is written. Senders wait for their own record, so at any
   * moment each sender has at most one accepted message unrecorded: a crash sends again at most the messages in
   * flight (one per concurrent sender), never a batch. Records that arrive while one UPDATE runs go together in the
   * next (group commit; decision 005).
   */
  function acknowledge(id: number, messageId: string): Promise<void> {
    const written = new Promise<void>((resolve, reject) => acks.queue.push({ id, messageId, written: resolve, failed: reject }));
    void writeAcks();
    return written;
  }

  /** Records a failed attempt's outcome, only while this worker still holds the row. */
  async function settle(id: number, status: 'pending' | 'failed' | 'suppressed', reason: string, attempts: number, nextAttemptAt?: number) {
    await o.db.run(sql`
      UPDATE deliveries SET status = ${status}, attempts = ${attempts}, last_error = ${reason.slice(0, 500)},
        next_attempt_at = coalesce(${nextAttemptAt ?? null}, next_attempt_at), lease_owner = NULL, lease_until = NULL
      WHERE id = ${id} AND status = 'pending' AND lease_owner = ${o.owner}`);
  }

  /** Gives rows back without spending an attempt: used on pause, on stop, and when a lease is about to run out. */
  async function giveBack(ids: number[]) {
    if (ids.length === 0) return;
    await o.db.run(sql`
      UPDATE deliveries SET lease_owner = NULL, lease_until = NULL
      WHERE lease_owner = ${o.owner} AND status = 'pending' AND id IN (SELECT value FROM json_each(${JSON.stringify(ids)}))`);
  }

  return { hasDue, claim, acknowledge, settle, giveBack };
}

export type LeaseStore = ReturnType<typeof createLeaseStore>;
