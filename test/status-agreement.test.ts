// Model-based test of SPEC "Agreement: one status truth": random publish sequences, then every output must agree with a small model.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readers } from '../api/site/records.ts';
import { siteSettings } from '../api/site/start.ts';
import { statuspageFiles } from '../api/site/statuspage.ts';
import { indexPage, readSite } from '../api/site/view-model.ts';
import { examples, makeFixture, seedComponents, type Fixture } from './fixture.ts';
import { makeSiteFixture, type SiteFixture } from './site-fixture.ts';

// ---- the reference model: a few lines that say what every output must show ----

type Status = 'operational' | 'under_maintenance' | 'degraded_performance' | 'partial_outage' | 'major_outage';
type Reader = 'public' | 'internal';
const rank: Status[] = ['operational', 'under_maintenance', 'degraded_performance', 'partial_outage', 'major_outage'];
const componentIds = ['api', 'dashboard', 'webhooks'];
const severities = ['SEV1', 'SEV2', 'SEV3', 'SEV4'] as const;
const impacts: Status[] = ['degraded_performance', 'partial_outage', 'major_outage', 'under_maintenance'];
const openSteps = ['investigating', 'identified', 'monitoring'] as const;

interface ModelIncident {
  id: string;
  severity: (typeof severities)[number];
  status: 'investigating' | 'identified' | 'monitoring' | 'resolved';
  impacts: Map<string, Status>;
  /** Components this incident ever impaired: its day bars keep them. */
  ever: Set<string>;
  version: number;
}
interface ModelMaintenance {
  id: string;
  status: 'scheduled' | 'in_progress' | 'verifying' | 'completed' | 'cancelled';
  components: string[];
  version: number;
}
interface Model {
  incidents: ModelIncident[];
  maintenances: ModelMaintenance[];
}

const worst = (list: Status[]) => list.reduce<Status>((w, s) => (rank.indexOf(s) > rank.indexOf(w) ? s : w), 'operational');

/** What each component shows: the worst impact of the reader's open incidents and of maintenance in progress. */
function expectedStatuses(m: Model, reader: Reader): Map<string, Status> {
  const seen = (i: ModelIncident) => reader === 'internal' || i.severity === 'SEV1' || i.severity === 'SEV2';
  return new Map(
    componentIds.map((id) => [
      id,
      worst([
        ...m.incidents.filter((i) => i.status !== 'resolved' && seen(i)).map((i) => i.impacts.get(id) ?? 'operational'),
        ...m.maintenances.filter((w) => (w.status === 'in_progress' || w.status === 'verifying') && w.components.includes(id)).map((): Status => 'under_maintenance'),
      ]),
    ]),
  );
}

/** Components whose day bar for today must show something, for this reader: impaired at some point today, or maintained. */
function touchedToday(m: Model, reader: Reader): Set<string> {
  const seen = (i: ModelIncident) => reader === 'internal' || i.severity === 'SEV1' || i.severity === 'SEV2';
  return new Set([
    ...m.incidents.filter(seen).flatMap((i) => [...i.ever]),
    ...m.maintenances.filter((w) => w.status === 'in_progress' || w.status === 'verifying' || w.status === 'completed').flatMap((w) => w.components),
  ]);
}

/** Statuspage's blend, written out again here so the test does not trust the code under test. */
function expectedIndicator(statuses: Status[]): string {
  const w = worst(statuses);
  const all = statuses.every((s) => s === w);
  return { major_outage: all ? 'critical' : 'major', partial_outage: all ? 'major' : 'minor', degraded_performance: 'minor', under_maintenance: 'maintenance', operational: 'none' }[w];
}

const indicatorRank = ['none', 'maintenance', 'minor', 'major', 'critical'];

/**
 * The page status (SPEC "One door"): the blend, unless an open incident the reader sees impairs no component; then its
 * severity speaks for it (SEV1 critical, SEV2 major, SEV3/SEV4 minor) when that is worse. Returns indicator and banner colour.
 */
function expectedPage(m: Model, reader: Reader): { indicator: string; banner: Status } {
  const statuses = [...expectedStatuses(m, reader).values()];
  const blended = { indicator: expectedIndicator(statuses), banner: worst(statuses) };
  const seen = (i: ModelIncident) => reader === 'internal' || i.severity === 'SEV1' || i.severity === 'SEV2';
  const bySeverity = { SEV1: 'critical', SEV2: 'major', SEV3: 'minor', SEV4: 'minor' } as const;
  const colour: Record<string, Status> = { critical: 'major_outage', major: 'partial_outage', minor: 'degraded_performance' };
  let page = blended;
  for (const i of m.incidents.filter((i) => i.status !== 'resolved' && seen(i))) {
    const impairs = [...i.impacts.values()].some((s) => s !== 'operational' && s !== 'under_maintenance');
    if (impairs) continue;
    const own = bySeverity[i.severity];
    if (indicatorRank.indexOf(own) > indicatorRank.indexOf(page.indicator)) page = { indicator: own, banner: colour[own]! };
  }
  return page;
}

// ---- the real system, and what each output says ----

interface Real {
  f: Fixture;
  /** Checks the outputs the Astro render wrote (real HTML) rather than the view-model. */
  html: boolean;
  rendered(): Promise<void>;
}

async function call(r: Real, method: string, path: string, body: unknown) {
  const res = await r.f.call(method, path, { token: 'comms', body });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: string; version: number };
}

const asMap = (rows: { id: string; status: string }[]) => new Map(rows.filter((c) => componentIds.includes(c.id)).map((c) => [c.id, c.status]));

async function observe(r: Real, m: Model) {
  const f = r.f;
  const publicExpected = expectedStatuses(m, 'public');
  const internalExpected = expectedStatuses(m, 'internal');
  const pageExpected = { public: expectedPage(m, 'public'), internal: expectedPage(m, 'internal') };
  const where = (what: string) => `${what} after ${m.incidents.length} incidents, ${m.maintenances.length} windows`;

  // The API: anonymous readers get the public audience, a token the internal one.
  const anonymous = (await (await f.call('GET', '/api/v1/components', { token: null })).json()) as { components: { id: string; status: string }[] };
  expect(asMap(anonymous.components), where('anonymous /api/v1/components')).toEqual(publicExpected);
  const signedIn = (await (await f.call('GET', '/api/v1/components', { token: 'viewer' })).json()) as { components: { id: string; status: string }[] };
  expect(asMap(signedIn.components), where('signed-in /api/v1/components')).toEqual(internalExpected);

  if (r.html) {
    await r.rendered();
    const json = async <T,>(name: string) => (await f.app.request(`/api/v2/${name}`)).json() as Promise<T>;
    const [status, components] = await Promise.all([
      json<{ status: { indicator: string } }>('status.json'),
      json<{ components: { id: string; status: string }[] }>('components.json'),
    ]);
    expect(status.status.indicator, where('status.json')).toBe(pageExpected.public.indicator);
    expect(asMap(components.components), where('components.json')).toEqual(publicExpected);
    const page = async (path: string, headers: Record<string, string> = {}) => (await f.app.request(path, { headers })).text();
    const read = (html: string) => ({
      indicator: /data-indicator="([a-z]+)"/.exec(html)?.[1],
      banner: /<section class="banner ([a-z_]+)"/.exec(html)?.[1],
      components: new Map([...html.matchAll(/data-component="([^"]+)" data-status="([^"]+)"/g)].map((x) => [x[1]!, x[2]!])),
    });
    const pub = read(await page('/'));
    expect(pub, where('index.html')).toEqual({ ...pageExpected.public, components: publicExpected });
    const internal = read(await page('/internal/', { authorization: `Bearer ${f.tokens.viewer}` }));
    expect(internal, where('/internal/')).toEqual({ ...pageExpected.internal, components: internalExpected });
    return;
  }

  const settings = siteSettings(f.config);
  const now = f.services.clock.now();
  const files = new Map((await statuspageFiles(await readSite(f.services.db, readers.public, settings, now))).map((d) => [d.path, JSON.parse(d.body.toString())]));
  expect(files.get('api/v2/status.json').status.indicator, where('status.json')).toBe(pageExpected.public.indicator);
  expect(files.get('api/v2/summary.json').status.indicator, where('summary.json')).toBe(pageExpected.public.indicator);
  expect(asMap(files.get('api/v2/components.json').components), where('components.json')).toEqual(publicExpected);
  for (const reader of ['public', 'internal'] as const) {
    const expected = reader === 'public' ? publicExpected : internalExpected;
    const view = await indexPage(await readSite(f.services.db, readers[reader], settings, now));
    const lines = new Map(view.groups.flatMap((g) => g.components.map((c) => [c.id, c.status.value])));
    expect(lines, where(`${reader} index view`)).toEqual(expected);
    // Today's day bar never reads calmer than the component now, and stays quiet where nothing this reader sees happened.
    const touched = touchedToday(m, reader);
    for (const line of view.groups.flatMap((g) => g.components)) {
      const today = line.days.at(-1)!.status.value as Status;
      expect(rank.indexOf(today), where(`${reader} ${line.id} bar today (${today})`)).toBeGreaterThanOrEqual(rank.indexOf(expected.get(line.id)!));
      if (!touched.has(line.id)) expect(today, where(`${reader} ${line.id} bar today`)).toBe('operational');
    }
    expect({ banner: view.banner.status.value, indicator: view.banner.indicator }, where(`${reader} banner`)).toEqual(pageExpected[reader]);
  }
}

// ---- commands: what a comms lead does ----

type Cmd = fc.AsyncCommand<Model, Real>;
const minute = (r: Real) => r.f.clock.advance(60_000);
const pick = <T>(list: T[], n: number) => list[n % list.length]!;

const changes = fc.uniqueArray(
  fc.record({ id: fc.constantFrom(...componentIds), status: fc.constantFrom<Status>(...impacts, 'operational') }),
  { selector: (c) => c.id, minLength: 1, maxLength: 3 },
);

class Declare implements Cmd {
  constructor(
    readonly severity: ModelIncident['severity'],
    readonly components: { id: string; status: Status }[],
  ) {}
  check = () => true;
  async run(m: Model, r: Real) {
    minute(r);
    const components = this.components.map((c) => ({ ...c, status: c.status === 'operational' ? 'degraded_performance' : c.status }));
    const res = await call(r, 'POST', '/api/v1/incidents', {
      title: 'Trouble',
      internalTitle: 'Trouble (internal)',
      severity: this.severity,
      template: 'investigating',
      variables: examples(r.f, 'investigating'),
      components,
    });
    m.incidents.push({
      id: res.id,
      severity: this.severity,
      status: 'investigating',
      impacts: new Map(components.map((c) => [c.id, c.status])),
      ever: new Set(components.map((c) => c.id)),
      version: res.version,
    });
    await observe(r, m);
  }
  toString = () => `declare ${this.severity} ${JSON.stringify(this.components)}`;
}

class Update implements Cmd {
  constructor(
    readonly which: number,
    readonly step: number,
    readonly components: { id: string; status: Status }[] | null,
  ) {}
  check = (m: Readonly<Model>) => m.incidents.some((i) => i.status !== 'resolved');
  async run(m: Model, r: Real) {
    minute(r);
    const incident = pick(m.incidents.filter((i) => i.status !== 'resolved'), this.which);
    // Forward only: the current step or a later one.
    const from = openSteps.indexOf(incident.status as (typeof openSteps)[number]);
    const status = openSteps[from + (this.step % (openSteps.length - from))]!;
    const res = await call(r, 'POST', `/api/v1/incidents/${incident.id}/updates`, {
      status,
      template: status,
      variables: examples(r.f, status),
      ...(this.components ? { components: this.components } : {}),
    });
    incident.status = status;
    incident.version = res.version;
    for (const c of this.components ?? []) {
      incident.impacts.set(c.id, c.status);
      if (c.status !== 'operational') incident.ever.add(c.id);
    }
    await observe(r, m);
  }
  toString = () => `update #${this.which} step ${this.step} ${JSON.stringify(this.components)}`;
}

class Resolve implements Cmd {
  constructor(
    readonly which: number,
    readonly recover: boolean,
  ) {}
  check = (m: Readonly<Model>) => m.incidents.some((i) => i.status !== 'resolved');
  async run(m: Model, r: Real) {
    minute(r);
    const incident = pick(m.incidents.filter((i) => i.status !== 'resolved'), this.which);
    const components = this.recover ? [...incident.impacts.keys()].map((id) => ({ id, status: 'operational' as const })) : undefined;
    await call(r, 'POST', `/api/v1/incidents/${incident.id}/updates`, {
      status: 'resolved',
      template: 'resolved',
      variables: examples(r.f, 'resolved'),
      ...(components ? { components } : {}),
    });
    incident.status = 'resolved';
    for (const c of components ?? []) incident.impacts.set(c.id, c.status);
    await observe(r, m);
  }
  toString = () => `resolve #${this.which}${this.recover ? ' with components operational' : ''}`;
}

class Reopen implements Cmd {
  constructor(readonly which: number) {}
  check = (m: Readonly<Model>) => m.incidents.some((i) => i.status === 'resolved');
  async run(m: Model, r: Real) {
    minute(r);
    const incident = pick(m.incidents.filter((i) => i.status === 'resolved'), this.which);
    await call(r, 'POST', `/api/v1/incidents/${incident.id}/updates`, {
      status: 'investigating',
      template: 'reopened',
      variables: examples(r.f, 'reopened'),
      reopen: true,
    });
    // Reopening brings back the impacts the incident recorded.
    incident.status = 'investigating';
    await observe(r, m);
  }
  toString = () => `reopen #${this.which}`;
}

class Schedule implements Cmd {
  constructor(readonly components: string[]) {}
  check = () => true;
  async run(m: Model, r: Real) {
    minute(r);
    const from = r.f.clock.now().getTime() + 30 * 24 * 3600_000;
    const res = await call(r, 'POST', '/api/v1/maintenances', {
      title: 'Planned work',
      scheduledFor: new Date(from).toISOString(),
      scheduledUntil: new Date(from + 3600_000).toISOString(),
      components: this.components,
      variables: examples(r.f, 'maintenance-scheduled'),
    });
    m.maintenances.push({ id: res.id, status: 'scheduled', components: this.components, version: res.version });
    await observe(r, m);
  }
  toString = () => `schedule ${this.components.join(',')}`;
}

const maintenanceSteps = {
  start: { from: ['scheduled', 'verifying'], to: 'in_progress', template: 'maintenance-started' },
  verify: { from: ['in_progress'], to: 'verifying', template: 'maintenance-verifying' },
  complete: { from: ['scheduled', 'in_progress', 'verifying'], to: 'completed', template: 'maintenance-completed' },
  cancel: { from: ['scheduled'], to: 'cancelled', template: 'maintenance-cancelled' },
} as const;

class MoveMaintenance implements Cmd {
  constructor(
    readonly step: keyof typeof maintenanceSteps,
    readonly which: number,
  ) {}
  private candidates = (m: Readonly<Model>) => m.maintenances.filter((w) => (maintenanceSteps[this.step].from as readonly string[]).includes(w.status));
  check = (m: Readonly<Model>) => this.candidates(m).length > 0;
  async run(m: Model, r: Real) {
    minute(r);
    const w = pick(this.candidates(m), this.which);
    const { to, template } = maintenanceSteps[this.step];
    await call(r, 'POST', `/api/v1/maintenances/${w.id}/updates`, { status: to, template, variables: examples(r.f, template) });
    w.status = to;
    await observe(r, m);
  }
  toString = () => `${this.step} maintenance #${this.which}`;
}

const commands = [
  fc.tuple(fc.constantFrom(...severities), changes).map(([s, c]) => new Declare(s, c)),
  fc.tuple(fc.nat(5), fc.nat(3), fc.option(changes, { nil: null })).map(([w, s, c]) => new Update(w, s, c)),
  fc.tuple(fc.nat(5), fc.boolean()).map(([w, rec]) => new Resolve(w, rec)),
  fc.nat(5).map((w) => new Reopen(w)),
  fc.uniqueArray(fc.constantFrom(...componentIds), { minLength: 1, maxLength: 2 }).map((c) => new Schedule(c)),
  fc.tuple(fc.constantFrom('start', 'verify', 'complete', 'cancel' as const), fc.nat(5)).map(([s, w]) => new MoveMaintenance(s, w)),
];

/** Empties everything a sequence wrote, keeping components and tokens, so one database serves every run. */
async function reset(f: Fixture) {
  await f.services.db.$client.executeMultiple(
    ['incidents', 'incident_components', 'updates', 'postmortems', 'maintenances', 'maintenance_components', 'deliveries', 'audit_events', 'idempotency_keys']
      .map((t) => `DELETE FROM ${t};`)
      .join('\n'),
  );
}

/** Runs the model; the seed is the run's (test/fast-check-seed.ts), and a failure names it with a replay line. */
async function runModel(real: Real, numRuns: number, maxCommands: number) {
  await fc.assert(
    fc.asyncProperty(fc.commands(commands, { maxCommands }), async (cmds) => {
      await reset(real.f);
      if (real.html) {
        (real.f as SiteFixture).site.renderer.renderAll();
        await real.rendered();
      }
      await fc.asyncModelRun(() => ({ model: { incidents: [], maintenances: [] }, real }), cmds);
    }),
    { numRuns, endOnFailure: true },
  );
}

describe('one status truth (SPEC "Agreement"), model-based', () => {
  let f: Fixture;
  let sf: SiteFixture;
  beforeAll(async () => {
    f = await makeFixture();
    await seedComponents(f);
    sf = await makeSiteFixture();
  }, 60_000);
  afterAll(async () => {
    await f.close();
    await sf.close();
  });

  it('API, status.json, summary.json, components.json and both index views agree with the model after every step (200 sequences)', async () => {
    await runModel({ f, html: false, rendered: async () => {} }, 200, 10);
  }, 120_000);

  it('the rendered index.html, /internal/, status.json and components.json agree with the model after every step', async () => {
    await runModel({ f: sf, html: true, rendered: () => sf.rendered() }, 12, 8);
  }, 120_000);
});
