// Form markup every console screen shares: labelled fields with their hint and error beside them, and an error summary.
import { html } from 'hono/html';
import type { FieldError } from '../errors.ts';
import { newId } from '../ids.ts';
import { plural } from '../text.ts';

export type Html = ReturnType<typeof html>;

/** Field errors by field id, the first message per field; a form shows each next to its field. */
export type Errors = Map<string, string>;

/**
 * Maps service and schema error paths ("variables.symptom", "components.0.id") to console field ids with `fieldOf`;
 * paths it does not know land on `fallback`, so no error is ever dropped.
 */
export function errorsFrom(list: FieldError[], fieldOf: (path: string) => string | null, fallback = 'form'): Errors {
  const errors: Errors = new Map();
  for (const e of list) {
    const id = fieldOf(e.path) ?? fallback;
    if (!errors.has(id)) errors.set(id, e.message);
  }
  return errors;
}

interface FieldProps {
  id: string;
  name?: string;
  label: string;
  /**
   * A template variable's name (`what_happened`), shown small beside the plain label and joined to it in the field's
   * accessible name, so the field is found by either (SPEC: "labelled with the variable's name"; docs/decisions/016).
   */
  variable?: string | undefined;
  hint?: Html | string | undefined;
  errors: Errors;
}

const describedBy = (p: FieldProps) => [p.hint ? `${p.id}-hint` : '', p.errors.has(p.id) ? `${p.id}-error` : ''].filter(Boolean).join(' ') || undefined;

/** A variable's field is named by its label and its variable name together; any other field by its label alone. */
const labelledBy = (p: FieldProps) => (p.variable ? html` aria-labelledby="${p.id}-label ${p.id}-variable"` : '');

/** The label is the field's whole accessible name (tests and people find fields by it); hints are descriptions. */
function frame(p: FieldProps, control: Html) {
  const error = p.errors.get(p.id);
  return html`<div class="field${error ? ' has-error' : ''}">
${
  p.variable
    ? html`<label for="${p.id}" id="${p.id}-label">${p.label}</label> <span class="variable-name" id="${p.id}-variable" title="The name statusctl and the API use for this field">${p.variable}</span>`
    : html`<label for="${p.id}">${p.label}</label>`
}
${p.hint ? html`<p class="hint" id="${p.id}-hint">${p.hint}</p>` : ''}
${error ? html`<p class="field-error" id="${p.id}-error"><span class="sr-only">Error: </span>${error}</p>` : ''}
${control}
</div>`;
}

export function input(p: FieldProps & { value: string; type?: string; required?: boolean; autocomplete?: string; inputmode?: string }) {
  const d = describedBy(p);
  return frame(
    p,
    html`<input id="${p.id}" name="${p.name ?? p.id}" type="${p.type ?? 'text'}" value="${p.value}"${labelledBy(p)}${p.required ? html` required` : ''}${d ? html` aria-describedby="${d}"` : ''}${p.errors.has(p.id) ? html` aria-invalid="true"` : ''} autocomplete="${p.autocomplete ?? 'off'}"${p.inputmode ? html` inputmode="${p.inputmode}"` : ''} />`,
  );
}

export function textarea(p: FieldProps & { value: string; required?: boolean; rows?: number }) {
  const d = describedBy(p);
  return frame(
    p,
    html`<textarea id="${p.id}" name="${p.name ?? p.id}" rows="${p.rows ?? 3}"${labelledBy(p)}${p.required ? html` required` : ''}${d ? html` aria-describedby="${d}"` : ''}${p.errors.has(p.id) ? html` aria-invalid="true"` : ''}>${p.value}</textarea>`,
  );
}

export interface Option {
  value: string;
  label: string;
}

export function select(p: FieldProps & { value: string; options: Option[]; required?: boolean }) {
  const d = describedBy(p);
  return frame(
    p,
    html`<select id="${p.id}" name="${p.name ?? p.id}"${p.required ? html` required` : ''}${d ? html` aria-describedby="${d}"` : ''}${p.errors.has(p.id) ? html` aria-invalid="true"` : ''}>
${p.options.map((o) => html`<option value="${o.value}"${o.value === p.value ? html` selected` : ''}>${o.label}</option>`)}
</select>`,
  );
}

/**
 * A list of every error at the top of a form, each linking to its field (GOV.UK's error summary pattern).
 * `nothing` says what did not happen: "published" for what customers or executives would hear, "saved" for admin changes.
 */
export function errorSummary(errors: Errors, labels: Map<string, string>, nothing: 'published' | 'saved' = 'published') {
  if (errors.size === 0) return '';
  return html`<div class="error-summary" role="alert" tabindex="-1" id="error-summary">
<h2>Nothing was ${nothing}: fix ${errors.size === 1 ? 'this' : `these ${errors.size}`}</h2>
<ul>${[...errors].map(([id, message]) => (id === 'form' ? html`<li>${message}</li>` : html`<li><a href="#${id}">${labels.get(id) ?? id}: ${message}</a></li>`))}</ul>
</div>`;
}

/**
 * The opening of a form's components fieldset (a group of selects or checkboxes) with its legend and, when refused,
 * its error under the legend, tied to it by aria-describedby like an input's error beside the input. The error
 * summary links to `id`. The caller adds the fields and `</fieldset>`.
 */
export function componentsFieldset(errors: Errors, id: string, legend: string) {
  const error = errors.get(id);
  return error
    ? html`<fieldset class="components has-error" id="${id}" tabindex="-1" aria-describedby="${id}-error"><legend>${legend}</legend>
<p class="field-error" id="${id}-error"><span class="sr-only">Error: </span>${error}</p>`
    : html`<fieldset class="components" id="${id}" tabindex="-1"><legend>${legend}</legend>`;
}

/** "1,240". */
export const count = (n: number) => n.toLocaleString('en-US');

/** "1 channel", "2 channels", "1,024 messages": a count and its noun. */
export const counted = (n: number, noun: string) => `${count(n)} ${plural(n, noun)}`;

/** "in 12 min", "overdue by 3 min": whole minutes, rounded towards the alarming side. */
export function dueText(at: Date, now: Date): { text: string; overdue: boolean } {
  const ms = at.getTime() - now.getTime();
  const minutes = Math.ceil(Math.abs(ms) / 60_000);
  const span = minutes >= 120 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min` : `${minutes} min`;
  return ms >= 0 ? { text: `due in ${span}`, overdue: false } : { text: `overdue by ${span}`, overdue: true };
}

/**
 * The one-time form key (SPEC "One door"): a hidden field minted when a publishing form is drawn. The use case treats
 * it as an Idempotency-Key, so a double-click or a resubmitted form publishes once and answers with the first result.
 */
export function formKeyField() {
  return html`<input type="hidden" name="formKey" value="${newId(24)}" />`;
}

/** The posted form key as the use case's idempotency key ("form:" keeps it apart from the API's keys), or none. */
export function formKeyOf(body: Record<string, unknown>): string | undefined {
  const key = body.formKey;
  return typeof key === 'string' && /^[A-Za-z0-9_-]{8,64}$/.test(key) ? `form:${key}` : undefined;
}
