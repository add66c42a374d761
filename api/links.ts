// Every URL a audience is given, in one place: pages, history, feed, JSON, and subscribers' manage/unsubscribe/confirm links.
import type { Audience } from './domain.ts';

/** Where each audience's pages live: the public site at the root, the internal page under /internal. */
export const audienceRoot: Record<Audience, '' | '/internal'> = { public: '', internal: '/internal' };

/** Site-relative paths; prefix with the public URL (`absolute`) for email, feed, JSON and template wording. */
export const paths = {
  home: (audience: Audience) => `${audienceRoot[audience]}/`,
  incident: (audience: Audience, id: string) => `${audienceRoot[audience]}/incidents/${id}/`,
  maintenance: (audience: Audience, id: string) => `${audienceRoot[audience]}/maintenances/${id}/`,
  /** The page of whatever an update belongs to. */
  subject: (audience: Audience, u: { incidentId: string | null; maintenanceId: string | null }) =>
    u.incidentId ? paths.incident(audience, u.incidentId) : paths.maintenance(audience, u.maintenanceId!),
  history: (audience: Audience) => `${audienceRoot[audience]}/history/`,
  /** month: "2026-11" */
  month: (audience: Audience, month: string) => `${audienceRoot[audience]}/history/${month}/`,
  /** day: "2026-11-23", on its month's page. */
  day: (audience: Audience, day: string) => `${audienceRoot[audience]}/history/${day.slice(0, 7)}/#${dayAnchor(day)}`,
  feed: () => '/feed.xml',
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
