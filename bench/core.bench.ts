// Publish latency through the HTTP API with 10,000 incidents of history already in the database.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createApp } from '../api/app.ts';
import { createToken } from '../api/services/tokens.ts';
import { readConfig } from '../api/config.ts';
import { openServices } from '../api/server.ts';
import { exampleVariables } from '../api/templates.ts';
import { addPastIncidents } from '../test/fixture.ts';
import type { BenchResult } from './run.ts';
import { systemActor } from '../api/services/context.ts';

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export default async function coreBench(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'status-bench-'));
  try {
    const config = readConfig({ DATA_DIR: dir, SEED_DEMO: 'false' });
    const services = await openServices(config, { log: () => {} });
    const app = createApp(services);
    const { token } = await createToken(services, systemActor('bench'), { role: 'comms', name: 'bench' });
    const { token: admin } = await createToken(services, systemActor('bench'), { role: 'admin', name: 'bench admin' });
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const componentIds = ['api', 'dashboard', 'webhooks', 'email', 'website'];
    for (const id of componentIds) {
      await app.request('/api/v1/components', {
        method: 'POST',
        headers: { ...headers, authorization: `Bearer ${admin}` },
        body: JSON.stringify({ id, name: id }),
      });
    }
    await addPastIncidents({ services }, 10_000, componentIds);
    // Stakeholders and subscribers exist, so each publish also enqueues real delivery rows.
    for (let i = 0; i < 20; i++) {
      await services.db.$client.execute({ sql: `INSERT INTO stakeholders (id, email, name) VALUES (?, ?, ?)`, args: [`st${i}`, `exec${i}@example.com`, `Exec ${i}`] });
    }

    const variables = (key: string) => exampleVariables(services.templates.get(key)!);
    const timings: number[] = [];
    const publish = async (path: string, body: unknown) => {
      const t0 = performance.now();
      const res = await app.request(path, { method: 'POST', headers, body: JSON.stringify(body) });
      const elapsed = performance.now() - t0;
      if (res.status !== 201) throw new Error(`publish failed: ${res.status} ${await res.text()}`);
      timings.push(elapsed);
      return (await res.json()) as { id: string };
    };
    const rounds = 150;
    for (let i = 0; i < rounds; i++) {
      const incident = await publish('/api/v1/incidents', {
        title: `Bench incident ${i}`,
        severity: i % 2 ? 'SEV1' : 'SEV3',
        template: 'investigating',
        variables: variables('investigating'),
        components: [{ id: componentIds[i % componentIds.length], status: 'major_outage' }],
      });
      for (const status of ['identified', 'monitoring', 'resolved']) {
        await publish(`/api/v1/incidents/${incident.id}/updates`, { status, template: status, variables: variables(status) });
      }
    }
    // Drop the first round: it pays for the JIT and the page cache.
    const measured = timings.slice(4).sort((a, b) => a - b);
    services.db.$client.close();
    const p50 = percentile(measured, 50);
    const p99 = percentile(measured, 99);
    return [
      { name: `publish latency p50 (10,000 incidents, ${measured.length} publishes)`, value: p50, unit: 'ms' },
      { name: 'publish latency p99 (10,000 incidents)', value: p99, unit: 'ms', target: '≤ 20 ms', ok: p99 <= 20 },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
