// Loads, validates and renders the prewritten update templates in templates/: one file, two wordings.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Liquid, type Template as LiquidTemplate } from 'liquidjs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { incidentStatuses, maintenanceStatuses } from './domain.ts';
import { ValidationError } from './errors.ts';

/** Built-ins every template may use, in both wordings. */
export const sharedBuiltins = ['title', 'components', 'next_update', 'duration', 'incident_url'] as const;
/** Built-ins only the internal wording of an incident template may use. */
export const internalBuiltins = ['severity', 'ic', 'impact'] as const;
/** Built-ins only maintenance templates have; `maintenance_url` is the maintenance's page (`incident_url` names it too, for older templates). */
export const maintenanceBuiltins = ['starts_at', 'ends_at', 'maintenance_url'] as const;

const allBuiltins = new Set<string>([...sharedBuiltins, ...internalBuiltins, ...maintenanceBuiltins]);

/**
 * What a person sees for a variable without a `label`: its name in words ("what_happened" → "What happened").
 * Templates should still declare a label; this only keeps a label-less template from showing snake_case.
 */
export function labelFromName(name: string): string {
  const words = name.replace(/_+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const variableSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z][a-z0-9_]*$/, 'variable names are snake_case')
      .refine((n) => !allBuiltins.has(n), { message: 'collides with a built-in variable' }),
    // Words for the person filling the field in at 3 a.m.; the name stays the key for the API and the form.
    label: z
      .string()
      .trim()
      .min(1)
      .max(60, 'a label is at most 60 characters')
      .regex(/^[^_{}<>\r\n]*$/, 'a label is plain words shown to people: no underscores, braces, angle brackets or line breaks')
      .optional(),
    description: z.string().min(1),
    required: z.boolean().default(true),
    example: z.string().min(1),
    audience: z.enum(['both', 'internal']).default('both'),
  })
  .strict()
  .transform((v) => ({ ...v, label: v.label ?? labelFromName(v.name) }));

const frontMatterSchema = z
  .object({
    key: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
    kind: z.enum(['incident', 'maintenance']),
    name: z.string().min(1),
    description: z.string().min(1),
    statuses: z.array(z.string()).min(1),
    subject: z.object({ external: z.string().min(1), internal: z.string().min(1) }).strict(),
    variables: z.array(variableSchema).default([]),
  })
  .strict()
  .superRefine((t, ctx) => {
    const allowed: readonly string[] = t.kind === 'incident' ? incidentStatuses : maintenanceStatuses;
    for (const [i, s] of t.statuses.entries()) {
      if (!allowed.includes(s)) {
        ctx.addIssue({ code: 'custom', path: ['statuses', i], message: `"${s}" is not a ${t.kind} status` });
      }
    }
    const seen = new Set<string>();
    const labels = new Set<string>();
    for (const [i, v] of t.variables.entries()) {
      if (seen.has(v.name)) ctx.addIssue({ code: 'custom', path: ['variables', i], message: `"${v.name}" is declared twice` });
      seen.add(v.name);
      // Two fields with the same label on one form cannot be told apart by a person or a screen reader.
      // (zod still runs this check when a variable failed its own schema; such a variable has no label to compare.)
      if (typeof v.label !== 'string') continue;
      const label = v.label.toLowerCase();
      if (labels.has(label)) ctx.addIssue({ code: 'custom', path: ['variables', i, 'label'], message: `the label "${v.label}" is used twice` });
      labels.add(label);
    }
  });

/** One declared variable as loaded: `label` is always set (declared, else made from the name). */
export type TemplateVariable = z.output<typeof variableSchema>;
export type TemplateKind = 'incident' | 'maintenance';

interface Wording {
  subject: string;
  body: string;
}

export interface Rendered {
  external: Wording;
  internal: Wording;
}

export interface Template {
  key: string;
  kind: TemplateKind;
  name: string;
  description: string;
  statuses: string[];
  variables: TemplateVariable[];
  file: string;
  /** Variables used in a subject: a line break in their value would break the mail header. */
  subjectVariables: Set<string>;
  parsed: Record<'external' | 'internal', { subject: LiquidTemplate[]; body: LiquidTemplate[] }>;
}

/** Values for the built-in variables, per wording (external, internal); the caller computes them from the incident or maintenance. */
export interface Builtins {
  external: Record<string, string>;
  internal: Record<string, string>;
}

export class TemplateFileError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${file}: ${reason}`);
  }
}

const engine = new Liquid({
  strictVariables: true,
  strictFilters: true,
  ownPropertyOnly: true,
  relativeReference: false,
  // Templates are data, not code: no file access through include/render/layout.
  fs: {
    readFileSync: () => {
      throw new Error('templates cannot include other files');
    },
    readFile: async () => {
      throw new Error('templates cannot include other files');
    },
    existsSync: () => false,
    exists: async () => false,
    contains: async () => false,
    containsSync: () => false,
    resolve: (_root: string, file: string) => file,
  },
});

const sectionPattern = /^## (External|Internal)[ \t]*$/m;

function splitFile(file: string, text: string) {
  const match = /^---\r?\n([\s\S]*?)\r?\n---\r?\n([\s\S]*)$/.exec(text);
  if (!match) throw new TemplateFileError(file, 'must start with YAML front matter between --- lines');
  const [, yamlText = '', rest = ''] = match;
  const parts = rest.split(sectionPattern);
  // parts: [preamble, 'External', body, 'Internal', body]
  if (parts.length !== 5 || parts[1] !== 'External' || parts[3] !== 'Internal') {
    throw new TemplateFileError(file, 'needs exactly one "## External" section followed by one "## Internal" section');
  }
  if ((parts[0] ?? '').trim() !== '') throw new TemplateFileError(file, 'text before "## External" is not allowed');
  const external = (parts[2] ?? '').trim();
  const internal = (parts[4] ?? '').trim();
  if (!external) throw new TemplateFileError(file, 'the External section is empty');
  if (!internal) throw new TemplateFileError(file, 'the Internal section is empty');
  let front: unknown;
  try {
    front = parseYaml(yamlText);
  } catch (e) {
    throw new TemplateFileError(file, `front matter is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  return { front, external, internal };
}

function parseLiquid(file: string, where: string, source: string): LiquidTemplate[] {
  try {
    return engine.parse(source);
  } catch (e) {
    throw new TemplateFileError(file, `${where}: ${(e as Error).message.split('\n')[0]}`);
  }
}

/** Names each wording may use; anything else in a section stops start-up. */
function allowedNames(kind: TemplateKind, variables: TemplateVariable[]) {
  const shared = [...sharedBuiltins, ...(kind === 'maintenance' ? maintenanceBuiltins : [])];
  const declaredPublic = variables.filter((v) => v.audience === 'both').map((v) => v.name);
  const declaredAll = variables.map((v) => v.name);
  return {
    external: new Set<string>([...shared, ...declaredPublic]),
    internal: new Set<string>([...shared, ...(kind === 'incident' ? internalBuiltins : []), ...declaredAll]),
  };
}

/** The analysis follows include/render/layout into other files; the engine's fs finds none, so say so with the file named. */
function globalNames(file: string, where: string, parsed: LiquidTemplate[]): string[] {
  try {
    return engine.globalVariablesSync(parsed);
  } catch (e) {
    throw new TemplateFileError(file, `${where} cannot include other files: ${(e as Error).message.split('\n')[0]}`);
  }
}

function checkNames(file: string, where: string, parsed: LiquidTemplate[], allowed: Set<string>, internalOnly: Set<string>) {
  for (const name of globalNames(file, where, parsed)) {
    const root = name.split(/[.[]/)[0] ?? name;
    if (allowed.has(root)) continue;
    const why = internalOnly.has(root) ? 'is internal only and can never appear in external wording' : 'is not declared';
    throw new TemplateFileError(file, `${where} uses "${root}", which ${why}`);
  }
}

export function parseTemplate(file: string, text: string): Template {
  const { front, external, internal } = splitFile(file, text);
  const result = frontMatterSchema.safeParse(front);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new TemplateFileError(file, `front matter ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const meta = result.data;
  const expectedKey = basename(file).replace(/\.md$/, '');
  if (meta.key !== expectedKey) throw new TemplateFileError(file, `key "${meta.key}" must match the file name "${expectedKey}"`);

  const parsed = {
    external: {
      subject: parseLiquid(file, 'subject.external', meta.subject.external),
      body: parseLiquid(file, 'External section', external),
    },
    internal: {
      subject: parseLiquid(file, 'subject.internal', meta.subject.internal),
      body: parseLiquid(file, 'Internal section', internal),
    },
  };
  const allowed = allowedNames(meta.kind, meta.variables);
  const internalOnly = new Set([...allowed.internal].filter((n) => !allowed.external.has(n)));
  checkNames(file, 'subject.external', parsed.external.subject, allowed.external, internalOnly);
  checkNames(file, 'the External section', parsed.external.body, allowed.external, internalOnly);
  checkNames(file, 'subject.internal', parsed.internal.subject, allowed.internal, internalOnly);
  checkNames(file, 'the Internal section', parsed.internal.body, allowed.internal, internalOnly);

  const subjectVariables = new Set(
    [...engine.globalVariablesSync(parsed.external.subject), ...engine.globalVariablesSync(parsed.internal.subject)].map(
      (n) => n.split(/[.[]/)[0] ?? n,
    ),
  );
  const template: Template = { ...meta, file, subjectVariables, parsed };
  // Render once with the examples so a runtime error (a bad filter argument, say) stops start-up, not a 3 a.m. publish.
  try {
    renderTemplate(template, exampleVariables(template), exampleBuiltins(meta.kind));
  } catch (e) {
    throw new TemplateFileError(file, `does not render with its examples: ${(e as Error).message.split('\n')[0]}`);
  }
  return template;
}

export function exampleVariables(template: Pick<Template, 'variables'>): Record<string, string> {
  return Object.fromEntries(template.variables.map((v) => [v.name, v.example]));
}

export function exampleBuiltins(kind: TemplateKind): Builtins {
  const shared = {
    title: 'Checkout errors',
    components: 'API and Dashboard',
    next_update: '14:30 UTC',
    duration: '25 minutes',
    incident_url: 'https://status.example.com/incidents/abc123/',
    ...(kind === 'maintenance'
      ? { starts_at: 'Tue 24 Nov 02:00 UTC', ends_at: 'Tue 24 Nov 04:00 UTC', maintenance_url: 'https://status.example.com/maintenances/abc123/' }
      : {}),
  };
  return {
    external: shared,
    internal: { ...shared, ...(kind === 'incident' ? { severity: 'SEV2', ic: 'Dana Reyes', impact: 'partial outage' } : {}) },
  };
}

export interface TemplateCatalog {
  list(): Template[];
  get(key: string): Template | undefined;
}

/** Reads every template in a folder; the first broken file throws a TemplateFileError naming it. */
export function loadTemplates(dir: string): TemplateCatalog {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.md') && f !== 'README.md')
    .sort();
  const byKey = new Map<string, Template>();
  for (const f of files) {
    const path = join(dir, f);
    const template = parseTemplate(path, readFileSync(path, 'utf8'));
    byKey.set(template.key, template);
  }
  if (byKey.size === 0) throw new TemplateFileError(dir, 'no templates found');
  return { list: () => [...byKey.values()], get: (key) => byKey.get(key) };
}

/** Refuses unknown variables and missing required ones, listing every name at once. */
export function checkVariables(template: Template, given: Record<string, string>, path = 'variables'): Record<string, string> {
  const declared = new Map(template.variables.map((v) => [v.name, v]));
  const errors = [];
  for (const name of Object.keys(given)) {
    if (!declared.has(name)) errors.push({ path: `${path}.${name}`, message: `unknown variable for template "${template.key}"` });
  }
  for (const v of template.variables) {
    const value = given[v.name] ?? '';
    if (v.required && !value.trim()) errors.push({ path: `${path}.${v.name}`, message: 'required variable is missing' });
    if (template.subjectVariables.has(v.name) && /[\r\n]/.test(value)) {
      errors.push({ path: `${path}.${v.name}`, message: 'line breaks are not allowed in a value used in the email subject' });
    }
  }
  if (errors.length > 0) {
    const names = errors.map((e) => e.path.slice(path.length + 1));
    throw new ValidationError(`Template "${template.key}" cannot render: check ${names.join(', ')}.`, errors);
  }
  return Object.fromEntries(template.variables.map((v) => [v.name, given[v.name] ?? '']));
}

function tidyBody(text: string): string {
  return text
    .replace(/[ \t]+$/gm, '')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** A subject becomes one line: it goes into a mail header, where a line break would be an injection. */
function tidySubject(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * Renders both wordings. The external wording is rendered from a context that holds only public values,
 * so internal variables cannot reach it even through a template mistake: strict mode would throw.
 */
export function renderTemplate(template: Template, variables: Record<string, string>, builtins: Builtins): Rendered {
  const values = checkVariables(template, variables);
  const publicNames = new Set(template.variables.filter((v) => v.audience === 'both').map((v) => v.name));
  const publicValues = Object.fromEntries(Object.entries(values).filter(([k]) => publicNames.has(k)));
  const externalContext = { ...builtins.external, ...publicValues };
  const internalContext = { ...builtins.internal, ...values };
  const render = (t: LiquidTemplate[], ctx: Record<string, string>) => String(engine.renderSync(t, ctx));
  return {
    external: {
      subject: tidySubject(render(template.parsed.external.subject, externalContext)),
      body: tidyBody(render(template.parsed.external.body, externalContext)),
    },
    internal: {
      subject: tidySubject(render(template.parsed.internal.subject, internalContext)),
      body: tidyBody(render(template.parsed.internal.body, internalContext)),
    },
  };
}
