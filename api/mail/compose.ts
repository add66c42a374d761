// Builds each email per audience: subscribers get the external wording, stakeholders the internal briefing.
import { html, raw } from 'hono/html';
import type { ComponentImpact } from '../../db/schema.ts';
import { componentStatusLabel, incidentImpactStatus, isActiveIncident, type IncidentStatus, type ReachFlags, type UpdateStatusValue } from '../domain.ts';
import { absolute, confirmUrl, manageUrl, paths, signInByEmailUrl, unsubscribeUrl } from '../links.ts';
import { componentStatusPhrase, formatIn, humanDuration, joinNames, lines, paragraphs as paragraphsOf, updateStatusLabel } from '../text.ts';

export { confirmUrl, manageUrl, unsubscribeUrl };
import { describeNotice, type Notice } from '../services/reminders.ts';
import { dropXmlForbidden } from '../characters.ts';
import type { BulkEmail, Personal } from './bulk.ts';
import type { MailMessage } from './transport.ts';
import { escapeHtml } from '../html.ts';
import { imageUrl, type Brand } from '../brand.ts';

export interface MailSettings {
  /** The From header, e.g. "Example Status <status@example.com>". */
  from: string;
  /** Absolute base for links, without a trailing slash. */
  publicUrl: string;
  pageName: string;
  /** Logo, accent, support and home links (BRAND_*, SUPPORT_URL, HOMEPAGE_URL); none when absent. */
  brand?: Brand | undefined;
  /** TIME_ZONE: the zone every time in an email is shown in, named beside it (UTC when absent). */
  timeZone?: string | undefined;
}

/** The parts of a stored update an email is made from; both wordings were rendered once, at publish time. */
export interface UpdateFacts {
  id: string;
  incidentId: string | null;
  maintenanceId: string | null;
  status: UpdateStatusValue;
  externalSubject: string;
  externalBody: string;
  internalSubject: string;
  internalBody: string;
  components: ComponentImpact[];
  audiences: ReachFlags;
  nextUpdateAt: Date | null;
  createdAt: Date;
}

/** The incident (or maintenance) a briefing is about, as it stands now. */
export interface SubjectFacts {
  internalTitle: string;
  severity: string | null;
  startedAt: Date | null;
  mitigatedAt: Date | null;
  resolvedAt: Date | null;
  ic: string | undefined;
}

export interface Recipient {
  id: string;
  email: string;
}

const oneLine = (text: string) => text.replace(/[\s\x00-\x1f\x7f]+/g, ' ').trim();
const host = (s: MailSettings) => new URL(s.publicUrl).hostname;
const threadOf = (u: UpdateFacts) => (u.incidentId ? `incident.${u.incidentId}` : `maintenance.${u.maintenanceId}`);
const pageUrl = (s: MailSettings, u: UpdateFacts, internal = false) => absolute(s.publicUrl, paths.subject(internal ? 'internal' : 'public', u));

/** Plain-text paragraphs become <p>, single line breaks <br>; every value is escaped. */
function paragraphs(text: string) {
  return paragraphsOf(text).map((p) => html`<p style="margin:0 0 14px">${lines(p).map((l, i) => (i === 0 ? html`${l}` : html`<br>${l}`))}</p>`);
}

/** The brand's top line (logo, else nothing) and its links for the footer (support, home), as HTML. */
function brandParts(s: MailSettings) {
  const b = s.brand;
  const logo = b?.logo ? html`<p style="margin:0 0 18px"><img src="${imageUrl(b.logo, s.publicUrl)}" alt="${s.pageName}" style="max-height:40px;max-width:200px"></p>` : '';
  const links = [b?.supportUrl ? html`<a href="${b.supportUrl}">Get support</a>` : '', b?.homepageUrl ? html`<a href="${b.homepageUrl}">${new URL(b.homepageUrl).hostname}</a>` : ''].filter(Boolean);
  return { logo, links: links.length ? html`<div style="margin:0 0 8px">${links.map((l, i) => (i ? html` · ${l}` : l))}</div>` : '' };
}

function layout(s: MailSettings, title: string, body: unknown, footer: unknown): string {
  const brand = brandParts(s);
  return html`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><meta name="color-scheme" content="light dark"><title>${title}</title></head>
<body style="margin:0;padding:24px 16px;font:16px/1.5 -apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif">
<div style="max-width:600px;margin:0 auto">
${brand.logo}${body}
<hr style="border:0;border-top:1px solid #8884;margin:28px 0 14px">
<div style="font-size:13px;opacity:.8">${brand.links}${footer}</div>
</div>
</body>
</html>`.toString();
}

/** Escapes a value for a double-quoted HTML attribute, as hono's html tag would. */

/** Marks where the per-recipient footer goes in a layout rendered once per update. */
const footerSlot = raw('\u0000footer\u0000');

/** Headers every bulk email carries so out-of-office robots stay quiet. */
const automatic = { 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'OOF, AutoReply' };

/** "in 24 hours", "in an hour", "in 40 minutes": how long until a window starts, to the hour from an hour on. */
export function startsIn(ms: number): string {
  const minutes = Math.max(1, Math.round(ms / 60_000));
  if (minutes < 60) return `in ${minutes === 1 ? 'a minute' : `${minutes} minutes`}`;
  const hours = Math.round(minutes / 60);
  return `in ${hours === 1 ? 'an hour' : `${hours} hours`}`;
}

/** A one-action link drawn as a button in the brand's accent (inline styles: mail clients drop style sheets). */
const button = (s: MailSettings, href: string, label: string) =>
  html`<p style="margin:0 0 14px"><a href="${href}" style="display:inline-block;padding:10px 18px;border-radius:6px;background:${s.brand?.accent?.light ?? '#1f6feb'};color:#fff;text-decoration:none">${label}</a></p>`;

/** The envelope of a one-off transactional email (confirmation, manage link, an owner's reminder, the monthly briefing): no thread, automatic-reply headers. */
export function transactional(s: MailSettings, to: string, subject: string, text: string, body: unknown, footer: unknown, messageId: string): MailMessage {
  return { from: s.from, to, subject, text, html: layout(s, subject, body, footer), messageId, headers: { ...automatic } };
}

/**
 * A subscriber's copy of an update (or a maintenance reminder) as a bulk email: external wording only, with each
 * subscriber's own unsubscribe link and RFC 8058 one-click headers; every email about one incident sits in one thread.
 * The wording is rendered once per update (`bulk`); `personal` gives what differs per recipient. api/mail/bulk.ts
 * compiles the MIME once from this and stamps each copy, which matters at 100,000.
 */
export function subscriberBulk(s: MailSettings, stored: UpdateFacts, kind: 'update' | 'reminder', reminderOf: { hoursAhead: number; startsInMs: number } = { hoursAhead: 0, startsInMs: 0 }) {
  const { hoursAhead } = reminderOf;
  // Characters XML 1.0 forbids are dropped here, once per update, rather than from every recipient's copy.
  const update = { ...stored, externalSubject: dropXmlForbidden(stored.externalSubject), externalBody: dropXmlForbidden(stored.externalBody) };
  const reminder = kind === 'reminder';
  const subject = oneLine(`${reminder ? 'Reminder: ' : ''}${update.externalSubject}`);
  const link = pageUrl(s, update);
  // A reminder is planned `hoursAhead` hours before the start (MAINTENANCE_REMINDER_HOURS), but says how long is
  // really left when it is sent: after a mail outage the 24-hour reminder may go three hours before. The wording
  // below names the window.
  const lead = reminder ? `A reminder: this planned maintenance starts ${startsIn(reminderOf.startsInMs)}.` : '';
  const why = dropXmlForbidden(`You are receiving this because you subscribed to updates from ${s.pageName}.`);
  const body = html`${lead ? html`<p style="margin:0 0 14px"><strong>${lead}</strong></p>` : ''}
<h1 style="font-size:20px;margin:0 0 16px">${subject}</h1>
${paragraphs(update.externalBody)}
<p style="margin:18px 0 0"><a href="${link}">Follow along on the status page</a></p>`;
  const [htmlHead, htmlTail] = layout(s, subject, body, footerSlot).split(footerSlot) as [string, string];
  const domain = host(s);
  const thread = `<${threadOf(update)}@${domain}>`;
  const bulk: BulkEmail = {
    from: s.from,
    subject,
    inReplyTo: thread,
    references: [thread],
    headers: {
      ...automatic,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      'List-Id': `${oneLine(s.pageName).replace(/[<>"]/g, '')} status updates <updates.${domain}>`,
    },
    textHead: `${[lead, update.externalBody, `Follow along: ${link}`].filter(Boolean).join('\n\n')}\n\n-- \n${why}`,
    htmlHead,
    htmlTail,
  };
  const whyHtml = html`${why}`.toString();
  const personal = (recipient: Recipient & { unsubscribeToken: string }): Personal => {
    const unsubscribe = unsubscribeUrl(s, recipient.unsubscribeToken);
    const manage = manageUrl(s, recipient.unsubscribeToken);
    return {
      to: recipient.email,
      messageId: `<${reminder ? `reminder-${hoursAhead}h` : kind}.${update.id}.${recipient.id}@${domain}>`,
      headers: { 'List-Unsubscribe': `<${unsubscribe}>` },
      textFooter: `Manage your subscription: ${manage}\nUnsubscribe: ${unsubscribe}`,
      // Plain concatenation around pieces escaped once per update: the template tag costs more than the rest at 100,000.
      htmlFooter: `${whyHtml}<br>\n<a href="${escapeHtml(manage)}">Manage your subscription</a> · <a href="${escapeHtml(unsubscribe)}">Unsubscribe</a>`,
    };
  };
  return { bulk, personal, personalHeaders: ['List-Unsubscribe'] as const };
}

/**
 * An executive briefing: the internal wording plus the facts an executive asks for first — severity, impact,
 * who leads, what customers were told, when the next update is due, and how long it has been going on.
 * Durations are measured at the update, so a briefing sent late still describes its moment.
 */
export function briefingEmail(s: MailSettings, update: UpdateFacts, about: SubjectFacts, recipient: Recipient & { name: string }): MailMessage {
  const at = update.createdAt;
  const affected = update.components.filter((c) => c.status !== 'operational');
  const impact = incidentImpactStatus(about.severity, affected.map((c) => c.status), isActiveIncident(update.status as IncidentStatus));
  const told = update.audiences.public || update.audiences.subscribers;
  const known = (t: Date | null) => (t && t.getTime() <= at.getTime() ? t : null);
  const mitigated = known(about.mitigatedAt);
  const resolved = known(about.resolvedAt);
  const facts: [string, string][] = [
    ...(about.severity ? [['Severity', about.severity] as [string, string]] : []),
    ['Status', updateStatusLabel(update.status)],
    ['Impact', componentStatusLabel[impact]],
    ['Affected', affected.length ? joinNames(affected.map((c) => `${c.name} (${componentStatusPhrase(c.status)})`)) : 'No component is impaired'],
    ['Incident commander', about.ic || 'Not assigned yet'],
    ...(about.startedAt
      ? [['Running for', `${humanDuration(at.getTime() - about.startedAt.getTime())} (since ${formatIn(about.startedAt, at, s.timeZone)})`] as [string, string]]
      : []),
    ...(about.startedAt
      ? [['Time to mitigate', mitigated ? humanDuration(mitigated.getTime() - about.startedAt.getTime()) : 'Not mitigated yet'] as [string, string]]
      : []),
    ...(about.startedAt && resolved ? [['Time to resolve', humanDuration(resolved.getTime() - about.startedAt.getTime())] as [string, string]] : []),
    ['Next update due', update.nextUpdateAt ? formatIn(update.nextUpdateAt, at, s.timeZone) : 'None scheduled'],
  ];
  const subject = oneLine(update.internalSubject);
  // Through the email sign-in, so an executive without a token can open it; a signed-in reader goes straight there.
  const link = signInByEmailUrl(s.publicUrl, pageUrl(s, update, true), recipient.email);
  const customers = told
    ? `${update.externalSubject}\n\n${update.externalBody}`
    : 'Nothing: this update was not published to customers.';
  const quoted = customers
    .split('\n')
    .map((l) => (l ? `> ${l}` : '>'))
    .join('\n');
  const text = [
    about.internalTitle,
    facts.map(([k, v]) => `${k}: ${v}`).join('\n'),
    update.internalBody,
    `What customers were told:\n${quoted}`,
    `Internal page: ${link}`,
    `-- \nYou receive briefings as a stakeholder of ${s.pageName}; an admin manages this list.`,
  ].join('\n\n');
  const body = html`<h1 style="font-size:20px;margin:0 0 16px">${about.internalTitle}</h1>
<table role="presentation" style="border-collapse:collapse;margin:0 0 18px">
${facts.map(([k, v]) => html`<tr><th scope="row" style="text-align:left;padding:2px 16px 2px 0;vertical-align:top">${k}</th><td style="padding:2px 0">${v}</td></tr>`)}
</table>
${paragraphs(update.internalBody)}
<h2 style="font-size:16px;margin:22px 0 8px">What customers were told</h2>
<blockquote style="margin:0;padding:4px 0 4px 14px;border-left:3px solid #8888">
${told ? html`<p style="margin:0 0 14px"><strong>${update.externalSubject}</strong></p>${paragraphs(update.externalBody)}` : html`<p style="margin:0">${customers}</p>`}
</blockquote>
<p style="margin:18px 0 0"><a href="${link}">Open the internal page</a></p>`;
  const footer = html`You receive briefings as a stakeholder of ${s.pageName}; an admin manages this list.`;
  const thread = `<${threadOf(update)}.briefing@${host(s)}>`;
  return {
    from: s.from,
    to: recipient.email,
    subject,
    text,
    html: layout(s, subject, body, footer),
    messageId: `<briefing.${update.id}.${recipient.id}@${host(s)}>`,
    inReplyTo: thread,
    references: [thread],
    headers: { ...automatic },
  };
}

/** The one email an unconfirmed address receives: a link that expires. */
export function confirmationEmail(s: MailSettings, recipient: Recipient, token: string, expiresAt: Date, deliveryId: number, now: Date): MailMessage {
  const subject = oneLine(`Confirm your subscription to ${s.pageName} updates`);
  const link = confirmUrl(s, token);
  const until = formatIn(expiresAt, now, s.timeZone);
  const text = [
    `Someone, hopefully you, asked to receive ${s.pageName} updates by email at this address.`,
    `Confirm here: ${link}`,
    `The link works until ${until}. If you did not ask, ignore this email: without confirmation we will not write again.`,
  ].join('\n\n');
  const body = html`<h1 style="font-size:20px;margin:0 0 16px">${subject}</h1>
<p style="margin:0 0 14px">Someone, hopefully you, asked to receive ${s.pageName} updates by email at this address.</p>
${button(s, link, 'Confirm subscription')}
<p style="margin:0 0 14px">Or paste this link into your browser: ${link}</p>`;
  const footer = html`The link works until ${until}. If you did not ask, ignore this email: without confirmation we will not write again.`;
  return transactional(s, recipient.email, subject, text, body, footer, `<confirm.${deliveryId}.${recipient.id}@${host(s)}>`);
}

/**
 * A reminder, overdue notice or "alerts resolved" notice to the comms lead: names the incident (title and internal
 * title), what was last said and when, and links to the console's Post update for it.
 */
export function noticeEmail(s: MailSettings, notice: Notice, recipient: { id: number; email: string }, now: Date): MailMessage {
  const { headline, intro, facts } = describeNotice(notice, now, s.timeZone);
  const subject = oneLine(headline);
  const text = [
    intro,
    facts.map(([k, v]) => `${k}: ${v.replace(/\n/g, '\n  ')}`).join('\n'),
    `Post update: ${notice.postUpdateUrl}`,
    `-- \nYou receive this as the comms lead of ${s.pageName} incidents.`,
  ].join('\n\n');
  const body = html`<h1 style="font-size:20px;margin:0 0 16px">${subject}</h1>
<p style="margin:0 0 14px">${intro}</p>
<table role="presentation" style="border-collapse:collapse;margin:0 0 18px">
${facts.map(([k, v]) => html`<tr><th scope="row" style="text-align:left;padding:2px 16px 2px 0;vertical-align:top">${k}</th><td style="padding:2px 0">${paragraphs(v)}</td></tr>`)}
</table>
<p style="margin:18px 0 0"><a href="${notice.postUpdateUrl}">Post update</a></p>`;
  const thread = `<incident.${notice.incidentId}.cadence@${host(s)}>`;
  return {
    from: s.from,
    to: recipient.email,
    subject,
    text,
    html: layout(s, subject, body, html`You receive this as the comms lead of ${s.pageName} incidents.`),
    messageId: `<${notice.kind}.${recipient.id}@${host(s)}>`,
    inReplyTo: thread,
    references: [thread],
    headers: { ...automatic },
  };
}

/**
 * What a confirmed address receives when someone subscribes it again: no new opt-in, only its manage link, where the
 * owner changes the components they hear about (the request's own choice is not applied: it proves no ownership).
 */
export function manageLinkEmail(s: MailSettings, recipient: Recipient & { unsubscribeToken: string }, deliveryId: number): MailMessage {
  const subject = oneLine(`Your subscription to ${s.pageName} updates`);
  const link = manageUrl(s, recipient.unsubscribeToken);
  const intro = `Someone, hopefully you, asked to subscribe this address to ${s.pageName} updates. It is already subscribed, so nothing changed.`;
  const text = [intro, `To choose which components you hear about, or to unsubscribe: ${link}`, 'If you did not ask, ignore this email.'].join('\n\n');
  const body = html`<h1 style="font-size:20px;margin:0 0 16px">${subject}</h1>
<p style="margin:0 0 14px">${intro}</p>
${button(s, link, 'Manage your subscription')}
<p style="margin:0 0 14px">There you choose which components you hear about, or unsubscribe.</p>`;
  const footer = html`If you did not ask, ignore this email: your subscription stays as it is.`;
  return transactional(s, recipient.email, subject, text, body, footer, `<manage.${deliveryId}.${recipient.id}@${host(s)}>`);
}

export function mailSettings(config: { mailFrom: string; publicUrl: string; pageName: string; brand?: Brand; timeZone?: string }): MailSettings {
  return { from: config.mailFrom, publicUrl: config.publicUrl, pageName: config.pageName, brand: config.brand, timeZone: config.timeZone };
}
