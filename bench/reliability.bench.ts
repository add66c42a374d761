// The reliability report's speed: 12 months over 10,000 incidents (with their updates and action items), through the HTTP API.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createApp } from '../api/app.ts';
import { readConfig } from '../api/config.ts';
import { openServices } from '../api/server.ts';
import { createComponent } from '../api/services/components.ts';
import { createToken } from '../api/services/tokens.ts';
import { addPastIncidents } from '../test/fixture.ts';
import { percentile } from './core.bench.ts';
import type { BenchResult } from './run.ts';
import { systemActor } from '../api/services/context.ts';

const componentIds = ['api', 'dashboard', 'webhooks', 'email', 'website'];
/** BENCH_RELIABILITY_INCIDENTS=200 for a smoke run; the target is measured at 10,000. */
const incidents = Number(process.env.BENCH_RELIABILITY_INCIDENTS ?? 10_000);
const runs = 30;

export default async function reliabilityBench(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'status-reliability-bench-'));
  const services = await openServices(readConfig({ DATA_DIR: dir, SEED_DEMO: 'false', PUBLIC_URL: 'https://status.example.com' }), { log: () => {} });
  try {
    for (const [i, id] of componentIds.entries()) await createComponent(services, systemActor('bench'), { id, name: id, order: i });
    await addPastIncidents({ services }, incidents, componentIds);
    // One action item for every tenth incident, a third of them done: the report counts them per month.
    const now = services.clock.now().getTime();
    const items = [];
    for (let i = 0; i < incidents; i += 10) {
      const created = now - 360 * 86_400_000 + Math.floor((i / incidents) * 350 * 86_400_000);
      const due = new Date(created + 14 * 86_400_000).toISOString().slice(0, 10);
      const done = i % 30 === 0;
      items.push({
        sql: `INSERT INTO action_items (id, incident_id, title, owner, due_on, priority, status, closed_at, created_by, created_at, updated_at) VALUES (?, ?, ?, 'sam@example.com', ?, 'P2', ?, ?, 'bench', ?, ?)`,
        args: [`item${i}`, `past${String(i).padStart(7, '0')}`, `Follow-up ${i}`, due, done ? 'done' : 'open', done ? created + 10 * 86_400_000 : null, created, created],
      });
    }
    if (items.length) await services.db.$client.batch(items, 'write');
    const app = createApp(services);
    const { token } = await createToken(services, systemActor('bench'), { role: 'viewer', name: 'bench' });
    const today = new Date(now);
    const from = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() - 11, 1)).toISOString().slice(0, 10);
    const path = `/api/v1/reports/reliability?from=${from}&to=${today.toISOString().slice(0, 10)}`;
    const timings: number[] = [];
    for (let i = 0; i < runs + 3; i++) {
      const started = performance.now();
      const res = await app.request(path, { headers: { authorization: `Bearer ${token}` } });
      if (res.status !== 200) throw new Error(`report failed: ${res.status} ${await res.text()}`);
      const body = (await res.json()) as { months: { incidents: { total: number } }[] };
      if (body.months.length !== 12) throw new Error(`expected 12 months, got ${body.months.length}`);
      timings.push(performance.now() - started);
    }
    // The first few pay for the JIT and the page cache.
    const sorted = timings.slice(3).sort((a, b) => a - b);
    const label = incidents.toLocaleString('en');
    const p95 = percentile(sorted, 95);
    return [
      { name: `reliability report p50 (12 months, ${label} incidents)`, value: percentile(sorted, 50), unit: 'ms' },
      { name: `reliability report p95 (12 months, ${label} incidents)`, value: p95, unit: 'ms', target: '≤ 200 ms', ok: p95 <= 200 },
    ];
  } finally {
    services.db.$client.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
