// One fixture for every test: a real app on a libSQL file in a temp folder, with a token for each role.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../api/app.ts';
import { manualClock } from '../api/clock.ts';
import { readConfig, type Config } from '../api/config.ts';
import { openServices } from '../api/server.ts';
import type { Services } from '../api/services/context.ts';
import { createToken } from '../api/services/tokens.ts';

export interface Fixture {
  dir: string;
  config: Config;
  services: Services;
  clock: ReturnType<typeof manualClock>;
  app: ReturnType<typeof createApp>;
  tokens: { admin: string; comms: string; viewer: string };
  /** Calls the app in-process; `token` picks a role's token, or pass a raw Authorization value. */
  call(method: string, path: string, options?: CallOptions): Promise<Response>;
  close(): Promise<void>;
}

export interface CallOptions {
  token?: keyof Fixture['tokens'] | null;
  body?: unknown;
  /** A raw body string, sent as is (for malformed JSON tests). */
  raw?: string;
  headers?: Record<string, string>;
}

export async function makeFixture(env: Record<string, string> = {}): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'status-test-'));
  const config = readConfig({ DATA_DIR: dir, PUBLIC_URL: 'https://status.example.com', SEED_DEMO: 'false', ...env });
  const clock = manualClock('2026-11-23T12:00:00Z');
  const services = await openServices(config, { clock, log: () => {} });
  const app = createApp(services);
  const setup = { name: 'test setup' };
  const tokens = {
    admin: (await createToken(services, setup, { role: 'admin', name: 'Ada Admin' })).token,
    comms: (await createToken(services, setup, { role: 'comms', name: 'Casey Comms' })).token,
    viewer: (await createToken(services, setup, { role: 'viewer', name: 'Vic Viewer' })).token,
  };
  return {
    dir,
    config,
    services,
    clock,
    app,
    tokens,
    async call(method, path, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      const token = options.token === undefined ? 'admin' : options.token;
      if (token) headers.authorization = `Bearer ${tokens[token]}`;
      let body: string | undefined = options.raw;
      if (options.body !== undefined) {
        body = JSON.stringify(options.body);
        headers['content-type'] ??= 'application/json';
      }
      return app.request(path, { method, headers, body });
    },
    async close() {
      services.db.$client.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Adds the components most tests need: api, dashboard, webhooks. */
export async function seedComponents(f: Fixture) {
  for (const [i, id] of ['api', 'dashboard', 'webhooks'].entries()) {
    const res = await f.call('POST', '/api/v1/components', { body: { id, name: id[0]!.toUpperCase() + id.slice(1), order: i } });
    if (res.status !== 201) throw new Error(`seeding component ${id}: ${res.status} ${await res.text()}`);
  }
}

/** Example values for every variable of a template, as a comms lead would fill them. */
export function examples(f: Fixture, key: string): Record<string, string> {
  const template = f.services.templates.get(key);
  if (!template) throw new Error(`no template ${key}`);
  return Object.fromEntries(template.variables.map((v) => [v.name, v.example]));
}

export async function declare(f: Fixture, overrides: Record<string, unknown> = {}) {
  const res = await f.call('POST', '/api/v1/incidents', {
    token: 'comms',
    body: {
      title: 'Checkout errors',
      internalTitle: 'Payments DB connection pool exhausted',
      severity: 'SEV1',
      template: 'investigating',
      variables: examples(f, 'investigating'),
      components: [{ id: 'api', status: 'major_outage' }],
      ...overrides,
    },
  });
  if (res.status !== 201) throw new Error(`declare: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: string; version: number; status: string; updates: { id: string }[] };
}
