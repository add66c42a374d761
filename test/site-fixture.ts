// The test fixture with the site started on it: renders into the fixture's temp folder and serves through the same app.
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { RenderReport } from '../api/site/render.ts';
import { startSite, type Site } from '../api/site/start.ts';
import { declare, examples, makeFixture, seedComponents, type Fixture } from './fixture.ts';

export interface SiteFixture extends Fixture {
  site: Site;
  renders: RenderReport[];
  logs: string[];
  /** GETs a path from the app (public site, /internal/ or API) with no token unless given. */
  get(path: string, headers?: Record<string, string>): Promise<Response>;
  /** Waits until every queued render is done. */
  rendered(): Promise<void>;
  /** Every file of the live release, by path inside the site. */
  files(): Map<string, Buffer>;
}

export async function makeSiteFixture(env: Record<string, string> = {}, options: { components?: boolean } = {}): Promise<SiteFixture> {
  const f = await makeFixture(env);
  const renders: RenderReport[] = [];
  const logs: string[] = [];
  // Mounted before the first request: Hono builds its router then.
  const site = await startSite(f.services, f.config, { log: (m) => logs.push(m), onRendered: (r) => renders.push(r), refreshMs: 0 });
  f.app.route('/', site.routes);
  if (options.components !== false) await seedComponents(f);
  const sf: SiteFixture = {
    ...f,
    site,
    renders,
    logs,
    get: async (path, headers = {}) => f.app.request(path, { headers }),
    rendered: () => site.renderer.settled(),
    files() {
      const root = readLive(f);
      return new Map(walk(root).map((p) => [relative(root, p), readFileSync(p)]));
    },
    async close() {
      await site.close();
      await f.close();
    },
  };
  await sf.rendered();
  return sf;
}

function readLive(f: Fixture): string {
  return realpathSync(join(f.config.dataDir, 'site', 'current'));
}

export function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

export { declare, examples };

/** Posts an update to an incident with the template's example values. */
export async function postUpdate(f: Fixture, id: string, status: string, extra: Record<string, unknown> = {}) {
  const res = await f.call('POST', `/api/v1/incidents/${id}/updates`, {
    token: 'comms',
    body: { status, template: status, variables: examples(f, status), ...extra },
  });
  if (res.status !== 201) throw new Error(`update: ${res.status} ${await res.text()}`);
  return res.json() as Promise<{ id: string; updates: { id: string }[] }>;
}

/**
 * Writes `count` resolved incidents straight into the tables, spread over the past year, alternating SEV1..SEV4:
 * history, not publishes, so a test can have thousands in a second.
 */
export async function addPastIncidents(f: Fixture, count: number, componentIds = ['api', 'dashboard', 'webhooks']) {
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
              VALUES (?, ?, ?, ?, 'resolved', ?, '{}', ?, ?, ?, ?, 3, 'test', ?, ?)`,
        args: [id, `Past incident ${i}`, `Past incident ${i} (internal)`, severity, audiences, at, at, at + 1_200_000, at + 1_800_000, at, at + 1_800_000],
      });
      statements.push({ sql: `INSERT INTO incident_components (incident_id, component_id, impact) VALUES (?, ?, 'partial_outage')`, args: [id, component] });
      for (const [k, status] of ['investigating', 'monitoring', 'resolved'].entries()) {
        statements.push({
          sql: `INSERT INTO updates (id, incident_id, status, template, variables, external_subject, external_body, internal_subject,
                  internal_body, components, audiences, author, created_at)
                VALUES (?, ?, ?, ?, '{}', ?, ?, ?, ?, ?, ?, 'test', ?)`,
          args: [`${id}u${k}`, id, status, status, `Past incident ${i}`, `We are ${status} past incident ${i}.`, `[${severity}]`, `Internal notes ${i}.`, impact, audiences, at + k * 600_000],
        });
      }
    }
    await f.services.db.$client.batch(statements, 'write');
  }
}
