// The Action items screen (/internal/action-items/): every follow-up by state (overdue, open, done) and by owner; comms add items and mark them done here.
import { Hono, type Context } from 'hono';
import { html } from 'hono/html';
import type { AuthEnv } from '../auth.ts';
import { actionItemPriorities, actionItemStatusLabel } from '../domain.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import { changeActionItem, createActionItem, listActionItems, type ActionItemView } from '../services/action-items.ts';
import { listIncidents } from '../services/incidents.ts';
import { roleAllows } from '../services/tokens.ts';
import { counted, errorSummary, errorsFrom, input, select, type Errors } from './form.ts';
import { requireUseCase } from './roles.ts';
import { links, actorOf, screen, type ConsoleDeps } from './screen.ts';

export const actionItemLinks = {
  list: '/internal/action-items/',
  done: (id: string) => `/internal/action-items/${id}/done`,
};

type Values = Record<'incident' | 'title' | 'owner' | 'dueOn' | 'priority', string>;
const empty: Values = { incident: '', title: '', owner: '', dueOn: '', priority: 'P3' };
const labels = new Map([
  ['ai-incident', 'Incident'],
  ['ai-title', 'Action item'],
  ['ai-owner', 'Owner email'],
  ['ai-due', 'Due on'],
  ['ai-priority', 'Priority'],
]);
const fieldOf = (path: string) => ({ title: 'ai-title', owner: 'ai-owner', dueOn: 'ai-due', priority: 'ai-priority' })[path.split('.')[0]!] ?? null;

/** Items grouped by owner, owners in alphabetical order, as the list the owner would read. */
function byOwner(items: ActionItemView[]): [string, ActionItemView[]][] {
  const groups = new Map<string, ActionItemView[]>();
  for (const i of items) groups.set(i.owner, [...(groups.get(i.owner) ?? []), i]);
  return [...groups].sort(([a], [b]) => a.localeCompare(b));
}

function itemTable(caption: string, items: ActionItemView[], canPublish: boolean) {
  return html`<div class="table-scroll"><table class="admin-table action-item-table"><caption>${caption}</caption>
<thead><tr><th scope="col">Action item</th><th scope="col">Incident</th><th scope="col">Due</th><th scope="col">Priority</th><th scope="col">State</th>${canPublish ? html`<th scope="col"><span class="sr-only">Actions</span></th>` : ''}</tr></thead>
<tbody>${items.map(
    (i) => html`<tr>
<th scope="row" dir="auto">${i.url ? html`<a href="${i.url}">${i.title}</a>` : i.title}</th>
<td><a href="${links.incident(i.incidentId)}">${i.incidentTitle || i.incidentId}</a></td>
<td>${i.dueOn}</td><td>${i.priority}</td>
<td>${actionItemStatusLabel[i.status]}${i.overdue ? html` <strong class="warning">Overdue</strong>` : ''}</td>
${canPublish ? html`<td>${i.status === 'open' ? html`<form method="post" action="${actionItemLinks.done(i.id)}"><input type="hidden" name="version" value="${i.version}" /><button type="submit">Mark “${i.title}” done</button></form>` : ''}</td>` : ''}
</tr>`,
  )}</tbody></table></div>`;
}

function section(id: string, heading: string, items: ActionItemView[], canPublish: boolean, nothing: string) {
  return html`<section aria-labelledby="${id}">
<h2 id="${id}">${heading} <span class="meta">(${counted(items.length, 'item')})</span></h2>
${items.length === 0 ? html`<p>${nothing}</p>` : byOwner(items).map(([owner, own]) => itemTable(`${owner}: ${counted(own.length, 'item')}`, own, canPublish))}
</section>`;
}

async function listScreen(d: ConsoleDeps, c: Context, values: Values = empty, errors: Errors = new Map(), status = 200) {
  const actor = actorOf(c);
  const canPublish = roleAllows(actor.role, 'comms');
  const [all, incidents] = await Promise.all([listActionItems(d.services, actor), canPublish ? listIncidents(d.services, { limit: 50 }) : []]);
  const overdue = all.filter((i) => i.overdue);
  const open = all.filter((i) => i.status === 'open' && !i.overdue);
  const closed = all.filter((i) => i.status !== 'open');
  const form = canPublish
    ? html`<section aria-labelledby="add-heading" class="console-form-section">
<h2 id="add-heading">Add an action item</h2>
${errorSummary(errors, labels, 'saved')}
<form method="post" action="${actionItemLinks.list}" class="console-form" novalidate>
${select({ id: 'ai-incident', name: 'incident', label: 'Incident', value: values.incident, errors, options: incidents.map((i) => ({ value: i.id, label: `${i.internalTitle} (${i.severity}, ${i.status})` })) })}
${input({ id: 'ai-title', name: 'title', label: 'Action item', value: values.title, errors })}
${input({ id: 'ai-owner', name: 'owner', label: 'Owner email', value: values.owner, errors, type: 'email', hint: 'Reminded the day before it is due, then weekly while it is overdue.' })}
${input({ id: 'ai-due', name: 'dueOn', label: 'Due on', value: values.dueOn, errors, type: 'date' })}
${select({ id: 'ai-priority', name: 'priority', label: 'Priority', value: values.priority, errors, options: actionItemPriorities.map((p) => ({ value: p, label: p })) })}
<div class="actions"><button type="submit" class="primary">Add action item</button></div>
</form>
</section>`
    : '';
  const body = html`<p>What the team promised to change after its incidents. An item is overdue once its due day has ended (UTC).</p>
${section('overdue-heading', 'Overdue', overdue, canPublish, 'Nothing is overdue.')}
${section('open-heading', 'Open', open, canPublish, 'No open action items.')}
${section('done-heading', 'Done', closed, false, 'Nothing done yet.')}
${form}`;
  return screen(d, c, 'Action items', body, status);
}

const str = (v: unknown) => (typeof v === 'string' ? v : '');

async function addPost(d: ConsoleDeps, c: Context) {
  const body = await c.req.parseBody();
  const values: Values = { incident: str(body.incident), title: str(body.title), owner: str(body.owner), dueOn: str(body.dueOn), priority: str(body.priority) || 'P3' };
  try {
    await createActionItem(d.services, actorOf(c), values.incident, { title: values.title, owner: values.owner, dueOn: values.dueOn, priority: values.priority });
    return c.redirect(actionItemLinks.list, 303);
  } catch (e) {
    if (e instanceof ValidationError) return listScreen(d, c, values, errorsFrom(e.errors ?? [], fieldOf), 422);
    if (e instanceof NotFoundError) return listScreen(d, c, values, new Map([['ai-incident', 'choose an incident']]), 422);
    throw e;
  }
}

async function donePost(d: ConsoleDeps, c: Context, id: string) {
  const body = await c.req.parseBody();
  const version = /^\d+$/.test(str(body.version)) ? Number(str(body.version)) : undefined;
  try {
    await changeActionItem(d.services, actorOf(c), id, { status: 'done' }, version);
    return c.redirect(actionItemLinks.list, 303);
  } catch (e) {
    if (e instanceof NotFoundError) return screen(d, c, 'Action item not found', html`<p>There is no such action item. <a href="${actionItemLinks.list}">Back to action items</a></p>`, 404);
    if (e instanceof ConflictError) return listScreen(d, c, empty, new Map([['form', e.message]]), 409);
    throw e;
  }
}

/** The Action items screen: reading is for every signed-in role, adding and marking done need comms (403 page otherwise). */
export function actionItemRoutes(d: ConsoleDeps) {
  const app = new Hono<AuthEnv>();
  app.get('/internal/action-items', (c) => c.redirect(actionItemLinks.list, 301));
  app.get(actionItemLinks.list, (c) => listScreen(d, c));
  app.post(actionItemLinks.list, requireUseCase(d, 'createActionItem'), (c) => addPost(d, c));
  app.post('/internal/action-items/:id/done', requireUseCase(d, 'changeActionItem'), (c) => donePost(d, c, c.req.param('id')));
  return app;
}
