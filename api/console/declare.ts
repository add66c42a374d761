// The Declare incident screen: one form, a preview of both wordings with who will be told, and Publish.
import type { Context } from 'hono';
import { html } from 'hono/html';
import { roleAllows } from '../services/tokens.ts';
import { severities, updateStatuses, incidentStatusLabel, type IncidentStatus, type Severity } from '../domain.ts';
import { ValidationError, type FieldError } from '../errors.ts';
import { declareBody } from '../services/schemas.ts';
import { listComponents } from '../services/components.ts';
import type { ComponentState } from '../status.ts';
import { declareIncident, type DeclareInput } from '../services/incidents.ts';
import { previewDeclaration, type DeclarationPreview } from '../services/preview.ts';
import { noStakeholdersWarning, noSubscribersWarning } from '../services/reach.ts';
import { checkVariables, type Template } from '../templates.ts';
import { componentsFieldset, formKeyField, formKeyOf, counted, errorsFrom, errorSummary, input, select, textarea, type Errors, type Html, type Option } from './form.ts';
import { links, actorOf, redirectAfterPublish, screen, type ConsoleDeps } from './screen.ts';

/** What each level means, in one line; who hears comes from the configured policy. */
const severityMeaning: Record<Severity, string> = {
  SEV1: 'critical: a core service is down or data is at risk for many customers',
  SEV2: 'major: an important feature is broken or badly slow for many customers',
  SEV3: 'minor: limited impact, or a workaround exists',
  SEV4: 'low: little or no customer impact; for the record',
};

/** Impact choices for a component; the empty value leaves it out. */
const impactOptions: Option[] = [
  { value: '', label: 'Not affected' },
  { value: 'degraded_performance', label: 'Degraded performance' },
  { value: 'partial_outage', label: 'Partial outage' },
  { value: 'major_outage', label: 'Major outage' },
];

/** The form as typed: every value a string, kept as is when the form comes back. */
interface DeclareValues {
  title: string;
  internalTitle: string;
  severity: string;
  status: string;
  template: string;
  variables: Record<string, string>;
  impacts: Record<string, string>;
  ic: string;
  comms: string;
  smes: string;
  nextUpdateInMinutes: string;
}

type Body = Record<string, string | File | (string | File)[]>;
const str = (v: Body[string] | undefined) => (typeof v === 'string' ? v : '');

function readValues(body: Body): DeclareValues {
  const prefixed = (prefix: string) =>
    Object.fromEntries(Object.entries(body).flatMap(([k, v]) => (k.startsWith(prefix) ? [[k.slice(prefix.length), str(v)]] : [])));
  return {
    title: str(body.title),
    internalTitle: str(body.internalTitle),
    severity: str(body.severity),
    status: str(body.status) || 'investigating',
    template: str(body.template) || 'investigating',
    variables: prefixed('var.'),
    impacts: prefixed('impact.'),
    ic: str(body.ic),
    comms: str(body.comms),
    smes: str(body.smes),
    nextUpdateInMinutes: str(body.nextUpdateInMinutes),
  };
}

export const emptyValues = (): DeclareValues => readValues({});

/** The statuses an incident may be declared with (resolved is not one). */
const declareStatuses = updateStatuses.filter((s) => s !== 'resolved');

/** Templates a status may post, the one named like the status first. */
export function templatesFor(d: ConsoleDeps, status: string): Template[] {
  return d.services.templates
    .list()
    .filter((t) => t.kind === 'incident' && t.statuses.includes(status))
    .sort((a, b) => Number(b.key === status) - Number(a.key === status) || a.name.localeCompare(b.name));
}

/** Only the chosen template's variables are sent: fields left over from another template are not "unknown variables". */
export function chosenVariables(template: Template | undefined, typed: Record<string, string>): Record<string, string> {
  if (!template) return {};
  return Object.fromEntries(template.variables.flatMap((v) => (typed[v.name]?.trim() ? [[v.name, typed[v.name]!]] : [])));
}

/**
 * The Template choices of every status, as a form's `data-template-choices` (JSON: status → [key, name] pairs), so that
 * console.js can refill the Template list the moment the Status changes. Without JavaScript the server renders the
 * chosen status's list on Preview; `fields`/`template` name the form's Status and Template selects by id.
 */
export function templateChoices(statuses: readonly string[], templatesOf: (status: string) => Template[], status = 'status', template = 'template') {
  const choices = Object.fromEntries(statuses.map((s) => [s, templatesOf(s).map((t) => [t.key, t.name])]));
  return html` data-template-choices="${JSON.stringify(choices)}" data-status-field="${status}" data-template-field="${template}"`;
}

/** "Templates for Identified: the fields below are now those of “Cause identified”…": said when a status change swapped the template. */
export function swappedTemplateNote(statusLabel: string, template: Template | undefined): string {
  return template
    ? `Templates for ${statusLabel}: the fields below are now those of “${template.name}”. What you typed is kept where a field of the same name exists.`
    : `No template posts ${statusLabel}: choose another status.`;
}

/** Where each error path of the declare body shows. */
function fieldOf(path: string): string | null {
  const [head, second] = path.split('.');
  if (head === 'variables' && second) return `var-${second}`;
  if (head === 'components') return 'components';
  if (head === 'roles') return second === 'smes' ? 'smes' : (second ?? 'ic');
  if (['title', 'internalTitle', 'severity', 'status', 'template', 'nextUpdateInMinutes'].includes(head!)) return head!;
  return null;
}

interface Checked {
  input: DeclareInput | null;
  errors: Errors;
}

/** Validates with the API's own schema, then the template's variables, listing every problem at once. */
function check(d: ConsoleDeps, v: DeclareValues): Checked {
  const template = d.services.templates.get(v.template);
  const minutes = v.nextUpdateInMinutes.trim();
  const smes = v.smes.split(',').map((s) => s.trim()).filter(Boolean);
  const roles = { ...(v.ic.trim() ? { ic: v.ic } : {}), ...(v.comms.trim() ? { comms: v.comms } : {}), ...(smes.length ? { smes } : {}) };
  const body = {
    title: v.title,
    ...(v.internalTitle.trim() ? { internalTitle: v.internalTitle } : {}),
    severity: v.severity,
    status: v.status,
    template: v.template,
    variables: chosenVariables(template, v.variables),
    components: Object.entries(v.impacts).flatMap(([id, status]) => (status ? [{ id, status }] : [])),
    ...(Object.keys(roles).length ? { roles } : {}),
    ...(minutes ? { nextUpdateInMinutes: /^\d+$/.test(minutes) ? Number(minutes) : minutes } : {}),
  };
  const found: FieldError[] = [];
  const parsed = declareBody.safeParse(body);
  if (!parsed.success) {
    for (const i of parsed.error.issues) {
      const path = i.path.map(String).join('.');
      found.push({ path, message: path === 'severity' ? 'choose a severity' : path === 'nextUpdateInMinutes' ? 'must be a whole number of minutes' : i.message });
    }
  }
  if (template && template.kind === 'incident' && template.statuses.includes(v.status)) {
    try {
      checkVariables(template, body.variables);
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
      found.push(...(e.errors ?? []));
    }
  } else {
    found.push({ path: 'template', message: `choose a template that posts ${incidentStatusLabel[v.status as IncidentStatus] ?? 'this status'}` });
  }
  const errors = errorsFrom(found, fieldOf);
  return { input: errors.size === 0 && parsed.success ? (parsed.data as DeclareInput) : null, errors };
}

/** "public page · 1,240 subscribers · 3 executives"; an incident kept internal says so. */
function reachLine(p: Pick<DeclarationPreview, 'audiences' | 'recipients'>): string {
  const parts = [
    p.audiences.public ? 'public page' : 'internal page only',
    ...(p.audiences.subscribers ? [counted(p.recipients.subscribers, 'subscriber')] : []),
    ...(p.audiences.stakeholders ? [counted(p.recipients.stakeholders, 'executive')] : []),
  ];
  return parts.join(' · ');
}

const paragraphs = (text: string) => text.split(/\n{2,}/).map((p) => html`<p>${p}</p>`);

/**
 * What the preview warns about, in the console's words: an audience that is told but has nobody in it, and where a
 * person fixes that. The services' own sentences (api/services/reach.ts) name API endpoints for API callers; the
 * console replaces those two and shows any other warning as it comes.
 */
function previewWarnings(p: Pick<DeclarationPreview, 'audiences' | 'recipients' | 'warnings'>) {
  const found: (Html | string)[] = p.warnings.filter((w) => w !== noSubscribersWarning && w !== noStakeholdersWarning);
  if (p.audiences.subscribers && p.recipients.subscribers === 0) {
    found.unshift(html`No subscriber will get an email: nobody has a confirmed subscription that covers these components. People subscribe on the public status page (<a href="${links.subscribers}">Subscribers</a>).`);
  }
  if (p.audiences.stakeholders && p.recipients.stakeholders === 0) {
    found.unshift(html`No executive will be briefed: the list of executives is empty. An admin adds them on the <a href="${links.stakeholders}">Stakeholders</a> screen.`);
  }
  return found;
}

/** Both wordings side by side, each with its subject and who reads it. */
export function wordingsView(p: DeclarationPreview) {
  const external = [p.audiences.public ? 'public page · RSS feed' : 'not published: this severity stays internal'];
  if (p.audiences.subscribers) external.push(`${counted(p.recipients.subscribers, 'subscriber')} by email`);
  const internal = ['internal page'];
  if (p.audiences.stakeholders) internal.push(`${counted(p.recipients.stakeholders, 'executive')} by email`);
  const warnings = previewWarnings(p);
  return html`<section class="preview" aria-labelledby="preview-heading" id="preview">
<h2 id="preview-heading">Preview</h2>
<p class="audience-line">Who will be told: <strong>${reachLine(p)}</strong></p>
${warnings.length ? html`<ul class="notice reach-warnings">${warnings.map((w) => html`<li>${w}</li>`)}</ul>` : ''}
<div class="wordings">
<article class="wording">
<h3>External wording</h3>
<p class="meta">${external.join(' · ')}</p>
<p class="subject"><span class="meta">Subject:</span> ${p.rendered.external.subject}</p>
<div class="text">${paragraphs(p.rendered.external.body)}</div>
</article>
<article class="wording internal">
<h3>Internal wording</h3>
<p class="meta">${internal.join(' · ')}</p>
<p class="subject"><span class="meta">Subject:</span> ${p.rendered.internal.subject}</p>
<div class="text">${paragraphs(p.rendered.internal.body)}</div>
</article>
</div>
</section>`;
}

/**
 * A template's description of an internal variable, without its own "Insiders only." (the field's marker says it):
 * "Insiders only. The cause…" → "The cause…", "Optional, insiders only. A decision…" → "Optional. A decision…".
 */
export function withoutInsidersNote(description: string): string {
  return description.replace(/^Insiders only\.\s*/i, '').replace(/^(Optional|Required), insiders only\./i, '$1.');
}

/**
 * One field per variable of the template, labelled in plain words with its name beside (docs/decisions/016); description,
 * example and audience as the hint. The name stays the field's key (`var.symptom`) for the API and the form.
 */
export function variableFields(template: Template | undefined, values: Record<string, string>, errors: Errors, prefix = 'var') {
  if (!template) return '';
  return template.variables.map((v) =>
    textarea({
      id: `${prefix}-${v.name}`,
      name: `${prefix}.${v.name}`,
      label: v.label,
      variable: v.name,
      value: values[v.name] ?? '',
      rows: 2,
      errors,
      hint: html`${/^(Optional|Required)\b/.test(v.description) ? '' : v.required ? 'Required. ' : 'Optional. '}${v.audience === 'internal' ? html`<strong class="internal-only">Insiders only: never shown to customers.</strong> ` : ''}${v.audience === 'internal' ? withoutInsidersNote(v.description) : v.description} Example: “${v.example}”`,
    }),
  );
}

/**
 * The Declare form. The preview sits inside it, just above Preview and Publish, so what will be sent is read right
 * before the button that sends it; with JavaScript, console.js refills #live-preview as the comms lead types.
 */
function form(d: ConsoleDeps, v: DeclareValues, components: ComponentState[], errors: Errors, canPublish: boolean, preview: DeclarationPreview | null, note?: string) {
  const policy = d.services.severityPolicy;
  const who = (s: Severity) => reachLine({ audiences: policy[s], recipients: { subscribers: 0, stakeholders: 0 } }).replace(/0 subscribers/, 'subscribers').replace(/0 executives/, 'executives');
  const templates = templatesFor(d, v.status);
  const template = d.services.templates.get(v.template);
  const labels = new Map<string, string>([
    ['title', 'Title'],
    ['internalTitle', 'Internal title'],
    ['severity', 'Severity'],
    ['status', 'Status'],
    ['template', 'Template'],
    ['components', 'Affected components'],
    ['nextUpdateInMinutes', 'Next update in minutes'],
    ...(template?.variables.map((x) => [`var-${x.name}`, x.label] as [string, string]) ?? []),
  ]);
  return html`${errorSummary(errors, labels)}
${canPublish ? '' : html`<p class="notice" role="note">You are signed in as a viewer: you can preview, but publishing needs a comms or admin token.</p>`}
<form method="post" action="${links.declare}" class="console-form" id="declare-form" data-live-preview="live-preview"${templateChoices(declareStatuses, (s) => templatesFor(d, s))} novalidate>
${formKeyField()}
${input({ id: 'title', label: 'Title', value: v.title, errors, hint: 'Public: customers read this on the status page and in emails.' })}
${input({ id: 'internalTitle', label: 'Internal title', value: v.internalTitle, errors, hint: 'Optional. For the internal page and executives; the public title when empty.' })}
${select({
  id: 'severity',
  label: 'Severity',
  value: v.severity,
  errors,
  hint: html`<span class="severity-list">${severities.map((s) => html`<span><strong>${s}</strong> ${severityMeaning[s]}. Told: ${who(s)}.</span> `)}</span>`,
  options: [{ value: '', label: 'Choose a severity' }, ...severities.map((s) => ({ value: s, label: `${s} · ${severityMeaning[s].split(':')[0]}` }))],
})}
${select({
  id: 'status',
  label: 'Status',
  value: v.status,
  errors,
  hint: 'Templates follow the status; press Preview after changing it to see its templates.',
  options: declareStatuses.map((s) => ({ value: s, label: incidentStatusLabel[s] })),
})}
${note ? html`<p class="notice" role="status" id="template-note">${note}</p>` : ''}
${select({
  id: 'template',
  label: 'Template',
  value: v.template,
  errors,
  hint: template ? `${template.description} Press Preview after changing it to see its fields.` : 'Press Preview after changing it to see its fields.',
  options: templates.map((t) => ({ value: t.key, label: t.name })),
})}
<fieldset class="variables" data-template-fields="${v.template}"><legend>What to say</legend>
${variableFields(template, v.variables, errors)}
</fieldset>
${componentsFieldset(errors, 'components', 'Affected components')}
<div class="impact-grid">
${components.map((c) => select({ id: `impact-${c.id}`, name: `impact.${c.id}`, label: c.name, value: v.impacts[c.id] ?? '', errors, options: impactOptions }))}
</div>
</fieldset>
<fieldset class="roles"><legend>People and cadence</legend>
${input({ id: 'ic', label: 'Incident commander', value: v.ic, errors, autocomplete: 'name' })}
${input({ id: 'comms', label: 'Comms lead', value: v.comms, errors })}
${input({ id: 'smes', label: 'Subject-matter experts', value: v.smes, errors, hint: 'Names, separated by commas.' })}
${input({
  id: 'nextUpdateInMinutes',
  label: 'Next update in minutes',
  value: v.nextUpdateInMinutes,
  errors,
  inputmode: 'numeric',
  hint: 'Empty for the severity’s usual cadence; 0 for none.',
})}
</fieldset>
<div id="live-preview" aria-live="polite">${preview ? wordingsView(preview) : ''}</div>
<div class="actions">
<button type="submit" name="action" value="preview">Preview</button>
<button type="submit" name="action" value="publish" class="primary">Publish</button>
</div>
</form>`;
}

/** GET /internal/declare/ and the form coming back after Preview or a refused Publish. */
export async function declareScreen(d: ConsoleDeps, c: Context, v: DeclareValues, errors: Errors = new Map(), preview: DeclarationPreview | null = null, status = 200, note?: string) {
  const components = await listComponents(d.services.db, 'internal');
  const canPublish = roleAllows(actorOf(c).role, 'comms');
  return screen(d, c, 'Declare incident', form(d, v, components, errors, canPublish, preview, note), status);
}

/** Preview renders both wordings; Publish declares through the same service as POST /api/v1/incidents. */
export async function declarePost(d: ConsoleDeps, c: Context, body: Body, action: 'preview' | 'publish') {
  const v = readValues(body);
  // The Status changed without JavaScript: the form comes back with that status's templates and the first one's fields
  // (a note, not an error: nothing was wrong, the list just follows the status).
  if (!templatesFor(d, v.status).some((t) => t.key === v.template)) {
    const first = templatesFor(d, v.status)[0];
    if (first) v.template = first.key;
    return declareScreen(d, c, v, new Map(), null, first ? 200 : 422, swappedTemplateNote(incidentStatusLabel[v.status as IncidentStatus] ?? v.status, first));
  }
  const { input: checked, errors } = check(d, v);
  if (!checked) return declareScreen(d, c, v, errors, null, 422);
  try {
    if (action === 'preview') return declareScreen(d, c, v, errors, await previewDeclaration(d.services, actorOf(c), checked));
    const incident = await declareIncident(d.services, actorOf(c), { ...checked, idempotencyKey: formKeyOf(body) });
    return redirectAfterPublish(d, c, incident);
  } catch (e) {
    if (!(e instanceof ValidationError)) throw e;
    return declareScreen(d, c, v, errorsFrom(e.errors ?? [{ path: '', message: e.message }], fieldOf), null, 422);
  }
}
