// Renders a console screen inside the site's own Astro frame, with the console's navigation and headers.
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { Actor } from '../services/context.ts';
import { roleAllows, type Role } from '../services/tokens.ts';
import type { Services } from '../services/context.ts';
import type { PageRenderer } from '../site/astro.ts';
import { readers } from '../site/records.ts';
import { siteHeaders } from '../site/serve.ts';
import { NotFoundError } from '../errors.ts';
import { consolePage, notFoundPage, readSite, type LinkView, type PageView, type SiteReading, type SiteSettings } from '../site/view-model.ts';
import type { Html } from './form.ts';
import { escapeHtml } from '../html.ts';
import { html } from 'hono/html';
import type { ReachFlags } from '../domain.ts';
import type { DeliveryCounts } from '../services/deliveries.ts';
import { counted } from './form.ts';

export interface ConsoleDeps {
  services: Services;
  settings: SiteSettings;
  pages: PageRenderer;
  /** The From header of every email (MAIL_FROM), for the outbox screen; absent in tests that do not read mail. */
  mailFrom?: string | undefined;
}

/** Internal pages are never cached, and may run the console's own script (live preview, countdowns) and fetch from us, nothing else. */
const consoleHeaders: Record<string, string> = {
  ...siteHeaders,
  'content-security-policy': siteHeaders['content-security-policy']!.replace("default-src 'none';", "default-src 'none'; script-src 'self'; connect-src 'self';"),
  'cache-control': 'private, no-store',
};

export const links = {
  declare: '/internal/declare/',
  schedule: '/internal/maintenances/new/',
  maintenance: (id: string) => `/internal/maintenances/${id}/`,
  incident: (id: string) => `/internal/incidents/${id}/`,
  publicIncident: (id: string) => `/incidents/${id}/`,
  publicMaintenance: (id: string) => `/maintenances/${id}/`,
  components: '/internal/admin/components/',
  stakeholders: '/internal/admin/stakeholders/',
  subscribers: '/internal/admin/subscribers/',
  tokens: '/internal/admin/tokens/',
  members: '/internal/admin/members/',
  channels: '/internal/admin/channels/',
  outbox: '/internal/admin/outbox/',
};

/** Names the update a console publish just posted, for the incident or maintenance page it lands on; read once. */
const postedCookie = 'status_posted';
const secureCookies = (d: ConsoleDeps) => d.settings.publicUrl.startsWith('https:');

/**
 * Where a console publish lands (303): the subject's console page (`path`, the incident's by default), told by a
 * one-time cookie which update was just posted, so the page confirms what was sent to whom while its address stays
 * `/internal/incidents/{id}/` or `/internal/maintenances/{id}/` (SPEC).
 */
export function redirectAfterPublish(d: ConsoleDeps, c: Context, subject: { id: string; updates: { id: string }[] }, path = links.incident(subject.id)) {
  const latest = subject.updates[0];
  if (latest) setCookie(c, postedCookie, latest.id, { httpOnly: true, secure: secureCookies(d), sameSite: 'Strict', path, maxAge: 300 });
  return c.redirect(path, 303);
}

/** The id of the update a publish just posted, if the page at `path` is the one that publish landed on; clears it. */
export function takePosted(d: ConsoleDeps, c: Context, path: string): string | undefined {
  const id = getCookie(c, postedCookie);
  if (!id) return undefined;
  deleteCookie(c, postedCookie, { path, secure: secureCookies(d) });
  return id;
}

/** Recipients of one update per audience, counted from its deliveries (queued in the publishing transaction); suppressed addresses are not sent to. */
const queued = (progress: Map<string, DeliveryCounts>, audience: string) => {
  const c = progress.get(audience);
  return c ? c.pending + c.sent + c.failed : 0;
};

/**
 * After a console publish (an incident's or a maintenance's): what was sent to whom, by audience (status page,
 * subscribers, webhooks, executives, chat channels), for the update the publish just posted (redirectAfterPublish).
 * `heading` names the update; `publicHref` is the subject's public page; `extra` is one more <li> (a maintenance's
 * reminders). An audience the update did not tell says `notTold`.
 */
export function publishConfirmation(
  heading: string,
  update: { audiences: ReachFlags },
  progress: Map<string, DeliveryCounts>,
  publicHref: string,
  { notTold = 'not told at this severity', extra = '' }: { notTold?: string; extra?: unknown } = {},
) {
  const told = update.audiences;
  const line = (who: string, included: boolean, n: number, noun: string, how: string, nobody: string) =>
    html`<li><strong>${who}:</strong> ${included ? (n ? `${counted(n, noun)} ${how}` : `none (${nobody})`) : notTold}</li>`;
  return html`<div class="notice confirmation" role="status" id="posted">
<h3>${heading}</h3>
<p>What was sent to whom (emails and messages go out from the outbox; progress is in the table below):</p>
<ul>
<li><strong>Status page:</strong> ${told.public ? html`published on the <a href="${publicHref}">public page</a> and feed` : 'not published: this severity stays internal'}</li>
${line('Subscribers', told.subscribers, queued(progress, 'subscriber'), 'email', 'queued', 'no confirmed subscription covers these components')}
${line('Webhooks', told.subscribers, queued(progress, 'webhook'), 'webhook', 'called', 'no webhook subscriber')}
${line('Executives', told.stakeholders, queued(progress, 'stakeholder'), 'briefing email', 'queued', 'no stakeholder')}
${line('Chat channels', told.stakeholders, queued(progress, 'channel'), 'channel', 'messaged', 'no chat channel')}
${extra}
</ul>
</div>`;
}

/**
 * The console's navigation, on every internal page: only what the signed-in role may use (SPEC "People"). A viewer
 * reads (the reports and action items, no forms); comms publishes; an admin also has the admin screens.
 */
function consoleNav(role: Role): LinkView[] {
  // What every signed-in role may read: an executive follows the month's figures and the action items too.
  const read: LinkView[] = [
    { href: '/internal/action-items/', text: 'Action items' },
    { href: '/internal/reports/', text: 'Reports' },
  ];
  if (!roleAllows(role, 'comms')) return read;
  const publish: LinkView[] = [{ href: links.declare, text: 'Declare incident' }, { href: links.schedule, text: 'Schedule maintenance' }, ...read];
  if (!roleAllows(role, 'admin')) return [...publish, { href: '/api/docs', text: 'API reference' }];
  return [
    ...publish,
    { href: links.components, text: 'Components' },
    { href: links.members, text: 'Members' },
    { href: links.stakeholders, text: 'Stakeholders' },
    { href: links.subscribers, text: 'Subscribers' },
    { href: links.tokens, text: 'API tokens' },
    { href: links.channels, text: 'Channels' },
    { href: links.outbox, text: 'Outbox' },
    { href: '/api/docs', text: 'API reference' },
  ];
}

/** Renders any internal page view with the console around it. */
export async function renderView(d: ConsoleDeps, c: Context, view: PageView, status = 200, panel?: string) {
  view.frame.console = { nav: consoleNav(actorOf(c).role), panel };
  return c.html(await d.pages.renderPage(view), status as 200, consoleHeaders);
}

/** The site as a signed-in insider reads it now. */
const readInternal = (d: ConsoleDeps) => readSite(d.services.db, readers.internal, d.settings, d.services.clock.now());

/** Renders one console screen: `body` is the screen's markup under the page's h1. */
export async function screen(d: ConsoleDeps, c: Context, title: string, body: Html, status = 200) {
  const r = await readInternal(d);
  const markup = String(await body);
  return renderView(d, c, consolePage(r, title, `<h1>${escapeHtml(title)}</h1>\n${markup}\n<script src="/internal/console.js" defer></script>`), status);
}

/**
 * An incident's or a maintenance's console screen: the site's internal page for it with the console panel above.
 * `page` builds the page from the reading, `load` reads the subject through its service, `panel` draws the panel;
 * either missing (the service's NotFoundError) renders the site's not-found page with 404.
 */
export async function subjectScreen<T>(
  d: ConsoleDeps,
  c: Context,
  page: (r: SiteReading) => Promise<PageView | undefined>,
  load: () => Promise<T>,
  panel: (subject: T) => Html | string | Promise<Html | string>,
  status = 200,
) {
  const r = await readInternal(d);
  const view = await page(r);
  const subject = await load().catch((e: unknown) => {
    if (e instanceof NotFoundError) return null;
    throw e;
  });
  if (!view || subject === null) return renderView(d, c, notFoundPage(r), 404);
  return renderView(d, c, view, status, String(await panel(subject)));
}


/** The signed-in actor of a console request (console routes run behind the sign-in check). */
export function actorOf(c: Context): Actor {
  const p = c.get('actor') as Actor | null;
  if (!p) throw new Error('console routes run behind the sign-in check');
  return p;
}
