// The Members screen: admins add team members (who then get a sign-in link by email), change their role and remove them, through the members service.
import { Hono, type Context } from 'hono';
import { html } from 'hono/html';
import type { AuthEnv } from '../auth.ts';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors.ts';
import { addMember, listMembers, removeMember, updateMember } from '../services/members.ts';
import { requestSignInLink, signInLinkLifetimeMs } from '../services/stakeholder-sign-in.ts';
import { roleAllows, roles, type Role } from '../services/tokens.ts';
import { counted, errorsFrom, errorSummary, input, select, type Errors } from './form.ts';
import { forbidden } from './roles.ts';
import { actorOf, links, screen, type ConsoleDeps } from './screen.ts';

const membersPath = links.members;

/** What each role may do, in the words a newcomer reads on the screen. */
export const roleMeaning: Record<Role, string> = {
  viewer: 'viewer: reads the briefing and the internal page',
  comms: 'comms: declares incidents and posts updates',
  admin: 'admin: everything, and manages members',
};

interface State {
  form: string;
  values: Record<string, string>;
  errors: Errors;
  notice?: string;
}
const none = (): State => ({ form: '', values: {}, errors: new Map() });
const when = (d: Date | null) => (d ? html`<time datetime="${d.toISOString()}">${d.toISOString().slice(0, 16).replace('T', ' ')} UTC</time>` : 'never');
const roleOptions = roles.map((r) => ({ value: r, label: roleMeaning[r] }));

async function membersScreen(d: ConsoleDeps, c: Context, s: State = none(), status = 200) {
  const list = await listMembers(d.services, actorOf(c));
  const e = s.form === 'add' ? s.errors : new Map<string, string>();
  const body = html`${s.notice ? html`<p class="notice" role="status">${s.notice}</p>` : ''}
${s.form !== 'add' && s.errors.size ? html`<p class="error" role="alert">${[...s.errors.values()].join(' ')}</p>` : ''}
<p>Members sign in with a link emailed to them (or single sign-on, when it is set up). <a href="${links.tokens}">API tokens</a> are for automation.</p>
<table class="admin-table"><caption>${counted(list.length, 'member')}</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Last sign-in</th><th scope="col">Actions</th></tr></thead>
<tbody>${list.map(
    (m) => html`<tr><td>${m.name}</td><td>${m.email}</td><td>
<form method="post" action="${membersPath}${m.id}/role" class="inline-form">
<label class="sr-only" for="role-${m.id}">Role of ${m.name}</label>
<select id="role-${m.id}" name="role">${roles.map((r) => html`<option value="${r}"${r === m.role ? ' selected' : ''}>${r}</option>`)}</select>
<button type="submit">Change role of ${m.name}</button>
</form></td><td>${when(m.lastSignedInAt)}</td><td>
<form method="post" action="${membersPath}${m.id}/link" class="inline-form"><button type="submit">Email ${m.name} a sign-in link</button></form>
<form method="post" action="${membersPath}${m.id}/remove" class="inline-form"><button type="submit">Remove ${m.name}</button></form>
</td></tr>`,
  )}</tbody></table>
<section aria-labelledby="add-member"><h2 id="add-member">Add a member</h2>
${errorSummary(e, new Map([['member-name', 'Name'], ['member-email', 'Email'], ['member-role', 'Role']]), 'saved')}
<form method="post" action="${membersPath}" class="console-form" novalidate>
${input({ id: 'member-name', name: 'name', label: 'Name', value: s.values.name ?? '', errors: e, autocomplete: 'off' })}
${input({ id: 'member-email', name: 'email', label: 'Email', type: 'email', value: s.values.email ?? '', errors: e, hint: 'We email a sign-in link here at once.' })}
${select({ id: 'member-role', name: 'role', label: 'Role', value: s.values.role ?? 'comms', errors: e, options: roleOptions })}
<div class="actions"><button type="submit" class="primary">Add member</button></div>
</form></section>`;
  return screen(d, c, 'Members', body, status);
}

const str = (v: unknown) => (typeof v === 'string' ? v : '');
const minutes = signInLinkLifetimeMs / 60_000;

/** The Members screen's routes: admin only, every write through the members service (which checks the role again). */
export function memberRoutes(d: ConsoleDeps) {
  const app = new Hono<AuthEnv>();
  const admin = async (c: Context, next: () => Promise<void>) => (roleAllows(actorOf(c).role, 'admin') ? next() : forbidden(d, c, 'admin'));
  const again = async (c: Context, e: unknown, form: string, values: Record<string, string>) => {
    if (e instanceof ValidationError) return membersScreen(d, c, { form, values, errors: errorsFrom(e.errors ?? [], (p) => `member-${p.split('.')[0]}`) }, 422);
    if (e instanceof ConflictError || e instanceof NotFoundError || e instanceof ForbiddenError) {
      return membersScreen(d, c, { form, values, errors: new Map([['form', e.message]]) }, e.status);
    }
    throw e;
  };

  app.get('/internal/admin/members', (c) => c.redirect(membersPath, 301));
  app.get(membersPath, admin, (c) => membersScreen(d, c));
  app.post(membersPath, admin, async (c) => {
    const body = await c.req.parseBody();
    const values = { name: str(body.name), email: str(body.email).trim(), role: str(body.role) };
    try {
      const m = await addMember(d.services, actorOf(c), values);
      return membersScreen(d, c, { ...none(), notice: `Added ${m.name} as ${m.role}. A sign-in link is on its way to ${m.email}; it works once, for ${minutes} minutes.` });
    } catch (e) {
      return again(c, e, 'add', values);
    }
  });
  app.post(`${membersPath}:id/role`, admin, async (c) => {
    const body = await c.req.parseBody();
    try {
      const m = await updateMember(d.services, actorOf(c), c.req.param('id')!, { role: str(body.role) });
      return membersScreen(d, c, { ...none(), notice: `${m.name} is now ${m.role}; their sessions have ended, so the new role applies at their next sign-in.` });
    } catch (e) {
      return again(c, e, 'role', {});
    }
  });
  app.post(`${membersPath}:id/link`, admin, async (c) => {
    const list = await listMembers(d.services, actorOf(c));
    const m = list.find((x) => x.id === c.req.param('id'));
    if (!m) return again(c, new NotFoundError('member', c.req.param('id')!), 'link', {});
    const sent = await requestSignInLink(d.services, { email: m.email });
    return membersScreen(d, c, { ...none(), notice: sent ? `A sign-in link is on its way to ${m.email}.` : `No link sent: ${m.email} has had 5 links in the last hour.` });
  });
  app.post(`${membersPath}:id/remove`, admin, async (c) => {
    try {
      await removeMember(d.services, actorOf(c), c.req.param('id')!);
      return c.redirect(membersPath, 303);
    } catch (e) {
      return again(c, e, 'remove', {});
    }
  });
  return app;
}
