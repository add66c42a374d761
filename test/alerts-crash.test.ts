// kill -9 during an alert declare: the group's claim and the incident are one transaction, so Alertmanager's retry declares exactly one incident.
import { createClient } from '@libsql/client';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { count } from './api-support.ts';
import { makeFixture, seedComponents, type Fixture } from './fixture.ts';
import { startServerProcess, waitFor, type ServerProcess } from './server-process.ts';

let f: Fixture;
const servers: ServerProcess[] = [];

beforeEach(async () => {
  f = await makeFixture();
  await seedComponents(f);
});
afterEach(async () => {
  for (const s of servers.splice(0)) await s.kill();
  await f.close();
});

/** An Alertmanager (version 4) notification for one critical alert of one group. */
const notification = JSON.stringify({
  version: '4',
  groupKey: '{}:{alertname="CheckoutDown"}',
  status: 'firing',
  receiver: 'statusdesk',
  groupLabels: { alertname: 'CheckoutDown' },
  commonLabels: { alertname: 'CheckoutDown', severity: 'critical', component: 'api' },
  commonAnnotations: { summary: 'Checkout is down' },
  externalURL: 'http://alertmanager.example.org:9093',
  alerts: [{ status: 'firing', labels: { alertname: 'CheckoutDown', severity: 'critical', component: 'api' }, annotations: {}, startsAt: '2026-11-23T11:58:00Z', fingerprint: 'c0ffee' }],
});

const send = (server: ServerProcess) =>
  fetch(`${server.url}/api/v1/alerts/alertmanager`, {
    method: 'POST',
    headers: { authorization: `Bearer ${f.tokens.comms}`, 'content-type': 'application/json' },
    body: notification,
  });

const start = () =>
  startServerProcess({ DATABASE_URL: f.config.databaseUrl, DATA_DIR: f.dir, PUBLIC_URL: 'https://status.example.com' }).then((s) => (servers.push(s), s));

it('declares one incident when the server is killed with SIGKILL mid-declare and Alertmanager retries', { timeout: 180_000 }, async () => {
  // A declare that cannot finish: a trigger on the incident insert that computes for minutes, inside the intake's transaction.
  const db = f.services.db.$client;
  await db.execute('CREATE TABLE slow_rows (x INTEGER)');
  await db.execute('WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) INSERT INTO slow_rows SELECT i FROM n');
  await db.execute('CREATE TRIGGER slow_declare AFTER INSERT ON incidents BEGIN SELECT count(*) FROM slow_rows a, slow_rows b, slow_rows c; END');

  const first = await start();
  const pending = send(first).catch((e: unknown) => e);
  // The intake's transaction holds the write lock while the trigger runs: a second connection that may not wait
  // cannot take it, for as long as we look (renders and workers hold it for milliseconds, never a whole second).
  const probe = createClient({ url: f.config.databaseUrl.startsWith('file:') ? f.config.databaseUrl : `file:${f.config.databaseUrl}`, timeout: 1 });
  let lockedSince: number | null = null;
  await waitFor(
    'the declare to hold the write lock for a second',
    async () => {
      try {
        await probe.execute('BEGIN IMMEDIATE');
        await probe.execute('ROLLBACK');
        lockedSince = null;
      } catch {
        lockedSince ??= performance.now();
      }
      return lockedSince !== null && performance.now() - lockedSince > 1_000;
    },
    60_000,
    50,
  );
  probe.close();
  await first.kill();
  expect(await pending).toBeInstanceOf(Error); // the connection died with the process
  await db.execute('DROP TRIGGER slow_declare');
  // Nothing of the declare outlived it: no incident, and no claim on the group to hold the retry off.
  expect(await count(f, 'incidents')).toBe(0);
  expect(await count(f, 'alert_groups')).toBe(0);

  // Alertmanager retries the failed notification; an HA peer delivers the same one at the same time.
  const second = await start();
  const answers = await Promise.all([send(second), send(second)]);
  const outcomes = await Promise.all(answers.map(async (r) => [r.status, ((await r.json()) as { outcome: string }).outcome]));
  expect(outcomes.sort()).toEqual([
    [200, 'repeat'],
    [201, 'declared'],
  ]);
  expect(await count(f, 'incidents')).toBe(1);
  const [group] = (await db.execute('SELECT incident_id FROM alert_groups')).rows;
  const [incident] = (await db.execute('SELECT id FROM incidents')).rows;
  expect(group!.incident_id).toBe(incident!.id);
  // And a later ordinary repeat stays a repeat.
  const later = await send(second);
  expect(later.status).toBe(200);
  expect(await count(f, 'incidents')).toBe(1);
});
