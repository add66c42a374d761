// npm run build:site: renders the whole public site from the database into a new release under DATA_DIR/site, then exits.
import { ConfigError, readConfig } from '../api/config.ts';
import { openServices } from '../api/server.ts';
import { loadRenderer } from '../api/site/astro.ts';
import { siteOutput } from '../api/site/output.ts';
import { createSiteRenderer, type RenderReport } from '../api/site/render.ts';
import { siteSettings } from '../api/site/start.ts';

const json = process.argv.includes('--json');
const log = (m: string) => (json ? console.error(m) : console.log(m));

try {
  const config = readConfig();
  const services = await openServices(config, { log });
  const pages = await loadRenderer(log);
  const output = siteOutput(config.dataDir);
  let report: RenderReport | null = null;
  const renderer = createSiteRenderer({
    db: services.db,
    clock: services.clock,
    settings: siteSettings(config),
    output,
    pages,
    log,
    onRendered: (r) => (report = r),
  });
  renderer.renderAll();
  await renderer.settled();
  await renderer.close();
  services.db.$client.close();
  const done = report as RenderReport | null;
  if (!done) {
    console.error(`Nothing rendered: a running server renders into ${config.dataDir}/site and holds its lease; it rendered everything when it started.`);
    process.exit(1);
  }
  const peakMiB = Math.round(process.resourceUsage().maxRSS / 1024);
  if (json) console.log(JSON.stringify({ files: done.files, ms: Math.round(done.ms), peakMiB }));
  else console.log(`Rendered ${done.files} files in ${(done.ms / 1000).toFixed(1)} s into ${await output.live()} (peak memory ${peakMiB} MiB).`);
} catch (e) {
  if (e instanceof ConfigError) {
    console.error(e.message);
    process.exit(1);
  }
  throw e;
}
