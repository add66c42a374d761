// The test fixture with the site started on it: renders into the fixture's temp folder and serves through the same app.
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { RenderReport } from '../api/site/render.ts';
import { startSite, type Site } from '../api/site/start.ts';
import { addPastIncidents, declare, examples, makeFixture, seedComponents, type Fixture } from './fixture.ts';

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

export { addPastIncidents, declare, examples };

/** Posts an update to an incident with the template's example values. */
export async function postUpdate(f: Fixture, id: string, status: string, extra: Record<string, unknown> = {}) {
  const res = await f.call('POST', `/api/v1/incidents/${id}/updates`, {
    token: 'comms',
    body: { status, template: status, variables: examples(f, status), ...extra },
  });
  if (res.status !== 201) throw new Error(`update: ${res.status} ${await res.text()}`);
  return res.json() as Promise<{ id: string; updates: { id: string }[] }>;
}
