// kill -9 during a keyed publish: the key's claim does not outlive the process, and the use case's outcome commits with
// the publish, so a retry publishes once whenever the kill lands.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { claimLeaseMs } from '../api/idempotency.ts';
import { count } from './api-support.ts';
import { examples, makeFixture, seedComponents, type Fixture } from './fixture.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
let f: Fixture;
const children: ChildProcess[] = [];

beforeEach(async () => {
  f = await makeFixture();
  await seedComponents(f);
});
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await f.close();
});

/** `npm start` as its own node process on the fixture's database; resolves with its URL once it listens. */
async function startServer(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/start.ts'], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: f.config.databaseUrl, DATA_DIR: f.dir, PORT: '0', PUBLIC_URL: 'https://status.example.com', SEED_DEMO: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 60 s:\n${output}`)), 60_000);
    const read = (d: Buffer) => {
      output += d.toString();
      const match = /running at (http:\/\/[^/\s]+)\//.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', (code, signal) => reject(new Error(`server exited ${code ?? signal}:\n${output}`)));
  });
  return { child, url };
}

const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number) {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

it('lets a retry publish once after the server is killed with SIGKILL mid-publish', { timeout: 180_000 }, async () => {
  const body = JSON.stringify({
    title: 'Checkout errors',
    severity: 'SEV1',
    template: 'investigating',
    variables: examples(f, 'investigating'),
    components: [{ id: 'api', status: 'major_outage' }],
  });
  const publish = (url: string) =>
    fetch(`${url}/api/v1/incidents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${f.tokens.comms}`, 'content-type': 'application/json', 'idempotency-key': 'crash-1' },
      body,
    });

  // A publish that cannot finish: a trigger on the incident insert that computes for minutes, inside the publish's transaction.
  const db = f.services.db.$client;
  await db.execute('CREATE TABLE slow_rows (x INTEGER)');
  await db.execute('WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) INSERT INTO slow_rows SELECT i FROM n');
  await db.execute('CREATE TRIGGER slow_publish AFTER INSERT ON incidents BEGIN SELECT count(*) FROM slow_rows a, slow_rows b, slow_rows c; END');

  const first = await startServer();
  const pending = publish(first.url).catch((e: unknown) => e);
  await waitFor('the key to be claimed', async () => (await db.execute("SELECT count(*) AS n FROM idempotency_keys WHERE key = 'crash-1' AND status = 0")).rows[0]!.n === 1, 30_000);
  first.child.kill('SIGKILL');
  await exited(first.child);
  expect(await pending).toBeInstanceOf(Error); // the connection died with the process
  await db.execute('DROP TRIGGER slow_publish');
  expect(await count(f, 'incidents')).toBe(0); // the publish's transaction died with it

  const second = await startServer();
  const started = Date.now();
  const statuses: number[] = [];
  const retryAfter: number[] = [];
  let answer: Response | undefined;
  await waitFor(
    'a retry that is not 409',
    async () => {
      const res = await publish(second.url);
      statuses.push(res.status);
      if (res.status === 409) {
        retryAfter.push(Number(res.headers.get('retry-after')));
        await res.arrayBuffer();
        await new Promise((r) => setTimeout(r, 250));
        return false;
      }
      answer = res;
      return true;
    },
    claimLeaseMs + 20_000,
  );
  expect(answer!.status, `retries answered ${statuses.join(', ')}`).toBe(201);
  expect(Date.now() - started).toBeLessThan(claimLeaseMs + 20_000);
  // While the lease ran, each retry was told when to come back, within the lease.
  for (const seconds of retryAfter) {
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThanOrEqual(claimLeaseMs / 1000);
  }
  const published = (await answer!.json()) as { id: string };
  expect(await count(f, 'incidents')).toBe(1);

  const replay = await publish(second.url);
  expect(replay.status).toBe(201);
  expect(replay.headers.get('idempotent-replayed')).toBe('true');
  expect(((await replay.json()) as { id: string }).id).toBe(published.id);
  expect(await count(f, 'incidents')).toBe(1);
  second.child.kill('SIGTERM');
  await exited(second.child);
});

it('answers a retry with the first incident when the kill lands after the publish committed but before its answer was stored (issue 17)', { timeout: 180_000 }, async () => {
  const body = JSON.stringify({
    title: 'Checkout errors',
    severity: 'SEV1',
    template: 'investigating',
    variables: examples(f, 'investigating'),
    components: [{ id: 'api', status: 'major_outage' }],
  });
  const publish = (url: string) =>
    fetch(`${url}/api/v1/incidents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${f.tokens.comms}`, 'content-type': 'application/json', 'idempotency-key': 'crash-2' },
      body,
    });

  // Storing the answer cannot finish: a trigger on the key's answer that computes for minutes, after the publish's commit.
  const db = f.services.db.$client;
  await db.execute('CREATE TABLE slow_rows (x INTEGER)');
  await db.execute('WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) INSERT INTO slow_rows SELECT i FROM n');
  await db.execute('CREATE TRIGGER slow_answer BEFORE UPDATE OF status ON idempotency_keys WHEN NEW.status <> 0 BEGIN SELECT count(*) FROM slow_rows a, slow_rows b, slow_rows c; END');

  const first = await startServer();
  const pending = publish(first.url).catch((e: unknown) => e);
  await waitFor('the publish to commit', async () => (await count(f, 'incidents')) === 1, 30_000);
  first.child.kill('SIGKILL');
  await exited(first.child);
  expect(await pending).toBeInstanceOf(Error);
  await db.execute('DROP TRIGGER slow_answer');
  // The window of the report: the incident is public, the key has no answer.
  expect(await count(f, 'incidents')).toBe(1);
  expect(await count(f, 'idempotency_keys', "WHERE key = 'crash-2' AND status = 0")).toBe(1);
  const declared = (await db.execute('SELECT id FROM incidents')).rows[0]!.id;
  const deliveries = await count(f, 'deliveries');

  const second = await startServer();
  let answer: Response | undefined;
  await waitFor(
    'a retry that is not 409',
    async () => {
      const res = await publish(second.url);
      if (res.status === 409) {
        await res.arrayBuffer();
        await new Promise((r) => setTimeout(r, 250));
        return false;
      }
      answer = res;
      return true;
    },
    claimLeaseMs + 20_000,
  );
  expect(answer!.status).toBe(201);
  expect(((await answer!.json()) as { id: string }).id).toBe(declared);
  expect(await count(f, 'incidents')).toBe(1);
  expect(await count(f, 'deliveries')).toBe(deliveries);
  second.child.kill('SIGTERM');
  await exited(second.child);
});
