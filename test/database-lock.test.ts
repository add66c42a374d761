import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createClient } from '@libsql/client';
import { afterEach, expect, it } from 'vitest';
import { readConfig } from '../api/config.ts';
import { openServices } from '../api/server.ts';
import { projectRoot } from '../api/site/astro.ts';
import { createToken } from '../api/services/tokens.ts';
import { systemActor } from '../api/services/context.ts';
import { startServerProcess, type ServerProcess } from './server-process.ts';
import { until } from './until.ts';

const lockWaitMs = 1_500;
let dir: string;
let server: ServerProcess | undefined;
let holder: ChildProcess | undefined;

afterEach(async () => {
  holder?.kill('SIGKILL');
  await server?.stop();
  server = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/** A second process that holds the database's write lock (BEGIN IMMEDIATE) until told to commit on its stdin. */
function holdLock(file: string) {
  const child = spawn(
    process.execPath,
    ['-e', `const D = require('libsql'); const db = new D(process.argv[1]); db.exec('BEGIN IMMEDIATE'); console.log('locked');
      process.stdin.once('data', () => { db.exec('COMMIT'); console.log('released'); process.exit(0); });`, file],
    { cwd: projectRoot, stdio: ['pipe', 'pipe', 'inherit'] },
  );
  let said = '';
  child.stdout!.on('data', (d: Buffer) => (said += d.toString()));
  return {
    child,
    locked: () => until(() => said.includes('locked'), 'the second process to hold the lock', 10_000),
    async release() {
      child.stdin!.write('commit\n');
      await until(() => said.includes('released'), 'the second process to commit', 10_000);
    },
  };
}

it('keeps answering while another process holds the write lock, answers writes 503 with Retry-After, and commits what it acknowledged', async () => {
  dir = mkdtempSync(join(tmpdir(), 'status-lock-'));
  const env = { DATA_DIR: dir, PUBLIC_URL: 'https://status.example.com', SEED_DEMO: 'false', DATABASE_LOCK_WAIT_MS: String(lockWaitMs) };
  const setup = await openServices(readConfig(env), { log: () => {} });
  const { token } = await createToken(setup, systemActor('test setup'), { role: 'admin', name: 'Ada Admin' });
  const variables = Object.fromEntries(setup.templates.get('investigating')!.variables.map((v) => [v.name, v.example]));
  setup.db.$client.close();

  server = await startServerProcess(env);
  const call = async (method: string, path: string, body?: unknown) => {
    const started = performance.now();
    const res = await fetch(server!.url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, ms: performance.now() - started };
  };
  expect((await call('POST', '/api/v1/components', { id: 'api', name: 'API' })).status).toBe(201);
  const declare = (title: string) =>
    call('POST', '/api/v1/incidents', { title, severity: 'SEV1', template: 'investigating', variables, components: [{ id: 'api', status: 'major_outage' }] });

  const lock = holdLock(join(dir, 'status.db'));
  holder = lock.child;
  await lock.locked();

  // Four writes wait on the lock at once, while reads are timed.
  const writes = Promise.all([1, 2, 3, 4].map((i) => declare(`Under the lock ${i}`)));
  const readTimes: number[] = [];
  const reading = (async () => {
    const stop = performance.now() + lockWaitMs + 500;
    while (performance.now() < stop) {
      for (const path of ['/api/v1/health', '/', '/api/v2/summary.json']) {
        const r = await call('GET', path);
        expect(r.status, path).toBe(200);
        readTimes.push(r.ms);
      }
    }
  })();
  const refused = await writes;
  await reading;
  for (const r of refused) {
    expect(r.status, r.text).toBe(503);
    expect(r.headers.get('content-type')).toBe('application/problem+json');
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(r.text)).toMatchObject({ status: 503, title: 'Service unavailable' });
    expect(r.ms).toBeGreaterThanOrEqual(lockWaitMs - 50);
    expect(r.ms).toBeLessThan(lockWaitMs + 3_000);
  }
  const slowestRead = Math.max(...readTimes);
  expect(slowestRead).toBeLessThan(1_000);

  await lock.release();
  // Writes succeed at once after the release, each acknowledged one committed.
  const after = [];
  for (let i = 1; i <= 5; i++) after.push(await declare(`After the lock ${i}`));
  for (const r of after) expect(r.status, r.text).toBe(201);
  const ids = after.map((r) => (JSON.parse(r.text) as { id: string }).id);
  console.log(
    `lock test: ${readTimes.length} reads during the lock, slowest ${slowestRead.toFixed(0)} ms; 503 after ${refused.map((r) => r.ms.toFixed(0)).join(', ')} ms ` +
      `(bound ${lockWaitMs} ms); first write after the release ${after[0]!.ms.toFixed(0)} ms, slowest ${Math.max(...after.map((r) => r.ms)).toFixed(0)} ms`,
  );
  expect(after[0]!.ms).toBeLessThan(lockWaitMs);

  // Another connection sees every acknowledged write, and none of the refused ones …
  const other = createClient({ url: `file:${join(dir, 'status.db')}` });
  const titles = async () => (await other.execute('SELECT id, title FROM incidents ORDER BY title')).rows.map((r) => ({ id: String(r.id), title: String(r.title) }));
  const seen = await titles();
  expect(seen.map((r) => r.title)).toEqual([1, 2, 3, 4, 5].map((i) => `After the lock ${i}`));
  expect(seen.map((r) => r.id).sort()).toEqual([...ids].sort());
  other.close();

  // … and so does a fresh one after kill -9 of the server.
  await server.kill();
  server = undefined;
  const reopened = createClient({ url: `file:${join(dir, 'status.db')}` });
  const rows = (await reopened.execute('SELECT id FROM incidents')).rows.map((r) => String(r.id));
  expect(rows.sort()).toEqual([...ids].sort());
  reopened.close();
});
