// The view-model on its own (no rendering): records give facts, the view-model writes the words each audience reads.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readers, loadIncidents } from '../api/site/records.ts';
import { siteSettings } from '../api/site/start.ts';
import { incidentPages, indexPage, readSite } from '../api/site/view-model.ts';
import { declare, makeFixture, seedComponents, type Fixture } from './fixture.ts';

let f: Fixture;
beforeEach(async () => {
  f = await makeFixture();
  await seedComponents(f);
});
afterEach(() => f.close());

const reading = (who: 'public' | 'internal') => readSite(f.services.db, readers[who], siteSettings(f.config), f.services.clock.now());

describe('view-model', () => {
  it('writes insiders\' facts in words: roles not assigned, overdue by, reach; customers get none of them', async () => {
    const incident = await declare(f, { severity: 'SEV3', nextUpdateInMinutes: 15 });
    f.clock.advance(40 * 60_000);
    const [internal] = await incidentPages(await reading('internal'), [incident.id]);
    const facts = Object.fromEntries(internal!.incident.facts.map((x) => [x.label, x.warning ?? x.text]));
    expect(facts).toMatchObject({
      Severity: 'SEV3',
      Audience: 'Internal page and executives only',
      'Incident commander': 'Not assigned',
      'Next update due': 'Overdue by 25 minutes',
      'Time to mitigate': 'Not yet',
    });
    expect(internal!.timeline[0]!.aside?.label).toBe('External wording (not published)');
    // The public reading does not even see a SEV3.
    expect(await incidentPages(await reading('public'), [incident.id])).toEqual([]);
  });

  it('the records carry no words: an incident record is facts only', async () => {
    await declare(f, { severity: 'SEV1' });
    const [record] = await loadIncidents(f.services.db, readers.internal);
    expect(Object.keys(record!).sort()).toEqual(['createdAt', 'id', 'nextUpdateAt', 'resolvedAt', 'severity', 'startedAt', 'status', 'title', 'updatedAt']);
    const insights = await readers.internal.incidentInsights(f.services.db, [record!.id]);
    expect(insights.get(record!.id)).toMatchObject({ severity: 'SEV1', status: 'investigating', roles: {} });
  });

  it('names the time zone times are shown in (and days grouped in), on every frame', async () => {
    await f.close();
    f = await makeFixture({ TIME_ZONE: 'America/New_York' });
    const view = await indexPage(await reading('public'));
    expect(view.frame.timeNote).toBe('Times are in America/New_York time.');
  });
});
