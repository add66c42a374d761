// npm run bench: runs every bench/*.bench.ts, prints one table and a JSON summary (speed targets live here, not in tests).
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface BenchResult {
  /** e.g. "publish latency p99 (10,000 incidents)" */
  name: string;
  value: number;
  unit: string;
  /** The target, as text ("≤ 20 ms"), and whether this run met it. */
  target?: string;
  ok?: boolean;
}

export type Bench = () => Promise<BenchResult[]>;

const dir = fileURLToPath(new URL('.', import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

const results: (BenchResult & { suite: string })[] = [];
for (const file of files) {
  const suite = file.replace('.bench.ts', '');
  console.error(`bench: ${suite} ...`);
  const mod = (await import(new URL(file, import.meta.url).href)) as { default: Bench };
  for (const r of await mod.default()) results.push({ suite, ...r });
}

const rows = results.map((r) => [
  r.suite,
  r.name,
  `${Number.isInteger(r.value) ? r.value : r.value.toFixed(2)} ${r.unit}`,
  r.target ?? '',
  r.ok === undefined ? '' : r.ok ? 'ok' : 'MISSED',
]);
const header = ['suite', 'measure', 'value', 'target', ''];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const fmt = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
console.log(fmt(header));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of rows) console.log(fmt(r));
console.log(JSON.stringify({ results }, null, 2));
process.exit(results.some((r) => r.ok === false) ? 1 : 0);
