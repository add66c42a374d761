import { readFileSync } from 'node:fs';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { declare, examples, makeSiteFixture, walk, type SiteFixture } from './site-fixture.ts';

// Every internal field gets a unique string starting with this, and so does every field of a SEV3/SEV4 incident.
const canary = 'ZQXCANARY';
let n = 0;
const plant = (where: string) => `${canary}${where.replace(/[^a-zA-Z0-9]/g, '')}${++n}`;

let f: SiteFixture;
const hidden: string[] = [];
const publicIds: string[] = [];

/** A template's variables: internal ones planted with canaries, the rest with their examples. */
function variables(key: string, overrides: Record<string, string> = {}): Record<string, string> {
  const template = f.services.templates.get(key)!;
  const values = examples(f, key);
  for (const v of template.variables) if (v.audience === 'internal') values[v.name] = plant(`${key}${v.name}`);
  return { ...values, ...overrides };
}

async function call(method: string, path: string, body: unknown) {
  const res = await f.call(method, path, { token: 'comms', body });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<{ id: string }>;
}

const roles = () => ({ ic: plant('ic'), comms: plant('comms'), smes: [plant('sme'), plant('sme')] });

async function publishEverything() {
  // A SEV1 through every incident template, a reopen, and a postmortem.
  const sev1 = await declare(f, {
    title: 'Checkout PUBLICOK one',
    internalTitle: plant('internalTitle'),
    severity: 'SEV1',
    template: 'investigating',
    variables: variables('investigating'),
    roles: roles(),
  });
  publicIds.push(sev1.id);
  const steps: [string, string, Record<string, unknown>?][] = [
    ['degraded-performance', 'investigating'],
    ['security-holding-statement', 'investigating'],
    ['third-party-outage', 'identified'],
    ['data-loss-risk', 'identified'],
    ['identified', 'identified'],
    ['partial-recovery', 'monitoring'],
    ['monitoring', 'monitoring'],
    ['free-form', 'monitoring'],
    ['resolved', 'resolved'],
    ['reopened', 'investigating', { reopen: true }],
    ['resolved', 'resolved'],
  ];
  for (const [template, status, extra] of steps) {
    await call('POST', `/api/v1/incidents/${sev1.id}/updates`, { status, template, variables: variables(template), roles: roles(), ...extra });
  }
  await call('PUT', `/api/v1/incidents/${sev1.id}/postmortem`, {
    externalSummary: 'For about an hour checkout failed for some customers. PUBLICOK summary.',
    internalBody: `${plant('postmortemBody')}\n\n${plant('postmortemBody')}`,
    actionItems: [{ title: plant('actionTitle'), owner: `${plant('actionOwner')}@example.com`, dueOn: '2026-12-01' }],
    variables: variables('postmortem-published'),
  });

  const sev2 = await declare(f, {
    title: 'Webhooks PUBLICOK two',
    internalTitle: plant('internalTitle'),
    severity: 'SEV2',
    template: 'free-form',
    variables: variables('free-form', { message: 'Webhooks are late. PUBLICOK message.' }),
    components: [{ id: 'webhooks', status: 'degraded_performance' }],
  });
  publicIds.push(sev2.id);

  // SEV3 and SEV4: every field, external ones too, must stay off the public outputs.
  for (const severity of ['SEV3', 'SEV4']) {
    const title = plant(`${severity}title`);
    hidden.push(title);
    const incident = await declare(f, {
      title,
      internalTitle: plant(`${severity}internalTitle`),
      severity,
      template: 'free-form',
      variables: variables('free-form', { message: plant(`${severity}message`) }),
      components: [{ id: 'dashboard', status: 'major_outage' }],
      roles: roles(),
    });
    hidden.push(incident.id);
    // The SEV4 stays active, with the dashboard down: customers must still see the dashboard as operational.
    if (severity === 'SEV4') continue;
    await call('POST', `/api/v1/incidents/${incident.id}/updates`, {
      status: 'resolved',
      template: 'free-form',
      variables: variables('free-form', { message: plant(`${severity}resolved`) }),
    });
    await call('PUT', `/api/v1/incidents/${incident.id}/postmortem`, {
      externalSummary: plant(`${severity}summary`),
      internalBody: plant(`${severity}body`),
      actionItems: [],
      variables: variables('postmortem-published', { summary: plant(`${severity}pmsummary`), key_change: plant(`${severity}keychange`) }),
    });
  }

  // Maintenance through its lifecycle, one cancelled, one still ahead.
  const day = 24 * 60 * 60 * 1000;
  const now = f.clock.now().getTime();
  const window = (from: number) => ({ scheduledFor: new Date(from).toISOString(), scheduledUntil: new Date(from + 2 * 3600_000).toISOString() });
  const done = await call('POST', '/api/v1/maintenances', {
    title: 'Database upgrade PUBLICOK',
    internalTitle: plant('maintenanceTitle'),
    ...window(now + day),
    components: ['api'],
    variables: variables('maintenance-scheduled'),
  });
  for (const [template, status] of [
    ['maintenance-started', 'in_progress'],
    ['maintenance-extended', 'in_progress'],
    ['maintenance-verifying', 'verifying'],
    ['maintenance-completed', 'completed'],
  ]) {
    await call('POST', `/api/v1/maintenances/${done.id}/updates`, { status, template, variables: variables(template!) });
  }
  const cancelled = await call('POST', '/api/v1/maintenances', {
    title: 'Network work PUBLICOK',
    internalTitle: plant('maintenanceTitle'),
    ...window(now + 2 * day),
    components: ['webhooks'],
    variables: variables('maintenance-scheduled'),
  });
  await call('POST', `/api/v1/maintenances/${cancelled.id}/updates`, { status: 'cancelled', template: 'maintenance-cancelled', variables: variables('maintenance-cancelled') });
  await call('POST', '/api/v1/maintenances', {
    title: 'Storage upgrade PUBLICOK',
    internalTitle: plant('maintenanceTitle'),
    ...window(now + 3 * day),
    components: ['dashboard'],
    variables: variables('maintenance-scheduled'),
  });
  await f.rendered();
}

/** Every file of the live release, compressed variants decompressed, as text. */
function outputFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const [path, body] of f.files()) {
    const text = path.endsWith('.br') ? brotliDecompressSync(body) : path.endsWith('.gz') ? gunzipSync(body) : body;
    files.set(path, text.toString('utf8'));
  }
  return files;
}

/** Fetches every public path reachable from the front page, the feed and the JSON, in both the plain and br encodings. */
async function crawl(): Promise<Map<string, string>> {
  const seen = new Map<string, string>();
  const queue = ['/', '/feed.xml', '/history/', '/no-such-page/'];
  for (const name of ['summary', 'status', 'components', 'incidents', 'incidents/unresolved', 'scheduled-maintenances', 'scheduled-maintenances/upcoming', 'scheduled-maintenances/active']) {
    queue.push(`/api/v2/${name}.json`);
  }
  while (queue.length > 0) {
    const path = queue.shift()!;
    if (seen.has(path)) continue;
    const res = await f.get(path, { 'accept-encoding': 'identity' });
    const body = await res.text();
    const br = await f.get(path, { 'accept-encoding': 'br' });
    const brBody = br.headers.get('content-encoding') === 'br' ? brotliDecompressSync(Buffer.from(await br.arrayBuffer())).toString() : await br.text();
    seen.set(path, `${body}\n${brBody}`);
    const links = [...body.matchAll(/(?:href|action)="([^"]+)"|<link>([^<]+)<\/link>|"(?:shortlink|url)":"([^"]+)"/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
    for (const link of links) {
      const url = new URL(link.replace(/&amp;/g, '&'), 'https://status.example.com/');
      if (url.origin !== 'https://status.example.com' || url.pathname.startsWith('/api/v1') || url.pathname.startsWith('/internal')) continue;
      queue.push(url.pathname);
    }
  }
  return seen;
}

function hits(documents: Map<string, string>, needles: string[]): string[] {
  return [...documents].flatMap(([path, text]) => needles.filter((needle) => text.includes(needle)).map((needle) => `${needle} in ${path}`));
}

beforeAll(async () => {
  f = await makeSiteFixture();
  await publishEverything();
}, 120_000);
afterAll(() => f.close());

describe('no internal wording in any public output', () => {
  it('planted canaries in every internal field and section, and the internal page shows them', async () => {
    expect(n).toBeGreaterThan(60);
    const internal = await (await f.get('/internal/history/2026-11/', { authorization: `Bearer ${f.tokens.viewer}` })).text();
    expect(internal).toContain(canary);
    const sev1 = await (await f.get(`/internal/incidents/${publicIds[0]}/`, { authorization: `Bearer ${f.tokens.viewer}` })).text();
    for (const what of ['internalTitle', 'ic', 'sme', 'postmortemBody', 'actionTitle', 'actionOwner', 'identifiedcause', 'investigatinghypothesis']) {
      expect(sev1).toMatch(new RegExp(`${canary}${what}\\d+`));
    }
  });

  it('finds none in any file of the incrementally rendered site, compressed variants included', () => {
    const files = outputFiles();
    expect(files.size).toBeGreaterThan(40);
    expect([...files.values()].some((t) => t.includes('PUBLICOK'))).toBe(true);
    expect(hits(files, [canary, ...hidden])).toEqual([]);
  });

  it('finds none on any public path, feed or JSON document a crawler reaches', async () => {
    const pages = await crawl();
    expect(pages.size).toBeGreaterThan(15);
    for (const id of publicIds) expect([...pages.keys()]).toContain(`/incidents/${id}/`);
    expect(hits(pages, [canary, ...hidden])).toEqual([]);
  });

  it('parses the feed and the JSON and finds none in any value', async () => {
    const feed = await (await f.get('/feed.xml')).text();
    const items = [...feed.matchAll(/<item>([\s\S]*?)<\/item>/g)].map((m) => m[1]!);
    expect(items.length).toBeGreaterThan(15);
    expect(items.join('')).not.toContain(canary);
    const strings = (value: unknown): string[] =>
      typeof value === 'string' ? [value] : value && typeof value === 'object' ? Object.values(value).flatMap(strings) : [];
    for (const name of ['summary', 'incidents', 'scheduled-maintenances']) {
      const json = await (await f.get(`/api/v2/${name}.json`)).json();
      const values = strings(json);
      expect(values.filter((v) => v.includes(canary) || hidden.some((h) => v.includes(h)))).toEqual([]);
    }
  });

  it('keeps SEV3 and SEV4 incidents off the public site entirely: no page, no bar, no status', async () => {
    for (const id of hidden.filter((h) => !h.startsWith(canary))) {
      expect((await f.get(`/incidents/${id}/`)).status).toBe(404);
    }
    const summary = await (await f.get('/api/v2/summary.json')).json();
    // The SEV3/SEV4 incidents took the dashboard down; customers must not see that.
    expect(summary.components.find((c: { id: string }) => c.id === 'dashboard').status).toBe('operational');
  });

  it('finds none after a full render into a new release either', async () => {
    const before = await f.site.output.live();
    f.site.renderer.renderAll();
    await f.rendered();
    expect(await f.site.output.live()).not.toBe(before);
    const files = outputFiles();
    expect(hits(files, [canary, ...hidden])).toEqual([]);
    expect(hits(await crawl(), [canary, ...hidden])).toEqual([]);
    for (const id of hidden.filter((h) => !h.startsWith(canary))) expect((await f.get(`/incidents/${id}/`)).status).toBe(404);
    const summary = await (await f.get('/api/v2/summary.json')).json();
    expect(summary.components.find((c: { id: string }) => c.id === 'dashboard').status).toBe('operational');
    expect(summary.status.indicator).toBe('minor');
  });

  it('never writes the internal page into the output folder', () => {
    const root = f.site.output.root;
    const all = walk(root);
    expect(all.filter((p) => p.includes('/internal'))).toEqual([]);
    expect(all.some((p) => readFileSync(p).includes(Buffer.from('Sign out')))).toBe(false);
  });
});
