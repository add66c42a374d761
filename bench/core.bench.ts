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
import type { Services } from '../api/services/context.ts';
import type { BenchResult } from './run.ts';

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Writes `count` resolved incidents, each with three updates, straight into the tables: history, not publishes. */
export async function fillHistory(s: Services, count: number, componentIds: string[]): Promise<void> {
  const day = 24 * 60 * 60 * 1000;
  const start = s.clock.now().getTime() - 365 * day;
  const batch = 500;
  for (let from = 0; from < count; from += batch) {
    const statements = [];
    for (let i = from; i < Math.min(count, from + batch); i++) {
      const id = `hist${String(i).padStart(8, '0')}`;
      const at = start + Math.floor((i / count) * 360 * day);
      const severity = ['SEV1', 'SEV2', 'SEV3', 'SEV4'][i % 4]!;
      const pub = i % 4 < 2;
      const audiences = JSON.stringify({ public: pub, subscribers: pub, stakeholders: i % 4 < 3 });
      const component = componentIds[i % componentIds.length]!;
      statements.push({
        sql: `INSERT INTO incidents (id, title, internal_title, severity, status, audiences, roles, started_at, acknowledged_at,
                identified_at, mitigated_at, resolved_at, version, created_by, created_at, updated_at)
              VALUES (?, ?, ?, ?, 'resolved', ?, '{}', ?, ?, ?, ?, ?, 4, 'bench', ?, ?)`,
        args: [id, `Past incident ${i}`, `Past incident ${i} (internal)`, severity, audiences, at, at + 60_000, at + 600_000, at + 1_200_000, at + 1_800_000, at, at + 1_800_000],
      });
      statements.push({ sql: `INSERT INTO incident_components (incident_id, component_id, impact) VALUES (?, ?, 'partial_outage')`, args: [id, component] });
      for (const [k, status] of ['investigating', 'monitoring', 'resolved'].entries()) {
        statements.push({
          sql: `INSERT INTO updates (id, incident_id, status, template, variables, external_subject, external_body, internal_subject,
                  internal_body, components, audiences, author, created_at)
                VALUES (?, ?, ?, ?, '{}', ?, ?, ?, ?, ?, ?, 'bench', ?)`,
          args: [
            `${id}u${k}`,
            id,
            status,
            status,
            `${status}: Past incident ${i}`,
            `We are ${status} an issue with ${component}.`,
            `[${severity}] ${status}`,
            `Internal notes for ${id}.`,
            JSON.stringify([{ id: component, name: component, status: 'partial_outage' }]),
            audiences,
            at + k * 600_000,
          ],
        });
      }
    }
    await s.db.$client.batch(statements, 'write');
  }
}

export default async function coreBench(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'status-bench-'));
  try {
    const config = readConfig({ DATA_DIR: dir, SEED_DEMO: 'false' });
    const services = await openServices(config, { log: () => {} });
    const app = createApp(services);
    const { token } = await createToken(services, { name: 'bench' }, { role: 'comms', name: 'bench' });
    const { token: admin } = await createToken(services, { name: 'bench' }, { role: 'admin', name: 'bench admin' });
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const componentIds = ['api', 'dashboard', 'webhooks', 'email', 'website'];
    for (const id of componentIds) {
      await app.request('/api/v1/components', {
        method: 'POST',
        headers: { ...headers, authorization: `Bearer ${admin}` },
        body: JSON.stringify({ id, name: id }),
      });
    }
    await fillHistory(services, 10_000, componentIds);
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
