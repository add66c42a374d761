// The open incidents on /internal/, the one next due first, each with a countdown (ticking with console.js) that turns into an overdue warning.
import { html } from 'hono/html';
import { incidentStatusLabel } from '../domain.ts';
import { listIncidents } from '../services/incidents.ts';
import { dueText } from './form.ts';
import { links, type ConsoleDeps } from './screen.ts';

export async function openIncidentsPanel(d: ConsoleDeps): Promise<string> {
  const now = d.services.clock.now();
  const open = await listIncidents(d.services, { status: 'active', limit: 200 });
  // Due soonest first; incidents with no next update promised last.
  open.sort((a, b) => (a.nextUpdateAt?.getTime() ?? Infinity) - (b.nextUpdateAt?.getTime() ?? Infinity));
  return String(
    await html`<section class="console-panel" aria-labelledby="open-heading">
<h2 id="open-heading">Open incidents</h2>
${
  open.length === 0
    ? html`<p>No open incidents.</p>`
    : html`<ol class="open-incidents">
${open.map((i) => {
  const due = i.nextUpdateAt ? dueText(i.nextUpdateAt, now) : null;
  return html`<li${due?.overdue ? html` class="overdue"` : ''}><a href="${links.incident(i.id)}">${i.internalTitle}</a>
<span class="meta">${i.severity} · ${incidentStatusLabel[i.status]}</span>
${due ? html`<span>Next update <time datetime="${i.nextUpdateAt!.toISOString()}" data-countdown>${due.text}</time>${due.overdue ? html` <strong class="warning">Overdue</strong>` : ''}</span>` : html`<span class="meta">No next update set</span>`}</li>`;
})}
</ol>`
}
</section>
<script src="/internal/console.js" defer></script>`,
  );
}
