// statusctl action-items as a subprocess against a real server: add, list by state, mark done, and a refusal that names the field.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../api/config.ts';
import { startServer, type Running } from '../api/server.ts';
import { projectRoot } from '../api/site/astro.ts';
import { createToken } from '../api/services/tokens.ts';
import { runProcess, type ProcessResult } from './server-process.ts';
import { systemActor } from '../api/services/context.ts';

let running: Running;
let dir: string;
let comms = '';
let incidentId = '';
const shim = join(projectRoot, 'bin', 'statusctl.mjs');

const statusctl = (args: string[]): Promise<ProcessResult> =>
  runProcess(process.execPath, [shim, ...args], { cwd: projectRoot, env: { ...process.env, STATUS_URL: running.url, STATUS_TOKEN: comms, NO_COLOR: '1' }, closeStdin: true });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'status-ctl-items-'));
  running = await startServer(readConfig({ DATA_DIR: dir, PORT: '0', SEED_DEMO: 'false', PUBLIC_URL: 'http://127.0.0.1' }), { log: () => {}, schedulerIntervalMs: 0, outboxPollMs: 0 });
  comms = (await createToken(running.services, systemActor('test'), { role: 'comms', name: 'Casey Comms' })).token;
  const call = (path: string, body: unknown) =>
    fetch(`${running.url}/api/v1${path}`, { method: 'POST', headers: { authorization: `Bearer ${comms}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const admin = (await createToken(running.services, systemActor('test'), { role: 'admin', name: 'Ada' })).token;
  await fetch(`${running.url}/api/v1/components`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ id: 'api', name: 'API' }) });
  const res = await call('/incidents', { title: 'Checkout errors', severity: 'SEV2', template: 'investigating', variables: { symptom: 'Errors at checkout.' }, components: [{ id: 'api', status: 'partial_outage' }] });
  incidentId = ((await res.json()) as { id: string }).id;
}, 120_000);

afterAll(async () => {
  await running?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('statusctl action-items', () => {
  it('adds an item, lists it as open, marks it done, and lists it as done', async () => {
    const added = await statusctl(['action-items', 'add', incidentId, '--title', 'Alert on checkout errors', '--owner', 'sam@example.com', '--due', '2099-12-01', '--priority', 'P1']);
    expect(added.code, added.stderr).toBe(0);
    const id = added.stdout.trim();
    expect(id).toMatch(/^[a-z0-9]+$/);
    const open = await statusctl(['action-items', 'list', '--status', 'open']);
    expect(open.stdout).toContain(`${id}  P1  2099-12-01  open`);
    expect(open.stdout).toContain('Alert on checkout errors');
    const done = await statusctl(['action-items', 'done', id]);
    expect(done.code, done.stderr).toBe(0);
    expect((await statusctl(['action-items', 'list', '--status', 'open'])).stdout.trim()).toBe('No action items.');
    expect((await statusctl(['action-items', 'list', '--status', 'done'])).stdout).toContain(id);
  });

  it('fails with the problem detail naming the field, and with a usage error when a flag is missing', async () => {
    const bad = await statusctl(['action-items', 'add', incidentId, '--title', 'x', '--owner', 'Payments team', '--due', '2099-12-01']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('owner');
    const missing = await statusctl(['action-items', 'add', incidentId, '--title', 'x']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--owner');
  });
});
