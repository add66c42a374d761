// An incident's internal page in the console: delivery progress per recipient kind, Post update, Resolve and Reopen.
import type { Context } from 'hono';
import { html } from 'hono/html';
import { roleAllows } from '../services/tokens.ts';
import { componentStatusLabel, incidentStatusLabel, incidentTransitionError, isActiveIncident, updateStatuses, type IncidentStatus } from '../domain.ts';
import { ConflictError, ValidationError, type FieldError } from '../errors.ts';
import { postmortemBody, updateBody } from '../services/schemas.ts';
import { listComponents } from '../services/components.ts';
import type { ComponentState } from '../status.ts';
import { deliveryProgress, type DeliveryCounts } from '../services/deliveries.ts';
import { correctLastUpdate, getIncident, postUpdate, publishPostmortem, type IncidentView, type PostmortemInput, type UpdateInput } from '../services/incidents.ts';
import { previewUpdate, type DeclarationPreview } from '../services/preview.ts';
import { incidentPages, type SiteReading } from '../site/view-model.ts';
import { checkVariables } from '../templates.ts';
import { chosenVariables, swappedTemplateNote, templateChoices, templatesFor, variableFields, wordingsView } from './declare.ts';
import { componentsFieldset, formKeyField, formKeyOf, count, dueText, errorsFrom, errorSummary, input, select, textarea, type Errors } from './form.ts';
import { links, actorOf, publishConfirmation, redirectAfterPublish, screen, subjectScreen, takePosted, type ConsoleDeps } from './screen.ts';

type Body = Record<string, string | File | (string | File)[]>;
const str = (v: Body[string] | undefined) => (typeof v === 'string' ? v : '');

/** The Post update and Resolve forms as typed. `form` says which one they belong to. */
interface UpdateValues {
  form: 'update' | 'resolve' | 'reopen';
  status: string;
  template: string;
  variables: Record<string, string>;
  impacts: Record<string, string>;
  allOperational: boolean;
  nextUpdateInMinutes: string;
  version: string;
}

const nextStatus: Record<IncidentStatus, IncidentStatus> = {
  investigating: 'identified',
  identified: 'monitoring',
  monitoring: 'monitoring',
  resolved: 'investigating',
  postmortem: 'investigating',
};

/** What the Post update form starts with: the next status, its template, the last update's values where names match, current impacts. */
function defaultUpdate(d: ConsoleDeps, incident: IncidentView, form: UpdateValues['form'] = 'update', status?: string, templateKey?: string): UpdateValues {
  const chosen = status ?? (form === 'resolve' ? 'resolved' : nextStatus[incident.status]);
  const candidates = templatesFor(d, chosen);
  const template = (form === 'reopen' ? candidates.find((t) => t.key === 'reopened') : undefined) ?? candidates.find((t) => t.key === templateKey) ?? candidates[0];
  const last = incident.updates[0]?.variables ?? {};
  return {
    form,
    status: chosen,
    template: template?.key ?? '',
    variables: Object.fromEntries((template?.variables ?? []).flatMap((v) => (last[v.name] ? [[v.name, last[v.name]!]] : []))),
    impacts: Object.fromEntries(incident.components.map((c) => [c.id, c.status])),
    allOperational: true,
    nextUpdateInMinutes: '',
    version: String(incident.version),
  };
}

function readUpdate(body: Body, form: UpdateValues['form']): UpdateValues {
  const prefix = form === 'resolve' ? 'rvar.' : 'var.';
  const prefixed = (p: string) => Object.fromEntries(Object.entries(body).flatMap(([k, v]) => (k.startsWith(p) ? [[k.slice(p.length), str(v)]] : [])));
  return {
    form,
    status: form === 'resolve' ? 'resolved' : str(body.status),
    template: str(body.template),
    variables: prefixed(prefix),
    impacts: prefixed('impact.'),
    allOperational: str(body.allOperational) === 'on',
    nextUpdateInMinutes: str(body.nextUpdateInMinutes),
    version: str(body.version),
  };
}

function fieldOf(form: UpdateValues['form']) {
  const varPrefix = form === 'resolve' ? 'rvar-' : 'var-';
  return (path: string): string | null => {
    const [head, second] = path.split('.');
    if (head === 'variables' && second) return `${varPrefix}${second}`;
    if (head === 'components') return 'update-components';
    if (head === 'status' || head === 'template') return form === 'update' ? `update-${head}` : 'form';
    if (head === 'nextUpdateInMinutes') return 'update-next';
    return null;
  };
}

/** Validates with the API's schema and the template, then builds the service input. */
function check(d: ConsoleDeps, incident: IncidentView, v: UpdateValues): { input: UpdateInput | null; errors: Errors } {
  const template = d.services.templates.get(v.template);
  const minutes = v.nextUpdateInMinutes.trim();
  const components =
    v.form === 'resolve'
      ? v.allOperational
        ? incident.components.map((c) => ({ id: c.id, status: 'operational' }))
        : undefined
      : Object.entries(v.impacts).flatMap(([id, status]) => (status && incident.components.find((c) => c.id === id)?.status !== status ? [{ id, status }] : []));
  const body = {
    status: v.status,
    template: v.template,
    variables: chosenVariables(template, v.variables),
    ...(components && components.length ? { components } : {}),
    ...(minutes ? { nextUpdateInMinutes: /^\d+$/.test(minutes) ? Number(minutes) : minutes } : {}),
    ...(v.form === 'reopen' ? { reopen: true } : {}),
  };
  const found: FieldError[] = [];
  const parsed = updateBody.safeParse(body);
  if (!parsed.success) {
    for (const i of parsed.error.issues) {
      const path = i.path.map(String).join('.');
      found.push({ path, message: path === 'nextUpdateInMinutes' ? 'must be a whole number of minutes' : path === 'status' ? 'choose a status' : i.message });
    }
  }
  if (template?.kind === 'incident' && template.statuses.includes(v.status)) {
    try {
      checkVariables(template, body.variables);
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
      found.push(...(e.errors ?? []));
    }
  } else if (parsed.success) {
    found.push({ path: 'template', message: `choose a template that posts ${incidentStatusLabel[v.status as IncidentStatus] ?? 'this status'}` });
  }
  const errors = errorsFrom(found, fieldOf(v.form));
  return { input: errors.size === 0 && parsed.success ? (parsed.data as UpdateInput) : null, errors };
}

const recipientKindNames: Record<string, string> = { subscriber: 'Subscribers', stakeholder: 'Executives' };
/** What a recipient kind the update did notify, but which held nobody, is called in the delivery table. */
const nobodyOfKind: Record<string, { key: 'subscribers' | 'stakeholders'; nobody: string }> = {
  subscriber: { key: 'subscribers', nobody: '0 subscribers: no confirmed subscription covers these components' },
  stakeholder: { key: 'stakeholders', nobody: '0 executives: there is no stakeholder to brief' },
};

function progressTable(incident: IncidentView, progress: Map<string, DeliveryCounts>) {
  const latest = incident.updates[0];
  if (!latest) return '';
  const rows = ['subscriber', 'stakeholder'].map((kind) => ({ recipientKind: kind, c: progress.get(kind) }));
  const published = latest.audiences.public
    ? html`published · <a href="${links.publicIncident(incident.id)}">public page</a>`
    : incident.draft
      ? 'not published: a draft until an update is posted'
      : 'not published: this severity stays internal';
  return html`<table class="progress">
<caption>Delivery of the latest update (${incidentStatusLabel[latest.status as IncidentStatus] ?? latest.status}, by ${latest.author})</caption>
<thead><tr><th scope="col">Audience</th><th scope="col">Queued</th><th scope="col">Sent</th><th scope="col">Failed</th></tr></thead>
<tbody>
<tr><th scope="row">Status page</th><td colspan="3">${published}</td></tr>
${rows.map(({ recipientKind, c }) =>
  c
    ? html`<tr><th scope="row">${recipientKindNames[recipientKind]}</th><td>${count(c.pending)}</td><td>${count(c.sent)}</td><td>${count(c.failed)}${c.suppressed ? ` (${count(c.suppressed)} suppressed)` : ''}</td></tr>`
    : html`<tr><th scope="row">${recipientKindNames[recipientKind]}</th><td colspan="3">${latest.audiences[nobodyOfKind[recipientKind]!.key] ? nobodyOfKind[recipientKind]!.nobody : 'not notified'}</td></tr>`,
)}
</tbody>
</table>`;
}

/** Post update; its preview sits just above its buttons (console.js refills #update-preview as the comms lead types). */
function updateForm(d: ConsoleDeps, incident: IncidentView, v: UpdateValues, errors: Errors, components: ComponentState[], preview: PanelState['preview'], note?: string) {
  const template = d.services.templates.get(v.template);
  const statuses = updateStatuses.filter((s) => incidentTransitionError(incident.status, s) === null);
  const labels = new Map<string, string>([
    ['update-status', 'Status'],
    ['update-template', 'Template'],
    ['update-next', 'Next update in minutes'],
    ['update-components', 'Components'],
    ...(template?.variables.map((x) => [`var-${x.name}`, x.label] as [string, string]) ?? []),
  ]);
  return html`<section aria-labelledby="post-update-heading" class="console-form-section">
<h2 id="post-update-heading">Post update</h2>
${errorSummary(errors, labels)}
<form method="post" action="${links.incident(incident.id)}updates" class="console-form" id="update-form" data-live-preview="update-preview"${templateChoices(statuses, (s) => templatesFor(d, s), 'update-status', 'update-template')} novalidate>
${formKeyField()}
<input type="hidden" name="version" value="${v.version}" />
${select({ id: 'update-status', name: 'status', label: 'Status', value: v.status, errors, options: statuses.map((s) => ({ value: s, label: incidentStatusLabel[s] })), hint: 'Templates follow the status; press Preview after changing it.' })}
${note ? html`<p class="notice" role="status" id="update-template-note">${note}</p>` : ''}
${select({ id: 'update-template', name: 'template', label: 'Template', value: v.template, errors, options: templatesFor(d, v.status).map((t) => ({ value: t.key, label: t.name })) })}
<div class="template-fields" data-template-fields="${v.template}">${variableFields(template, v.variables, errors)}</div>
${componentsFieldset(errors, 'update-components', 'Components')}
<div class="impact-grid">
${components.map((c) =>
  select({
    id: `update-impact-${c.id}`,
    name: `impact.${c.id}`,
    label: c.name,
    value: v.impacts[c.id] ?? '',
    errors,
    options: [{ value: '', label: 'Not affected' }, ...(['operational', 'degraded_performance', 'partial_outage', 'major_outage'] as const).map((s) => ({ value: s, label: componentStatusLabel[s] }))],
  }),
)}
</div>
</fieldset>
${input({ id: 'update-next', name: 'nextUpdateInMinutes', label: 'Next update in minutes', value: v.nextUpdateInMinutes, errors, inputmode: 'numeric', hint: 'Empty for the severity’s usual cadence; 0 for none.' })}
<div id="update-preview" aria-live="polite">${preview ? wordingsView(preview) : ''}</div>
<div class="actions">
<button type="submit" name="action" value="preview">Preview</button>
<button type="submit" name="action" value="publish" class="primary">Post update</button>
</div>
</form>
</section>`;
}

function resolveForm(d: ConsoleDeps, incident: IncidentView, v: UpdateValues, errors: Errors) {
  const template = d.services.templates.get(v.template);
  const labels = new Map((template?.variables ?? []).map((x) => [`rvar-${x.name}`, x.label] as [string, string]));
  return html`<section aria-labelledby="resolve-heading" class="console-form-section">
<h2 id="resolve-heading">Resolve</h2>
${errorSummary(errors, labels)}
<form method="post" action="${links.incident(incident.id)}resolve" class="console-form" id="resolve-form" novalidate>
${formKeyField()}
<input type="hidden" name="version" value="${v.version}" />
<input type="hidden" name="template" value="${v.template}" />
<p class="hint">Posts the “${template?.name ?? v.template}” template. To resolve with another, choose Resolved as the status of Post update.</p>
${variableFields(template, v.variables, errors, 'rvar')}
<div class="field checkbox"><input type="checkbox" id="allOperational" name="allOperational"${v.allOperational ? html` checked` : ''} /><label for="allOperational">Set every affected component back to operational</label></div>
<div class="actions"><button type="submit" name="action" value="publish" class="primary">Resolve</button></div>
</form>
</section>`;
}

function reopenForm(d: ConsoleDeps, incident: IncidentView) {
  return html`<section aria-labelledby="reopen-heading" class="console-form-section">
<h2 id="reopen-heading">Reopen</h2>
<p>This incident is ${incidentStatusLabel[incident.status]}. Reopening posts the “${d.services.templates.get('reopened')?.name ?? 'Problem has returned'}” template as ${incidentStatusLabel.investigating}.</p>
<form method="post" action="${links.incident(incident.id)}reopen" novalidate>
${formKeyField()}
<input type="hidden" name="version" value="${incident.version}" />
<div class="actions"><button type="submit">Reopen</button></div>
</form>
</section>`;
}

interface PostmortemValues {
  externalSummary: string;
  internalBody: string;
  actionItems: string;
  /** The announcing template's other variables; `summary` and `action_items` come from the fields above. */
  variables: Record<string, string>;
}

const postmortemTemplate = 'postmortem-published';
const fromFields = new Set(['summary', 'action_items']);

/** "Title | owner | 2026-12-04", one per line, as the postmortem's action items. */
function parseActionItems(text: string): { items: { title: string; owner: string; dueOn: string }[]; problem: string | null } {
  const items = [];
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    if (!raw.trim()) continue;
    const parts = raw.split('|').map((x) => x.trim());
    if (parts.length !== 3 || parts.some((x) => !x)) return { items: [], problem: `line ${i + 1} needs three parts: what | owner | due date (YYYY-MM-DD)` };
    items.push({ title: parts[0]!, owner: parts[1]!, dueOn: parts[2]! });
  }
  return { items, problem: null };
}

function postmortemForm(d: ConsoleDeps, incident: IncidentView, v: PostmortemValues, errors: Errors) {
  const template = d.services.templates.get(postmortemTemplate);
  const others = template ? { ...template, variables: template.variables.filter((x) => !fromFields.has(x.name)) } : undefined;
  const labels = new Map([['pm-external', 'External summary'], ['pm-internal', 'Internal body'], ['pm-actions', 'Action items']]);
  return html`<section aria-labelledby="postmortem-form-heading" class="console-form-section">
<h2 id="postmortem-form-heading">${incident.postmortem ? 'Revise the postmortem' : 'Publish a postmortem'}</h2>
${errorSummary(errors, labels)}
<form method="post" action="${links.incident(incident.id)}postmortem" class="console-form" novalidate>
${formKeyField()}
<input type="hidden" name="version" value="${incident.version}" />
${textarea({ id: 'pm-external', name: 'externalSummary', label: 'External summary', value: v.externalSummary, errors, rows: 5, hint: 'Public: on the incident page and in the feed.' })}
${textarea({ id: 'pm-internal', name: 'internalBody', label: 'Internal body', value: v.internalBody, errors, rows: 8, hint: 'Executives only: timeline, contributing factors.' })}
${textarea({ id: 'pm-actions', name: 'actionItems', label: 'Action items', value: v.actionItems, errors, rows: 4, hint: 'One per line: what | owner’s email | due date (YYYY-MM-DD).' })}
${incident.postmortem ? '' : variableFields(others, v.variables, errors, 'pmvar')}
<div class="actions"><button type="submit" class="primary">${incident.postmortem ? 'Revise postmortem' : 'Publish postmortem'}</button></div>
</form>
</section>`;
}

interface PanelState {
  postmortem?: PostmortemValues;
  values?: UpdateValues;
  errors?: Errors;
  preview?: DeclarationPreview | null;
  notice?: string;
  /** Said above Post update's Template when a status change (without JavaScript) swapped the template. */
  templateNote?: string;
}


async function panel(d: ConsoleDeps, c: Context, incident: IncidentView, state: PanelState) {
  const now = d.services.clock.now();
  const canPublish = roleAllows(actorOf(c).role, 'comms');
  const [progress, components] = await Promise.all([incident.updates[0] ? deliveryProgress(d.services.db, incident.updates[0].id) : new Map(), listComponents(d.services.db, 'internal')]);
  const active = isActiveIncident(incident.status);
  const due = incident.nextUpdateAt && active ? dueText(incident.nextUpdateAt, now) : null;
  const postedId = takePosted(d, c, links.incident(incident.id));
  const posted = postedId ? incident.updates.find((u) => u.id === postedId) : undefined;
  const postedProgress = posted ? (posted.id === incident.updates[0]?.id ? progress : await deliveryProgress(d.services.db, posted.id)) : null;
  const update = state.values?.form === 'update' ? state.values : defaultUpdate(d, incident, 'update');
  const resolve = state.values?.form === 'resolve' ? state.values : defaultUpdate(d, incident, 'resolve');
  const errorsFor = (form: UpdateValues['form']) => (state.values?.form === form ? (state.errors ?? new Map()) : new Map());
  return html`<section class="console-panel" aria-labelledby="console-heading">
<h2 id="console-heading">Comms console: ${incident.internalTitle}</h2>
${state.notice ? html`<p class="notice" role="status">${state.notice}</p>` : ''}
${posted && postedProgress ? publishConfirmation(`${incidentStatusLabel[posted.status as IncidentStatus] ?? posted.status} update posted, by ${posted.author}`, posted, postedProgress, links.publicIncident(incident.id)) : ''}
<dl class="facts">
<dt>Severity</dt><dd>${incident.severity}</dd>
<dt>Status</dt><dd>${incidentStatusLabel[incident.status]}</dd>
${
  due
    ? html`<dt>Next update</dt><dd><time datetime="${incident.nextUpdateAt!.toISOString()}" data-countdown>${due.text}</time>${due.overdue ? html` <strong class="warning">Overdue</strong>` : ''}</dd>`
    : ''
}
<dt>Public page</dt><dd>${
  incident.draft
    ? 'none yet: a draft until an update is posted'
    : incident.audiences.public
      ? html`<a href="${links.publicIncident(incident.id)}">${links.publicIncident(incident.id)}</a>`
      : 'none: this severity stays internal'
}</dd>
</dl>
${progressTable(incident, progress)}
${incident.updates[0] && canPublish ? html`<p><a href="${links.outbox}?incident=${encodeURIComponent(incident.id)}">Every delivery of this incident</a> (who each update and briefing went to, and whether it arrived)</p>` : ''}
${incident.updates[0] ? html`<p><a href="${links.incident(incident.id)}correct">Correct the last update</a> (fix its wording without a new update)</p>` : ''}
${canPublish ? '' : html`<p class="notice" role="note">You are signed in as a viewer: everything here is read-only.</p>`}
${active ? updateForm(d, incident, update, errorsFor('update'), components, state.preview, state.templateNote) : ''}
${active ? resolveForm(d, incident, resolve, errorsFor('resolve')) : ''}
${!active ? postmortemForm(d, incident, state.postmortem ?? postmortemDefaults(incident), state.postmortem ? (state.errors ?? new Map()) : new Map()) : ''}
${!active ? reopenForm(d, incident) : ''}
</section>
<script src="/internal/console.js" defer></script>`;
}

/** GET /internal/incidents/{id}/: the site's internal incident page with the console panel above it. */
export async function incidentScreen(d: ConsoleDeps, c: Context, id: string, state: PanelState = {}, status = 200) {
  const page = async (r: SiteReading) => (await incidentPages(r, [id]))[0];
  return subjectScreen(d, c, page, () => getIncident(d.services, id), (incident) => panel(d, c, incident, state), status);
}

/** POST .../updates, .../resolve, .../reopen: the same service as POST /api/v1/incidents/{id}/updates. */
export async function updatePost(d: ConsoleDeps, c: Context, id: string, body: Body, form: UpdateValues['form']) {
  const incident = await getIncident(d.services, id);
  const action = str(body.action) === 'preview' ? 'preview' : 'publish';
  let v = form === 'reopen' ? defaultUpdate(d, incident, 'reopen', 'investigating') : readUpdate(body, form);
  if (form === 'resolve' && !v.template) v = { ...v, template: defaultUpdate(d, incident, 'resolve').template };
  if (form === 'reopen') v.version = str(body.version);
  if (form === 'update' && v.status && !templatesFor(d, v.status).some((t) => t.key === v.template)) {
    // The status changed without JavaScript: show that status's templates and fields, keeping what was typed (a note, not an error).
    const swapped = defaultUpdate(d, incident, 'update', v.status);
    v = { ...v, template: swapped.template };
    const note = swappedTemplateNote(incidentStatusLabel[v.status as IncidentStatus] ?? v.status, d.services.templates.get(v.template));
    return incidentScreen(d, c, id, { values: v, templateNote: note }, v.template ? 200 : 422);
  }
  const { input, errors } = check(d, incident, v);
  if (!input) return incidentScreen(d, c, id, { values: v, errors }, 422);
  try {
    if (action === 'preview') return incidentScreen(d, c, id, { values: v, preview: await previewUpdate(d.services, actorOf(c), id, input) });
    const version = /^\d+$/.test(v.version) ? Number(v.version) : undefined;
    const posted = await postUpdate(d.services, actorOf(c), id, { ...input, idempotencyKey: formKeyOf(body) }, version);
    return redirectAfterPublish(d, c, posted);
  } catch (e) {
    if (e instanceof ValidationError) return incidentScreen(d, c, id, { values: v, errors: errorsFrom(e.errors ?? [], fieldOf(form)) }, 422);
    if (e instanceof ConflictError) {
      // Someone else posted meanwhile: the page shows their update, and the form (typed values kept) now carries the
      // current version, so pressing the button again publishes on top of it instead of failing the same way forever.
      const now = await getIncident(d.services, id);
      const button = form === 'resolve' ? 'Resolve' : 'Post update';
      const message =
        String(now.version) !== v.version
          ? `Someone else changed this incident while you were typing; their update is on this page. Nothing of yours was published: read theirs, then press ${button} again to publish yours.`
          : e.message;
      return incidentScreen(d, c, id, { values: { ...v, version: String(now.version) }, errors: new Map([['form', message]]) }, 409);
    }
    throw e;
  }
}

function postmortemDefaults(incident: IncidentView): PostmortemValues {
  const pm = incident.postmortem;
  return {
    externalSummary: pm?.externalSummary ?? '',
    internalBody: pm?.internalBody ?? '',
    actionItems: (pm?.actionItems ?? []).map((a) => `${a.title} | ${a.owner} | ${a.dueOn}`).join('\n'),
    variables: {},
  };
}

/** POST .../postmortem: the same service as PUT /api/v1/incidents/{id}/postmortem. */
export async function postmortemPost(d: ConsoleDeps, c: Context, id: string, body: Body) {
  const typed = Object.fromEntries(Object.entries(body).flatMap(([k, x]) => (k.startsWith('pmvar.') ? [[k.slice(6), str(x)]] : [])));
  const v: PostmortemValues = { externalSummary: str(body.externalSummary), internalBody: str(body.internalBody), actionItems: str(body.actionItems), variables: typed };
  const fieldOfPm = (path: string) => {
    const [head, name] = path.split('.');
    if (head === 'variables') return name === 'summary' ? 'pm-external' : name === 'action_items' ? 'pm-actions' : `pmvar-${name}`;
    return ({ externalSummary: 'pm-external', internalBody: 'pm-internal', actionItems: 'pm-actions' } as Record<string, string>)[head!] ?? null;
  };
  const { items, problem } = parseActionItems(v.actionItems);
  // The announcement's action_items are the list above, in words; its summary the external summary (the service's rule).
  const template = d.services.templates.get(postmortemTemplate);
  const variables = { ...chosenVariables(template, typed), ...(items.length ? { action_items: items.map((i) => `${i.title} (${i.owner}, due ${i.dueOn})`).join('; ') } : {}) };
  const parsed = postmortemBody.safeParse({ externalSummary: v.externalSummary, internalBody: v.internalBody, actionItems: items, template: postmortemTemplate, variables });
  const found: FieldError[] = problem ? [{ path: 'actionItems', message: problem }] : [];
  if (!parsed.success) found.push(...parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.path[0] === 'actionItems' ? `item ${Number(i.path[1]) + 1}: ${String(i.path[2] ?? '')} ${i.message}`.trim() : i.message })));
  if (found.length > 0 || !parsed.success) return incidentScreen(d, c, id, { postmortem: v, errors: errorsFrom(found, fieldOfPm) }, 422);
  const version = /^\d+$/.test(str(body.version)) ? Number(str(body.version)) : undefined;
  try {
    await publishPostmortem(d.services, actorOf(c), id, { ...(parsed.data as PostmortemInput), idempotencyKey: formKeyOf(body) }, version);
    return c.redirect(links.incident(id), 303);
  } catch (e) {
    if (e instanceof ValidationError) return incidentScreen(d, c, id, { postmortem: v, errors: errorsFrom(e.errors ?? [], fieldOfPm) }, 422);
    if (e instanceof ConflictError) return incidentScreen(d, c, id, { postmortem: v, errors: new Map([['form', e.message]]) }, 409);
    throw e;
  }
}

// ---- correcting the last update ----

/** GET .../correct: the latest update's wordings and its variables to edit; Save correction re-renders both. */
export async function correctionScreen(d: ConsoleDeps, c: Context, id: string, values?: Record<string, string>, errors: Errors = new Map(), status = 200) {
  const incident = await getIncident(d.services, id);
  const latest = incident.updates[0];
  if (!latest) return screen(d, c, 'Correct the last update', html`<p>This incident has no update yet.</p>`, 404);
  const template = d.services.templates.get(latest.template);
  const labels = new Map((template?.variables ?? []).map((x) => [`cvar-${x.name}`, x.label] as [string, string]));
  const body = html`<p>Fixes the wording of the latest update of <a href="${links.incident(id)}">${incident.internalTitle}</a>
(${incidentStatusLabel[latest.status as IncidentStatus] ?? latest.status}, by ${latest.author}). The page, the feed and the JSON show the corrected text;
emails already sent are not sent again.</p>
<div class="wordings">
<article class="wording"><h2>External wording now</h2><p class="subject"><span class="meta">Subject:</span> ${latest.external.subject}</p><div class="text">${latest.external.body.split(/\n{2,}/).map((p) => html`<p>${p}</p>`)}</div></article>
<article class="wording internal"><h2>Internal wording now</h2><p class="subject"><span class="meta">Subject:</span> ${latest.internal.subject}</p><div class="text">${latest.internal.body.split(/\n{2,}/).map((p) => html`<p>${p}</p>`)}</div></article>
</div>
${errorSummary(errors, labels)}
<form method="post" action="${links.incident(id)}correct" class="console-form" novalidate>
<input type="hidden" name="version" value="${incident.version}" />
${variableFields(template, values ?? latest.variables, errors, 'cvar')}
<div class="actions"><button type="submit" class="primary">Save correction</button></div>
</form>`;
  return screen(d, c, 'Correct the last update', body, status);
}

/** POST .../correct: the correctLastUpdate service; refused input comes back beside its field. */
export async function correctionPost(d: ConsoleDeps, c: Context, id: string, body: Body) {
  const incident = await getIncident(d.services, id);
  const template = d.services.templates.get(incident.updates[0]?.template ?? '');
  const typed = Object.fromEntries(Object.entries(body).flatMap(([k, x]) => (k.startsWith('cvar.') ? [[k.slice(5), str(x)]] : [])));
  const toField = (path: string) => (path.startsWith('variables.') ? `cvar-${path.split('.')[1]}` : null);
  try {
    const version = /^\d+$/.test(str(body.version)) ? Number(str(body.version)) : undefined;
    await correctLastUpdate(d.services, actorOf(c), id, chosenVariables(template, typed), version);
    return c.redirect(links.incident(id), 303);
  } catch (e) {
    if (e instanceof ValidationError) return correctionScreen(d, c, id, typed, errorsFrom(e.errors ?? [], toField), 422);
    if (e instanceof ConflictError) return correctionScreen(d, c, id, typed, new Map([['form', e.message]]), 409);
    throw e;
  }
}
