// Subscribe latency for a new address against a confirmed one: the difference is what a timing attacker could read.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createApp } from '../api/app.ts';
import { readConfig } from '../api/config.ts';
import { openServices } from '../api/server.ts';
import type { BenchResult } from './run.ts';

const rounds = 400;

export default async function subscribeBench(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'status-bench-subscribe-'));
  try {
    const config = readConfig({ DATA_DIR: dir, PUBLIC_URL: 'https://status.example.com', SEED_DEMO: 'false' });
    const services = await openServices(config, { log: () => {} });
    const app = createApp(services);
    // Confirmed subscribers written straight to the table, one per round, so no address reaches its hourly allowance.
    const now = Date.now();
    await services.db.$client.execute({
      sql: `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
            INSERT INTO subscribers (id, email, confirmed_at, unsubscribe_token, created_at)
            SELECT 'sub' || i, 'known' || i || '@example.com', ?, 'token-' || i, ? FROM n`,
      args: [rounds + 50, now, now],
    });
    // Each request from its own peer address, so the per-address limit never answers instead of the service.
    const post = async (email: string, i: number) => {
      const started = performance.now();
      const res = await app.request(
        '/api/v1/subscribers',
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email }) },
        { incoming: { socket: { remoteAddress: `198.18.${i >> 8}.${i & 255}` } } },
      );
      await res.text();
      if (res.status !== 202) throw new Error(`subscribe answered ${res.status}`);
      return performance.now() - started;
    };
    for (let i = 0; i < 50; i++) {
      await post(`warm${i}@example.com`, 60_000 + i);
      await post(`known${rounds + i + 1}@example.com`, 61_000 + i);
    }
    const fresh: number[] = [];
    const known: number[] = [];
    // Interleaved, so drift in the machine's load falls on both alike.
    for (let i = 0; i < rounds; i++) {
      fresh.push(await post(`new${i}@example.com`, 2 * i));
      known.push(await post(`known${i + 1}@example.com`, 2 * i + 1));
    }
    services.db.$client.close();
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const gap = Math.abs(median(fresh) - median(known)) / median(fresh);
    return [
      { name: `subscribe, new address, median of ${rounds}`, value: median(fresh), unit: 'ms' },
      { name: `subscribe, confirmed address, median of ${rounds}`, value: median(known), unit: 'ms' },
      { name: 'subscribe, new address, mean', value: mean(fresh), unit: 'ms' },
      { name: 'subscribe, confirmed address, mean', value: mean(known), unit: 'ms' },
      { name: 'subscribe, median gap new vs confirmed', value: gap * 100, unit: '%', target: '≤ 15 %', ok: gap <= 0.15 },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
