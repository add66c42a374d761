// The feeds: RSS 2.0 (feed.xml), Atom 1.0 (feed.atom) and JSON Feed 1.1 (feed.json), the same items in each, newest first, each update's id its stable guid.
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


/** One item, as every format carries it. */
interface FeedItem {
  id: string;
  title: string;
  /** The update's paragraphs as HTML. */
  html: string;
  /** The update's wording as plain text. */
  text: string;
  url: string;
  at: Date;
}

interface FeedContent {
  /** The page name: the feeds' author. */
  name: string;
  title: string;
  description: string;
  homeUrl: string;
  updated: Date;
  items: FeedItem[];
}

/** The newest public updates with their incident's or maintenance's title, read once for all three formats. */
async function feedContent(db: Queryable, settings: SiteSettings, now: Date): Promise<FeedContent> {
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
  const items: FeedItem[] = [];
  for (const u of latest) {
    const title = titles.get(u.incidentId ?? u.maintenanceId!);
    if (title === undefined) continue;
    items.push({
      id: u.id,
      title: `${updateStatusLabel(u.status)}: ${title}`,
      html: paragraphs(u.body).map((p) => `<p>${escapeHtml(p)}</p>`).join('\n'),
      text: u.body,
      url: `${absolute(url, paths.subject('public', u))}#${updateAnchor(u.id)}`,
      at: u.createdAt,
    });
  }
  return {
    name: settings.pageName,
    title: `${settings.pageName}: status updates`,
    description: `Incident and maintenance updates from ${settings.pageName}.`,
    homeUrl: absolute(url, paths.home('public')),
    updated: changed ?? now,
    items,
  };
}

function rssFeed(c: FeedContent, publicUrl: string): string {
  const feed = new RSS({
    title: c.title,
    description: c.description,
    feed_url: absolute(publicUrl, paths.feed()),
    site_url: c.homeUrl,
    language: 'en',
    pubDate: c.updated,
    ttl: 5,
  });
  for (const i of c.items) feed.item({ title: i.title, description: i.html, url: i.url, guid: i.id, date: i.at });
  return feed.xml({ indent: false });
}

const escapeXml = (text: string) => escapeHtml(text).replace(/'/g, '&apos;');

/** Atom 1.0 (RFC 4287): the feed's id is its own URL, each entry's a tag URI on the update id, so both stay put. */
function atomFeed(c: FeedContent, publicUrl: string): string {
  const self = absolute(publicUrl, paths.atomFeed());
  const host = new URL(publicUrl).hostname;
  const entries = c.items.map(
    (i) => `<entry>
<id>tag:${escapeXml(host)},2026:update:${escapeXml(i.id)}</id>
<title type="text">${escapeXml(i.title)}</title>
<link rel="alternate" type="text/html" href="${escapeXml(i.url)}"/>
<updated>${i.at.toISOString()}</updated>
<published>${i.at.toISOString()}</published>
<content type="html">${escapeXml(i.html)}</content>
</entry>`,
  );
  return `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">
<id>${escapeXml(self)}</id>
<title type="text">${escapeXml(c.title)}</title>
<subtitle type="text">${escapeXml(c.description)}</subtitle>
<updated>${c.updated.toISOString()}</updated>
<author><name>${escapeXml(c.name)}</name></author>
<link rel="self" type="application/atom+xml" href="${escapeXml(self)}"/>
<link rel="alternate" type="text/html" href="${escapeXml(c.homeUrl)}"/>
${entries.join('\n')}
</feed>
`;
}

/** JSON Feed 1.1 (jsonfeed.org/version/1.1). */
function jsonFeed(c: FeedContent, publicUrl: string): string {
  // JSON would carry a forbidden character as an escape ("\u0001") that survives dropping it from the text: drop it from each value.
  return JSON.stringify({
    version: 'https://jsonfeed.org/version/1.1',
    title: dropXmlForbidden(c.title),
    description: dropXmlForbidden(c.description),
    home_page_url: c.homeUrl,
    feed_url: absolute(publicUrl, paths.jsonFeed()),
    language: 'en',
    authors: [{ name: dropXmlForbidden(c.name), url: c.homeUrl }],
    items: c.items.map((i) => ({
      id: i.id,
      url: i.url,
      title: dropXmlForbidden(i.title),
      content_html: dropXmlForbidden(i.html),
      content_text: dropXmlForbidden(i.text),
      date_published: i.at.toISOString(),
      date_modified: i.at.toISOString(),
    })),
  });
}

/**
 * feed.xml, feed.atom and feed.json from one reading of the newest public updates. Rows stored before input refused
 * them may still hold characters XML 1.0 forbids; one would make a feed unreadable, so every format drops them.
 */
export async function feedFiles(db: Queryable, settings: SiteSettings, now: Date): Promise<SiteFile[]> {
  const c = await feedContent(db, settings, now);
  const url = settings.publicUrl;
  return [
    { path: 'feed.xml', body: dropXmlForbidden(rssFeed(c, url)) },
    { path: 'feed.atom', body: dropXmlForbidden(atomFeed(c, url)) },
    { path: 'feed.json', body: dropXmlForbidden(jsonFeed(c, url)) },
  ];
}
