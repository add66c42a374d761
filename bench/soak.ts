// npm run soak -- --minutes N: a real server and worker under a steady publish load while faults come and go; prints what was kept, lost and doubled.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createClient } from '@libsql/client';
import { readConfig } from '../api/config.ts';
import { openServices } from '../api/server.ts';
import { projectRoot } from '../api/site/astro.ts';
import { createToken } from '../api/services/tokens.ts';
import { startServerProcess, type ServerProcess } from '../test/server-process.ts';
import { startSmtpSink } from '../test/smtp-sink.ts';
import { systemActor } from '../api/services/context.ts';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '10' }, subscribers: { type: 'string', default: '40' } } });
const minutes = Number(values.minutes);
const subscriberCount = Number(values.subscribers);
if (!(minutes > 0) || !(subscriberCount >= 0)) {
  console.error('Usage: npm run soak -- --minutes 10 [--subscribers 40]');
  process.exit(2);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const between = (lo: number, hi: number) => lo + Math.random() * (hi - lo);
const log = (m: string) => console.error(`soak ${(performance.now() / 1000).toFixed(0).padStart(4)} s: ${m}`);

const dir = mkdtempSync(join(tmpdir(), 'status-soak-'));
const lockWaitMs = 2_000;
const env = {
  DATA_DIR: dir,
  PUBLIC_URL: 'https://status.example.com',
  SEED_DEMO: 'false',
  WEBHOOK_ALLOW_PRIVATE: 'true',
  DATABASE_LOCK_WAIT_MS: String(lockWaitMs),
  // No reminders: every delivery this run expects is caused by a publish.
  CADENCE: 'SEV1:0,SEV2:0,SEV3:0,SEV4:0',
};

// The outside world: a mail server and a webhook receiver, in this process, that faults can take down.
const smtp = await startSmtpSink();
const webhooks = await startReceiver();
Object.assign(env, { SMTP_URL: smtp.url });

// Tokens and subscribers written before the server starts.
const setup = await openServices(readConfig(env), { log: () => {} });
const admin = (await createToken(setup, systemActor('soak'), { role: 'admin', name: 'Soak admin' })).token;
const now = Date.now();
await setup.db.$client.execute({
  sql: `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
        INSERT INTO subscribers (id, email, confirmed_at, unsubscribe_token, created_at)
        SELECT 'sub' || i, 'reader' || i || '@example.com', ?, 'token-' || i, ? FROM n`,
  args: [subscriberCount, now, now],
});
const variables = Object.fromEntries(setup.templates.get('investigating')!.variables.map((v) => [v.name, v.example]));
const updateVariables = Object.fromEntries(setup.templates.get('identified')!.variables.map((v) => [v.name, v.example]));
setup.db.$client.close();

let server: ServerProcess = await startServerProcess(env);
let worker = startWorker();
const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
  const res = await fetch(server.url + path, {
    method,
    headers: { authorization: `Bearer ${admin}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(30_000),
  });
  return { status: res.status, text: await res.text() };
};
await call('POST', '/api/v1/components', { id: 'api', name: 'API' });
await call('POST', '/api/v1/stakeholders', { email: 'exec@example.com', name: 'Eve Exec' });
for (const path of ['/a', '/b']) await call('POST', '/api/v1/subscribers', { webhook: webhooks.url + path });

// Faults, one at a time, each for a few seconds with quiet gaps between.
let fault: string | null = null;
let serverDown = false;
const faults: Record<string, () => Promise<void>> = {
  'SMTP server down': async () => {
    await smtp.down();
    await sleep(between(3_000, 10_000));
    await smtp.up();
  },
  'webhook receiver down': async () => {
    await webhooks.down();
    await sleep(between(3_000, 10_000));
    await webhooks.up();
  },
  'another process holds the database lock': async () => {
    await holdLock(join(dir, 'status.db'), between(1_000, lockWaitMs * 2));
  },
  'kill -9 of the worker': async () => {
    worker.kill('SIGKILL');
    await sleep(between(1_000, 5_000));
    worker = startWorker();
  },
  'kill -9 of the server': async () => {
    serverDown = true;
    await server.kill();
    server = await startServerProcess(env);
    serverDown = false;
  },
};
const tally = { faults: new Map<string, number>(), acknowledged: 0, gaveUp: 0, answers5xx: new Map<string, number>(), slowest: { ms: 0, during: '' }, slowestCalm: 0, readsUnanswered: 0 };
const count = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
/** Publishes each acknowledged, per incident: the updates the database must hold. */
const acked = new Map<string, number>();

const endAt = performance.now() + minutes * 60_000;
const running = { load: true };

const deck: string[] = [];
const faulting = (async () => {
  while (performance.now() < endAt - 15_000) {
    await sleep(between(3_000, 8_000));
    // Drawn from a shuffled deck, so every kind comes up once before any comes up twice.
    if (deck.length === 0) deck.push(...Object.keys(faults).sort(() => Math.random() - 0.5));
    const name = deck.pop()!;
    fault = name;
    count(tally.faults, name);
    log(`fault: ${name}`);
    await faults[name]!().catch((e: unknown) => log(`fault ${name} failed: ${(e as Error).message}`));
    fault = null;
  }
})();

const reading = (async () => {
  while (running.load) {
    for (const path of ['/', '/api/v2/summary.json']) {
      const during = fault;
      const started = performance.now();
      try {
        const res = await fetch(server.url + path, { signal: AbortSignal.timeout(10_000) });
        await res.arrayBuffer();
        const ms = performance.now() - started;
        if (during && ms > tally.slowest.ms) tally.slowest = { ms, during };
        if (!during && ms > tally.slowestCalm) tally.slowestCalm = ms;
      } catch {
        if (!serverDown) tally.readsUnanswered++;
      }
    }
    await sleep(100);
  }
})();

/** One publish, retried with its Idempotency-Key until it is answered 2xx (or 60 s pass): what a careful client does. */
async function publish(path: string, body: unknown): Promise<{ id: string } | null> {
  const key = `soak-${Math.random().toString(36).slice(2)}`;
  const giveUpAt = performance.now() + 60_000;
  while (performance.now() < giveUpAt) {
    try {
      const res = await call('POST', path, body, { 'idempotency-key': key });
      if (res.status < 300) return JSON.parse(res.text) as { id: string };
      if (res.status >= 500) {
        const title = (() => {
          try {
            return (JSON.parse(res.text) as { title?: string }).title ?? '';
          } catch {
            return '';
          }
        })();
        count(tally.answers5xx, `${res.status} ${title}`.trim());
      } else {
        log(`publish refused: ${res.status} ${res.text.slice(0, 200)}`);
        return null;
      }
    } catch (e) {
      if (!serverDown) count(tally.answers5xx, `no answer (${(e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name})`);
    }
    await sleep(500);
  }
  return null;
}

const loading = (async () => {
  let n = 0;
  while (performance.now() < endAt) {
    n++;
    const declared = await publish('/api/v1/incidents', {
      title: `Soak incident ${n}`,
      severity: 'SEV2',
      template: 'investigating',
      variables,
      components: [{ id: 'api', status: 'major_outage' }],
    });
    if (!declared) {
      tally.gaveUp++;
      continue;
    }
    tally.acknowledged++;
    acked.set(declared.id, 1);
    for (const status of ['identified', 'resolved'] as const) {
      await sleep(400);
      const body =
        status === 'identified'
          ? { status, template: 'identified', variables: updateVariables }
          : { status, template: 'resolved', variables: Object.fromEntries(setupVariables('resolved')), components: [{ id: 'api', status: 'operational' }] };
      const updated = await publish(`/api/v1/incidents/${declared.id}/updates`, body);
      if (!updated) {
        tally.gaveUp++;
        break;
      }
      tally.acknowledged++;
      acked.set(declared.id, acked.get(declared.id)! + 1);
    }
    await sleep(400);
  }
})();

await loading;
running.load = false;
await Promise.all([faulting, reading]);
log('load over; letting the outbox settle');

// Settle: everything up, and every due delivery sent or given up (a killed worker's leases run out after 60 s).
const db = createClient({ url: `file:${join(dir, 'status.db')}` });
const scalar = async (q: string) => Number((await db.execute(q)).rows[0]![0]);
const settleBy = performance.now() + 180_000;
while (performance.now() < settleBy && (await scalar("SELECT count(*) FROM deliveries WHERE status = 'pending'")) > 0) await sleep(500);

const missing = await (async () => {
  let m = 0;
  for (const [id, publishes] of acked) m += Math.max(0, publishes - (await scalar(`SELECT count(*) FROM updates WHERE incident_id = '${id}'`)));
  return m;
})();
const rows = (await db.execute("SELECT audience, email, status, message_id FROM deliveries WHERE audience IN ('subscriber', 'stakeholder', 'webhook')")).rows;
// A delivery is known by its recipient and Message-ID (email) or its webhook-id: both are stable across retries.
const received = [
  ...smtp.received.map((r) => `${r.to.join(',')} ${/^message-id:\s*(<[^>]+>)/im.exec(r.raw.subarray(0, 16_384).toString('utf8'))?.[1] ?? '?'}`),
  ...webhooks.seen.map((id) => `webhook ${id}`),
];
const unique = new Set(received);
const key = (r: Record<string, unknown>) => (r.audience === 'webhook' ? `webhook ${String(r.message_id)}` : `${String(r.email)} ${String(r.message_id)}`);
const sentRows = rows.filter((r) => r.status === 'sent');
const expected = rows.length;
const lost = rows.filter((r) => r.status !== 'sent' || !unique.has(key(r))).length;
const unsettled = rows.filter((r) => r.status === 'pending').length;

const table: [string, string, string][] = [
  ['minutes', String(minutes), ''],
  ['faults', [...tally.faults].map(([k, v]) => `${k} ×${v}`).join('; ') || 'none', ''],
  ['publishes acknowledged', String(tally.acknowledged), ''],
  ['publishes given up after 60 s of retries', String(tally.gaveUp), ''],
  ['acknowledged but missing', String(missing), '0'],
  ['deliveries expected', String(expected), ''],
  ['deliveries sent', String(sentRows.length), ''],
  ['deliveries lost', `${lost}${unsettled ? ` (${unsettled} still pending after 3 min)` : ''}`, '0'],
  ['deliveries duplicated', String(received.length - unique.size), '≤ concurrent sends per crash'],
  ['5xx answers by cause', [...tally.answers5xx].map(([k, v]) => `${k} ×${v}`).join('; ') || 'none', 'no 500'],
  ['slowest public read during a fault', `${tally.slowest.ms.toFixed(0)} ms${tally.slowest.during ? ` (${tally.slowest.during})` : ''}`, '< 1000 ms'],
  ['slowest public read with no fault (the baseline)', `${tally.slowestCalm.toFixed(0)} ms`, ''],
  ['public reads unanswered (server up)', String(tally.readsUnanswered), '0'],
];
const widths = [0, 1].map((i) => Math.max(...table.map((r) => r[i]!.length)));
for (const [a, b, c] of table) console.log(`${a.padEnd(widths[0]!)}  ${b.padEnd(widths[1]!)}  ${c}`);

db.close();
worker.kill('SIGTERM');
await server.stop();
await smtp.close();
await webhooks.close();
rmSync(dir, { recursive: true, force: true });
process.exit(0);

function setupVariables(template: string): [string, string][] {
  return template === 'resolved'
    ? [
        ['what_happened', 'Between 14:02 and 14:40 UTC some requests failed.'],
        ['resolution', 'A rollback held for 30 minutes at baseline.'],
      ]
    : [];
}

/** The standalone outbox worker (npm run worker) as its own process, on short leases so a kill is taken over soon. */
function startWorker(): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/worker.ts', '--lease-ms', '10000', '--poll-ms', '200', '--retry-base-ms', '1000'], {
    cwd: projectRoot,
    env: { ...process.env, ...env },
    stdio: 'ignore',
  });
  return child;
}

/** A second process holding BEGIN IMMEDIATE on the database file for `ms`, then committing. */
async function holdLock(file: string, ms: number): Promise<void> {
  const child = spawn(
    process.execPath,
    ['-e', `const D = require('libsql'); const db = new D(process.argv[1]); db.exec('BEGIN IMMEDIATE'); setTimeout(() => { db.exec('COMMIT'); process.exit(0); }, Number(process.argv[2]));`, file, String(Math.round(ms))],
    { cwd: projectRoot, stdio: 'ignore' },
  );
  await new Promise((r) => child.once('exit', r));
}

/** A webhook receiver that records each webhook-id and can stop listening (connection refused) and come back on its port. */
async function startReceiver() {
  const seen: string[] = [];
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push(String(req.headers['webhook-id']));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    async down() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
    async up() {
      await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
    },
    async close() {
      server.closeAllConnections();
      await new Promise((r) => (server.listening ? server.close(r) : r(null)));
    },
  };
}
