// Scale-out: the built-in server against nginx on the same release (wrk), publish → live across processes, and incremental publishing to S3.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createApp } from '../api/app.ts';
import { readConfig } from '../api/config.ts';
import { openServices } from '../api/server.ts';
import { createComponent } from '../api/services/components.ts';
import { createToken } from '../api/services/tokens.ts';
import { startSite } from '../api/site/start.ts';
import { exampleVariables } from '../api/templates.ts';
import { s3rverCredentials, startS3Server } from '../test/s3-server.ts';
import { startServerProcess, type ServerProcess } from '../test/server-process.ts';
import { addPastIncidents } from '../test/fixture.ts';
import { percentile } from './core.bench.ts';
import type { BenchResult } from './run.ts';
import { systemActor } from '../api/services/context.ts';

const componentIds = ['api', 'dashboard', 'webhooks', 'email', 'website'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A database with components and `history` past incidents, closed again; returns its folder and a comms token. */
export async function prepareDatabase(history: number) {
  const dir = mkdtempSync(join(tmpdir(), 'status-scale-bench-'));
  const config = readConfig({ DATA_DIR: dir, SEED_DEMO: 'false', PUBLIC_URL: 'https://status.example.com' });
  const services = await openServices(config, { log: () => {} });
  for (const [i, id] of componentIds.entries()) {
    await createComponent(services, systemActor('bench'), { id, name: id[0]!.toUpperCase() + id.slice(1), group: i < 2 ? 'Customer facing' : 'Platform', order: i });
  }
  await addPastIncidents({ services }, history, componentIds);
  const { token } = await createToken(services, systemActor('bench'), { role: 'comms', name: 'bench' });
  const variables = { investigating: exampleVariables(services.templates.get('investigating')!), resolved: exampleVariables(services.templates.get('resolved')!) };
  services.db.$client.close();
  return { dir, database: join(dir, 'status.db'), token, variables };
}

type Prepared = Awaited<ReturnType<typeof prepareDatabase>>;

async function declare(base: string, db: Prepared, title: string, component: string) {
  const res = await fetch(`${base}/api/v1/incidents`, {
    method: 'POST',
    headers: { authorization: `Bearer ${db.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ title, severity: 'SEV1', template: 'investigating', variables: db.variables.investigating, components: [{ id: component, status: 'major_outage' }] }),
  });
  if (res.status !== 201) throw new Error(`declare: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

async function resolve(base: string, db: Prepared, id: string) {
  const res = await fetch(`${base}/api/v1/incidents/${id}/updates`, {
    method: 'POST',
    headers: { authorization: `Bearer ${db.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ status: 'resolved', template: 'resolved', variables: db.variables.resolved }),
  });
  if (res.status !== 201) throw new Error(`resolve: ${res.status} ${await res.text()}`);
}

/** Polls `url` (revalidating by ETag, as a CDN would) until its body contains `text`. */
async function until(url: string, text: string, timeoutMs = 10_000) {
  const started = performance.now();
  let etag = '';
  for (;;) {
    const res = await fetch(url, { headers: etag ? { 'if-none-match': etag } : {} });
    if (res.status === 200) {
      etag = res.headers.get('etag') ?? '';
      if ((await res.text()).includes(text)) return;
    } else await res.arrayBuffer();
    if (performance.now() - started > timeoutMs) throw new Error(`${url} did not show "${text}" in ${timeoutMs} ms`);
    await sleep(2);
  }
}

/** Publishes through A and times until B (another process, its own output folder) serves it on / and summary.json. */
async function crossProcess(db: Prepared, count: number): Promise<number[]> {
  const env = (name: string) => ({ DATA_DIR: join(db.dir, name), DATABASE_URL: db.database, PUBLIC_URL: 'https://status.example.com' });
  const servers: ServerProcess[] = [];
  try {
    servers.push(await startServerProcess(env('a')), await startServerProcess(env('b')));
    const [a, b] = servers as [ServerProcess, ServerProcess];
    const timings: number[] = [];
    for (let i = 0; i < count; i++) {
      const title = `Cross-process outage ${i}`;
      const id = await declare(a.url, db, title, componentIds[i % componentIds.length]!);
      const published = performance.now();
      await Promise.all([until(`${b.url}/`, title), until(`${b.url}/api/v2/summary.json`, title)]);
      timings.push(performance.now() - published);
      await resolve(a.url, db, id);
      await sleep(300);
    }
    return timings.slice(2).sort((x, y) => x - y);
  } finally {
    for (const s of servers) await s.stop();
  }
}

/** Publishes in-process with SITE_S3_URL set and times until the bucket's summary.json shows it. */
export async function s3Publish(db: Prepared, count: number): Promise<number[]> {
  const s3 = await startS3Server();
  Object.assign(process.env, s3rverCredentials);
  const config = readConfig({ DATA_DIR: join(db.dir, 's3'), DATABASE_URL: db.database, SEED_DEMO: 'false', PUBLIC_URL: 'https://status.example.com', ...s3.env('site') });
  const services = await openServices(config, { log: () => {} });
  const app = createApp(services);
  const failures: string[] = [];
  const trace = (m: string) => process.env.BENCH_TRACE && console.error(`bench: ${Math.round(performance.now())} ${m}`);
  const site = await startSite(services, config, {
    log: (m) => {
      trace(m.slice(0, 160));
      if (m.includes('failed')) failures.push(m);
    },
    refreshMs: 0,
  });
  app.route('/', site.routes);
  // Read as a CDN would, with a plain GET per poll (s3rver serves anonymous reads). s3rver rewrites an object in
  // place, so a read racing a put can come back short of its Content-Length: through the SDK that stalled the reader
  // for seconds (measuring the reader, not the publish); here it is one failed poll.
  const summary = async () => {
    try {
      const res = await fetch(`${s3.endpoint}/${s3.bucket}/site/api/v2/summary.json`, { headers: { connection: 'close' } });
      return res.ok ? await res.text() : '';
    } catch {
      return '';
    }
  };
  try {
    // The start-up upload of the whole release first.
    for (let waited = 0; !(await summary()); waited += 50) {
      if (waited > 120_000) throw new Error('the start-up upload did not finish');
      await sleep(50);
    }
    await site.bucket!.settled();
    const timings: number[] = [];
    const headers = { authorization: `Bearer ${db.token}`, 'content-type': 'application/json' };
    for (let i = 0; i < count; i++) {
      const title = `Bucket outage ${i}`;
      const res = await app.request('/api/v1/incidents', {
        method: 'POST',
        headers,
        body: JSON.stringify({ title, severity: 'SEV1', template: 'investigating', variables: db.variables.investigating, components: [{ id: 'api', status: 'major_outage' }] }),
      });
      const published = performance.now();
      trace(`published ${i}`);
      const { id } = (await res.json()) as { id: string };
      while (!(await summary()).includes(title)) {
        if (performance.now() - published > 20_000) throw new Error('the bucket did not show the publish in 20 s');
        await sleep(2);
      }
      timings.push(performance.now() - published);
      if (process.env.BENCH_TRACE) console.error(`bench: s3 publish ${i}: ${Math.round(performance.now() - published)} ms, syncs ${site.bucket!.stats.syncs}, puts ${site.bucket!.stats.puts}`);
      await app.request(`/api/v1/incidents/${id}/updates`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ status: 'resolved', template: 'resolved', variables: db.variables.resolved }),
      });
      await site.renderer.settled();
      await site.bucket!.settled();
    }
    if (failures.length > 0) console.error(`bench: ${failures.length} failed uploads or renders during the S3 run, first: ${failures[0]}`);
    return timings.slice(2).sort((x, y) => x - y);
  } finally {
    await site.close();
    services.db.$client.close();
    await s3.close();
  }
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

/** wrk with one thread and 50 connections for `seconds`, asking for gzip as browsers do; requests per second. */
function wrk(url: string, seconds: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', ['-t1', '-c50', `-d${seconds}s`, '-H', 'Accept-Encoding: gzip', url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', () => {
      const m = /Requests\/sec:\s+([\d.]+)/.exec(out);
      const errors = /Non-2xx or 3xx responses: (\d+)/.exec(out);
      if (!m || errors) reject(new Error(`wrk on ${url}: ${out}`));
      else resolve(Number(m[1]));
    });
  });
}

/** nginx (one worker) serving the same release folder with gzip_static: the reference a static host would be. */
async function startNginx(root: string): Promise<{ url: string; stop(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'status-nginx-'));
  const port = await freePort();
  for (const t of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, t));
  writeFileSync(
    join(dir, 'nginx.conf'),
    `daemon off; worker_processes 1; user root; pid ${dir}/nginx.pid; error_log ${dir}/error.log;
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types; types { application/json json; application/rss+xml xml; }
  access_log off; sendfile on; tcp_nopush on; keepalive_requests 100000; etag on; gzip_static on;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  server { listen 127.0.0.1:${port}; root ${root}; location / { try_files $uri $uri/index.html =404; } }
}
`,
  );
  const child = spawn('nginx', ['-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (await fetch(`${url}/`).then((r) => r.ok, () => false)) break;
    await sleep(50);
  }
  return {
    url,
    stop() {
      child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Requests per second on / and summary.json: the built-in server (one process) and nginx (one worker) on its release. */
async function servingRates(db: Prepared, seconds: number): Promise<BenchResult[]> {
  const haveNginx = spawnSync('nginx', ['-v']).status === 0 && spawnSync('wrk', ['--version']).error === undefined;
  if (!haveNginx) {
    console.error('bench: nginx or wrk is not installed (apt-get install nginx wrk): skipping built-in ÷ nginx');
    return [];
  }
  const server = await startServerProcess({ DATA_DIR: join(db.dir, 'serve'), DATABASE_URL: db.database, PUBLIC_URL: 'https://status.example.com' });
  const nginx = await startNginx(realpathSync(join(db.dir, 'serve', 'site', 'current')));
  const results: BenchResult[] = [];
  try {
    for (const path of ['/', '/api/v2/summary.json']) {
      const ours = await wrk(`${server.url}${path}`, seconds);
      const theirs = await wrk(`${nginx.url}${path}`, seconds);
      const ratio = (ours / theirs) * 100;
      results.push(
        { name: `built-in req/s on ${path} (wrk -t1 -c50, gzip)`, value: Math.round(ours), unit: 'req/s' },
        { name: `nginx req/s on ${path} (1 worker, gzip_static)`, value: Math.round(theirs), unit: 'req/s' },
        { name: `built-in ÷ nginx on ${path}`, value: ratio, unit: '%', target: '≥ 50%', ok: ratio >= 50 },
      );
    }
  } finally {
    nginx.stop();
    await server.stop();
  }
  return results;
}

export default async function scaleBench(): Promise<BenchResult[]> {
  const db = await prepareDatabase(1_000);
  const results: BenchResult[] = [];
  try {
    results.push(...(await servingRates(db, Number(process.env.BENCH_WRK_SECONDS ?? 5))));
    const cross = await crossProcess(db, 22);
    const p95 = percentile(cross, 95);
    results.push(
      { name: `cross-process publish → live p50 (1,000 incidents, ${cross.length} declares)`, value: percentile(cross, 50), unit: 'ms' },
      { name: 'cross-process publish → live p95 (A publishes, B serves)', value: p95, unit: 'ms', target: '≤ 1000 ms', ok: p95 <= 1000 },
    );
    const s3 = await s3Publish(db, 22);
    const s3p95 = percentile(s3, 95);
    results.push(
      { name: `incremental S3 publish p50 (s3rver on 127.0.0.1, ${s3.length} declares)`, value: percentile(s3, 50), unit: 'ms' },
      { name: 'incremental S3 publish p95 (publish → summary.json in the bucket)', value: s3p95, unit: 'ms', target: '≤ 500 ms', ok: s3p95 <= 500 },
    );
  } finally {
    rmSync(db.dir, { recursive: true, force: true });
  }
  return results;
}
