// statusctl: declare, update, resolve, list and show incidents, list templates, preview wordings and keep action items, through the HTTP API.
import { parseArgs } from 'node:util';
import * as p from '@clack/prompts';

const usage = `statusctl: publish status updates from a terminal, through the status page's API.

Usage:
  statusctl declare [--severity SEV1] [--template investigating] [--title "…"] [--internal-title "…"]
                    [--component api=major_outage]… [--var name=value]… [--next-update 30] [--yes]
  statusctl update <id> [--status identified] [--template identified] [--var name=value]… [--component api=partial_outage]… [--next-update 30] [--yes]
  statusctl resolve <id> [--template resolved] [--var name=value]… [--yes]
  statusctl list [--all]
  statusctl show <id>
  statusctl templates
  statusctl preview --template investigating [--var name=value]… [--title "…" --severity SEV1 --component api=major_outage]
  statusctl action-items list [--status open|done|overdue]
  statusctl action-items add <incident id> --title "…" --owner sam@example.com --due 2026-12-01 [--priority P2] [--link https://tracker/…]
  statusctl action-items done <action item id>

Without --yes in a terminal, statusctl asks for what is missing, shows both wordings and asks before publishing.
Without a terminal, --yes is required to publish.

Environment:
  STATUS_URL    the server, e.g. https://status.example.com (default http://127.0.0.1:4321); or --url
  STATUS_TOKEN  an API token (comms or admin to publish); or --token

Exit status: 0 on success, 1 when the server refused (the problem's detail is printed), 2 on a usage error.`;

class UsageError extends Error {}
class ApiError extends Error {}

interface Problem {
  status: number;
  title?: string;
  detail?: string;
  errors?: { path: string; message: string }[];
}

interface Template {
  key: string;
  kind: 'incident' | 'maintenance';
  name: string;
  description: string;
  statuses: string[];
  variables: { name: string; label: string; description: string; required: boolean; example: string; audience: 'both' | 'internal' }[];
}

interface Wordings {
  external: { subject: string; body: string };
  internal: { subject: string; body: string };
  audiences?: { public: boolean; subscribers: boolean; stakeholders: boolean };
  recipients?: { subscribers: number; stakeholders: number };
  warnings?: string[];
}

interface Incident {
  id: string;
  title: string;
  internalTitle: string;
  severity: string;
  status: string;
  version: number;
  nextUpdateAt: string | null;
  overdue?: boolean;
  components?: { id: string; name: string; status: string }[];
  updates?: { status: string; author: string; createdAt: string; external: { body: string }; internal: { body: string }; variables: Record<string, string> }[];
}

const { values: flags, positionals } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        token: { type: 'string' },
        severity: { type: 'string' },
        template: { type: 'string' },
        title: { type: 'string' },
        'internal-title': { type: 'string' },
        status: { type: 'string' },
        component: { type: 'string', multiple: true },
        var: { type: 'string', multiple: true },
        'next-update': { type: 'string' },
        owner: { type: 'string' },
        due: { type: 'string' },
        priority: { type: 'string' },
        link: { type: 'string' },
        yes: { type: 'boolean', short: 'y' },
        all: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    console.error(`statusctl: ${(e as Error).message}\n\n${usage}`);
    process.exit(2);
  }
})();

const baseUrl = (flags.url ?? process.env.STATUS_URL ?? 'http://127.0.0.1:4321').replace(/\/+$/, '');
const token = flags.token ?? process.env.STATUS_TOKEN ?? '';
const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY) && !flags.yes;

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`${baseUrl}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(`cannot reach ${baseUrl}: ${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}`);
  }
  const text = await res.text();
  // A wrong STATUS_URL reaches a web page or another server: say so, rather than crash in JSON.parse or print HTML.
  const type = res.headers.get('content-type') ?? 'no content type';
  if (text && !/json/i.test(type) && (res.ok || /html/i.test(type))) {
    throw new ApiError(`${res.status} ${res.statusText}: ${baseUrl} did not answer with the status page API's JSON (${type}); check STATUS_URL`);
  }
  if (!res.ok) {
    let problem: Problem = { status: res.status };
    try {
      problem = { ...problem, ...(JSON.parse(text) as Problem) };
    } catch {}
    const fields = (problem.errors ?? []).map((e) => `\n  ${e.path}: ${e.message}`).join('');
    throw new ApiError(`${res.status} ${problem.title ?? res.statusText}: ${problem.detail ?? text.slice(0, 200)}${fields}`);
  }
  return (text ? JSON.parse(text) : {}) as T;
}

/** "name=value" pairs; the first "=" splits, so values may contain more. */
function pairs(list: string[] | undefined, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list ?? []) {
    const at = item.indexOf('=');
    if (at <= 0) throw new UsageError(`--${what} takes name=value, got "${item}"`);
    out[item.slice(0, at)] = item.slice(at + 1);
  }
  return out;
}

const components = () => Object.entries(pairs(flags.component, 'component')).map(([id, status]) => ({ id, status }));

/** --next-update as whole minutes (0 for none); anything else is a usage error, never a silent "no next update". */
function nextUpdate(): { nextUpdateInMinutes?: number } {
  const given = flags['next-update'];
  if (given === undefined) return {};
  if (!/^\d+$/.test(given.trim())) throw new UsageError(`--next-update takes whole minutes, e.g. --next-update 30 (0 for none), got "${given}"`);
  return { nextUpdateInMinutes: Number(given) };
}

/** A prompt's answer; Ctrl-C (clack's cancel symbol) ends statusctl having published nothing. */
function answered<T>(value: T): Exclude<T, symbol> {
  if (p.isCancel(value)) {
    p.cancel('Nothing was published.');
    process.exit(1);
  }
  return value as Exclude<T, symbol>;
}

function showWordings(w: Wordings) {
  const who = w.audiences
    ? [
        w.audiences.public ? 'public page' : 'internal page only',
        ...(w.audiences.subscribers ? [`${w.recipients?.subscribers ?? 0} subscribers`] : []),
        ...(w.audiences.stakeholders ? [`${w.recipients?.stakeholders ?? 0} executives`] : []),
      ].join(' · ')
    : null;
  const warnings = w.warnings ?? [];
  const external = `Subject: ${w.external.subject}\n\n${w.external.body}`;
  const internal = `Subject: ${w.internal.subject}\n\n${w.internal.body}`;
  if (interactive) {
    if (who) p.log.info(`Who will be told: ${who}`);
    for (const w of warnings) p.log.warn(w);
    p.note(external, 'External wording (status page, feed, subscribers)');
    p.note(internal, 'Internal wording (executives)');
  } else {
    if (who) console.log(`Who will be told: ${who}`);
    for (const w of warnings) console.log(`Warning: ${w}`);
    if (who) console.log('');
    console.log(`--- External wording (status page, feed, subscribers)\n${external}\n\n--- Internal wording (executives)\n${internal}`);
  }
}

/** Asks for each variable of a template that was not given on the command line. */
async function askVariables(template: Template, given: Record<string, string>) {
  const vars = { ...given };
  for (const v of template.variables) {
    if (vars[v.name] !== undefined) continue;
    const answer = answered(await p.text({
      // The template's plain words first; the variable's name after them, as --var takes it next time.
      message: `${v.label} [${v.name}]${v.audience === 'internal' ? ' (insiders only)' : ''}${v.required ? '' : ' (optional, Enter to skip)'}: ${v.description}`,
      placeholder: v.example,
      validate: (x) => (v.required && !x?.trim() ? `${v.label} is required` : undefined),
    }));
    if (answer?.trim()) vars[v.name] = answer;
  }
  return vars;
}

async function templatesFor(status: string) {
  const { templates } = await api<{ templates: Template[] }>('GET', '/templates');
  return templates.filter((t) => t.kind === 'incident' && t.statuses.includes(status));
}

async function confirmPublish(what: string) {
  if (flags.yes) return;
  if (!interactive) throw new UsageError(`publishing needs --yes when statusctl is not run in a terminal`);
  const ok = answered(await p.confirm({ message: `Publish ${what}?`, initialValue: false }));
  if (!ok) {
    p.cancel('Nothing was published.');
    process.exit(1);
  }
}

async function declare() {
  const next = nextUpdate();
  if (interactive) p.intro('Declare an incident');
  let severity = flags.severity;
  if (!severity) {
    if (!interactive) throw new UsageError('--severity is required (SEV1 to SEV4)');
    const answer = answered(await p.select({
      message: 'Severity',
      options: [
        { value: 'SEV1', label: 'SEV1', hint: 'critical: public page, subscribers, executives' },
        { value: 'SEV2', label: 'SEV2', hint: 'major: public page, subscribers, executives' },
        { value: 'SEV3', label: 'SEV3', hint: 'minor: internal page and executives' },
        { value: 'SEV4', label: 'SEV4', hint: 'low: internal page only' },
      ],
    }));
    severity = answer;
  }
  const status = flags.status ?? 'investigating';
  const choices = await templatesFor(status);
  let key = flags.template;
  if (!key) {
    if (!interactive) throw new UsageError('--template is required (statusctl templates lists them)');
    const answer = answered(await p.select({ message: 'Template', initialValue: choices.find((t) => t.key === status)?.key, options: choices.map((t) => ({ value: t.key, label: t.name, hint: t.key })) }));
    key = answer;
  }
  const template = choices.find((t) => t.key === key);
  let title = flags.title;
  if (!title) {
    if (!interactive) throw new UsageError('--title is required');
    const answer = answered(await p.text({ message: 'Title (public: customers read it)', validate: (x) => (x?.trim() ? undefined : 'a title is required') }));
    title = answer;
  }
  let internalTitle = flags['internal-title'];
  if (internalTitle === undefined && interactive) {
    const answer = answered(await p.text({ message: 'Internal title (Enter to use the public one)' }));
    internalTitle = answer?.trim() ? answer : undefined;
  }
  let variables = pairs(flags.var, 'var');
  if (interactive && template) variables = await askVariables(template, variables);
  let affected = components();
  if (affected.length === 0) {
    if (!interactive) throw new UsageError('at least one --component id=impact is required, e.g. --component api=major_outage');
    const { components: all } = await api<{ components: { id: string; name: string }[] }>('GET', '/components');
    const picked = answered(await p.multiselect({ message: 'Affected components (space to choose, Enter to go on)', options: all.map((c) => ({ value: c.id, label: c.name })), required: true }));
    for (const id of picked) {
      const impact = answered(await p.select({
        message: `Impact on ${all.find((c) => c.id === id)?.name ?? id}`,
        options: [
          { value: 'major_outage', label: 'Major outage' },
          { value: 'partial_outage', label: 'Partial outage' },
          { value: 'degraded_performance', label: 'Degraded performance' },
        ],
      }));
      affected.push({ id, status: impact });
    }
  }
  const declaration = { title, ...(internalTitle ? { internalTitle } : {}), severity, status, components: affected, ...next };
  if (!flags.yes) showWordings(await api<Wordings>('POST', `/templates/${encodeURIComponent(key)}/preview`, { variables, declaration }));
  await confirmPublish(`this ${severity} incident`);
  const incident = await api<Incident>('POST', '/incidents', { ...declaration, template: key, variables });
  if (interactive) p.outro(`Published. Incident ${incident.id}: ${baseUrl}/internal/incidents/${incident.id}/`);
  else console.error(`Published ${incident.severity} incident "${incident.title}": ${baseUrl}/internal/incidents/${incident.id}/`);
  console.log(incident.id);
}

async function update(resolve: boolean) {
  const id = positionals[1];
  if (!id) throw new UsageError(`${resolve ? 'resolve' : 'update'} needs the incident id: statusctl ${resolve ? 'resolve' : 'update'} <id>`);
  const next = nextUpdate();
  const incident = await api<Incident>('GET', `/incidents/${encodeURIComponent(id)}`);
  if (interactive) p.intro(`${resolve ? 'Resolve' : 'Update'} ${incident.severity} “${incident.internalTitle}” (${incident.status})`);
  let status = resolve ? 'resolved' : flags.status;
  if (!status) {
    if (!interactive) throw new UsageError('--status is required (investigating, identified, monitoring, resolved)');
    const answer = answered(await p.select({
      message: 'Status',
      options: ['investigating', 'identified', 'monitoring', 'resolved'].map((s) => ({ value: s, label: s })),
      initialValue: { investigating: 'identified', identified: 'monitoring' }[incident.status] ?? incident.status,
    }));
    status = answer;
  }
  const choices = await templatesFor(status);
  let key = flags.template ?? (resolve ? 'resolved' : undefined);
  if (!key) {
    if (!interactive) throw new UsageError('--template is required (statusctl templates lists them)');
    const answer = answered(await p.select({ message: 'Template', initialValue: choices.find((t) => t.key === status)?.key, options: choices.map((t) => ({ value: t.key, label: t.name, hint: t.key })) }));
    key = answer;
  }
  const template = choices.find((t) => t.key === key);
  let variables = pairs(flags.var, 'var');
  if (interactive && template) {
    // Values carry over from the last update where the names match: the comms lead edits rather than retypes.
    const last = incident.updates?.[0]?.variables ?? {};
    for (const v of template.variables) if (variables[v.name] === undefined && last[v.name] && !resolve) variables[v.name] = last[v.name]!;
    variables = await askVariables(template, variables);
  }
  const changes = resolve ? (incident.components ?? []).map((c) => ({ id: c.id, status: 'operational' })) : components();
  if (!flags.yes) showWordings(await api<Wordings>('POST', `/templates/${encodeURIComponent(key)}/preview`, { variables, incidentId: id }));
  await confirmPublish(resolve ? 'the resolution' : `this ${status} update`);
  const body = { status, template: key, variables, ...(changes.length ? { components: changes } : {}), ...next };
  const after = await api<Incident>('POST', `/incidents/${encodeURIComponent(id)}/updates`, body);
  if (interactive) p.outro(`Published: ${after.id} is ${after.status}.`);
  console.log(`${after.id} ${after.status}`);
}

async function list() {
  const { incidents } = await api<{ incidents: Incident[] }>('GET', flags.all ? '/incidents?limit=100' : '/incidents?status=active');
  if (incidents.length === 0) return console.log(flags.all ? 'No incidents.' : 'No open incidents.');
  for (const i of incidents) {
    const due = i.nextUpdateAt ? `${i.overdue ? 'OVERDUE since' : 'next update'} ${i.nextUpdateAt.slice(11, 16)} UTC` : '';
    console.log([i.id, i.severity, i.status.padEnd(13), i.internalTitle, due].filter(Boolean).join('  '));
  }
}

async function show() {
  const id = positionals[1];
  if (!id) throw new UsageError('show needs the incident id: statusctl show <id>');
  const i = await api<Incident>('GET', `/incidents/${encodeURIComponent(id)}`);
  console.log(`${i.severity} ${i.status}: ${i.internalTitle}\nPublic title: ${i.title}\nComponents: ${(i.components ?? []).map((c) => `${c.name} (${c.status})`).join(', ') || 'none'}`);
  if (i.nextUpdateAt) console.log(`Next update due: ${i.nextUpdateAt}${i.overdue ? ' (OVERDUE)' : ''}`);
  for (const u of i.updates ?? []) console.log(`\n[${u.createdAt}] ${u.status} by ${u.author}\n  external: ${u.external.body.replace(/\n+/g, ' ')}\n  internal: ${u.internal.body.replace(/\n+/g, ' ')}`);
}

async function templates() {
  const { templates: all } = await api<{ templates: Template[] }>('GET', '/templates');
  // Columns as wide as their widest value: the key first, so `cut -d' ' -f1` and the tests read the keys.
  const rows = all.map((t) => [t.key, t.kind, t.statuses.join(','), t.name] as const);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(`${r[0].padEnd(widths[0]!)} ${r[1].padEnd(widths[1]!)} ${r[2].padEnd(widths[2]!)} ${r[3]}`);
}

async function preview() {
  const key = flags.template;
  if (!key) throw new UsageError('preview needs --template (statusctl templates lists them)');
  const variables = pairs(flags.var, 'var');
  const affected = components();
  const declaration = flags.title && flags.severity && affected.length ? { title: flags.title, severity: flags.severity, components: affected } : undefined;
  const w = await api<Wordings>('POST', `/templates/${encodeURIComponent(key)}/preview`, { variables, ...(declaration ? { declaration } : {}) });
  showWordings(w);
}

interface ActionItem {
  id: string;
  incidentId: string;
  title: string;
  owner: string;
  dueOn: string;
  priority: string;
  status: string;
  overdue: boolean;
}

const itemLine = (a: ActionItem) => [a.id, a.priority, a.dueOn, a.overdue ? 'OVERDUE' : a.status.padEnd(7), a.owner, a.title].join('  ');

/** action-items list | add <incident id> | done <id>: the follow-ups incidents taught, as the API keeps them. */
async function actionItems() {
  const sub = positionals[1];
  if (sub === 'list') {
    const query = flags.status ? `?status=${encodeURIComponent(flags.status)}` : '';
    const { actionItems: all } = await api<{ actionItems: ActionItem[] }>('GET', `/action-items${query}`);
    if (all.length === 0) return console.log('No action items.');
    for (const a of all) console.log(itemLine(a));
    return;
  }
  if (sub === 'add') {
    const incident = positionals[2];
    if (!incident) throw new UsageError('action-items add needs the incident id: statusctl action-items add <incident id> --title "…" --owner … --due YYYY-MM-DD');
    if (!flags.title || !flags.owner || !flags.due) throw new UsageError('action-items add needs --title, --owner (an email) and --due (YYYY-MM-DD)');
    const body = { title: flags.title, owner: flags.owner, dueOn: flags.due, ...(flags.priority ? { priority: flags.priority } : {}), ...(flags.link ? { url: flags.link } : {}) };
    const a = await api<ActionItem>('POST', `/incidents/${encodeURIComponent(incident)}/action-items`, body);
    return console.log(a.id);
  }
  if (sub === 'done') {
    const id = positionals[2];
    if (!id) throw new UsageError('action-items done needs the action item id: statusctl action-items done <id>');
    const a = await api<ActionItem>('PATCH', `/action-items/${encodeURIComponent(id)}`, { status: 'done' });
    return console.log(itemLine(a));
  }
  throw new UsageError(`action-items takes list, add or done${sub ? `, not "${sub}"` : ''}`);
}

const commands: Record<string, () => Promise<void>> = {
  declare,
  update: () => update(false),
  resolve: () => update(true),
  list,
  show,
  templates,
  preview,
  'action-items': actionItems,
};

const command = positionals[0];
if (flags.help || !command) {
  console.log(usage);
  process.exit(flags.help ? 0 : 2);
}
const run = commands[command];
if (!run) {
  console.error(`statusctl: unknown command "${command}"\n\n${usage}`);
  process.exit(2);
}
try {
  await run();
} catch (e) {
  if (e instanceof UsageError) {
    console.error(`statusctl: ${e.message}\n(statusctl --help shows every option)`);
    process.exit(2);
  }
  if (e instanceof ApiError) {
    console.error(`statusctl: ${e.message}`);
    process.exit(1);
  }
  throw e;
}
