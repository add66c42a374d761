// Alert to public page: how long after Alertmanager posts a critical alert the public front page shows the incident.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { readConfig } from '../api/config.ts';
import { startServer } from '../api/server.ts';
import { createToken } from '../api/services/tokens.ts';
import type { BenchResult } from './run.ts';
import { systemActor } from '../api/services/context.ts';

const rounds = 5;

function payload(i: number) {
  const labels = { alertname: 'ProbeFailure', instance: 'https://server.example.org', job: 'http_checks', severity: 'critical', component: `svc${i}` };
  const annotations = { summary: 'BlackBox Probe Failure: https://server.example.org', description: 'Instance https://server.example.org has been down for over 5m.' };
  return {
    version: '4',
    groupKey: `{}/{severity="critical"}:{alertname="ProbeFailure",round="${i}"}`,
    truncatedAlerts: 0,
    status: 'firing',
    receiver: 'statusdesk',
    groupLabels: { alertname: 'ProbeFailure' },
    commonLabels: labels,
    commonAnnotations: annotations,
    externalURL: 'http://prometheus.example.org:9093',
    alerts: [{ status: 'firing', labels, annotations, startsAt: new Date().toISOString(), endsAt: '0001-01-01T00:00:00Z', generatorURL: 'http://prometheus.example.org:9090/graph', fingerprint: `f${i}` }],
  };
}

export default async function alertsBench(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'status-bench-alerts-'));
  const running = await startServer(readConfig({ DATA_DIR: dir, PORT: '0', SEED_DEMO: 'false' }), { log: () => {}, schedulerIntervalMs: 0 });
  try {
    const admin = (await createToken(running.services, systemActor('bench'), { role: 'admin', name: 'bench' })).token;
    const comms = (await createToken(running.services, systemActor('bench'), { role: 'comms', name: 'alertmanager' })).token;
    for (let i = 0; i < rounds; i++) {
      const res = await fetch(`${running.url}/api/v1/components`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ id: `svc${i}`, name: `Service ${i}` }),
      });
      if (res.status !== 201) throw new Error(`component: ${res.status}`);
    }
    const ms: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now();
      const res = await fetch(`${running.url}/api/v1/alerts/alertmanager`, {
        method: 'POST',
        headers: { authorization: `Bearer ${comms}`, 'content-type': 'application/json' },
        body: JSON.stringify(payload(i)),
      });
      if (res.status !== 201) throw new Error(`alert: ${res.status} ${await res.text()}`);
      for (;;) {
        const page = await (await fetch(`${running.url}/`)).text();
        if (page.includes(`Disruption to Service ${i}`)) break;
        if (performance.now() - t0 > 30_000) throw new Error(`the public page did not show round ${i} within 30 s`);
        await new Promise((r) => setTimeout(r, 10));
      }
      ms.push(performance.now() - t0);
    }
    const worst = Math.max(...ms);
    return [
      { name: `alert to public front page, worst of ${rounds} (Alertmanager SEV1, real server)`, value: worst, unit: 'ms', target: '≤ 1000 ms', ok: worst <= 1000 },
      { name: `alert to public front page, median of ${rounds}`, value: [...ms].sort((a, b) => a - b)[Math.floor(rounds / 2)]!, unit: 'ms' },
    ];
  } finally {
    await running.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
