// Every URL a reader is given, in one place: pages, history, feed, JSON, and subscribers' manage/unsubscribe/confirm links.
import type { Reader } from './domain.ts';

/** Where each reader's pages live: the public site at the root, the internal page under /internal. */
export const readerRoot: Record<Reader, '' | '/internal'> = { public: '', internal: '/internal' };

/** Site-relative paths; prefix with the public URL (`absolute`) for email, feed, JSON and template wording. */
export const paths = {
  home: (reader: Reader) => `${readerRoot[reader]}/`,
  incident: (reader: Reader, id: string) => `${readerRoot[reader]}/incidents/${id}/`,
  maintenance: (reader: Reader, id: string) => `${readerRoot[reader]}/maintenances/${id}/`,
  /** The page of whatever an update belongs to. */
  subject: (reader: Reader, u: { incidentId: string | null; maintenanceId: string | null }) =>
    u.incidentId ? paths.incident(reader, u.incidentId) : paths.maintenance(reader, u.maintenanceId!),
  history: (reader: Reader) => `${readerRoot[reader]}/history/`,
  /** month: "2026-11" */
  month: (reader: Reader, month: string) => `${readerRoot[reader]}/history/${month}/`,
  /** day: "2026-11-23", on its month's page. */
  day: (reader: Reader, day: string) => `${readerRoot[reader]}/history/${day.slice(0, 7)}/#${dayAnchor(day)}`,
  feed: () => '/feed.xml',
  /** The same items as the RSS feed, as Atom 1.0 and as JSON Feed 1.1. */
  atomFeed: () => '/feed.atom',
  jsonFeed: () => '/feed.json',
  /** Upcoming and in-progress maintenance windows as iCalendar (RFC 5545). */
  maintenanceCalendar: () => '/maintenance.ics',
  /** The page status as an SVG badge, or one component's. */
  badge: (componentId?: string) => (componentId ? `/badge/${componentId}.svg` : '/badge.svg'),
  /** A compact page made for an iframe, and the script that shows a banner on another site. */
  embed: () => '/embed/',
  embedScript: () => '/embed.js',
  /** Shows each time in the reader's own zone (the page reads whole without it). */
  localTimeScript: () => '/local-time.js',
  /** name: a Statuspage document, e.g. "summary.json". */
  statuspage: (name: string) => `/api/v2/${name}`,
  subscribe: () => '/api/v1/subscribers',
  signIn: () => '/internal/sign-in',
  signOut: () => '/internal/sign-out',
};

/** The fragment id of an update on its page. */
export const updateAnchor = (updateId: string) => `update-${updateId}`;
/** The fragment id of a day on its month's history page. */
export const dayAnchor = (day: string) => `day-${day}`;

/** An absolute URL: publicUrl has no trailing slash ("https://status.example.com"), path starts with "/". */
export function absolute(publicUrl: string, path: string): string {
  return `${publicUrl}${path}`;
}

const withToken = (publicUrl: string, path: string, token: string) => `${publicUrl}${path}?token=${encodeURIComponent(token)}`;

/** One-click unsubscribe (RFC 8058 POST, or GET for a page). */
export function unsubscribeUrl(s: { publicUrl: string }, token: string): string {
  return withToken(s.publicUrl, '/api/v1/subscribers/unsubscribe', token);
}

export function manageUrl(s: { publicUrl: string }, token: string): string {
  return withToken(s.publicUrl, '/api/v1/subscribers/manage', token);
}

export function confirmUrl(s: { publicUrl: string }, token: string): string {
  return withToken(s.publicUrl, '/api/v1/subscribers/confirm', token);
}

/**
 * The email sign-in page for stakeholders, as a briefing links to it: a signed-in reader goes straight on to `next`
 * (a path under /internal/, or its absolute URL); anyone else is offered a one-time link mailed to `email`.
 * The URL carries no secret, so a forwarded briefing signs nobody in.
 */
export function signInByEmailUrl(publicUrl: string, next: string, email?: string): string {
  const path = next.startsWith(publicUrl) ? next.slice(publicUrl.length) : next;
  const query = new URLSearchParams({ next: path, ...(email ? { email } : {}) });
  return `${publicUrl}/internal/sign-in/email?${query}`;
}

/** A stakeholder's one-time sign-in link: GET shows a button, POST spends it. */
export function signInLinkUrl(publicUrl: string, secret: string): string {
  return withToken(publicUrl, '/internal/sign-in/link', secret);
}
