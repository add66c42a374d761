// The reliability report and public uptime on data whose answers are known: backdated incidents published through the API on an injected clock.
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readers } from '../api/site/records.ts';
import { siteSettings } from '../api/site/start.ts';
import { historyMonthPage, indexPage, readSite } from '../api/site/view-model.ts';
import { queueReliabilityBriefing } from '../api/services/reliability.ts';
import { addPastIncidents, declare, examples, makeFixture, seedComponents, type Fixture } from './fixture.ts';
import { manualOutbox } from './fanout-support.ts';
import { startSmtpSink } from './smtp-sink.ts';

let f: Fixture;
afterEach(() => f.close());

async function post(id: string, status: string, extra: Record<string, unknown> = {}) {
  const res = await f.call('POST', `/api/v1/incidents/${id}/updates`, { token: 'comms', body: { status, template: status, variables: examples(f, status), ...extra } });
  expect(res.status, await res.clone().text()).toBe(201);
}

async function addItem(incidentId: string, at: string, body: Record<string, unknown>) {
  f.clock.set(at);
  const res = await f.call('POST', `/api/v1/incidents/${incidentId}/action-items`, { token: 'comms', body: { owner: 'sam@example.com', ...body } });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { id: string };
}

async function setStatus(id: string, at: string, status: string) {
  f.clock.set(at);
  expect((await f.call('PATCH', `/api/v1/action-items/${id}`, { token: 'comms', body: { status } })).status).toBe(200);
}

/**
 * October 2026, with known answers:
 * A: SEV1 on api, impact from 09:50 (declared 10:00, 10 min late), monitoring 10:30, resolved 11:00 — a 70-minute major outage;
 * B: SEV2 on api, partial outage 00:00-10:00 on the 20th — 10 h at 30 % = 180 minutes of downtime;
 * C: SEV3 (internal only) on dashboard, a major outage the public never saw, resolved after an hour.
 */
async function october() {
  f = await makeFixture();
  f.clock.set('2026-10-01T00:00:00Z');
  await seedComponents(f);
  f.clock.set('2026-10-10T10:00:00Z');
  const a = await declare(f, { severity: 'SEV1', startedAt: '2026-10-10T09:50:00Z', nextUpdateInMinutes: 30 });
  f.clock.set('2026-10-10T10:30:00Z');
  await post(a.id, 'monitoring', { nextUpdateInMinutes: 15 });
  f.clock.set('2026-10-10T11:00:00Z');
  await post(a.id, 'resolved');
  f.clock.set('2026-10-20T00:00:00Z');
  const b = await declare(f, { severity: 'SEV2', components: [{ id: 'api', status: 'partial_outage' }] });
  f.clock.set('2026-10-20T10:00:00Z');
  await post(b.id, 'resolved');
  f.clock.set('2026-10-22T08:00:00Z');
  const c = await declare(f, { severity: 'SEV3', components: [{ id: 'dashboard', status: 'major_outage' }], nextUpdateInMinutes: 60 });
  f.clock.set('2026-10-22T09:00:00Z');
  await post(c.id, 'resolved');

  const first = await addItem(a.id, '2026-10-11T09:00:00Z', { title: 'Alert on pool saturation', dueOn: '2026-10-15' });
  const second = await addItem(a.id, '2026-10-11T09:05:00Z', { title: 'Load test the pool', dueOn: '2026-10-20' });
  const dropped = await addItem(a.id, '2026-10-12T09:00:00Z', { title: 'Rewrite the pool', dueOn: '2026-10-13' });
  await addItem(b.id, '2026-10-21T09:00:00Z', { title: 'Cache partner responses', dueOn: '2026-11-05' });
  await setStatus(dropped.id, '2026-10-12T10:00:00Z', 'wont_do');
  await setStatus(first.id, '2026-10-14T16:00:00Z', 'done');
  await setStatus(second.id, '2026-10-25T16:00:00Z', 'done');
  f.clock.set('2026-11-23T12:00:00Z');
  return { a, b, c };
}

describe('the reliability report', () => {
  it('gives the known figures per month: counts, medians and p90s, cadence kept, action items and uptime', async () => {
    await october();
    const res = await f.call('GET', '/api/v1/reports/reliability?from=2026-10-01&to=2026-11-23', { token: 'viewer' });
    expect(res.status, await res.clone().text()).toBe(200);
    const report = await res.json();
    expect(report.months.map((m: { month: string }) => m.month)).toEqual(['2026-10', '2026-11']);
    const [oct, nov] = report.months;
    expect(oct.incidents).toEqual({ SEV1: 1, SEV2: 1, SEV3: 1, SEV4: 0, total: 3 });
    // ack: [0, 0, 600] · first public: [0, 600] · mitigate: [2400, 3600, 36000] · resolve: [3600, 4200, 36000]
    expect(oct.timeToAcknowledge).toEqual({ median: 0, p90: 480 });
    expect(oct.timeToFirstPublicUpdate).toEqual({ median: 300, p90: 540 });
    expect(oct.timeToMitigate).toEqual({ median: 3600, p90: 29520 });
    expect(oct.timeToResolve).toEqual({ median: 4200, p90: 29640 });
    // A's declaration (due 10:30, next at 10:30) and C's (due 09:00, next at 09:00) were kept; A's monitoring and B's declaration were not.
    expect(oct.cadenceKept).toBe(0.5);
    expect(oct.actionItems).toEqual({ opened: 4, done: 2, doneOnTime: 1, overdue: 1 });
    // 250 minutes of weighted downtime in October's 44,640 minutes; the internal-only outage does not count.
    expect(oct.uptime.api).toBeCloseTo(100 * (1 - 250 / 44_640), 3);
    expect(oct.uptime.dashboard).toBe(100);
    expect(nov.incidents.total).toBe(0);
    expect(nov.timeToResolve).toEqual({ median: null, p90: null });
    expect(nov.cadenceKept).toBeNull();
    expect(nov.actionItems).toEqual({ opened: 0, done: 0, doneOnTime: 0, overdue: 1 });
    expect(nov.uptime).toEqual({ api: 100, dashboard: 100, webhooks: 100 });
  });

  it('exports the incidents behind the figures as CSV, one row each', async () => {
    const { a, c } = await october();
    const res = await f.call('GET', '/api/v1/reports/reliability/incidents.csv?from=2026-10-01&to=2026-10-31', { token: 'viewer' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/csv');
    const lines = (await res.text()).trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^id,month,severity,title,internal_title,public,started_at/);
    expect(lines.find((l) => l.startsWith(a.id))).toContain(',2026-10-10T09:50:00.000Z,2026-10-10T10:00:00.000Z,2026-10-10T10:00:00.000Z,2026-10-10T10:30:00.000Z,2026-10-10T11:00:00.000Z,600,600,2400,4200');
    expect(lines.find((l) => l.startsWith(c.id))).toMatch(/,SEV3,.*,no,.*,,3600,3600$/);
  });

  it('gives no uptime for a month that has not begun, and the month in progress up to now', async () => {
    await october();
    // The clock is now 23 Nov 2026: December is ahead.
    const res = await f.call('GET', '/api/v1/reports/reliability?from=2026-11-01&to=2026-12-31', { token: 'viewer' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { months: { month: string; uptime: Record<string, number | null> }[] };
    const [nov, dec] = body.months;
    expect(Object.values(dec!.uptime).every((p) => p === null)).toBe(true);
    expect(Object.values(nov!.uptime).every((p) => typeof p === 'number' && p >= 0 && p <= 100)).toBe(true);
  });

  it('refuses a period that makes no sense with 422 naming the field, and a request without a token with 401', async () => {
    f = await makeFixture();
    for (const [query, field] of [
      ['from=2026-11-01&to=2026-10-01', 'to'],
      ['from=2026-13-01&to=2026-12-01', 'from'],
      ['from=2020-01-01&to=2026-12-01', 'to'],
      ['to=2026-12-01', 'from'],
    ] as const) {
      const res = await f.call('GET', `/api/v1/reports/reliability?${query}`, { token: 'viewer' });
      expect(res.status, query).toBe(422);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect((await res.json()).errors.map((e: { path: string }) => e.path), query).toContain(field);
    }
    expect((await f.call('GET', '/api/v1/reports/reliability?from=2026-10-01&to=2026-10-31', { token: null })).status).toBe(401);
  });

  it('briefs stakeholders once on REPORT_DAY with last month’s figures, through the outbox', async () => {
    await october();
    expect((await f.call('POST', '/api/v1/stakeholders', { body: { email: 'ceo@example.com', name: 'Cleo' } })).status).toBe(201);
    f.clock.set('2026-11-30T12:00:00Z');
    expect(await queueReliabilityBriefing(f.services, 1)).toBeNull();
    f.clock.set('2026-12-01T06:00:00Z');
    expect(await queueReliabilityBriefing(f.services, 0)).toBeNull();
    expect(await queueReliabilityBriefing(f.services, 1)).toBe('2026-11');
    expect(await queueReliabilityBriefing(f.services, 1)).toBeNull();
    const sink = await startSmtpSink();
    const outbox = manualOutbox(f, sink);
    try {
      await outbox.drain();
      // The owner of the item overdue since 5 November gets the latest weekly notice only (no burst of stale ones); the stakeholder one briefing.
      const received = await sink.parsed();
      expect(received.filter((m) => m.envelopeTo.includes('sam@example.com')).map((m) => m.subject)).toEqual(['Overdue (week 4): Cache partner responses']);
      const briefings = received.filter((m) => m.envelopeTo.includes('ceo@example.com'));
      expect(briefings).toHaveLength(1);
      const [mail] = briefings;
      expect(mail!.subject).toContain('Reliability in November 2026');
      expect(mail!.text).toContain('Action items: 0 opened, 0 done (0 on time), 1 overdue');
      expect(mail!.text).toContain('/internal/reports/?from=2026-11-01&to=2026-11-30');
    } finally {
      await outbox.close();
      await sink.close();
    }
  });
});

describe('public uptime', () => {
  it('shows each component’s 90-day uptime and each day’s downtime, from public incidents only', async () => {
    await october();
    const view = await indexPage(await readSite(f.services.db, readers.public, siteSettings(f.config), f.clock.now()));
    const lines = view.groups.flatMap((g) => g.components);
    const api = lines.find((c) => c.id === 'api')!;
    // The window runs from 26 August 00:00 to now, 23 November 12:00: 128,880 minutes, 250 of them down.
    expect(api.uptime).toBe(`${(Math.floor(100 * (1 - 250 / 128_880) * 100) / 100).toFixed(2)} % uptime`);
    expect(api.uptime).toBe('99.80 % uptime');
    expect(api.days.find((d) => d.day === '2026-10-10')!.summary).toMatch(/Downtime 1 hour 10 minutes$/);
    expect(api.days.find((d) => d.day === '2026-10-20')!.summary).toMatch(/Downtime 3 hours$/);
    expect(api.days.find((d) => d.day === '2026-10-21')!.summary).toMatch(/No downtime$/);
    expect(lines.find((c) => c.id === 'dashboard')!.uptime).toBe('100.00 % uptime');
    const month = await historyMonthPage(await readSite(f.services.db, readers.public, siteSettings(f.config), f.clock.now()), '2026-10', ['2026-10', '2026-11']);
    expect(month.uptime).toEqual([
      { name: 'Api', text: '99.43 % uptime' },
      { name: 'Dashboard', text: '100.00 % uptime' },
      { name: 'Webhooks', text: '100.00 % uptime' },
    ]);
  });

  it('neither credits nor punishes a young component: days before it existed count as up', async () => {
    f = await makeFixture();
    await seedComponents(f);
    f.clock.advance(60 * 60_000);
    const incident = await declare(f, { components: [{ id: 'api', status: 'major_outage' }] });
    f.clock.advance(60 * 60_000);
    await post(incident.id, 'resolved');
    const view = await indexPage(await readSite(f.services.db, readers.public, siteSettings(f.config), f.clock.now()));
    const api = view.groups.flatMap((g) => g.components).find((c) => c.id === 'api')!;
    // One hour down in a window of 89 days and 14 hours, though the component is two hours old.
    expect(api.uptime).toBe(`${(Math.floor(100 * (1 - 60 / (89 * 1440 + 14 * 60)) * 100) / 100).toFixed(2)} % uptime`);
  });
});

describe('the figures add up (seeded properties)', () => {
  beforeEach(async () => {
    f = await makeFixture();
    await seedComponents(f);
    await addPastIncidents(f, 400);
  });

  it('counts every incident of the period once, keeps uptime within 0..100 and every median within its inputs', async () => {
    const day = fc.integer({ min: 0, max: 364 });
    await fc.assert(
      fc.asyncProperty(day, day, async (x, y) => {
        const iso = (k: number) => new Date(Date.parse('2025-11-23T00:00:00Z') + k * 86_400_000).toISOString().slice(0, 10);
        const [from, to] = [iso(Math.min(x, y)), iso(Math.max(x, y))];
        const res = await f.call('GET', `/api/v1/reports/reliability?from=${from}&to=${to}`, { token: 'viewer' });
        expect(res.status).toBe(200);
        const report = await res.json();
        const expected = await f.services.db.$client.execute({
          sql: 'SELECT count(*) AS n, min(acknowledged_at - started_at) AS lo, max(resolved_at - started_at) AS hi FROM incidents WHERE started_at >= ? AND started_at < ?',
          args: [Date.parse(`${from}T00:00:00Z`), Date.parse(`${to}T00:00:00Z`) + 86_400_000],
        });
        const total = report.months.reduce((n: number, m: { incidents: { total: number } }) => n + m.incidents.total, 0);
        expect(total).toBe(Number(expected.rows[0]!.n));
        for (const m of report.months) {
          expect(m.incidents.total).toBe(m.incidents.SEV1 + m.incidents.SEV2 + m.incidents.SEV3 + m.incidents.SEV4);
          for (const p of Object.values(m.uptime) as number[]) expect(p >= 0 && p <= 100).toBe(true);
          for (const key of ['timeToAcknowledge', 'timeToMitigate', 'timeToResolve', 'timeToFirstPublicUpdate']) {
            const { median, p90 } = m[key];
            if (median === null) continue;
            expect(median).toBeGreaterThanOrEqual(Number(expected.rows[0]!.lo) / 1000);
            expect(p90).toBeLessThanOrEqual(Number(expected.rows[0]!.hi) / 1000);
            expect(median).toBeLessThanOrEqual(p90);
          }
          if (m.cadenceKept !== null) expect(m.cadenceKept >= 0 && m.cadenceKept <= 1).toBe(true);
        }
        const csv = await (await f.call('GET', `/api/v1/reports/reliability/incidents.csv?from=${from}&to=${to}`, { token: 'viewer' })).text();
        expect(csv.trim().split('\n').length - 1).toBe(total);
      }),
      { numRuns: 15 },
    );
  });
});
