// Several server processes on one database: a publish through one is served by all, a killed renderer's work is picked up, a shared output renders each change once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { examples, makeFixture, seedComponents, type Fixture } from './fixture.ts';
import { startServerProcess, waitFor, type ServerProcess } from './server-process.ts';

let f: Fixture;
const processes: ServerProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const p of processes.splice(0)) await p.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  await f?.close();
});

/** A server process on the fixture's database, rendering into `dataDir` (its own, or one shared with another). */
async function server(dataDir: string) {
  const p = await startServerProcess({
    DATA_DIR: dataDir,
    DATABASE_URL: join(f.dir, 'status.db'),
    PUBLIC_URL: 'https://status.example.com',
  });
  processes.push(p);
  return p;
}

const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'status-proc-'));
  dirs.push(d);
  return d;
};

async function declareThrough(p: ServerProcess, title: string) {
  const res = await fetch(`${p.url}/api/v1/incidents`, {
    method: 'POST',
    headers: { authorization: `Bearer ${f.tokens.comms}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      title,
      severity: 'SEV1',
      template: 'investigating',
      variables: examples(f, 'investigating'),
      components: [{ id: 'api', status: 'major_outage' }],
    }),
  });
  if (res.status !== 201) throw new Error(`declare through ${p.url}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

const body = async (p: ServerProcess, path: string) => (await fetch(`${p.url}${path}`)).text();

/** The unresolved public incidents as the database has them, and as a process serves them. */
async function unresolvedInDatabase(): Promise<string[]> {
  const rows = await f.services.db.$client.execute(
    "SELECT id FROM incidents WHERE status IN ('investigating', 'identified', 'monitoring') AND json_extract(audiences, '$.public') ORDER BY id",
  );
  return rows.rows.map((r) => String(r.id));
}
async function unresolvedServed(p: ServerProcess): Promise<string[]> {
  const json = JSON.parse(await body(p, '/api/v2/incidents/unresolved.json')) as { incidents: { id: string }[] };
  return json.incidents.map((i) => i.id).sort();
}

describe('several processes on one database', () => {
  it('serves a publish made through A from B (banner, status.json, feed) within a second', async () => {
    f = await makeFixture();
    await seedComponents(f);
    const a = await server(tempDir());
    const b = await server(tempDir());
    expect(await body(b, '/')).toContain('All systems operational');

    const id = await declareThrough(a, 'Payments are failing for everyone');
    await waitFor(
      'B to serve the incident',
      async () =>
        (await body(b, '/')).includes('Payments are failing for everyone') &&
        ['major', 'critical'].includes((JSON.parse(await body(b, '/api/v2/status.json')) as { status: { indicator: string } }).status.indicator) &&
        (await body(b, '/feed.xml')).includes('Payments are failing for everyone'),
      1_000,
    );
    expect(await body(b, `/incidents/${id}/`)).toContain('Payments are failing for everyone');
  }, 120_000);

  it('with a shared output folder renders each change once, and after kill -9 of the renderer mid-burst the other converges within 2 s', async () => {
    f = await makeFixture();
    await seedComponents(f);
    const shared = tempDir();
    const a = await server(shared);
    const b = await server(shared);
    const [latestBefore] = (await f.services.db.$client.execute('SELECT max(id) AS id FROM audit_events')).rows;
    const before = Number(latestBefore!.id);

    // Publishes through both; one of them renders each change, the other loads what it wrote.
    for (let i = 0; i < 6; i++) await declareThrough(i % 2 ? b : a, `Shared folder incident ${i}`);
    const expected = await unresolvedInDatabase();
    await waitFor('A and B to serve every incident', async () => (await unresolvedServed(a)).join() === expected.join() && (await unresolvedServed(b)).join() === expected.join(), 2_000);
    const ranges = [...a.renderedRanges(), ...b.renderedRanges()].filter(([, to]) => to > before);
    const rendered = ranges.flatMap(([from, to]) => Array.from({ length: to - from + 1 }, (_, k) => from + k)).filter((c) => c > before);
    expect(rendered.length).toBeGreaterThan(0);
    expect(new Set(rendered).size).toBe(rendered.length);
    // Exactly one of them rendered: the one holding the lease.
    expect([a, b].filter((p) => p.renderedRanges().some(([, to]) => to > before))).toHaveLength(1);

    // A burst through the renderer, killed in the middle of it.
    const renderer = a.renderedRanges().some(([, to]) => to > before) ? a : b;
    const other = renderer === a ? b : a;
    const burst = Array.from({ length: 12 }, (_, i) => declareThrough(renderer, `Burst incident ${i}`).catch(() => null));
    await waitFor('a few of the burst to commit', async () => (await unresolvedInDatabase()).length >= expected.length + 3, 10_000, 5);
    await renderer.kill();
    await Promise.all(burst);
    const truth = await unresolvedInDatabase();
    expect(truth.length).toBeGreaterThan(expected.length);
    await waitFor('the survivor to converge to the database', async () => (await unresolvedServed(other)).join() === truth.join(), 2_000);
    const index = await body(other, '/');
    for (const id of truth) expect(index).toContain(`/incidents/${id}/`);
  }, 120_000);
});
