// Customers' reach, the static outputs: Atom and JSON Feed beside RSS, badges, the embed page, the maintenance calendar, CORS and 304s.
import ICAL from 'ical.js';
import { parseAtomFeed, parseJsonFeed, parseRssFeed } from 'feedsmith';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encode } from '../api/site/output.ts';
import { liveSite } from '../api/site/live.ts';
import { answer } from '../api/site/serve.ts';
import { examples } from './fixture.ts';
import { declare, makeSiteFixture, postUpdate, type SiteFixture } from './site-fixture.ts';

let f: SiteFixture;
beforeEach(async () => {
  f = await makeSiteFixture();
});
afterEach(() => f.close());

const text = async (path: string) => (await f.get(path)).text();
/** A parsed text construct: Atom's come as { type, value }. */
const words = (t: unknown) => (typeof t === 'string' ? t : (t as { value: string } | undefined)?.value);

async function schedule(title: string, scheduledFor: string, scheduledUntil: string) {
  const res = await f.call('POST', '/api/v1/maintenances', {
    token: 'comms',
    body: { title, scheduledFor, scheduledUntil, components: ['api'], variables: examples(f, 'maintenance-scheduled') },
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { id: string; version: number };
}

describe('the feeds', () => {
  it('carries the same items in RSS, Atom 1.0 and JSON Feed 1.1, each read by a real parser', async () => {
    const incident = await declare(f, { title: 'Checkout & <payments> failing' });
    await postUpdate(f, incident.id, 'identified');
    await schedule('Database upgrade', '2026-11-24T10:00:00Z', '2026-11-24T11:00:00Z');
    await f.rendered();

    const rss = parseRssFeed(await text('/feed.xml'));
    const atom = parseAtomFeed(await text('/feed.atom'));
    const json = parseJsonFeed(JSON.parse(await text('/feed.json')));
    const rssItems = (rss.items ?? []).map((i) => ({ id: words(i.guid), title: i.title, link: i.link }));
    expect(rssItems).toHaveLength(3);
    expect(atom.entries?.map((e) => words(e.title))).toEqual(rssItems.map((i) => i.title));
    expect(json.items?.map((i) => i.title)).toEqual(rssItems.map((i) => i.title));
    expect(atom.entries?.map((e) => e.links?.[0]?.href)).toEqual(rssItems.map((i) => i.link));
    expect(json.items?.map((i) => i.url)).toEqual(rssItems.map((i) => i.link));
    expect(json.items?.map((i) => i.id)).toEqual(rssItems.map((i) => i.id));
    expect(words(atom.entries?.[2]?.title)).toBe('Investigating: Checkout & <payments> failing');
    // What each format requires of a feed and its entries.
    expect(atom.id).toBe('https://status.example.com/feed.atom');
    expect(atom.updated).toBeTruthy();
    for (const e of atom.entries ?? []) expect([e.id, e.title, e.updated].every(Boolean)).toBe(true);
    expect(json.title).toContain('Example Status');
    expect(JSON.parse(await text('/feed.json')).version).toBe('https://jsonfeed.org/version/1.1');
    expect((await f.get('/feed.atom')).headers.get('content-type')).toBe('application/atom+xml; charset=utf-8');
    expect((await f.get('/feed.json')).headers.get('content-type')).toBe('application/feed+json; charset=utf-8');
    // Linked from every public page.
    const home = await text('/');
    expect(home).toContain('href="/feed.atom"');
    expect(home).toContain('href="/feed.json"');
  });
});

describe('the badges', () => {
  it('says the page status and each component status in words and colour, with a title, and moves with them', async () => {
    const before = await text('/badge.svg');
    expect(before).toContain('<title>Example Status: All Systems Operational</title>');
    expect(before).toContain('#1d7a3e');
    expect(await text('/badge/api.svg')).toContain('<title>Example Status, Api: Operational</title>');
    expect((await f.get('/badge.svg')).headers.get('content-type')).toBe('image/svg+xml; charset=utf-8');

    await declare(f, { components: [{ id: 'api', status: 'major_outage' }] });
    await f.rendered();
    const after = await text('/badge.svg');
    expect(after).toContain('<title>Example Status: Partial System Outage</title>');
    const api = await text('/badge/api.svg');
    expect(api).toContain('Major outage');
    expect(api).toContain('#b42318');
    // A component the incident did not touch keeps its badge byte for byte (and so its ETag).
    expect(await text('/badge/dashboard.svg')).toContain('Operational');
  });

  it('takes an archived component’s badge away at once, not at the next full render', async () => {
    expect((await f.get('/badge/dashboard.svg')).status).toBe(200);
    expect((await f.call('DELETE', '/api/v1/components/dashboard')).status).toBe(204);
    await f.rendered();
    expect((await f.get('/badge/dashboard.svg')).status).toBe(404);
    expect((await f.get('/badge/api.svg')).status).toBe(200);
  });
});

describe('the embed page', () => {
  it('may be framed by any site, shows the status and what is active, and links out in a new tab', async () => {
    const quiet = await f.get('/embed/');
    expect(quiet.status).toBe(200);
    expect(quiet.headers.get('content-security-policy')).toContain('frame-ancestors *');
    expect(quiet.headers.get('x-frame-options')).toBeNull();
    expect(await quiet.text()).toContain('All Systems Operational');
    // The rest of the site still refuses to be framed.
    expect((await f.get('/')).headers.get('x-frame-options')).toBe('DENY');

    await declare(f, { title: 'Login is slow' });
    await f.rendered();
    const html = await text('/embed/');
    expect(html).toContain('Login is slow');
    expect(html).toMatch(/href="https:\/\/status\.example\.com\/incidents\/[^"]+\/" target="_blank" rel="noopener"/);
  });
});

describe('cross-origin reads', () => {
  it('answers CORS * on the JSON, every feed and every badge, and on their preflight', async () => {
    for (const path of ['/api/v2/summary.json', '/feed.xml', '/feed.atom', '/feed.json', '/badge.svg', '/badge/api.svg']) {
      const res = await f.get(path, { origin: 'https://docs.customer.example' });
      expect(res.status, path).toBe(200);
      expect(res.headers.get('access-control-allow-origin'), path).toBe('*');
      const preflight = await f.app.request(path, { method: 'OPTIONS', headers: { origin: 'https://docs.customer.example', 'access-control-request-method': 'GET' } });
      expect(preflight.status, path).toBe(204);
    }
    expect((await f.get('/')).headers.get('access-control-allow-origin')).toBeNull();
  });
});

/** A publish a few seconds after the fixture's set-up (whose renders all fall in the manual clock's one second). */
async function publishLater() {
  f.clock.set(new Date(f.clock.now().getTime() + 5_000).toISOString());
  await declare(f, { components: [{ id: 'api', status: 'major_outage' }] });
  await f.rendered();
}

describe('conditional GET', () => {
  it('answers If-Modified-Since with 304 when the copy is current, and with the page when it is older', async () => {
    await publishLater();
    for (const path of ['/', '/feed.atom', '/badge.svg', '/api/v2/summary.json']) {
      const res = await f.get(path);
      const modified = res.headers.get('last-modified')!;
      expect(modified, path).toBeTruthy();
      const again = await f.get(path, { 'if-modified-since': modified });
      expect(again.status, path).toBe(304);
      expect(await again.text()).toBe('');
      const older = new Date(Date.parse(modified) - 60_000).toUTCString();
      expect((await f.get(path, { 'if-modified-since': older })).status, path).toBe(200);
      // If-None-Match wins when both are sent (RFC 9110 13.1.3): a stale ETag gets the page whatever the date says.
      expect((await f.get(path, { 'if-modified-since': modified, 'if-none-match': '"stale"' })).status, path).toBe(200);
    }
  });

  it('never answers 304 to a date when the file changed twice within that second (dates have one-second precision)', () => {
    let now = new Date('2026-12-07T10:00:00.100Z');
    const live = liveSite(() => now);
    const badge = (words: string) => encode({ path: 'badge.svg', body: `<svg><title>${words}</title></svg>` });
    live.replaceAll('r1', 1, [badge('Operational')]);
    const get = (since: string) => answer(live, { method: 'GET', path: '/badge.svg', ifModifiedSince: since })!;
    const first = live.get('badge.svg')!.identity.headers['last-modified']!;
    // A publish 500 ms later, in the same second: the date cannot change, so it no longer vouches for a copy.
    now = new Date('2026-12-07T10:00:00.600Z');
    live.apply(2, [badge('Major outage')]);
    expect(live.get('badge.svg')!.identity.headers['last-modified']).toBe(first);
    const stale = get(first);
    expect(stale.status).toBe(200);
    expect(String(stale.body)).toContain('Major outage');
    // A later second's change is a date that tells copies apart again.
    now = new Date('2026-12-07T10:00:02.000Z');
    live.apply(3, [badge('Operational')]);
    const latest = live.get('badge.svg')!.identity.headers['last-modified']!;
    expect(get(first).status).toBe(200);
    expect(get(latest).status).toBe(304);
  });

  it('answers 304 through the fast path a real server takes, too', async () => {
    await publishLater();
    const first = answer(f.site.live, { method: 'GET', path: '/' })!;
    const again = answer(f.site.live, { method: 'GET', path: '/', ifModifiedSince: first.headers['last-modified'] });
    expect(again?.status).toBe(304);
  });
});

/** The calendar parsed by ical.js: its events with the properties customers' calendars read. */
async function calendar() {
  const raw = await text('/maintenance.ics');
  // RFC 5545 3.1: CRLF line ends, lines of at most 75 octets.
  expect(raw.endsWith('\r\n')).toBe(true);
  for (const line of raw.split('\r\n')) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(75);
  const vcalendar = new ICAL.Component(ICAL.parse(raw));
  expect(vcalendar.getFirstPropertyValue('version')).toBe('2.0');
  expect(vcalendar.getFirstPropertyValue('prodid')).toBeTruthy();
  return vcalendar.getAllSubcomponents('vevent').map((v) => {
    const e = new ICAL.Event(v);
    expect(v.getFirstPropertyValue('dtstamp')).toBeTruthy();
    return {
      uid: e.uid,
      summary: e.summary,
      sequence: e.sequence,
      start: e.startDate.toJSDate().toISOString(),
      end: e.endDate.toJSDate().toISOString(),
      status: String(v.getFirstPropertyValue('status')),
      url: String(v.getFirstPropertyValue('url')),
    };
  });
}

describe('the maintenance calendar', () => {
  it('holds each upcoming window as a VEVENT with a stable UID, linked from the page', async () => {
    expect(await calendar()).toEqual([]);
    const title = 'Database upgrade; with, commas\\and a long name that needs folding across more than one line of the file: ü€';
    const m = await schedule(title, '2026-11-24T10:00:00Z', '2026-11-24T11:30:00Z');
    await f.rendered();
    const [event, ...rest] = await calendar();
    expect(rest).toEqual([]);
    expect(event).toEqual({
      uid: `${m.id}@status.example.com`,
      summary: `Maintenance: ${title}`,
      sequence: 0,
      start: '2026-11-24T10:00:00.000Z',
      end: '2026-11-24T11:30:00.000Z',
      status: 'CONFIRMED',
      url: `https://status.example.com/maintenances/${m.id}/`,
    });
    expect((await f.get('/maintenance.ics')).headers.get('content-type')).toBe('text/calendar; charset=utf-8');
    expect(await text('/')).toContain('href="/maintenance.ics"');
  });

  it('raises SEQUENCE on each change and keeps a cancelled window as STATUS:CANCELLED', async () => {
    const m = await schedule('Network work', '2026-11-24T10:00:00Z', '2026-11-24T11:00:00Z');
    const moved = await f.call('PATCH', `/api/v1/maintenances/${m.id}`, { token: 'comms', body: { scheduledFor: '2026-11-25T10:00:00Z', scheduledUntil: '2026-11-25T12:00:00Z' } });
    expect(moved.status, await moved.clone().text()).toBe(200);
    await f.rendered();
    expect(await calendar()).toEqual([
      expect.objectContaining({ uid: `${m.id}@status.example.com`, sequence: 1, start: '2026-11-25T10:00:00.000Z', end: '2026-11-25T12:00:00.000Z', status: 'CONFIRMED' }),
    ]);
    const cancelled = await f.call('POST', `/api/v1/maintenances/${m.id}/updates`, {
      token: 'comms',
      body: { status: 'cancelled', template: 'maintenance-cancelled', variables: examples(f, 'maintenance-cancelled') },
    });
    expect(cancelled.status, await cancelled.clone().text()).toBe(201);
    await f.rendered();
    const [event] = await calendar();
    expect(event).toMatchObject({ uid: `${m.id}@status.example.com`, status: 'CANCELLED', sequence: 2 });
  });
});

describe('the history', () => {
  it('lists past incidents inline, newest first, and never a maintenance window still to come', async () => {
    const older = await declare(f, { title: 'Older trouble', startedAt: '2026-11-20T08:00:00Z' });
    await postUpdate(f, older.id, 'resolved');
    await declare(f, { title: 'Newer trouble', startedAt: '2026-11-22T08:00:00Z' });
    await schedule('Future window', '2026-11-28T10:00:00Z', '2026-11-28T11:00:00Z');
    const past = await schedule('Past window', '2026-11-23T11:30:00Z', '2026-11-23T11:45:00Z');
    const done = await f.call('POST', `/api/v1/maintenances/${past.id}/updates`, {
      token: 'comms',
      body: { status: 'completed', template: 'maintenance-completed', variables: examples(f, 'maintenance-completed') },
    });
    expect(done.status).toBe(201);
    await f.rendered();
    const history = await text('/history/');
    const order = ['Past window', 'Newer trouble', 'Older trouble'].map((t) => history.indexOf(t));
    expect(order.every((at) => at > 0)).toBe(true);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(history).not.toContain('Future window');
    // This month's page is history too: the window later this month is not on it.
    const month = await text('/history/2026-11/');
    expect(month).toContain('Older trouble');
    expect(month).toContain('Past window');
    expect(month).not.toContain('Future window');
    // It is on the front page, where what is coming belongs.
    expect(await text('/')).toContain('Future window');
  });

  it('shows the newest 25 on its first page and links on to the month where they end', async () => {
    for (let n = 0; n < 30; n++) {
      const day = String(1 + (n % 20)).padStart(2, '0');
      await declare(f, { title: `Trouble number ${n}`, startedAt: `2026-${n < 10 ? '10' : '11'}-${day}T0${n % 10}:00:00Z` });
    }
    await f.rendered();
    const history = await text('/history/');
    expect(history.match(/Trouble number \d+/g)).toHaveLength(25);
    expect(history).toMatch(/<a href="\/history\/2026-10\/" rel="next">Older: October 2026 →<\/a>/);
  });
});

describe('text people typed', () => {
  it('isolates its direction: titles carry dir="auto", component names sit in <bdi>', async () => {
    const title = 'Outage \u202Egnillib\u202C in billing';
    const incident = await declare(f, { title });
    await f.rendered();
    const home = await text('/');
    expect(home).toContain(`<a href="/incidents/${incident.id}/" dir="auto">${title}</a>`);
    expect(home).toMatch(/· <bdi>Api<\/bdi>/);
    expect(home).toContain('<span class="component-name" dir="auto">Api</span>');
    expect(await text(`/incidents/${incident.id}/`)).toContain(`<h1 dir="auto">${title}</h1>`);
  });
});
