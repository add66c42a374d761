// The briefing a viewer (an executive) lands on: five short answers above the timeline, sized to a phone's first screen, no forms.
import type { Context } from 'hono';
import { html } from 'hono/html';
import { componentStatusLabel, incidentStatusLabel } from '../domain.ts';
import { getIncident, listIncidents, type IncidentView } from '../services/incidents.ts';
import { roleAllows } from '../services/tokens.ts';
import { humanDuration, paragraphs } from '../text.ts';
import { incidentPages, type SiteReading } from '../site/view-model.ts';
import { dueText, type Html } from './form.ts';
import { actorOf, links, subjectScreen, type ConsoleDeps } from './screen.ts';

/** The five headings, in the order an executive asks (SPEC "People"). */
export const briefingHeadings = ['What\u2019s happening', 'Who is affected', 'What customers were told', 'Next update', 'Incident commander'] as const;

/** Whether the signed-in person reads the briefing instead of the console: anyone who may not publish. */
export function readsBriefing(c: Context): boolean {
  return !roleAllows(actorOf(c).role, 'comms');
}

/** At most `max` characters of a wording's first paragraph, cut at a word: the whole text is in the timeline below. */
function gist(text: string, max: number): string {
  const first = paragraphs(text)[0] ?? '';
  if (first.length <= max) return first;
  return `${first.slice(0, max).replace(/\s+\S*$/, '')}\u2026`;
}

/** The internal name of a person in a role ("Dana Lee <dana@example.com>" shows as "Dana Lee"). */
const personName = (p: string | undefined) => (p ? p.replace(/\s*<[^>]*>\s*$/, '') || p : undefined);

/** One incident's briefing: the five headings with one or two lines each; `level` is the headings' rank. */
export function incidentBriefing(incident: IncidentView, now: Date, level: 2 | 3 = 2): Html {
  const h = (id: string, text: string) => (level === 2 ? html`<h2 id="${id}">${text}</h2>` : html`<h3 id="${id}">${text}</h3>`);
  const latest = incident.updates[0];
  const told = incident.updates.find((u) => u.audiences.public);
  const due = incident.nextUpdateAt && incident.status !== 'resolved' && incident.status !== 'postmortem' ? dueText(incident.nextUpdateAt, now) : null;
  const affected = incident.components.filter((c) => c.status !== 'operational');
  const ic = personName(incident.roles.ic);
  const key = (n: number) => `briefing-${incident.id}-${n}`;
  return html`<div class="briefing" data-incident="${incident.id}">
<div class="briefing-part">${h(key(0), briefingHeadings[0])}
<p><strong>${incident.internalTitle}</strong> · ${incident.severity} · ${incidentStatusLabel[incident.status]} for ${humanDuration(now.getTime() - incident.startedAt.getTime())}.${latest ? html` ${gist(latest.internal.body, 160)}` : ''}</p></div>
<div class="briefing-part">${h(key(1), briefingHeadings[1])}
<p>${affected.length ? affected.map((c, i) => html`${i ? ', ' : ''}${c.name} (${componentStatusLabel[c.status].toLowerCase()})`) : 'No component is marked as affected.'}</p></div>
<div class="briefing-part">${h(key(2), briefingHeadings[2])}
<p>${
    incident.draft
      ? 'Nothing yet: this is a draft no customer can see.'
      : !incident.audiences.public
        ? `Nothing: ${incident.severity} stays internal.`
        : told
          ? html`\u201c${gist(told.external.body, 140)}\u201d <a href="${links.publicIncident(incident.id)}">Public page</a>`
          : 'Nothing yet.'
  }</p></div>
<div class="briefing-part">${h(key(3), briefingHeadings[3])}
<p>${due ? html`<time datetime="${incident.nextUpdateAt!.toISOString()}" data-countdown>${due.text}</time>${due.overdue ? html` <strong class="warning">Overdue</strong>` : ''}` : 'None promised.'}</p></div>
<div class="briefing-part">${h(key(4), briefingHeadings[4])}
<p>${ic ?? 'Not named yet.'}</p></div>
</div>`;
}

/** The top of /internal/ for a viewer: the briefing of each open incident, the one next due first. */
export async function briefingPanel(d: ConsoleDeps): Promise<string> {
  const now = d.services.clock.now();
  const open = await listIncidents(d.services, { status: 'active', limit: 20 });
  open.sort((a, b) => (a.nextUpdateAt?.getTime() ?? Infinity) - (b.nextUpdateAt?.getTime() ?? Infinity));
  const full = await Promise.all(open.map((i) => getIncident(d.services, i.id)));
  return String(
    await html`<section class="console-panel briefing-panel" aria-labelledby="briefing-heading">
<h2 id="briefing-heading" class="sr-only">Briefing</h2>
${
  full.length === 0
    ? html`<p>No open incidents. Past incidents and their postmortems are in the history below.</p>`
    : full.map(
        (i) => html`<article class="briefing-incident" aria-labelledby="briefing-title-${i.id}">
<p class="briefing-title" id="briefing-title-${i.id}"><a href="${links.incident(i.id)}">${i.internalTitle}</a></p>
${incidentBriefing(i, now, 3)}</article>`,
      )
}
</section>
<script src="/internal/console.js" defer></script>`,
  );
}

/** GET /internal/incidents/{id}/ for a viewer: the briefing, then the site's internal page (its full timeline). */
export async function briefingScreen(d: ConsoleDeps, c: Context, id: string) {
  const page = async (r: SiteReading) => (await incidentPages(r, [id]))[0];
  return subjectScreen(d, c, page, () => getIncident(d.services, id), (incident) =>
    html`<section class="console-panel briefing-panel" aria-label="Briefing: ${incident.internalTitle}">
${incidentBriefing(incident, d.services.clock.now())}
</section>
<script src="/internal/console.js" defer></script>`,
  );
}
