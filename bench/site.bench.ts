// The site's speed: publish → live on /, summary.json, the embed page and the badge at 1,000 and 10,000 incidents (and
// on to the feeds), a full render's time and memory,
// and the same pages through a plain full `astro build`, so the ratio says what rendering only the changes buys.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createApp } from '../api/app.ts';
import { createToken } from '../api/services/tokens.ts';
import { readConfig, type Config } from '../api/config.ts';
import { openServices } from '../api/server.ts';
import { projectRoot } from '../api/site/astro.ts';
import { readers } from '../api/site/records.ts';
import { startSite } from '../api/site/start.ts';
import {
  historyMonthPage,
  historyMonths,
  historyPage,
  incidentPages,
  indexPage,
  maintenancePages,
  notFoundPage,
  readSite,
  type PageView,
} from '../api/site/view-model.ts';
import { createComponent } from '../api/services/components.ts';
import type { Services } from '../api/services/context.ts';
import { exampleVariables } from '../api/templates.ts';
import { addPastIncidents } from '../test/fixture.ts';
import { percentile } from './core.bench.ts';
import type { BenchResult } from './run.ts';
import { systemActor } from '../api/services/context.ts';

const componentIds = ['api', 'dashboard', 'webhooks', 'email', 'website'];
/** BENCH_SITE_PUBLISHES and BENCH_SITE_INCIDENTS (a comma list) shrink a run to a smoke test. */
const publishes = Number(process.env.BENCH_SITE_PUBLISHES ?? 40);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function openWithHistory(count: number) {
  const dir = mkdtempSync(join(tmpdir(), 'status-site-bench-'));
  const config = readConfig({ DATA_DIR: dir, SEED_DEMO: 'false', PUBLIC_URL: 'https://status.example.com' });
  const services = await openServices(config, { log: () => {} });
  for (const [i, id] of componentIds.entries()) {
    await createComponent(services, systemActor('bench'), { id, name: id[0]!.toUpperCase() + id.slice(1), group: i < 2 ? 'Customer facing' : 'Platform', order: i });
  }
  await addPastIncidents({ services }, count, componentIds);
  return { dir, config, services };
}

/**
 * Declares SEV1s one at a time and times each from the POST returning to /, summary.json, /embed/ and /badge.svg all
 * showing it (`live`), and on until the Atom and JSON feeds show it too (`feeds`, rendered in the second step).
 */
async function publishToLive(services: Services, config: Config): Promise<{ live: number[]; feeds: number[] }> {
  const app = createApp(services);
  const site = await startSite(services, config, { log: process.env.BENCH_TRACE ? (m) => console.error(m) : () => {}, refreshMs: 0 });
  app.route('/', site.routes);
  await site.renderer.settled();
  const { token } = await createToken(services, systemActor('bench'), { role: 'comms', name: 'bench' });
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const variables = (key: string) => exampleVariables(services.templates.get(key)!);
  // Polls as a browser or a CDN would, revalidating by ETag, so polling itself costs little while a render runs.
  const etags = new Map<string, string>();
  const shows = async (path: string, text: string) => {
    const res = await app.request(path, { headers: { 'if-none-match': etags.get(path) ?? '' } });
    if (res.status === 304) return false;
    etags.set(path, res.headers.get('etag') ?? '');
    const body = await res.text();
    // The front page counts as live only with its uptime figures (issue 19: publish → live stays ≤ 100 ms with them).
    return body.includes(text) && (path !== '/' || body.includes('% uptime'));
  };
  const seen = new Set<string>();
  // Each path is polled as its own client would (a browser, a widget, an embed, a badge): side by side, not in turn.
  const reached = async (expect: [string, string][]) => {
    await Promise.all(expect.map(async ([path, text]) => !seen.has(path) && (await shows(path, text)) && seen.add(path)));
    return expect.every(([path]) => seen.has(path));
  };
  const onPage = (title: string): [string, string][] => [
    ['/', title],
    ['/api/v2/summary.json', title],
    ['/embed/', title],
    // The badge names the blended status, not the title: one component of five down is a partial outage.
    ['/badge.svg', 'Partial System Outage'],
  ];
  const inFeeds = (title: string): [string, string][] => [
    ['/feed.atom', title],
    ['/feed.json', title],
  ];
  const timings: number[] = [];
  const feedTimings: number[] = [];
  try {
    for (let i = 0; i < publishes; i++) {
      const title = `Bench outage ${i} ${Date.now()}`;
      const res = await app.request('/api/v1/incidents', {
        method: 'POST',
        headers,
        body: JSON.stringify({
          title,
          severity: 'SEV1',
          template: 'investigating',
          variables: variables('investigating'),
          components: [{ id: componentIds[i % componentIds.length], status: 'major_outage' }],
        }),
      });
      const returned = performance.now();
      if (res.status !== 201) throw new Error(`declare failed: ${res.status} ${await res.text()}`);
      const { id } = (await res.json()) as { id: string };
      seen.clear();
      while (!(await reached(onPage(title)))) await sleep(1);
      timings.push(performance.now() - returned);
      while (!(await reached(inFeeds(title)))) await sleep(1);
      feedTimings.push(performance.now() - returned);
      // Resolve it, unmeasured, so active incidents do not pile up on the front page.
      await app.request(`/api/v1/incidents/${id}/updates`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ status: 'resolved', template: 'resolved', variables: variables('resolved') }),
      });
      await site.renderer.settled();
    }
  } finally {
    await site.close();
  }
  // The first few pay for the JIT and the page cache.
  const warm = (t: number[]) => t.slice(Math.min(3, t.length - 1)).sort((a, b) => a - b);
  return { live: warm(timings), feeds: warm(feedTimings) };
}

function run(command: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, command, { cwd: projectRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${command.join(' ')} exited ${code}: ${err.slice(-2000)}`))));
  });
}

/** `npm run build:site` in its own process, so its memory is its own: { files, ms, peakMiB }. */
async function fullRender(config: Config) {
  const out = await run(['--import', 'tsx', 'bin/build-site.ts', '--json'], {
    DATA_DIR: config.dataDir,
    PUBLIC_URL: config.publicUrl,
    SEED_DEMO: 'false',
  });
  return JSON.parse(out.trim().split('\n').at(-1)!) as { files: number; ms: number; peakMiB: number };
}

/** Every public page's view, by its path: what a plain static build would be fed. */
async function allViews(services: Services, config: Config): Promise<{ path: string; view: PageView }[]> {
  const r = await readSite(services.db, readers.public, { pageName: config.pageName, publicUrl: config.publicUrl, timeZone: config.timeZone }, services.clock.now());
  const months = await historyMonths(r);
  const views: { path: string; view: PageView }[] = [{ path: '', view: await indexPage(r) }];
  for (const v of await incidentPages(r)) views.push({ path: `incidents/${v.incident.id}`, view: v });
  for (const v of await maintenancePages(r)) views.push({ path: `maintenances/${v.maintenance.id}`, view: v });
  for (const m of months) views.push({ path: `history/${m}`, view: await historyMonthPage(r, m, months) });
  views.push({ path: 'history', view: await historyPage(r, months) }, { path: '404', view: notFoundPage(r) });
  return views;
}

/**
 * The same pages through a plain `astro build` (output: 'static', getStaticPaths over every view): what rebuilding the
 * whole site on each publish would cost. The project lives under dist/ so it resolves node_modules and site/ like ours.
 */
async function plainAstroBuild(services: Services, config: Config): Promise<{ ms: number; pages: number }> {
  const dir = join(projectRoot, 'dist', `bench-static-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'src', 'pages'), { recursive: true });
  try {
    const views = await allViews(services, config);
    writeFileSync(join(dir, 'views.json'), JSON.stringify(views));
    const pages = ['index', 'incident', 'maintenance', 'history', 'history-month', 'not-found'];
    const component = (kind: string) => kind.replace(/(^|-)(\w)/g, (_, _d, c: string) => c.toUpperCase());
    writeFileSync(
      join(dir, 'astro.config.mjs'),
      `import { defineConfig } from 'astro/config';
export default defineConfig({ srcDir: './src', outDir: './out', output: 'static', build: { inlineStylesheets: 'never' },
  image: { service: { entrypoint: 'astro/assets/services/noop' } }, devToolbar: { enabled: false } });\n`,
    );
    writeFileSync(
      join(dir, 'src', 'pages', '[...path].astro'),
      `---
import { readFileSync } from 'node:fs';
${pages.map((p) => `import ${component(p)} from '${join(projectRoot, 'site', 'pages', `${p}.astro`)}';`).join('\n')}
export function getStaticPaths() {
  const views = JSON.parse(readFileSync(${JSON.stringify(join(dir, 'views.json'))}, 'utf8'));
  return views.map((v) => ({ params: { path: v.path || undefined }, props: { view: v.view } }));
}
const { view } = Astro.props;
Astro.locals.page = view;
---
${pages.map((p) => `{view.kind === '${p}' && <${component(p)} />}`).join('\n')}
`,
    );
    const started = performance.now();
    await run([join(projectRoot, 'node_modules', 'astro', 'bin', 'astro.mjs'), 'build', '--root', dir, '--silent'], { ASTRO_TELEMETRY_DISABLED: '1' });
    return { ms: performance.now() - started, pages: views.length };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export default async function siteBench(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  let p95At10k = 0;
  // BENCH_SITE_QUICK=1: only publish → live at 10,000 incidents (no full render, no plain astro build), for a short look.
  const quick = process.env.BENCH_SITE_QUICK === '1';
  const counts = process.env.BENCH_SITE_INCIDENTS?.split(',').map(Number) ?? (quick ? [10_000] : [1_000, 10_000]);
  for (const count of counts) {
    const { dir, config, services } = await openWithHistory(count);
    try {
      const label = count.toLocaleString('en');
      if (count === 10_000 && !quick) {
        const full = await fullRender(config);
        results.push(
          { name: `full render time (${label} incidents, ${full.files} files)`, value: full.ms / 1000, unit: 's', target: '≤ 30 s', ok: full.ms <= 30_000 },
          { name: `full render peak RSS (${label} incidents)`, value: full.peakMiB, unit: 'MiB', target: '≤ 1024 MiB', ok: full.peakMiB <= 1024 },
        );
      }
      const { live: timings, feeds } = await publishToLive(services, config);
      const p50 = percentile(timings, 50);
      const p95 = percentile(timings, 95);
      if (count === 10_000) p95At10k = p95;
      results.push(
        { name: `publish → live p50 (${label} incidents, ${timings.length} declares)`, value: p50, unit: 'ms' },
        { name: `publish → live p95 (${label} incidents; /, summary.json, /embed/, badge)`, value: p95, unit: 'ms', target: '≤ 100 ms', ok: p95 <= 100 },
        { name: `publish → Atom and JSON feeds p95 (${label} incidents)`, value: percentile(feeds, 95), unit: 'ms' },
      );
      if (count === 10_000 && !quick) {
        const plain = await plainAstroBuild(services, config);
        const ratio = plain.ms / p95At10k;
        results.push(
          { name: `plain full astro build (${label} incidents, ${plain.pages} pages)`, value: plain.ms / 1000, unit: 's' },
          { name: 'plain astro build ÷ publish → live p95', value: ratio, unit: '×', target: '≥ 20×', ok: ratio >= 20 },
        );
      }
    } finally {
      services.db.$client.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return results;
}
