// The bytes the site serves: every compressed variant matches its file after any sequence of publishes, on disk and on the wire; CORS on every public JSON route.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { declare, makeSiteFixture, postUpdate, walk, type SiteFixture } from './site-fixture.ts';

let f: SiteFixture;
afterEach(() => f.close());

/** Every .gz and .br on disk whose content is not its file's, by path. */
function staleVariantsOnDisk(): string[] {
  const root = join(f.config.dataDir, 'site', 'current');
  const stale: string[] = [];
  for (const path of walk(root)) {
    const m = /^(.*)\.(gz|br)$/.exec(path);
    if (!m) continue;
    const unpacked = m[2] === 'gz' ? gunzipSync(readFileSync(path)) : brotliDecompressSync(readFileSync(path));
    let raw: Buffer | null = null;
    try {
      raw = readFileSync(m[1]!);
    } catch {}
    if (!raw || !unpacked.equals(raw)) stale.push(path.slice(root.length));
  }
  return stale;
}

/** Every served path whose gzip or brotli answer decompresses to something other than its plain answer. */
async function staleVariantsServed(paths: string[]): Promise<string[]> {
  const stale: string[] = [];
  for (const path of paths) {
    const plain = Buffer.from(await (await f.get(path, { 'accept-encoding': 'identity' })).arrayBuffer());
    for (const [accept, unpack] of [
      ['gzip', gunzipSync],
      ['br', brotliDecompressSync],
    ] as const) {
      const res = await f.get(path, { 'accept-encoding': accept });
      const bytes = Buffer.from(await res.arrayBuffer());
      const encoding = res.headers.get('content-encoding');
      const text = encoding === (accept === 'gzip' ? 'gzip' : 'br') ? unpack(bytes) : bytes;
      if (!text.equals(plain)) stale.push(`${path} (${accept})`);
    }
  }
  return stale;
}

const jsonPaths = [
  '/api/v2/summary.json',
  '/api/v2/status.json',
  '/api/v2/components.json',
  '/api/v2/incidents.json',
  '/api/v2/incidents/unresolved.json',
  '/api/v2/scheduled-maintenances.json',
  '/api/v2/scheduled-maintenances/upcoming.json',
  '/api/v2/scheduled-maintenances/active.json',
];

describe('compressed variants', () => {
  it('are rewritten or removed with their file: a status.json that shrinks below the threshold loses its .gz and .br', async () => {
    // Measure status.json calm and with a minor incident, then pick a page name that puts the larger of the two at
    // exactly 256 bytes (compressed) and the smaller under it, so one publish crosses the threshold downwards.
    const minor = { title: 'Slow checkout', components: [{ id: 'api', status: 'degraded_performance' }] };
    f = await makeSiteFixture({ PAGE_NAME: 'Status' });
    const size = async () => Number((await f.get('/api/v2/status.json')).headers.get('content-length'));
    const calm = await size();
    await declare(f, minor);
    await f.rendered();
    const troubled = await size();
    await f.close();
    expect(calm).not.toBe(troubled);
    f = await makeSiteFixture({ PAGE_NAME: `Status${'x'.repeat(256 - Math.max(calm, troubled))}` });
    const statusFile = join(f.config.dataDir, 'site', 'current', 'api', 'v2', 'status.json');
    const sizes = [readFileSync(statusFile).length];
    const incident = await declare(f, minor);
    await f.rendered();
    sizes.push(readFileSync(statusFile).length);
    const served = ['/', '/feed.xml', '/history/', `/incidents/${incident.id}/`, ...jsonPaths];
    expect(staleVariantsOnDisk()).toEqual([]);
    expect(await staleVariantsServed(served)).toEqual([]);

    await postUpdate(f, incident.id, 'resolved');
    await f.rendered();
    sizes.push(readFileSync(statusFile).length);
    expect(staleVariantsOnDisk()).toEqual([]);
    expect(await staleVariantsServed(served)).toEqual([]);
    expect(await (await f.get('/api/v2/status.json', { 'accept-encoding': 'gzip, br' })).text()).toContain('All Systems Operational');
    // The sequence did cross the threshold downwards, or this test would prove nothing.
    expect(sizes.some((s, i) => i > 0 && sizes[i - 1]! >= 256 && s < 256), `status.json sizes ${sizes.join(' → ')}`).toBe(true);
  });

  it('match their files after a random sequence of publishes, on disk and on the wire', async () => {
    f = await makeSiteFixture({ PAGE_NAME: 'Status' });
    const seed = Number(process.env.SEED ?? Date.now() % 100_000);
    let state = seed;
    const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const open: string[] = [];
    try {
      for (let step = 0; step < 8; step++) {
        if (open.length === 0 || random() < 0.5) {
          const severity = random() < 0.7 ? 'SEV1' : 'SEV3';
          open.push((await declare(f, { title: `Incident ${step}`, severity })).id);
        } else {
          const id = open.splice(Math.floor(random() * open.length), 1)[0]!;
          await postUpdate(f, id, random() < 0.5 ? 'resolved' : 'monitoring');
        }
        await f.rendered();
        expect(staleVariantsOnDisk()).toEqual([]);
      }
      expect(await staleVariantsServed(['/', '/feed.xml', ...jsonPaths])).toEqual([]);
    } catch (e) {
      console.error(`variant sequence failed with SEED=${seed}`);
      throw e;
    }
  });
});

describe('cross-origin reads', () => {
  it('answers a preflight on /api/v2/* with 204 and CORS headers, and every JSON route and the feed with Access-Control-Allow-Origin', async () => {
    f = await makeSiteFixture();
    for (const path of [...jsonPaths, '/feed.xml']) {
      const preflight = await f.app.request(path, {
        method: 'OPTIONS',
        headers: { origin: 'https://widgets.example.net', 'access-control-request-method': 'GET', 'access-control-request-headers': 'if-none-match' },
      });
      expect(preflight.status, path).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin'), path).toBe('*');
      expect(preflight.headers.get('access-control-allow-methods'), path).toContain('GET');
      expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase(), path).toContain('if-none-match');
      const res = await f.get(path, { origin: 'https://widgets.example.net' });
      expect(res.status, path).toBe(200);
      expect(res.headers.get('access-control-allow-origin'), path).toBe('*');
      const revalidated = await f.get(path, { 'if-none-match': res.headers.get('etag')! });
      expect(revalidated.status, path).toBe(304);
      expect(revalidated.headers.get('access-control-allow-origin'), path).toBe('*');
    }
    // Pages are not for other origins.
    expect((await f.get('/')).headers.get('access-control-allow-origin')).toBeNull();
  });
});
