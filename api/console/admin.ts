// Admin screens: components and groups, stakeholders, subscribers, API tokens and chat channels, each through its service.
import { Hono, type Context } from 'hono';
import { html } from 'hono/html';
import { z } from 'zod';
import type { AuthEnv } from '../auth.ts';
import { createToken, listTokens, revokeToken, roleAllows, roles } from '../services/tokens.ts';
import { componentStatusLabel } from '../domain.ts';
import { ConflictError, DomainError, NotFoundError, type FieldError } from '../errors.ts';
import { channelInput, componentBody, email, line } from '../services/schemas.ts';
import { addChannel, channelKindLabel, channelKinds, listChannels, removeChannel, type ChannelKind } from '../services/channels.ts';
import { archiveComponent, createComponent, listComponentGroups, listComponents, renameComponentGroup, updateComponent } from '../services/components.ts';
import type { Actor } from '../services/context.ts';
import { addStakeholder, listStakeholders, removeStakeholder } from '../services/stakeholders.ts';
import { countSubscribers, findSubscribers, removeSubscriber } from '../services/subscribers.ts';
import { plural } from '../text.ts';
import { count, counted, errorsFrom, errorSummary, input, select, textarea, type Errors } from './form.ts';
import { forbidden, requireUseCase } from './roles.ts';
import type { UseCase } from '../services/use-cases.ts';
import { links, actorOf, screen, type ConsoleDeps } from './screen.ts';

type Body = Record<string, string | File | (string | File)[]>;
const str = (v: Body[string] | undefined) => (typeof v === 'string' ? v : '');

interface FormState {
  /** Which form on the screen the values and errors belong to. */
  form: string;
  values: Record<string, string>;
  errors: Errors;
  notice?: string;
}

const none = (): FormState => ({ form: '', values: {}, errors: new Map() });
// A component's order is typed as text: "abc" reads "must be a whole number", not zod's "expected number, received string".
const issues = (e: z.ZodError): FieldError[] =>
  e.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.path[0] === 'order' && i.code === 'invalid_type' ? 'must be a whole number, such as 3' : i.message }));
/** Whether the signed-in person is an admin: only admins see people's addresses, as only admins may list them in the API. */
const isAdmin = (c: Context) => roleAllows(actorOf(c).role, 'admin');
const addressesHidden = html`<p class="meta">Addresses are shown to admins only, as in the API.</p>`;

const readOnly = (c: Context) =>
  isAdmin(c) ? '' : html`<p class="notice" role="note">Only an admin can change this; you see it read-only.</p>`;
const notice = (s: FormState) => (s.notice ? html`<p class="notice" role="status">${s.notice}</p>` : '');
const time = (d: Date | null) => (d ? html`<time datetime="${d.toISOString()}">${d.toISOString().slice(0, 16).replace('T', ' ')} UTC</time>` : '—');

// ---- components ----

async function componentsScreen(d: ConsoleDeps, c: Context, s: FormState = none(), status = 200) {
  const [list, groups] = await Promise.all([listComponents(d.services.db, 'internal'), listComponentGroups(d.services.db)]);
  const v = (form: string, key: string, fallback: string) => (s.form === form ? (s.values[key] ?? '') : fallback);
  const e = (form: string) => (s.form === form ? s.errors : new Map<string, string>());
  const rows = list.map((row) => {
    const f = `edit-${row.id}`;
    return html`<li class="card admin-row">
<h2>${row.name} <span class="meta">(${row.id}) · ${componentStatusLabel[row.status]}</span></h2>
<form method="post" action="${links.components}${row.id}/edit" class="inline-form" novalidate>
${input({ id: `name-${row.id}`, name: 'name', label: `Name of ${row.id}`, value: v(f, 'name', row.name), errors: e(f) })}
${textarea({ id: `description-${row.id}`, name: 'description', label: `Description of ${row.id}`, value: v(f, 'description', row.description), errors: e(f), rows: 2, hint: 'Shown under the name on the status page. Empty for none.' })}
${input({ id: `group-${row.id}`, name: 'group', label: `Group of ${row.id}`, value: v(f, 'group', row.group ?? ''), errors: e(f) })}
${input({ id: `order-${row.id}`, name: 'order', label: `Order of ${row.id}`, value: v(f, 'order', String(row.order)), errors: e(f), inputmode: 'numeric' })}
<div class="actions"><button type="submit">Save ${row.id}</button></div>
</form>
<form method="post" action="${links.components}${row.id}/archive"><button type="submit">Archive ${row.id}</button></form>
</li>`;
  });
  const labels = new Map([['new-id', 'ID'], ['new-name', 'Name'], ['new-description', 'Description'], ['new-group', 'Group'], ['new-order', 'Order']]);
  const id = s.form.startsWith('edit-') ? s.form.slice(5) : '';
  const rowLabels = new Map([[`name-${id}`, `Name of ${id}`], [`description-${id}`, `Description of ${id}`], [`group-${id}`, `Group of ${id}`], [`order-${id}`, `Order of ${id}`]]);
  const body = html`${readOnly(c)}${notice(s)}${id ? errorSummary(s.errors, rowLabels, 'saved') : ''}
<p>Lower order shows first; components with the same group show together. Archiving keeps past incidents naming the component.</p>
<ul class="plain admin-list">${rows}</ul>
${groups.length ? html`<section aria-labelledby="groups-heading"><h2 id="groups-heading">Groups</h2>
<ul class="plain admin-list">${groups.map(
    (g) => html`<li class="card admin-row"><form method="post" action="/internal/admin/component-groups/${g.id}/rename" class="inline-form" novalidate>
${input({ id: `group-name-${g.id}`, name: 'name', label: `Name of group ${g.name}`, value: v(`group-${g.id}`, 'name', g.name), errors: e(`group-${g.id}`), hint: `${counted(g.components.length, 'component')}: ${g.components.join(', ')}` })}
<div class="actions"><button type="submit">Rename group ${g.name}</button></div>
</form></li>`,
  )}</ul></section>` : ''}
<section aria-labelledby="add-component"><h2 id="add-component">Add a component</h2>
${errorSummary(e('create'), labels, 'saved')}
<form method="post" action="${links.components}" class="console-form" novalidate>
${input({ id: 'new-id', name: 'id', label: 'ID', value: v('create', 'id', ''), errors: e('create'), hint: 'Lowercase letters, digits and dashes, e.g. checkout-api. It never changes.' })}
${input({ id: 'new-name', name: 'name', label: 'Name', value: v('create', 'name', ''), errors: e('create') })}
${input({ id: 'new-description', name: 'description', label: 'Description', value: v('create', 'description', ''), errors: e('create') })}
${input({ id: 'new-group', name: 'group', label: 'Group', value: v('create', 'group', ''), errors: e('create') })}
${input({ id: 'new-order', name: 'order', label: 'Order', value: v('create', 'order', ''), errors: e('create'), inputmode: 'numeric' })}
<div class="actions"><button type="submit" class="primary">Add component</button></div>
</form></section>`;
  return screen(d, c, 'Components', body, status);
}

function componentInput(body: Body, withId: boolean) {
  const order = str(body.order).trim();
  const group = str(body.group).trim();
  return {
    ...(withId ? { id: str(body.id).trim() } : {}),
    name: str(body.name),
    // Editing sends the description as typed, so emptying the field removes it; adding leaves an empty one out.
    ...(withId ? (str(body.description).trim() ? { description: str(body.description) } : {}) : 'description' in body ? { description: str(body.description) } : {}),
    group: group ? group : null,
    ...(order ? { order: /^-?\d+$/.test(order) ? Number(order) : order } : {}),
  };
}

// ---- stakeholders ----

const stakeholderBody = z.object({ name: line(120), email });
const groupName = line(120);

async function stakeholdersScreen(d: ConsoleDeps, c: Context, s: FormState = none(), status = 200) {
  const list = await listStakeholders(d.services);
  const e = s.form === 'create' ? s.errors : new Map<string, string>();
  const body = html`${readOnly(c)}${notice(s)}
<p>Executives receive briefings with the internal wording for SEV1 to SEV3 (by the current policy).</p>
<table class="admin-table"><caption>${counted(list.length, 'stakeholder')}</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Action</th></tr></thead>
<tbody>${list.map(
    (x) => html`<tr><td>${x.name}</td><td>${isAdmin(c) ? x.email : 'hidden'}${x.suppressedAt ? ' (bouncing)' : ''}</td><td><form method="post" action="${links.stakeholders}${x.id}/remove"><button type="submit">Remove ${x.name}</button></form></td></tr>`,
  )}</tbody></table>${isAdmin(c) ? '' : addressesHidden}
<section aria-labelledby="add-stakeholder"><h2 id="add-stakeholder">Add a stakeholder</h2>
${errorSummary(e, new Map([['stakeholder-name', 'Name'], ['stakeholder-email', 'Email']]), 'saved')}
<form method="post" action="${links.stakeholders}" class="console-form" novalidate>
${input({ id: 'stakeholder-name', name: 'name', label: 'Name', value: s.values.name ?? '', errors: e, autocomplete: 'off' })}
${input({ id: 'stakeholder-email', name: 'email', label: 'Email', type: 'email', value: s.values.email ?? '', errors: e })}
<div class="actions"><button type="submit" class="primary">Add stakeholder</button></div>
</form></section>`;
  return screen(d, c, 'Stakeholders', body, status);
}

// ---- subscribers ----

const pageSize = 100;

async function subscribersScreen(d: ConsoleDeps, c: Context, s: FormState = none(), status = 200) {
  const search = c.req.query('q') ?? '';
  const counts = await countSubscribers(d.services);
  const totals = html`<p><strong>${count(counts.confirmed)}</strong> confirmed ${plural(counts.confirmed, 'subscriber')}, ${count(counts.pending)} awaiting confirmation.`;
  // Customers' addresses are for admins (the CSV export and the API are admin-only too): others see the totals.
  if (!isAdmin(c)) return screen(d, c, 'Subscribers', html`${readOnly(c)}${notice(s)}${totals}</p>${addressesHidden}`, status);
  const list = await findSubscribers(d.services, { search, limit: pageSize });
  const body = html`${readOnly(c)}${notice(s)}
${totals} <a href="/internal/admin/subscribers.csv">Export CSV</a>.</p>
<form method="get" action="${links.subscribers}" class="inline-form" role="search">
${input({ id: 'q', label: 'Search by address', value: search, errors: new Map(), type: 'search' })}
<div class="actions"><button type="submit">Search</button></div>
</form>
<table class="admin-table"><caption>${search ? `Addresses containing “${search}”` : 'Newest subscribers'} (at most ${pageSize})</caption>
<thead><tr><th scope="col">Email</th><th scope="col">Confirmed</th><th scope="col">Components</th><th scope="col">Action</th></tr></thead>
<tbody>${list.map(
    (x) => html`<tr><td>${x.email}</td><td>${time(x.confirmedAt)}</td><td>${x.components?.join(', ') ?? 'all'}</td><td><form method="post" action="${links.subscribers}${x.id}/remove"><button type="submit">Remove ${x.email}</button></form></td></tr>`,
  )}</tbody></table>`;
  return screen(d, c, 'Subscribers', body, status);
}

/** RFC 4180 fields; a leading =, +, - or @ is prefixed with ' so a spreadsheet never runs it as a formula (OWASP CSV injection). */
function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

// ---- tokens ----

async function tokensScreen(d: ConsoleDeps, c: Context, s: FormState = none(), status = 200, created?: { name: string; token: string }) {
  const list = await listTokens(d.services);
  const e = s.form === 'create' ? s.errors : new Map<string, string>();
  const body = html`${readOnly(c)}${notice(s)}
${created ? html`<div class="notice created-token" role="status"><p>Token for “${created.name}”. Copy it now: it is shown only once.</p><p><code>${created.token}</code></p></div>` : ''}
<table class="admin-table"><caption>API tokens</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Email</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">State</th></tr></thead>
<tbody>${list.map(
    (t) => html`<tr><td>${t.name}</td><td>${t.role}</td><td>${t.email ? (isAdmin(c) ? t.email : 'hidden') : '—'}</td><td>${time(t.createdAt)}</td><td>${time(t.lastUsedAt)}</td><td>${
      t.revokedAt ? html`revoked ${time(t.revokedAt)}` : html`<form method="post" action="${links.tokens}${t.id}/revoke"><button type="submit">Revoke ${t.name}</button></form>`
    }</td></tr>`,
  )}</tbody></table>${isAdmin(c) ? '' : addressesHidden}
<section aria-labelledby="create-token"><h2 id="create-token">Create a token</h2>
${errorSummary(e, new Map([['token-name', 'Name'], ['token-role', 'Role'], ['token-email', 'Email']]), 'saved')}
<form method="post" action="${links.tokens}" class="console-form" novalidate>
${input({ id: 'token-name', name: 'name', label: 'Name', value: s.values.name ?? '', errors: e, hint: 'Who or what uses it, e.g. “Casey (comms)” or “Alertmanager”.' })}
${select({ id: 'token-role', name: 'role', label: 'Role', value: s.values.role ?? '', errors: e, options: [{ value: '', label: 'Choose a role' }, ...roles.map((r) => ({ value: r, label: r }))], hint: 'viewer reads the internal page; comms publishes; admin does everything.' })}
${input({ id: 'token-email', name: 'email', label: 'Email', type: 'email', value: s.values.email ?? '', errors: e, hint: 'Optional. Where reminders to post the next update reach this person.' })}
<div class="actions"><button type="submit" class="primary">Create token</button></div>
</form></section>`;
  return screen(d, c, 'API tokens', body, status);
}

// ---- channels ----

/** An incoming-webhook URL is a credential: the page shows its scheme and host, never the path or query that carry the secret. */
function maskedUrl(raw: string) {
  const u = URL.parse(raw);
  return html`<code>${u ? `${u.protocol}//${u.host}/` : ''}<span aria-hidden="true">••••••••</span></code><span class="sr-only"> (the rest of the address is hidden)</span>`;
}

/** The form's fields as the API's body: an empty name is left out, so the service names the channel. */
const channelFields = (values: Record<string, string>) => ({
  kind: values.kind ?? '',
  url: (values.url ?? '').trim(),
  ...(values.name?.trim() ? { name: values.name } : {}),
});

async function channelsScreen(d: ConsoleDeps, c: Context, s: FormState = none(), status = 200) {
  const list = await listChannels(d.services);
  const e = s.form === 'create' ? s.errors : new Map<string, string>();
  const body = html`${readOnly(c)}${notice(s)}
<p>Chat channels receive briefings (internal wording, whenever executives are briefed), update reminders and overdue notices, each in its chat's own message format. An incoming-webhook URL works as a password, so only its host is shown here.</p>
<table class="admin-table"><caption>${counted(list.length, 'channel')}</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Kind</th><th scope="col">URL</th><th scope="col">Action</th></tr></thead>
<tbody>${list.map(
    (x) => html`<tr><td>${x.name}</td><td>${channelKindLabel[x.kind as ChannelKind] ?? x.kind}</td><td>${maskedUrl(x.url)}</td><td><form method="post" action="${links.channels}${x.id}/remove"><button type="submit">Remove ${x.name}</button></form></td></tr>`,
  )}</tbody></table>
<section aria-labelledby="add-channel"><h2 id="add-channel">Add a channel</h2>
${errorSummary(e, new Map([['channel-kind', 'Kind'], ['channel-url', 'URL'], ['channel-name', 'Name']]), 'saved')}
<form method="post" action="${links.channels}" class="console-form" novalidate>
${select({ id: 'channel-kind', name: 'kind', label: 'Kind', value: s.values.kind ?? '', errors: e, options: [{ value: '', label: 'Choose a kind' }, ...channelKinds.map((k) => ({ value: k, label: channelKindLabel[k] }))], hint: 'The message format the chat expects; Generic JSON posts the message as plain data.' })}
${input({ id: 'channel-url', name: 'url', label: 'URL', type: 'url', value: s.values.url ?? '', errors: e, hint: 'The incoming-webhook URL the chat gave you.' })}
${input({ id: 'channel-name', name: 'name', label: 'Name', value: s.values.name ?? '', errors: e, hint: 'Optional, e.g. “#incidents”. Without one it is called after its kind.' })}
<div class="actions"><button type="submit" class="primary">Add channel</button></div>
</form></section>`;
  return screen(d, c, 'Channels', body, status);
}

// ---- routes ----

/** Turns a refused write into the screen again with the error beside its field; anything else propagates. */
async function refused(e: unknown, again: (s: FormState) => Promise<Response>, form: string, values: Record<string, string>, fieldOf: (path: string) => string | null) {
  if (e instanceof z.ZodError) return again({ form, values, errors: errorsFrom(issues(e), fieldOf) });
  if (e instanceof NotFoundError || e instanceof ConflictError) return again({ form, values, errors: new Map([['form', e.message]]), notice: e.message });
  if (e instanceof DomainError && e.errors) return again({ form, values, errors: errorsFrom(e.errors, fieldOf) });
  throw e;
}

const strings = (body: Body) => Object.fromEntries(Object.entries(body).map(([k, v]) => [k, str(v)]));

export function adminRoutes(d: ConsoleDeps) {
  const app = new Hono<AuthEnv>();
  // Reading every subscriber's address is an admin's (as the API lists them to admins only).
  const admin = async (c: Context, next: () => Promise<void>) => (roleAllows(actorOf(c).role, 'admin') ? next() : forbidden(d, c, 'admin'));
  const deps = d.services;

  app.get('/internal/admin/components/', (c) => componentsScreen(d, c));
  app.post('/internal/admin/components/', requireUseCase(d, 'createComponent'), async (c) => {
    const body = await c.req.parseBody();
    const values = strings(body);
    try {
      await createComponent(deps, actorOf(c), componentBody.parse(componentInput(body, true)));
      return c.redirect(links.components, 303);
    } catch (e) {
      return refused(e, (s) => componentsScreen(d, c, s, 422), 'create', values, (p) => `new-${p.split('.')[0]}`);
    }
  });
  app.post('/internal/admin/components/:id/edit', requireUseCase(d, 'updateComponent'), async (c) => {
    const id = c.req.param('id')!;
    const body = await c.req.parseBody();
    try {
      await updateComponent(deps, actorOf(c), id, componentBody.omit({ id: true }).parse(componentInput(body, false)));
      return c.redirect(links.components, 303);
    } catch (e) {
      return refused(e, (s) => componentsScreen(d, c, s, 422), `edit-${id}`, strings(body), (p) => `${p.split('.')[0]}-${id}`);
    }
  });
  app.post('/internal/admin/components/:id/archive', requireUseCase(d, 'archiveComponent'), async (c) => {
    try {
      await archiveComponent(deps, actorOf(c), c.req.param('id')!);
      return c.redirect(links.components, 303);
    } catch (e) {
      return refused(e, (s) => componentsScreen(d, c, s, 409), 'archive', {}, () => 'form');
    }
  });

  app.post('/internal/admin/component-groups/:id/rename', requireUseCase(d, 'renameComponentGroup'), async (c) => {
    const id = c.req.param('id')!;
    const values = strings(await c.req.parseBody());
    try {
      await renameComponentGroup(deps, actorOf(c), id, groupName.parse(values.name ?? ''));
      return c.redirect(links.components, 303);
    } catch (e) {
      return refused(e, (s) => componentsScreen(d, c, s, 422), `group-${id}`, values, () => `group-name-${id}`);
    }
  });

  /** A list screen with an add form (fields `{prefix}-{name}`) and a Remove button per row, each write through its service. */
  const addAndRemove = (
    list: string,
    show: (d: ConsoleDeps, c: Context, s?: FormState, status?: number) => Promise<Response>,
    prefix: string,
    useCases: { add: UseCase; remove: UseCase },
    add: (actor: Actor, values: Record<string, string>) => Promise<unknown>,
    remove: (actor: Actor, id: string) => Promise<unknown>,
  ) => {
    app.get(list, (c) => show(d, c));
    app.post(list, requireUseCase(d, useCases.add), async (c) => {
      const values = strings(await c.req.parseBody());
      try {
        await add(actorOf(c), values);
        return c.redirect(list, 303);
      } catch (e) {
        return refused(e, (s) => show(d, c, s, 422), 'create', values, (p) => `${prefix}-${p.split('.')[0]}`);
      }
    });
    app.post(`${list}:id/remove`, requireUseCase(d, useCases.remove), async (c) => {
      try {
        await remove(actorOf(c), c.req.param('id')!);
        return c.redirect(list, 303);
      } catch (e) {
        return refused(e, (s) => show(d, c, s, 404), 'remove', {}, () => 'form');
      }
    });
  };

  addAndRemove(links.stakeholders, stakeholdersScreen, 'stakeholder', { add: 'addStakeholder', remove: 'removeStakeholder' }, (a, values) => addStakeholder(deps, a, stakeholderBody.parse(values)), (a, id) => removeStakeholder(deps, a, id));

  app.get('/internal/admin/subscribers/', (c) => subscribersScreen(d, c));
  app.get('/internal/admin/subscribers.csv', admin, async (c) => {
    const list = await findSubscribers(deps, {});
    const lines = [
      'email,confirmed_at,components,created_at',
      ...list.map((x) => [x.email, x.confirmedAt?.toISOString() ?? '', x.components?.join(' ') ?? '', x.createdAt.toISOString()].map(csvField).join(',')),
    ];
    return c.body(`${lines.join('\r\n')}\r\n`, 200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': 'attachment; filename="subscribers.csv"',
      'cache-control': 'private, no-store',
    });
  });
  app.post('/internal/admin/subscribers/:id/remove', requireUseCase(d, 'removeSubscriber'), async (c) => {
    const removed = await removeSubscriber(deps, actorOf(c), c.req.param('id')!);
    if (!removed) return subscribersScreen(d, c, { ...none(), notice: 'That subscriber was already gone.' }, 404);
    return c.redirect(links.subscribers, 303);
  });

  app.get('/internal/admin/tokens/', (c) => tokensScreen(d, c));
  app.post('/internal/admin/tokens/', requireUseCase(d, 'createToken'), async (c) => {
    const values = strings(await c.req.parseBody());
    try {
      const created = await createToken(deps, actorOf(c), { name: values.name ?? '', role: values.role ?? '', ...(values.email?.trim() ? { email: values.email } : {}) });
      // Shown once, in this response only; a reload does not show it again.
      return tokensScreen(d, c, none(), 201, { name: created.name, token: created.token });
    } catch (e) {
      return refused(e, (s) => tokensScreen(d, c, s, 422), 'create', values, (p) => `token-${p.split('.')[0]}`);
    }
  });
  app.post('/internal/admin/tokens/:id/revoke', requireUseCase(d, 'revokeToken'), async (c) => {
    try {
      await revokeToken(deps, actorOf(c), c.req.param('id')!);
      return c.redirect(links.tokens, 303);
    } catch (e) {
      return refused(e, (s) => tokensScreen(d, c, s, 404), 'revoke', {}, () => 'form');
    }
  });

  addAndRemove(links.channels, channelsScreen, 'channel', { add: 'addChannel', remove: 'removeChannel' }, (a, values) => addChannel(deps, a, channelInput.parse(channelFields(values))), (a, id) => removeChannel(deps, a, id));
  for (const path of ['components', 'stakeholders', 'subscribers', 'tokens', 'channels']) app.get(`/internal/admin/${path}`, (c) => c.redirect(`/internal/admin/${path}/`, 301));
  return app;
}
