// The emails of learning from incidents: an action item's owner reminded of it, and the stakeholders' monthly reliability briefing.
import { html } from 'hono/html';
import { absolute, paths } from '../links.ts';
import { humanDuration } from '../text.ts';
import type { OwnerReminder } from '../services/action-items.ts';
import type { ReliabilityReport, Spread } from '../services/reliability.ts';
import { transactional, type MailSettings } from './compose.ts';
import type { MailMessage } from './transport.ts';

const host = (s: MailSettings) => new URL(s.publicUrl).hostname;

/** "Due tomorrow: …" the day before, "Overdue (week 3): …" while it stays open; links to the incident's internal page. */
export function ownerReminderEmail(s: MailSettings, r: OwnerReminder, deliveryId: number): MailMessage {
  const { item } = r;
  const subject = (r.kind === 'action_item_due' ? `Due tomorrow: ${item.title}` : `Overdue${r.seq > 1 ? ` (week ${r.seq})` : ''}: ${item.title}`).replace(/[\s\x00-\x1f\x7f]+/g, ' ');
  const page = absolute(s.publicUrl, paths.incident('internal', item.incidentId));
  const intro =
    r.kind === 'action_item_due'
      ? `This action item you own is due tomorrow, ${item.dueOn}.`
      : `This action item you own was due on ${item.dueOn} and is still open. Finish it, move its due date, or mark it won't do, so it does not quietly expire.`;
  const facts: [string, string][] = [
    ['Action item', item.title],
    ['Incident', item.incidentTitle],
    ['Priority', item.priority],
    ['Due', item.dueOn],
    ...(item.url ? ([['Tracker', item.url]] as [string, string][]) : []),
  ];
  const text = [intro, facts.map(([k, v]) => `${k}: ${v}`).join('\n'), `Incident page: ${page}`, `-- \nYou receive this as the owner of an action item at ${s.pageName}.`].join('\n\n');
  const body = html`<h1 style="font-size:20px;margin:0 0 16px">${subject}</h1>
<p style="margin:0 0 14px">${intro}</p>
<table role="presentation" style="border-collapse:collapse;margin:0 0 18px">
${facts.map(([k, v]) => html`<tr><th scope="row" style="text-align:left;padding:2px 16px 2px 0">${k}</th><td>${v}</td></tr>`)}
</table>
<p style="margin:18px 0 0"><a href="${page}">Open the incident</a></p>`;
  return transactional(s, item.owner, subject, text, body, html`You receive this as the owner of an action item at ${s.pageName}.`, `<action-item.${item.id}.${r.kind}.${deliveryId}@${host(s)}>`);
}

const duration = (v: number | null) => (v === null ? 'none' : humanDuration(v * 1000));
const spreadWords = (sp: Spread) => (sp.median === null ? 'no incidents' : `median ${duration(sp.median)}, p90 ${duration(sp.p90)}`);

/** The figures of one month, as label and value, shared by the briefing email's text and HTML parts. */
export function monthFacts(report: ReliabilityReport): [string, string][] {
  const m = report.months[0]!;
  const names = new Map(report.components.map((c) => [c.id, c.name]));
  return [
    ['Incidents', `${m.incidents.total} (SEV1 ${m.incidents.SEV1}, SEV2 ${m.incidents.SEV2}, SEV3 ${m.incidents.SEV3}, SEV4 ${m.incidents.SEV4})`],
    ['Time to acknowledge', spreadWords(m.timeToAcknowledge)],
    ['Time to first public update', spreadWords(m.timeToFirstPublicUpdate)],
    ['Time to mitigate', spreadWords(m.timeToMitigate)],
    ['Time to resolve', spreadWords(m.timeToResolve)],
    ['Cadence kept', m.cadenceKept === null ? 'no updates with a next update time' : `${Math.round(m.cadenceKept * 100)} % of updates`],
    ['Action items', `${m.actionItems.opened} opened, ${m.actionItems.done} done (${m.actionItems.doneOnTime} on time), ${m.actionItems.overdue} overdue`],
    ...Object.entries(m.uptime).map(([id, p]): [string, string] => [`Uptime: ${names.get(id) ?? id}`, p === null ? 'not begun' : `${(Math.floor(p * 100) / 100).toFixed(2)} %`]),
  ];
}

/** The stakeholder's monthly briefing: the month's figures (one-month report) and a link to the charts. */
export function reliabilityBriefingEmail(s: MailSettings, report: ReliabilityReport, recipient: { id: string; email: string; name: string }, deliveryId: number): MailMessage {
  const month = report.months[0]!.month;
  const label = new Date(`${month}-01T00:00:00Z`).toLocaleString('en-GB', { month: 'long', year: 'numeric', timeZone: 'UTC' });
  const subject = `Reliability in ${label}: ${s.pageName}`.replace(/[\s\x00-\x1f\x7f]+/g, ' ');
  const link = absolute(s.publicUrl, `/internal/reports/?from=${report.from}&to=${report.to}`);
  const facts = monthFacts(report);
  const intro = `Hello ${recipient.name}, here is how ${label} went.`;
  const text = [intro, facts.map(([k, v]) => `${k}: ${v}`).join('\n'), `Charts and the incidents behind them: ${link}`, `-- \nYou receive this monthly as a stakeholder of ${s.pageName}.`].join('\n\n');
  const body = html`<h1 style="font-size:20px;margin:0 0 16px">${subject}</h1>
<p style="margin:0 0 14px">${intro}</p>
<table style="border-collapse:collapse;margin:0 0 18px">
${facts.map(([k, v]) => html`<tr><th scope="row" style="text-align:left;padding:2px 16px 2px 0">${k}</th><td>${v}</td></tr>`)}
</table>
<p style="margin:18px 0 0"><a href="${link}">Charts and the incidents behind them</a></p>`;
  return transactional(s, recipient.email, subject, text, body, html`You receive this monthly as a stakeholder of ${s.pageName}.`, `<reliability.${month}.${recipient.id}.${deliveryId}@${host(s)}>`);
}
