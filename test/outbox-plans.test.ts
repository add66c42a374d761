// What a publish does to the outbox must not grow with the outbox: cancelling an incident's reminders reads its own rows, not every pending delivery.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { suppressPending, suppressPendingQuery } from '../api/services/outbox.ts';
import { declare, makeFixture, seedComponents, type Fixture } from './fixture.ts';

let f: Fixture;
beforeEach(async () => {
  f = await makeFixture();
  await seedComponents(f);
});
afterEach(() => f.close());

/** 5,000 pending subscriber deliveries of another update: a large fan-out still being sent. */
async function pendingFanOut(updateId: string) {
  const now = f.clock.now().getTime();
  const rows = Array.from({ length: 5_000 }, (_, i) => ({
    sql: `INSERT INTO deliveries (update_id, kind, audience, recipient_id, email, status, next_attempt_at, created_at) VALUES (?, 'update', 'subscriber', ?, ?, 'pending', ?, ?)`,
    args: [updateId, `sub${i}`, `reader${i}@example.com`, now, now],
  }));
  await f.services.db.$client.batch(rows, 'write');
}

describe('suppressing an incident’s pending reminders', () => {
  it('finds them through the update index, whatever else is pending (the plan never walks the pending queue)', async () => {
    const busy = await declare(f, { title: 'Busy fan-out' });
    await pendingFanOut(busy.updates[0]!.id);
    const { sql, params } = suppressPendingQuery(f.services.db, { incidentId: 'some-incident' }, ['due_reminder', 'overdue'], 'an update was posted').toSQL();
    const plan = (await f.services.db.$client.execute({ sql: `EXPLAIN QUERY PLAN ${sql}`, args: params as never[] })).rows.map((r) => String(r.detail)).join(' | ');
    expect(plan).toContain('deliveries_once');
    expect(plan).not.toContain('deliveries_due');
  });

  it('suppresses only the pending rows of those kinds on that incident’s updates', async () => {
    const incident = await declare(f);
    const other = await declare(f, { title: 'Another outage' });
    await pendingFanOut(incident.updates[0]!.id);
    // The comms lead's reminders for each: due before the next update, then overdue.
    const now = f.clock.now().getTime();
    for (const i of [incident, other]) {
      for (const [seq, kind] of ['due_reminder', 'overdue', 'overdue'].entries()) {
        await f.services.db.$client.execute({
          sql: `INSERT INTO deliveries (update_id, kind, audience, recipient_id, email, seq, status, next_attempt_at, created_at) VALUES (?, ?, 'comms', 'casey@example.com', 'casey@example.com', ?, 'pending', ?, ?)`,
          args: [i.updates[0]!.id, kind, seq, now + (seq + 1) * 600_000, now],
        });
      }
    }
    const count = async (where: string, args: string[]) =>
      Number((await f.services.db.$client.execute({ sql: `SELECT count(*) AS n FROM deliveries d JOIN updates u ON u.id = d.update_id WHERE ${where}`, args })).rows[0]!.n);
    const reminders = (id: string, status: string) => count(`u.incident_id = ? AND d.kind IN ('due_reminder', 'overdue') AND d.status = ?`, [id, status]);
    expect(await reminders(incident.id, 'pending')).toBeGreaterThan(0);
    const otherPending = await reminders(other.id, 'pending');
    expect(otherPending).toBeGreaterThan(0);

    await suppressPending(f.services.db, { incidentId: incident.id }, ['due_reminder', 'overdue'], 'an update was posted');

    expect(await reminders(incident.id, 'pending')).toBe(0);
    expect(await reminders(incident.id, 'suppressed')).toBeGreaterThan(0);
    expect(await reminders(other.id, 'pending')).toBe(otherPending);
    expect(await count(`u.incident_id = ? AND d.kind = 'update' AND d.status = 'pending'`, [incident.id])).toBeGreaterThanOrEqual(5_000);
  });
});
