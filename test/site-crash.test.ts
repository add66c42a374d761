import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { projectRoot } from '../api/site/astro.ts';
import { startSite } from '../api/site/start.ts';
import { addPastIncidents, declare, makeSiteFixture, type SiteFixture } from './site-fixture.ts';
import { until } from './until.ts';

let f: SiteFixture;
afterEach(() => f.close());

describe('a render killed half-way', () => {
  it('leaves the previous site serving, and the next start renders what it missed', async () => {
    f = await makeSiteFixture();
    const before = f.files();
    const releases = join(f.site.output.root, 'releases');
    const liveBefore = await f.site.output.live();
    // Stop this process's renderer: from here on, the database runs ahead of the site, as after a crash.
    await f.site.close();
    const incident = await declare(f, { title: 'Everything is on fire' });
    await addPastIncidents(f, 2500);

    // `npm run build:site` in a child, killed with SIGKILL while it writes the new release.
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/build-site.ts'], {
      cwd: projectRoot,
      env: { ...process.env, DATA_DIR: f.config.dataDir, PUBLIC_URL: f.config.publicUrl, SEED_DEMO: 'false' },
      stdio: 'ignore',
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    const staging = () => readdirSync(releases).find((name) => name.startsWith(`.staging-${child.pid}-`));
    const writing = () => {
      const dir = staging();
      return dir !== undefined && existsSync(join(releases, dir, 'incidents')) && readdirSync(join(releases, dir, 'incidents')).length > 20;
    };
    await until(writing, 'the child to be writing incident pages into its staging release', 30_000, 5);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    // The half-written release is there, and nobody is served from it.
    expect(staging()).toBeDefined();
    expect(await f.site.output.live()).toBe(liveBefore);
    expect(f.files()).toEqual(before);
    const index = await (await f.get('/')).text();
    expect(index).toContain('All systems operational');
    expect(index).not.toContain('Everything is on fire');
    const summary = await (await f.get('/api/v2/summary.json')).json();
    expect(summary.incidents).toEqual([]);

    // The next start renders the missing state into a new release and clears away the dead one's leftovers.
    const site = await startSite(f.services, f.config, { log: () => {}, refreshMs: 0 });
    try {
      await site.renderer.settled();
      expect(site.renderer.lastError).toBeNull();
      expect(await site.output.live()).not.toBe(liveBefore);
      // Served by the new start's routes: each process serves its own live release from memory.
      expect(await (await site.routes.request('/')).text()).toContain('Everything is on fire');
      expect((await site.routes.request(`/incidents/${incident.id}/`)).status).toBe(200);
      expect((await site.routes.request('/incidents/past0000001/')).status).toBe(200);
      await until(() => staging() === undefined, "the dead render's staging release to be cleared away", 10_000);
    } finally {
      await site.close();
    }
  });
});
