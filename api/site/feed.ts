// feed.xml: RSS 2.0, one item per public update, newest first, each with its update id as a stable guid.
import RSS from 'rss';
import { dropXmlForbidden } from '../characters.ts';
import type { Queryable } from '../../db/client.ts';
import { absolute, paths, updateAnchor } from '../links.ts';
import { paragraphs, updateStatusLabel } from '../text.ts';
import type { SiteFile } from './output.ts';
import { readers, lastChange, loadIncidents, loadMaintenances, loadUpdates } from './records.ts';
import type { SiteSettings } from './view-model.ts';
import { escapeHtml } from '../html.ts';

/** Feed readers want the recent past, not years of it; the history pages hold the rest. */
const feedItems = 100;


export async function feedFile(db: Queryable, settings: SiteSettings, now: Date): Promise<SiteFile> {
  const a = readers.public;
  const [latest, changed] = await Promise.all([loadUpdates(db, a, { newest: feedItems }), lastChange(db, a)]);
  const incidentIds = [...new Set(latest.flatMap((u) => (u.incidentId ? [u.incidentId] : [])))];
  const maintenanceIds = [...new Set(latest.flatMap((u) => (u.maintenanceId ? [u.maintenanceId] : [])))];
  const [incidents, maintenances] = await Promise.all([
    loadIncidents(db, a, { ids: incidentIds }),
    loadMaintenances(db, a, { ids: maintenanceIds }),
  ]);
  const titles = new Map([...incidents, ...maintenances].map((s) => [s.id, s.title]));
  const url = settings.publicUrl;
  const feed = new RSS({
    title: `${settings.pageName}: status updates`,
    description: `Incident and maintenance updates from ${settings.pageName}.`,
    feed_url: absolute(url, paths.feed()),
    site_url: absolute(url, paths.home('public')),
    language: 'en',
    pubDate: changed ?? now,
    ttl: 5,
  });
  for (const u of latest) {
    const subject = u.incidentId ?? u.maintenanceId!;
    const title = titles.get(subject);
    if (title === undefined) continue;
    feed.item({
      title: `${updateStatusLabel(u.status)}: ${title}`,
      description: paragraphs(u.body).map((p) => `<p>${escapeHtml(p)}</p>`).join('\n'),
      url: `${absolute(url, paths.subject('public', u))}#${updateAnchor(u.id)}`,
      guid: u.id,
      date: u.createdAt,
    });
  }
  // Rows stored before input refused them may still hold characters XML 1.0 forbids; one would make the feed unreadable.
  return { path: 'feed.xml', body: dropXmlForbidden(feed.xml({ indent: false })) };
}
