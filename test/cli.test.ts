// The commands people type: `npm run token` creates, lists and revokes tokens; `npm start` serves the API and stops cleanly on bad config.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../api/app.ts';
import { readConfig } from '../api/config.ts';
import { openServices } from '../api/server.ts';
import { runProcess, type ProcessResult } from './server-process.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
// Run tsx with this very Node: the machine's `node` on PATH may be older than the one running the tests.
const tsx = join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');

/** A clean environment: only what a person would set, so nothing from the test runner leaks in. */
function env(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: process.env.TMPDIR, NODE_ENV: 'test', ...extra };
}

function run(script: string, args: string[], extra: Record<string, string>): Promise<ProcessResult> {
  return runProcess(process.execPath, [tsx, script, ...args], { cwd: root, env: env(extra) });
}

const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '');

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'status-cli-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('npm run token', () => {
  let dir: string;
  const token = (...args: string[]) => run('bin/token.ts', args, { DATA_DIR: dir });

  /** The API as the server would run it, on the same database file the CLI wrote. */
  async function api() {
    const services = await openServices(readConfig({ DATA_DIR: dir, SEED_DEMO: 'false' }), { log: () => {} });
    const app = createApp(services);
    return {
      get: (path: string, secret: string) => app.request(path, { headers: { authorization: `Bearer ${secret}` } }),
      close: () => services.db.$client.close(),
    };
  }

  beforeAll(() => {
    dir = tempDir();
  });

  it('creates a comms token, printed once as the last line of stdout, that works against the API; list shows it; revoke makes it 401', async () => {
    const created = await token('create', '--role', 'comms', '--name', 'Night shift lead');
    expect(created.code, created.stderr).toBe(0);
    const secret = lines(created.stdout).at(-1)!;
    expect(secret).toMatch(/^sdk_[A-Za-z0-9_-]{40,}$/);
    expect(created.stderr).toMatch(/comms/);

    const server = await api();
    try {
      expect((await server.get('/api/v1/incidents', secret)).status).toBe(200);
      // comms may publish but not manage stakeholders.
      expect((await server.get('/api/v1/stakeholders', secret)).status).toBe(403);

      const listed = await token('list');
      expect(listed.code, listed.stderr).toBe(0);
      const row = lines(listed.stdout).find((l) => l.includes('Night shift lead'));
      expect(row).toBeDefined();
      expect(row).toMatch(/comms/);
      expect(row).toMatch(/active/);
      expect(listed.stdout).not.toContain(secret);
      const id = row!.trim().split(/\s+/)[0]!;

      const revoked = await token('revoke', id);
      expect(revoked.code, revoked.stderr).toBe(0);
      expect((await server.get('/api/v1/incidents', secret)).status).toBe(401);
      expect(lines((await token('list')).stdout).find((l) => l.includes('Night shift lead'))).toMatch(/revoked/);
    } finally {
      server.close();
    }
  });

  it('refuses a bad role with a non-zero exit and a clear message, creating nothing', async () => {
    const before = lines((await token('list')).stdout).length;
    const [bad, missing] = await Promise.all([token('create', '--role', 'superuser', '--name', 'X'), token('create', '--name', 'X')]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--role must be one of viewer, comms, admin/);
    expect(bad.stdout.trim()).toBe('');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/--role/);
    expect(lines((await token('list')).stdout).length).toBe(before);
  });

  it('refuses a missing or multi-line name, an unknown id and an unknown command', async () => {
    const [noName, twoLines, unknown, usage] = await Promise.all([
      token('create', '--role', 'viewer'),
      token('create', '--role', 'viewer', '--name', 'a\nb'),
      token('revoke', 'no-such-id'),
      token('rotate'),
    ]);
    expect(noName.code).not.toBe(0);
    expect(noName.stderr).toMatch(/--name/);
    expect(twoLines.code).not.toBe(0);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/No token with id "no-such-id"/);
    expect(usage.code).not.toBe(0);
    expect(usage.stderr).toMatch(/Usage/);
  });

  it('answers a flag without its value or an unknown flag with one line and the usage, exit 2, no stack trace', async () => {
    const [noValue, unknown] = await Promise.all([token('create', '--role', 'comms', '--name', 'X', '--email'), token('create', '--role', 'comms', '--name', 'X', '--mail', 'x@example.com')]);
    for (const r of [noValue, unknown]) {
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/Usage/);
      expect(r.stderr).not.toMatch(/\n\s+at |node:internal/);
      expect(r.stdout.trim()).toBe('');
    }
    expect(noValue.stderr.split('\n')[0]).toBe('--email needs a value.');
    expect(unknown.stderr.split('\n')[0]).toBe('Unknown option --mail.');
  });

  it('stores an optional email (SPEC "Cadence"), shows it in list, refuses a bad one, and audits create and revoke as the command line', async () => {
    const created = await token('create', '--role', 'comms', '--name', 'Pager lead', '--email', 'Pager.Lead@Example.com');
    expect(created.code, created.stderr).toBe(0);
    expect(created.stderr).toContain('pager.lead@example.com');
    const row = lines((await token('list')).stdout).find((l) => l.includes('Pager lead'));
    expect(row).toContain('Pager lead <pager.lead@example.com>');
    const id = row!.trim().split(/\s+/)[0]!;

    const before = lines((await token('list')).stdout).length;
    const bad = await token('create', '--role', 'comms', '--name', 'Typo', '--email', 'pager-lead.example.com');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--email must be an email address/);
    expect(bad.stdout.trim()).toBe('');
    expect(lines((await token('list')).stdout).length).toBe(before);

    expect((await token('revoke', id)).code).toBe(0);
    const services = await openServices(readConfig({ DATA_DIR: dir, SEED_DEMO: 'false' }), { log: () => {} });
    try {
      const audit = await services.db.$client.execute({ sql: 'SELECT actor, action FROM audit_events WHERE subject_id = ? ORDER BY id', args: [id] });
      expect(audit.rows.map((r) => [r.actor, r.action])).toEqual([
        ['command line', 'token.created'],
        ['command line', 'token.revoked'],
      ]);
    } finally {
      services.db.$client.close();
    }
  });

  it('refuses bad configuration with one line', async () => {
    const bad = await run('bin/token.ts', ['list'], { DATA_DIR: dir, PORT: 'abc' });
    expect(bad.code).not.toBe(0);
    expect(lines(bad.stderr)).toHaveLength(1);
    expect(bad.stderr).toMatch(/PORT/);
  });
});

describe('npm start', () => {
  let child: ChildProcess | undefined;
  afterEach(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    child = undefined;
  });

  /** Starts the server and resolves with its URL once it prints it. */
  function start(extra: Record<string, string>): Promise<{ url: string; output: () => string }> {
    return new Promise((resolve, reject) => {
      child = spawn(process.execPath, [tsx, 'bin/start.ts'], { cwd: root, env: env({ HOST: '127.0.0.1', PORT: '0', ...extra }) });
      let stdout = '';
      let stderr = '';
      const timer = setTimeout(() => reject(new Error(`no URL printed in time.\nstdout: ${stdout}\nstderr: ${stderr}`)), 90_000);
      child.stdout!.on('data', (d) => {
        stdout += d;
        const match = /(http:\/\/127\.0\.0\.1:(\d+))/.exec(stdout);
        if (match && match[2] !== '0') {
          clearTimeout(timer);
          resolve({ url: match[1]!, output: () => stdout + stderr });
        }
      });
      child.stderr!.on('data', (d) => (stderr += d));
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`exited with ${code}.\nstdout: ${stdout}\nstderr: ${stderr}`));
      });
    });
  }

  it('serves health, the OpenAPI document with every fixed path, and the docs; SEED_DEMO=false starts empty', async () => {
    const { url } = await start({ DATA_DIR: tempDir(), SEED_DEMO: 'false' });
    const health = await fetch(`${url}/api/v1/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });

    const openapi = await fetch(`${url}/api/v1/openapi.json`);
    expect(openapi.status).toBe(200);
    const doc = await openapi.json();
    const paths = Object.keys(doc.paths).map((p) => p.replace(/^\/api\/v1/, ''));
    const fixed: [string, string][] = [
      ['/health', 'get'],
      ['/templates', 'get'],
      ['/templates/{key}/preview', 'post'],
      ['/components', 'get'],
      ['/components', 'post'],
      ['/components/{id}', 'patch'],
      ['/components/{id}', 'delete'],
      ['/incidents', 'get'],
      ['/incidents', 'post'],
      ['/incidents/{id}', 'get'],
      ['/incidents/{id}/updates', 'post'],
      ['/incidents/{id}/postmortem', 'put'],
      ['/maintenances', 'get'],
      ['/maintenances', 'post'],
      ['/maintenances/{id}/updates', 'post'],
      ['/stakeholders', 'get'],
      ['/stakeholders', 'post'],
      ['/stakeholders/{id}', 'delete'],
      ['/subscribers', 'post'],
      ['/subscribers/confirm', 'get'],
      ['/subscribers/unsubscribe', 'get'],
      ['/subscribers/unsubscribe', 'post'],
    ];
    for (const [path, method] of fixed) {
      expect(paths, path).toContain(path);
      const item = doc.paths[path] ?? doc.paths[`/api/v1${path}`];
      expect(Object.keys(item), `${method} ${path}`).toContain(method);
    }
    expect(JSON.stringify(doc.components.schemas)).toContain('DeclareIncident');

    const docs = await fetch(`${url}/api/docs`);
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-type')).toMatch(/text\/html/);
    const html = await docs.text();
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain('/incidents/{id}/updates');

    const components = await (await fetch(`${url}/api/v1/components`)).json();
    expect(components.components).toEqual([]);
  });

  it('seeds the demo page by default on an empty database', async () => {
    const { url } = await start({ DATA_DIR: tempDir() });
    const components = await (await fetch(`${url}/api/v1/components`)).json();
    expect(components.components.map((c: { id: string }) => c.id)).toEqual(expect.arrayContaining(['website', 'dashboard', 'api', 'webhooks']));
  });

  it('exits non-zero with one clear line on stderr for a bad PORT', async () => {
    const result = await run('bin/start.ts', [], { DATA_DIR: tempDir(), PORT: 'abc' });
    expect(result.code).not.toBe(0);
    expect(lines(result.stderr)).toEqual(['Configuration error: PORT="abc" must be a whole number from 0 to 65535']);
  });

  it('exits non-zero with one line naming the variable for each bad setting', async () => {
    const dir = tempDir();
    const results = await Promise.all(
      [
        ['SMTP_URL', 'mail.example.com'],
        ['TIME_ZONE', 'Mars/Base'],
        ['SEED_DEMO', 'maybe'],
      ].map(async ([name, value]) => [name!, await run('bin/start.ts', [], { DATA_DIR: dir, [name!]: value! })] as const),
    );
    for (const [name, result] of results) {
      expect(result.code, name).not.toBe(0);
      expect(lines(result.stderr), name).toHaveLength(1);
      expect(result.stderr, name).toContain(name);
    }
  });
});
