// The outbox screen: for admins every message with its recipient, state, attempts and (while pending) when it is due,
// filterable by incident, and one rendered as its recipient sees it; for comms the deliveries of one incident, addresses hidden.
import { Hono, type Context } from 'hono';
import { html } from 'hono/html';
import { createMiddleware } from 'hono/factory';
import type { AuthEnv } from '../auth.ts';
import type { MailSettings } from '../mail/compose.ts';
import { incidentStatusLabel } from '../domain.ts';
import { listIncidents } from '../services/incidents.ts';
import { listOutbox, renderOutboxMessage, type OutboxEntry } from '../services/outbox-view.ts';
import { roleAllows } from '../services/tokens.ts';
import { count, counted, select } from './form.ts';
import { forbidden } from './roles.ts';
import { links, actorOf, screen, type ConsoleDeps } from './screen.ts';

const outboxLinks = {
  list: '/internal/admin/outbox/',
  message: (id: number) => `/internal/admin/outbox/${id}/`,
  htmlPart: (id: number) => `/internal/admin/outbox/${id}/html`,
};

const states = ['pending', 'sent', 'failed', 'suppressed'] as const;
type State = (typeof states)[number];

/** Addresses are admin-only (as in the API): an error line such as "550 <reader@example.com>: unknown user" loses them. */
const withoutAddresses = (text: string) => text.replace(/[^\s<>()"',;:]+@[^\s<>()"',;:]+/g, '(address hidden)');

/** A delivery's kind in words ("due_reminder" → "due reminder"): the console shows no identifiers. */
const kindText = (kind: string) => kind.replaceAll('_', ' ');

const time = (d: Date | null) => (d ? html`<time datetime="${d.toISOString()}">${d.toISOString().slice(0, 16).replace('T', ' ')} UTC</time>` : '—');
const recipient = (e: OutboxEntry) => html`${e.email} <span class="meta">(${e.audience})</span>`;
const about = (e: OutboxEntry) =>
  e.incidentId ? html`<a href="${links.incident(e.incidentId)}">${e.subject ?? e.incidentId}</a>` : e.maintenanceId ? html`<a href="${links.maintenance(e.maintenanceId)}">${e.subject ?? e.maintenanceId}</a>` : '—';

/** The mail settings the outbox composes with; without MAIL_FROM known, the From line says so. */
const mail = (d: ConsoleDeps): MailSettings => ({ from: d.mailFrom ?? '(MAIL_FROM)', publicUrl: d.settings.publicUrl, pageName: d.settings.pageName });

/**
 * Everyone signed in may open /internal/, but each message shows its recipient's address and links: admins only. The
 * list of one incident's deliveries is open to comms too (the people who publish see where their updates went), with
 * addresses hidden and no message opened, as the API hides addresses below admin.
 */
function adminOnly(d: ConsoleDeps) {
  return createMiddleware<AuthEnv>(async (c, next) => {
    const list = c.req.path === outboxLinks.list || c.req.path === '/internal/admin/outbox';
    if (!roleAllows(actorOf(c).role, list ? 'comms' : 'admin')) return forbidden(d, c, list ? 'comms' : 'admin');
    await next();
  });
}

async function listScreen(d: ConsoleDeps, c: Context) {
  const admin = roleAllows(actorOf(c).role, 'admin');
  const incidentId = c.req.query('incident') || undefined;
  const state = states.includes(c.req.query('state') as State) ? (c.req.query('state') as State) : undefined;
  const incidents = await listIncidents(d.services, { limit: 50 });
  // Below admin the outbox opens on one incident: sign-in links and subscription emails are not theirs to read.
  const { entries, counts } = admin || incidentId ? await listOutbox(d.services.db, { incidentId, status: state, limit: 200 }) : { entries: [], counts: { pending: 0, sent: 0, failed: 0, suppressed: 0 } };
  const none = new Map<string, string>();
  const summary = html`<strong>${count(counts.pending!)}</strong> pending, <strong>${count(counts.sent!)}</strong> sent, <strong>${count(counts.failed!)}</strong> failed, <strong>${count(counts.suppressed!)}</strong> suppressed.`;
  const intro = admin
    ? html`<p>Every email the outbox holds, newest first${incidentId ? ' for the chosen incident' : ''}: ${summary}</p>`
    : incidentId
      ? html`<p>The deliveries of the chosen incident, newest first: ${summary}</p><p class="meta">Addresses are shown to admins only, as in the API.</p>`
      : html`<p>Choose an incident to see its deliveries: who each update and briefing went to, and whether it arrived.</p>`;
  const body = html`${intro}
<form method="get" action="${outboxLinks.list}" class="inline-form">
${select({ id: 'incident', label: 'Incident', value: incidentId ?? '', errors: none, options: [{ value: '', label: admin ? 'All messages' : 'Choose an incident' }, ...incidents.map((i) => ({ value: i.id, label: `${i.internalTitle} (${i.severity}, ${incidentStatusLabel[i.status]})` }))] })}
${select({ id: 'state', label: 'State', value: state ?? '', errors: none, options: [{ value: '', label: 'Any state' }, ...states.map((s) => ({ value: s, label: s }))] })}
<div class="actions"><button type="submit">Filter</button></div>
</form>
<table class="admin-table"><caption>${counted(entries.length, 'message')}${entries.length === 200 ? ' (the newest 200)' : ''}</caption>
<thead><tr><th scope="col">Message</th><th scope="col">Kind</th><th scope="col">Recipient</th><th scope="col">About</th><th scope="col">State</th><th scope="col">Attempts</th><th scope="col">Due</th><th scope="col">Queued</th><th scope="col">Sent</th><th scope="col">Last error</th></tr></thead>
<tbody>${entries.map((e) =>
    admin
      ? html`<tr><td><a href="${outboxLinks.message(e.id)}">Read message ${e.id}</a></td><td>${kindText(e.kind)}</td><td>${recipient(e)}</td><td>${about(e)}</td><td>${e.status}</td><td>${e.attempts}</td><td>${e.status === 'pending' ? time(e.nextAttemptAt) : '—'}</td><td>${time(e.createdAt)}</td><td>${time(e.sentAt)}</td><td>${e.lastError ?? ''}</td></tr>`
      : html`<tr><td>Message ${e.id}</td><td>${kindText(e.kind)}</td><td>hidden <span class="meta">(${e.audience})</span></td><td>${about(e)}</td><td>${e.status}</td><td>${e.attempts}</td><td>${e.status === 'pending' ? time(e.nextAttemptAt) : '—'}</td><td>${time(e.createdAt)}</td><td>${time(e.sentAt)}</td><td>${e.lastError ? withoutAddresses(e.lastError) : ''}</td></tr>`,
  )}</tbody></table>`;
  return screen(d, c, 'Outbox', body);
}

async function messageScreen(d: ConsoleDeps, c: Context, id: number) {
  const found = Number.isSafeInteger(id) ? await renderOutboxMessage(d.services.db, mail(d), id, d.services.clock.now()) : null;
  if (!found) return screen(d, c, 'Message not found', html`<p>There is no message ${c.req.param('id')} in the outbox. <a href="${outboxLinks.list}">Back to the outbox</a></p>`, 404);
  const e = found.entry;
  const facts = html`<dl class="facts">
<dt>To</dt><dd>${recipient(e)}</dd>
<dt>Kind</dt><dd>${kindText(e.kind)}</dd>
<dt>About</dt><dd>${about(e)}</dd>
<dt>State</dt><dd>${e.status}${e.lastError ? html` — ${e.lastError}` : ''}</dd>
<dt>Attempts</dt><dd>${e.attempts}</dd>
<dt>Queued</dt><dd>${time(e.createdAt)}</dd>
<dt>Sent</dt><dd>${time(e.sentAt)}</dd>
</dl>`;
  const rendered =
    'message' in found
      ? html`<section aria-labelledby="as-sent"><h2 id="as-sent">As the recipient sees it</h2>
<dl class="facts mail-headers"><dt>From</dt><dd>${found.message.from}</dd><dt>Subject</dt><dd>${found.message.subject}</dd>
${Object.entries(found.message.headers).map(([k, v]) => html`<dt>${k}</dt><dd><code>${v}</code></dd>`)}</dl>
<h3>Text part</h3>
<pre class="mail-text">${found.message.text}</pre>
<h3>HTML part</h3>
<iframe class="mail-html" sandbox="" src="${outboxLinks.htmlPart(e.id)}" title="HTML part of message ${e.id}"></iframe>
<p><a href="${outboxLinks.htmlPart(e.id)}">Open the HTML part on its own</a></p>
</section>`
      : html`<p class="notice" role="note">Not composed: the outbox would not send this message now (${found.notRendered}).</p>`;
  const res = await screen(d, c, `Message ${e.id}`, html`${facts}${rendered}<p><a href="${outboxLinks.list}">Back to the outbox</a></p>`);
  // The HTML part is shown in a sandboxed frame from this origin; nothing else on the page may be framed.
  res.headers.set('content-security-policy', `${res.headers.get('content-security-policy') ?? "default-src 'none'"}; frame-src 'self'`);
  return res;
}

/** The HTML part on its own, sandboxed: scripts, forms and remote content of an email never run here. */
async function htmlPart(d: ConsoleDeps, c: Context, id: number) {
  const found = Number.isSafeInteger(id) ? await renderOutboxMessage(d.services.db, mail(d), id, d.services.clock.now()) : null;
  if (!found || !('message' in found)) return c.text('No HTML part for this message.', 404, { 'cache-control': 'private, no-store' });
  return c.body(found.message.html, 200, {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox; frame-ancestors 'self'",
    'cache-control': 'private, no-store',
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
  });
}

/** Mounted with the console's admin screens. */
export function outboxRoutes(d: ConsoleDeps) {
  const app = new Hono<AuthEnv>();
  app.use('/internal/admin/outbox/*', adminOnly(d));
  app.get('/internal/admin/outbox', adminOnly(d), (c) => c.redirect(`${outboxLinks.list}${new URL(c.req.url).search}`, 301));
  app.get('/internal/admin/outbox/', (c) => listScreen(d, c));
  app.get('/internal/admin/outbox/:id/', (c) => messageScreen(d, c, Number(c.req.param('id'))));
  app.get('/internal/admin/outbox/:id/html', (c) => htmlPart(d, c, Number(c.req.param('id'))));
  return app;
}
