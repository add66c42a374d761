// One fixture for every test: a real app on a libSQL file in a temp folder, with a token for each role.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../api/app.ts';
import { manualClock } from '../api/clock.ts';
import { readConfig, type Config } from '../api/config.ts';
import { openServices } from '../api/server.ts';
import { systemActor, type Services } from '../api/services/context.ts';
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
  const setup = systemActor('test setup');
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

/**
 * Writes `count` resolved incidents straight into the tables, spread over the year before the clock's now and
 * alternating SEV1..SEV4 (SEV1/SEV2 public), each with three updates on one component of `componentIds`:
 * history, not publishes, so a test or a benchmark can have thousands in a second. Ids are `past0000000`, `past0000001`, ….
 */
export async function addPastIncidents(f: { services: Pick<Services, 'db' | 'clock'> }, count: number, componentIds = ['api', 'dashboard', 'webhooks']) {
  const day = 24 * 60 * 60 * 1000;
  const start = f.services.clock.now().getTime() - 365 * day;
  for (let from = 0; from < count; from += 500) {
    const statements = [];
    for (let i = from; i < Math.min(count, from + 500); i++) {
      const id = `past${String(i).padStart(7, '0')}`;
      const at = start + Math.floor((i / count) * 360 * day);
      const severity = ['SEV1', 'SEV2', 'SEV3', 'SEV4'][i % 4]!;
      const pub = i % 4 < 2;
      const audiences = JSON.stringify({ public: pub, subscribers: pub, stakeholders: i % 4 < 3 });
      const component = componentIds[i % componentIds.length]!;
      const impact = JSON.stringify([{ id: component, name: component, status: 'partial_outage' }]);
      statements.push({
        sql: `INSERT INTO incidents (id, title, internal_title, severity, status, audiences, roles, started_at, acknowledged_at,
                mitigated_at, resolved_at, version, created_by, created_at, updated_at)
              VALUES (?, ?, ?, ?, 'resolved', ?, '{}', ?, ?, ?, ?, 3, 'history', ?, ?)`,
        args: [id, `Past incident ${i}`, `Past incident ${i} (internal)`, severity, audiences, at, at, at + 1_200_000, at + 1_800_000, at, at + 1_800_000],
      });
      statements.push({ sql: `INSERT INTO incident_components (incident_id, component_id, impact) VALUES (?, ?, 'partial_outage')`, args: [id, component] });
      for (const [k, status] of ['investigating', 'monitoring', 'resolved'].entries()) {
        statements.push({
          sql: `INSERT INTO updates (id, incident_id, status, template, variables, external_subject, external_body, internal_subject,
                  internal_body, components, audiences, author, created_at)
                VALUES (?, ?, ?, ?, '{}', ?, ?, ?, ?, ?, ?, 'history', ?)`,
          args: [`${id}u${k}`, id, status, status, `Past incident ${i}`, `We are ${status} past incident ${i} on ${component}.`, `[${severity}]`, `Internal notes ${i}.`, impact, audiences, at + k * 600_000],
        });
      }
    }
    await f.services.db.$client.batch(statements, 'write');
  }
}
