// The 90-day bars follow every change to an incident, though the front page keeps the window's incidents between renders.
import { afterEach, describe, expect, it } from 'vitest';
import { declare, makeSiteFixture, postUpdate, type SiteFixture } from './site-fixture.ts';

let f: SiteFixture;
afterEach(() => f.close());

/** Today's bar of the first component (api) on the front page: its class and its words. */
async function todaysApiBar(): Promise<{ status: string; words: string }> {
  const html = await (await f.get('/')).text();
  const api = html.slice(html.indexOf('aria-label="Api: status by day'));
  // A quiet day is a span, a day with trouble a link to it; both carry the day's words.
  const bars = [...api.matchAll(/<(?:span|a) class="day ([a-z_ -]+)"[^>]*><span class="tip">([^<]*)<\/span>/g)];
  const today = bars[89]!;
  return { status: today[1]!, words: today[2]! };
}

describe('the 90-day bars', () => {
  it('take each change to an incident: a new impact, a worse one, resolution, and never an internal-only incident', async () => {
    f = await makeSiteFixture();
    expect((await todaysApiBar()).words).toMatch(/No incidents\. No downtime$/);

    const incident = await declare(f, { title: 'Slow API', components: [{ id: 'api', status: 'degraded_performance' }] });
    await f.rendered();
    const degraded = await todaysApiBar();
    // Each title sits between isolates (U+2068 … U+2069): a right-to-left title cannot reorder the words after it.
    expect(degraded.words).toMatch(/Degraded performance: \u2068Slow API\u2069/i);

    await postUpdate(f, incident.id, 'identified', { components: [{ id: 'api', status: 'major_outage' }] });
    await f.rendered();
    const major = await todaysApiBar();
    expect(major.words).toMatch(/Major outage: \u2068Slow API\u2069/i);
    expect(major.status).not.toBe(degraded.status);

    // The day keeps the worst impact it saw after the incident is resolved.
    await postUpdate(f, incident.id, 'resolved');
    await f.rendered();
    expect(await todaysApiBar()).toEqual(major);

    await declare(f, { title: 'Internal database hiccup', severity: 'SEV3', components: [{ id: 'api', status: 'major_outage' }] });
    await f.rendered();
    f.site.renderer.refresh();
    await f.rendered();
    expect((await todaysApiBar()).words).not.toContain('Internal database hiccup');
  });
});
