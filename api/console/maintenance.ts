// Maintenance in the console: schedule a window with a template, post its updates, cancel it.
import { Hono, type Context } from 'hono';
import { html } from 'hono/html';
import type { AuthEnv } from '../auth.ts';
import { maintenanceStatusLabel, maintenanceStatuses, maintenanceTransitionError, type MaintenanceStatus } from '../domain.ts';
import { ConflictError, ValidationError, type FieldError } from '../errors.ts';
import { maintenanceUpdateBody, scheduleBody } from '../services/schemas.ts';
import { listComponents } from '../services/components.ts';
import { getMaintenance, postMaintenanceUpdate, scheduleMaintenance, type MaintenanceView, type MaintenanceUpdateInput, type ScheduleInput } from '../services/maintenances.ts';
import { moveMaintenanceWindow } from '../services/maintenance-window.ts';
import { previewMaintenance, previewMaintenanceUpdate } from '../services/preview.ts';
import { maintenancePages, type SiteReading } from '../site/view-model.ts';
import { checkVariables, type Template } from '../templates.ts';
import { chosenVariables, templateChoices, variableFields, wordingsView } from './declare.ts';
import { componentsFieldset, counted, formKeyField, formKeyOf, errorsFrom, errorSummary, input, select, type Errors } from './form.ts';
import { requireUseCase } from './roles.ts';
import { links, actorOf, publishConfirmation, redirectAfterPublish, screen, subjectScreen, takePosted, type ConsoleDeps } from './screen.ts';
import { deliveryProgress, scheduledReminders } from '../services/deliveries.ts';
import { formatUtc } from '../text.ts';

type Body = Record<string, string | File | (string | File)[]>;
const str = (v: Body[string] | undefined) => (typeof v === 'string' ? v : '');
const list = (v: Body[string] | undefined) => (Array.isArray(v) ? v : v === undefined ? [] : [v]).filter((x): x is string => typeof x === 'string');

interface ScheduleValues {
  title: string;
  internalTitle: string;
  scheduledFor: string;
  scheduledUntil: string;
  components: string[];
  template: string;
  variables: Record<string, string>;
}

const prefixed = (body: Body, prefix: string) =>
  Object.fromEntries(Object.entries(body).flatMap(([k, v]) => (k.startsWith(prefix) ? [[k.slice(prefix.length), str(v)]] : [])));

/** A `datetime-local` value read as UTC ("2026-12-01T02:00" → "2026-12-01T02:00:00Z"); anything else is left for the schema to refuse. */
const utc = (v: string) => (/^\d{4}-\d\d-\d\dT\d\d:\d\d$/.test(v) ? `${v}:00Z` : v);

/** Maintenance templates a status may post, those made for that status alone first ("started" before "running longer" for in_progress). */
function templatesFor(d: ConsoleDeps, status: string): Template[] {
  return d.services.templates
    .list()
    .filter((t) => t.kind === 'maintenance' && t.statuses.includes(status))
    .sort((a, b) => a.statuses.length - b.statuses.length);
}

function fieldOf(path: string): string | null {
  const [head, second] = path.split('.');
  if (head === 'variables' && second) return `var-${second}`;
  if (head === 'components') return 'components';
  return ['title', 'internalTitle', 'scheduledFor', 'scheduledUntil', 'template', 'status'].includes(head!) ? head! : null;
}

/** Validates with the API's schedule body and the template's variables; every problem at once. */
function checkSchedule(d: ConsoleDeps, v: ScheduleValues): { input: ScheduleInput | null; errors: Errors } {
  const template = d.services.templates.get(v.template);
  const body = {
    title: v.title,
    ...(v.internalTitle.trim() ? { internalTitle: v.internalTitle } : {}),
    scheduledFor: utc(v.scheduledFor),
    scheduledUntil: utc(v.scheduledUntil),
    components: v.components,
    template: v.template,
    variables: chosenVariables(template, v.variables),
  };
  const found: FieldError[] = [];
  const parsed = scheduleBody.safeParse(body);
  if (!parsed.success) {
    for (const i of parsed.error.issues) {
      const path = i.path.map(String).join('.');
      found.push({ path, message: path.startsWith('scheduled') ? 'give a date and time in UTC' : i.message });
    }
  }
  if (parsed.success && new Date(body.scheduledUntil) <= new Date(body.scheduledFor)) found.push({ path: 'scheduledUntil', message: 'must be after the start' });
  if (template?.kind === 'maintenance') {
    try {
      checkVariables(template, body.variables);
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
      found.push(...(e.errors ?? []));
    }
  } else found.push({ path: 'template', message: 'choose a maintenance template' });
  const errors = errorsFrom(found, fieldOf);
  if (errors.size > 0 || !parsed.success) return { input: null, errors };
  const { scheduledFor, scheduledUntil, ...rest } = parsed.data;
  return { input: { ...rest, scheduledFor: new Date(scheduledFor), scheduledUntil: new Date(scheduledUntil) } as ScheduleInput, errors };
}

async function scheduleScreen(d: ConsoleDeps, c: Context, v: ScheduleValues, errors: Errors = new Map(), preview: Parameters<typeof wordingsView>[0] | null = null, status = 200) {
  const components = await listComponents(d.services.db, 'internal');
  const template = d.services.templates.get(v.template);
  const labels = new Map<string, string>([
    ['title', 'Title'],
    ['internalTitle', 'Internal title'],
    ['scheduledFor', 'Starts (UTC)'],
    ['scheduledUntil', 'Ends (UTC)'],
    ['components', 'Components'],
    ['template', 'Template'],
    ...(template?.variables.map((x) => [`var-${x.name}`, x.label] as [string, string]) ?? []),
  ]);
  const body = html`${errorSummary(errors, labels)}
<form method="post" action="${links.schedule}" class="console-form" id="schedule-form" data-live-preview="live-preview" novalidate>
${formKeyField()}
${input({ id: 'title', label: 'Title', value: v.title, errors, hint: 'Public: customers read this.' })}
${input({ id: 'internalTitle', label: 'Internal title', value: v.internalTitle, errors, hint: 'Optional. For the internal page.' })}
${input({ id: 'scheduledFor', label: 'Starts (UTC)', type: 'datetime-local', value: v.scheduledFor, errors })}
${input({ id: 'scheduledUntil', label: 'Ends (UTC)', type: 'datetime-local', value: v.scheduledUntil, errors, hint: 'The window starts and completes by itself at these times.' })}
${componentsFieldset(errors, 'components', 'Components')}
${components.map((x) => html`<div class="field checkbox"><input type="checkbox" id="mc-${x.id}" name="component" value="${x.id}"${v.components.includes(x.id) ? html` checked` : ''} /><label for="mc-${x.id}">${x.name}</label></div>`)}
</fieldset>
${select({ id: 'template', label: 'Template', value: v.template, errors, options: templatesFor(d, 'scheduled').map((t) => ({ value: t.key, label: t.name })) })}
<div class="template-fields" data-template-fields="${v.template}">${variableFields(template, v.variables, errors)}</div>
<div id="live-preview" aria-live="polite">${preview ? wordingsView(preview) : ''}</div>
<div class="actions">
<button type="submit" name="action" value="preview">Preview</button>
<button type="submit" name="action" value="publish" class="primary">Schedule</button>
</div>
</form>`;
  return screen(d, c, 'Schedule maintenance', body, status);
}

function readSchedule(body: Body): ScheduleValues {
  return {
    title: str(body.title),
    internalTitle: str(body.internalTitle),
    scheduledFor: str(body.scheduledFor),
    scheduledUntil: str(body.scheduledUntil),
    components: list(body.component),
    template: str(body.template) || 'maintenance-scheduled',
    variables: prefixed(body, 'var.'),
  };
}

// ---- an existing window ----

interface UpdateValues {
  status: string;
  template: string;
  variables: Record<string, string>;
  version: string;
  /** The posted one-time form key (formKeyOf), passed to the use case as its idempotency key. */
  idempotencyKey?: string | undefined;
}

function nextStatuses(m: MaintenanceView): MaintenanceStatus[] {
  return maintenanceStatuses.filter((s) => maintenanceTransitionError(m.status, s) === null && s !== 'cancelled');
}

type Preview = Parameters<typeof wordingsView>[0];

/** The Move window form's values (datetime-local, UTC) and its errors, when it comes back refused. */
interface WindowValues {
  scheduledFor: string;
  scheduledUntil: string;
  errors: Errors;
}

/** A moment as a datetime-local value in UTC ("2026-12-01T02:00"). */
const localValue = (at: Date) => at.toISOString().slice(0, 16);

/**
 * Move window: a new start and end for a window not yet started, a new end for one under way (its start has
 * happened); posts the "rescheduled" update to everyone the announcement reached (moveMaintenanceWindow).
 */
function windowForm(m: MaintenanceView, w: WindowValues | null) {
  if (!['scheduled', 'in_progress', 'verifying'].includes(m.status)) return '';
  const started = m.status !== 'scheduled';
  const errors = w?.errors ?? new Map();
  const labels = new Map([['window-scheduledFor', 'New start (UTC)'], ['window-scheduledUntil', 'New end (UTC)']]);
  return html`<section aria-labelledby="window-heading"><h2 id="window-heading">Move window</h2>
${errorSummary(errors, labels)}
<form method="post" action="${links.maintenance(m.id)}window" class="console-form" novalidate>
<input type="hidden" name="version" value="${m.version}" />
${
  started
    ? html`<p class="hint">The window has started, so only its end can move.</p>`
    : input({ id: 'window-scheduledFor', name: 'scheduledFor', label: 'New start (UTC)', type: 'datetime-local', value: w?.scheduledFor ?? localValue(m.scheduledFor), errors })
}
${input({ id: 'window-scheduledUntil', name: 'scheduledUntil', label: 'New end (UTC)', type: 'datetime-local', value: w?.scheduledUntil ?? localValue(m.scheduledUntil), errors, hint: 'Subscribers hear of the new window, and their reminders move with it.' })}
<div class="actions"><button type="submit">Move window</button></div>
</form></section>`;
}

async function panel(d: ConsoleDeps, c: Context, m: MaintenanceView, v: UpdateValues | null, errors: Errors, preview: Preview | null, w: WindowValues | null = null) {
  // After Schedule, Post update or Cancel: what went to whom, once (redirectAfterPublish).
  const postedId = takePosted(d, c, links.maintenance(m.id));
  const posted = postedId ? m.updates.find((u) => u.id === postedId) : undefined;
  let confirmation: unknown = '';
  if (posted) {
    const [progress, reminders] = await Promise.all([deliveryProgress(d.services.db, posted.id), scheduledReminders(d.services.db, posted.id)]);
    const extra = reminders.count
      ? html`<li><strong>Reminders:</strong> ${counted(reminders.count, 'email')} to subscribers before the start, the first at <time datetime="${reminders.first!.toISOString()}">${formatUtc(reminders.first!, d.services.clock.now())}</time></li>`
      : '';
    const heading = `Maintenance update posted: ${maintenanceStatusLabel[posted.status as MaintenanceStatus] ?? posted.status}, by ${posted.author}`;
    confirmation = publishConfirmation(heading, posted, progress, links.publicMaintenance(m.id), { notTold: 'not told of maintenance', extra });
  }
  const statuses = nextStatuses(m);
  const status = v?.status ?? statuses.find((s) => s !== m.status) ?? statuses[0] ?? m.status;
  const templates = templatesFor(d, status);
  const template = d.services.templates.get(v?.template ?? '') ?? templates[0];
  const values = v ?? { status, template: template?.key ?? '', variables: {}, version: String(m.version) };
  const cancellable = maintenanceTransitionError(m.status, 'cancelled') === null;
  return html`<section class="console-panel" aria-labelledby="console-heading">
<h2 id="console-heading">Comms console: ${m.internalTitle}</h2>
${confirmation}
<dl class="facts"><dt>Status</dt><dd>${maintenanceStatusLabel[m.status]}</dd>
<dt>Window</dt><dd><time datetime="${m.scheduledFor.toISOString()}">${m.scheduledFor.toISOString().slice(0, 16).replace('T', ' ')}</time> to <time datetime="${m.scheduledUntil.toISOString()}">${m.scheduledUntil.toISOString().slice(0, 16).replace('T', ' ')} UTC</time></dd>
<dt>Components</dt><dd>${m.components.map((x) => x.name).join(', ')}</dd></dl>
${
  statuses.length
    ? html`<section aria-labelledby="post-update-heading"><h2 id="post-update-heading">Post update</h2>
${errorSummary(errors, new Map([['update-status', 'Status'], ['update-template', 'Template'], ...(template?.variables ?? []).map((x) => [`var-${x.name}`, x.label] as [string, string])]))}
<form method="post" action="${links.maintenance(m.id)}updates" class="console-form" id="update-form-maintenance" data-live-preview="update-preview"${templateChoices(statuses, (s) => templatesFor(d, s), 'update-status', 'update-template')} novalidate>
${formKeyField()}
<input type="hidden" name="version" value="${values.version}" />
${select({ id: 'update-status', name: 'status', label: 'Status', value: values.status, errors, options: statuses.map((s) => ({ value: s, label: maintenanceStatusLabel[s] })), hint: 'Templates follow the status; press Post update after changing it to see its fields.' })}
${select({ id: 'update-template', name: 'template', label: 'Template', value: template?.key ?? '', errors, options: templates.map((t) => ({ value: t.key, label: t.name })) })}
<div class="template-fields" data-template-fields="${template?.key ?? ''}">${variableFields(template, values.variables, errors)}</div>
<div id="update-preview" aria-live="polite">${preview ? wordingsView(preview) : ''}</div>
<div class="actions"><button type="submit" name="action" value="preview">Preview</button><button type="submit" name="action" value="publish" class="primary">Post update</button></div>
</form></section>`
    : ''
}
${windowForm(m, w)}
${
  cancellable
    ? html`<section aria-labelledby="cancel-heading"><h2 id="cancel-heading">Cancel</h2>
<form method="post" action="${links.maintenance(m.id)}cancel" novalidate>
${formKeyField()}
<input type="hidden" name="version" value="${m.version}" />
<p class="hint">Posts the “maintenance-cancelled” template; subscribers hear that the window is off.</p>
<div class="actions"><button type="submit">Cancel maintenance</button></div>
</form></section>`
    : ''
}
</section>`;
}

async function maintenanceScreen(d: ConsoleDeps, c: Context, id: string, v: UpdateValues | null = null, errors: Errors = new Map(), status = 200, preview: Preview | null = null, w: WindowValues | null = null) {
  const page = async (r: SiteReading) => (await maintenancePages(r, [id]))[0];
  const withScript = async (m: MaintenanceView) => `${await panel(d, c, m, v, errors, preview, w)}\n<script src="/internal/console.js" defer></script>`;
  return subjectScreen(d, c, page, () => getMaintenance(d.services, id), withScript, status);
}


async function postMaintenance(d: ConsoleDeps, c: Context, id: string, v: UpdateValues, action: 'preview' | 'publish' = 'publish') {
  const m = await getMaintenance(d.services, id);
  const template = d.services.templates.get(v.template);
  if (!template || template.kind !== 'maintenance' || !template.statuses.includes(v.status)) {
    const first = templatesFor(d, v.status)[0];
    return maintenanceScreen(d, c, id, { ...v, template: first?.key ?? '' }, new Map([['update-template', `choose a template for ${maintenanceStatusLabel[v.status as MaintenanceStatus] ?? 'this status'}; the fields below are those of “${first?.name ?? '—'}”`]]), 422);
  }
  const body = { status: v.status, template: v.template, variables: chosenVariables(template, v.variables) };
  const parsed = maintenanceUpdateBody.safeParse(body);
  const found: FieldError[] = parsed.success ? [] : parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
  try {
    checkVariables(template, body.variables);
  } catch (e) {
    if (!(e instanceof ValidationError)) throw e;
    found.push(...(e.errors ?? []));
  }
  const toField = (p: string) => (p.startsWith('variables.') ? `var-${p.split('.')[1]}` : p === 'status' ? 'update-status' : p === 'template' ? 'update-template' : null);
  if (found.length || !parsed.success) return maintenanceScreen(d, c, id, v, errorsFrom(found, toField), 422);
  if (action === 'preview') return maintenanceScreen(d, c, id, v, new Map(), 200, await previewMaintenanceUpdate(d.services, actorOf(c), id, body));
  try {
    const posted = await postMaintenanceUpdate(d.services, actorOf(c), id, { ...(parsed.data as MaintenanceUpdateInput), idempotencyKey: v.idempotencyKey }, /^\d+$/.test(v.version) ? Number(v.version) : m.version);
    return redirectAfterPublish(d, c, posted, links.maintenance(id));
  } catch (e) {
    if (e instanceof ValidationError) return maintenanceScreen(d, c, id, v, errorsFrom(e.errors ?? [], toField), 422);
    if (e instanceof ConflictError) {
      // As for incidents: the form comes back with the current version, so pressing Post update again is not refused again.
      const now = await getMaintenance(d.services, id);
      const message =
        String(now.version) !== v.version
          ? `Someone else changed this maintenance while you were typing; their update is on this page. Nothing of yours was published: read theirs, then press ${v.status === 'cancelled' ? 'Cancel maintenance' : 'Post update'} again to publish yours.`
          : e.message;
      return maintenanceScreen(d, c, id, { ...v, version: String(now.version) }, new Map([['form', message]]), 409);
    }
    throw e;
  }
}

export function maintenanceRoutes(d: ConsoleDeps) {
  const app = new Hono<AuthEnv>();
  const empty = readSchedule({});
  app.get('/internal/maintenances/new/', (c) => scheduleScreen(d, c, empty));
  app.get('/internal/maintenances/new', (c) => c.redirect(links.schedule, 301));
  app.post('/internal/maintenances/new/', requireUseCase(d, 'scheduleMaintenance', 'previewMaintenance'), async (c) => {
    const body = await c.req.parseBody({ all: true });
    const v = readSchedule(body);
    const { input: checked, errors } = checkSchedule(d, v);
    if (!checked) return scheduleScreen(d, c, v, errors, null, 422);
    try {
      if (str(body.action) === 'preview') return scheduleScreen(d, c, v, errors, await previewMaintenance(d.services, actorOf(c), checked));
      const m = await scheduleMaintenance(d.services, actorOf(c), { ...checked, idempotencyKey: formKeyOf(body) });
      return redirectAfterPublish(d, c, m, links.maintenance(m.id));
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
      return scheduleScreen(d, c, v, errorsFrom(e.errors ?? [], fieldOf), null, 422);
    }
  });
  app.get('/internal/maintenances/:id/', (c) => maintenanceScreen(d, c, c.req.param('id')!));
  app.post('/internal/maintenances/:id/updates', requireUseCase(d, 'postMaintenanceUpdate', 'previewMaintenanceUpdate'), async (c) => {
    const body = await c.req.parseBody();
    const v = { status: str(body.status), template: str(body.template), variables: prefixed(body, 'var.'), version: str(body.version), idempotencyKey: formKeyOf(body) };
    return postMaintenance(d, c, c.req.param('id')!, v, str(body.action) === 'preview' ? 'preview' : 'publish');
  });
  app.post('/internal/maintenances/:id/window', requireUseCase(d, 'moveMaintenanceWindow'), async (c) => {
    const id = c.req.param('id')!;
    const body = await c.req.parseBody();
    const w: WindowValues = { scheduledFor: str(body.scheduledFor), scheduledUntil: str(body.scheduledUntil), errors: new Map() };
    const moment = (field: 'scheduledFor' | 'scheduledUntil') => {
      if (!w[field]) return undefined;
      const at = new Date(utc(w[field]));
      if (Number.isNaN(at.getTime())) w.errors.set(`window-${field}`, 'give a date and time');
      return at;
    };
    const change = { scheduledFor: moment('scheduledFor'), scheduledUntil: moment('scheduledUntil') };
    if (w.errors.size) return maintenanceScreen(d, c, id, null, new Map(), 422, null, w);
    const version = /^\d+$/.test(str(body.version)) ? Number(body.version) : undefined;
    try {
      const moved = await moveMaintenanceWindow(d.services, actorOf(c), id, change, version);
      return redirectAfterPublish(d, c, moved, links.maintenance(id));
    } catch (e) {
      if (e instanceof ValidationError) {
        for (const f of e.errors ?? []) w.errors.set(f.path === 'scheduledFor' || f.path === 'scheduledUntil' ? `window-${f.path}` : 'form', f.message);
        if (w.errors.size === 0) w.errors.set('form', e.message);
        return maintenanceScreen(d, c, id, null, new Map(), 422, null, w);
      }
      if (e instanceof ConflictError) return maintenanceScreen(d, c, id, null, new Map(), 409, null, { ...w, errors: new Map([['form', e.message]]) });
      throw e;
    }
  });
  app.post('/internal/maintenances/:id/cancel', requireUseCase(d, 'postMaintenanceUpdate'), async (c) => {
    const body = await c.req.parseBody();
    return postMaintenance(d, c, c.req.param('id')!, { status: 'cancelled', template: 'maintenance-cancelled', variables: {}, version: str(body.version), idempotencyKey: formKeyOf(body) });
  });
  return app;
}
