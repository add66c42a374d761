// Subscribe does the same database work for every kind of address before it answers, so its timing tells nobody who is subscribed.
import type { Client, InStatement, Transaction } from '@libsql/client';
import { drizzle } from 'drizzle-orm/libsql';
import { afterEach, beforeEach, expect, it } from 'vitest';
import * as schema from '../db/schema.ts';
import type { Database } from '../db/client.ts';
import { confirmSubscription, confirmationLifetimeMs, confirmationToken, subscribe } from '../api/services/subscribers.ts';
import { makeFixture, seedComponents, type Fixture } from './fixture.ts';
import { rows } from './fanout-support.ts';

let f: Fixture;
beforeEach(async () => {
  f = await makeFixture();
  await seedComponents(f);
});
afterEach(() => f.close());

/**
 * The real libSQL client of the fixture's database, seen through a recorder: every statement's SQL text (not its
 * arguments) is written down in order, inside transactions too. A database handle built on it runs the real service.
 */
function recordingDatabase(client: Client) {
  const log: string[] = [];
  const text = (stmt: InStatement) => (typeof stmt === 'string' ? stmt : stmt.sql);
  const recordingTx = (tx: Transaction): Transaction =>
    new Proxy(tx, {
      get(target, name) {
        if (name === 'execute') return (stmt: InStatement) => (log.push(text(stmt)), target.execute(stmt));
        if (name === 'batch') return (stmts: InStatement[]) => (log.push(...stmts.map(text)), target.batch(stmts));
        const value = Reflect.get(target, name);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  const recording = new Proxy(client, {
    get(target, name) {
      if (name === 'execute') return (stmt: InStatement) => (log.push(text(stmt)), target.execute(stmt));
      if (name === 'batch') return (stmts: InStatement[]) => (log.push(...stmts.map(text)), target.batch(stmts));
      if (name === 'transaction') return async (...args: Parameters<Client['transaction']>) => recordingTx(await target.transaction(...args));
      const value = Reflect.get(target, name);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const db = drizzle(recording, { schema }) as unknown as Database;
  return {
    db,
    /** The statements one call of `run` made. */
    async statements(run: (db: Database) => Promise<unknown>): Promise<string[]> {
      log.length = 0;
      await run(db);
      return [...log];
    },
  };
}

it('runs the same statements, in the same order, for a new, pending, expired, confirmed and suppressed address', async () => {
  const recorder = recordingDatabase(f.services.db.$client);
  const s = { db: recorder.db, clock: f.clock };
  const run = (email: string, components?: string[]) => recorder.statements((db) => subscribe({ db, clock: f.clock }, { email, components }));

  // Set the addresses up through the service itself: pending, expired, confirmed, suppressed.
  await subscribe(s, { email: 'pending@example.com' });
  await subscribe(s, { email: 'expired@example.com' });
  await subscribe(s, { email: 'confirmed@example.com' });
  await subscribe(s, { email: 'bounced@example.com' });
  const [confirmRow] = await rows<{ id: string; unsubscribe_token: string; confirm_expires_at: number }>(
    f,
    "SELECT id, unsubscribe_token, confirm_expires_at FROM subscribers WHERE email = 'confirmed@example.com'",
  );
  const token = confirmationToken({ id: confirmRow!.id, unsubscribeToken: confirmRow!.unsubscribe_token }, new Date(confirmRow!.confirm_expires_at));
  expect((await confirmSubscription(s, token)).outcome).toBe('confirmed');
  await f.services.db.$client.execute("UPDATE subscribers SET suppressed_at = 1, confirmed_at = 1 WHERE email = 'bounced@example.com'");
  await f.services.db.$client.execute({
    sql: "UPDATE subscribers SET confirm_expires_at = ? WHERE email = 'expired@example.com'",
    args: [f.clock.now().getTime() - 1],
  });
  // Sent, so that no waiting email holds any of them back.
  await f.services.db.$client.execute("UPDATE deliveries SET status = 'sent'");
  f.clock.advance(2 * 60 * 60 * 1000);

  const fresh = await run('new@example.com', ['api']);
  expect(fresh.length).toBeGreaterThanOrEqual(4);
  for (const email of ['pending@example.com', 'expired@example.com', 'confirmed@example.com', 'bounced@example.com']) {
    expect(await run(email, ['api']), email).toEqual(fresh);
  }
  // And each did what it should: mail queued for all but the suppressed address, whose row is suppressed at once.
  const queued = await rows<{ email: string; kind: string; status: string }>(
    f,
    'SELECT email, kind, status FROM deliveries WHERE created_at = ? ORDER BY email',
    [f.clock.now().getTime()],
  );
  expect(queued).toEqual([
    { email: 'bounced@example.com', kind: 'manage_link', status: 'suppressed' },
    { email: 'confirmed@example.com', kind: 'manage_link', status: 'pending' },
    { email: 'expired@example.com', kind: 'confirmation', status: 'pending' },
    { email: 'new@example.com', kind: 'confirmation', status: 'pending' },
    { email: 'pending@example.com', kind: 'confirmation', status: 'pending' },
  ]);
  const [expired] = await rows<{ confirm_expires_at: number }>(f, "SELECT confirm_expires_at FROM subscribers WHERE email = 'expired@example.com'");
  expect(expired!.confirm_expires_at).toBe(f.clock.now().getTime() + confirmationLifetimeMs);
});
