// A webhook receiver that goes away and comes back is used again by itself, without a restart, within its back-off.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterEach, expect, it } from 'vitest';
import { systemClock } from '../api/clock.ts';
import { startHttpWorker, type OutboxWorker } from '../api/outbox/worker.ts';
import { declare, makeFixture, seedComponents, type Fixture } from './fixture.ts';
import { countRows } from './fanout-support.ts';
import { until } from './until.ts';

let f: Fixture | undefined;
let worker: OutboxWorker | undefined;
let server: Server | undefined;

afterEach(async () => {
  await worker?.stop();
  server?.closeAllConnections();
  await new Promise((r) => (server?.listening ? server.close(r) : r(null)));
  await f?.close();
  worker = f = server = undefined;
});

/** A real HTTP receiver that can stop listening (callers see connection refused) and listen again on the same port. */
async function receiver() {
  const seen: string[] = [];
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push(String(req.headers['webhook-id']));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    async down() {
      server!.closeAllConnections();
      await new Promise((r) => server!.close(r));
    },
    async up() {
      await new Promise<void>((r) => server!.listen(port, '127.0.0.1', () => r()));
    },
  };
}

it('delivers every webhook queued while its receiver was down once the receiver is back, each once', async () => {
  f = await makeFixture({ WEBHOOK_ALLOW_PRIVATE: 'true' });
  await seedComponents(f);
  const sink = await receiver();
  for (const path of ['/a', '/b', '/c']) {
    const res = await f.call('POST', '/api/v1/subscribers', { token: null, body: { webhook: sink.url + path } });
    expect(res.status).toBe(201);
  }
  f.clock.set(new Date());
  const logs: string[] = [];
  // The production cap (60 s between tries) with a 1 s start, so the test takes seconds.
  worker = startHttpWorker({
    db: f.services.db,
    clock: systemClock,
    log: (m) => logs.push(m),
    pollMs: 20,
    publicUrl: f.config.publicUrl,
    webhookAllowPrivate: true,
    retry: { baseMs: 1_000 },
  });
  const unhook = f.services.hook.subscribe(() => worker!.wake());
  await sink.down();
  for (let i = 1; i <= 4; i++) await declare(f, { title: `Incident ${i}` });
  const expected = await countRows(f, 'deliveries', "audience = 'webhook'");
  expect(expected).toBeGreaterThanOrEqual(12);
  await until(async () => (await countRows(f!, 'deliveries', "audience = 'webhook' AND attempts >= 2")) === expected, 'every webhook tried twice against the closed port', 30_000);
  const backAt = performance.now();
  await sink.up();
  await until(() => new Set(sink.seen).size === expected, `all ${expected} webhooks`, 30_000);
  const recoveredMs = performance.now() - backAt;
  await until(async () => (await countRows(f!, 'deliveries', "audience = 'webhook' AND status = 'sent'")) === expected, 'every webhook recorded as sent');
  unhook();
  console.log(`webhook receiver back: ${expected} deliveries all received ${(recoveredMs / 1000).toFixed(1)} s later`);
  expect(sink.seen).toHaveLength(expected);
  expect(recoveredMs).toBeLessThan(15_000);
});
