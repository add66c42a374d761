// /internal/sign-in/email and /internal/sign-in/link: members and stakeholders sign in with a one-time emailed link (members with their role, stakeholders as viewers).
import { Hono } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { html } from 'hono/html';
import { z } from 'zod';
import type { Database } from '../../db/client.ts';
import type { AuthEnv } from '../auth.ts';
import type { Clock } from '../clock.ts';
import { framedLinkPage, linkPageHeaders, type Fragment, type LinkPageFrame } from '../http/link-page.ts';
import type { Brand } from '../brand.ts';
import { sameOrigin } from '../http/same-origin.ts';
import { ValidationError } from '../errors.ts';
import { verifySession } from '../services/sessions.ts';
import {
  peekSignInLink,
  redeemSignInLink,
  requestSignInLink,
  safeNext,
  signInLinkLifetimeMs,
  type LinkState,
} from '../services/stakeholder-sign-in.ts';

export interface StakeholderSignInDeps {
  db: Database;
  clock: Clock;
  /** The public base URL; cookies are Secure when it is https. */
  publicUrl: string;
  /** The name of the internal page's session cookie (auth.ts's sessionCookie). */
  cookie: string;
  /** The page name and brand the site's frame wears (PAGE_NAME, BRAND_*): these pages wear it too. */
  pageName?: string | undefined;
  brand?: Brand | undefined;
}

/** The least time, in ms, a request for a sign-in link takes to answer, whether or not the address is a stakeholder's. */
export const signInAnswerFloorMs = 200;

/** The URL carries a one-time secret: never cached, indexed, framed or sent on as a referrer. */
const headers = linkPageHeaders('private, no-store');

const styles = `  label { display: block; margin: 0 0 .3rem; font-weight: 600; }
  input { font: inherit; padding: .45rem .6rem; width: 100%; max-width: 22rem; box-sizing: border-box; }
  button { margin-top: .8rem; }
  .error { border-left: 4px solid #d1242f; padding-left: .8rem; }`;

/** One page in the site's frame (framedLinkPage). */
const page = (f: LinkPageFrame, title: string, body: Fragment): string => framedLinkPage(title, f, styles, body);

const minutes = Math.round(signInLinkLifetimeMs / 60_000);

function requestPage(f: LinkPageFrame, next: string, email: string, error?: string): string {
  return page(
    f,
    'Sign in by email',
    html`<h1>Sign in to the internal status page by email</h1>
<p>Team members, and stakeholders who receive briefings, sign in without a token. Enter your address and we email you a link that works once, for ${minutes} minutes.</p>
${error ? html`<p class="error" role="alert" id="email-error">${error}</p>` : ''}
<form method="post" action="/internal/sign-in/email">
<input type="hidden" name="next" value="${next}">
<label for="email">Email</label>
<input id="email" name="email" type="email" required autocomplete="email" value="${email}"${error ? html` aria-invalid="true" aria-describedby="email-error"` : ''}>
<div><button type="submit">Email me a sign-in link</button></div>
</form>
<p><a href="/internal/sign-in">Sign in with an API token instead</a></p>`,
  );
}

function sentPage(f: LinkPageFrame): string {
  return page(
    f,
    'Check your inbox',
    html`<h1>Check your inbox</h1>
<p>If that address belongs to a team member or a stakeholder, a sign-in link is on its way. It works once, for ${minutes} minutes.</p>
<p>Nothing there in a few minutes? Look in your spam folder, or ask an admin to add you as a member.</p>`,
  );
}

function confirmPage(f: LinkPageFrame, token: string, name: string): string {
  return page(
    f,
    'Sign in',
    html`<h1>Sign in as ${name}</h1>
<p>Press the button to open the internal status page. This link works once.</p>
<form method="post" action="/internal/sign-in/link">
<input type="hidden" name="token" value="${token}">
<button type="submit">Sign in</button>
</form>`,
  );
}

/** The first run's link: the person who spends it becomes the first admin member, so it asks who they are. */
function firstAdminPage(f: LinkPageFrame, token: string, values: { name: string; email: string }, errors: Map<string, string> = new Map()): string {
  const field = (id: 'name' | 'email', label: string, type: string, autocomplete: string) => {
    const error = errors.get(id);
    return html`<label for="${id}">${label}</label>
${error ? html`<p class="error" id="${id}-error">${label}: ${error}</p>` : ''}
<input id="${id}" name="${id}" type="${type}" required autocomplete="${autocomplete}" value="${values[id]}"${error ? html` aria-invalid="true" aria-describedby="${id}-error"` : ''}>`;
  };
  return page(
    f,
    'Sign in as the first admin',
    html`<h1>Sign in as the first admin</h1>
<p>Nobody is an admin of this status page yet. Say who you are: you become its first admin member, and later sign in with a link emailed to this address. This link works once.</p>
${errors.size ? html`<p class="error" role="alert">Nothing was saved: check ${[...errors.keys()].join(' and ')}.</p>` : ''}
<form method="post" action="/internal/sign-in/link" novalidate>
<input type="hidden" name="token" value="${token}">
${field('name', 'Name', 'text', 'name')}
${field('email', 'Email', 'email', 'email')}
<div><button type="submit">Sign in</button></div>
</form>`,
  );
}

const deadReasons: Record<Exclude<LinkState, 'valid'>, string> = {
  used: 'This sign-in link has already been used.',
  expired: 'This sign-in link has expired.',
  unknown: 'This sign-in link is not valid.',
};

function deadLinkPage(f: LinkPageFrame, state: Exclude<LinkState, 'valid'>): string {
  return page(
    f,
    'Sign-in link not valid',
    html`<h1>${deadReasons[state]}</h1>
<p>Links work once, for ${minutes} minutes. <a href="/internal/sign-in/email">Get a new sign-in link</a>.</p>`,
  );
}

const emailField = z.email('enter an email address such as dana@example.com').max(254);

/** The sign-in routes, mounted before /internal/'s own auth so a signed-out stakeholder can reach them. */
export function stakeholderSignInRoutes(d: StakeholderSignInDeps) {
  const frame: LinkPageFrame = { site: d.publicUrl, pageName: d.pageName, brand: d.brand };
  const app = new Hono<AuthEnv>();
  const secure = d.publicUrl.startsWith('https:');
  // Sending a link and spending one change who may sign in: only this site's own pages may post them (403 otherwise).
  const fromThisSite = sameOrigin({ origins: [d.publicUrl] });
  app.use('/internal/sign-in/email', fromThisSite);
  app.use('/internal/sign-in/link', fromThisSite);

  app.get('/internal/sign-in/email', async (c) => {
    const next = safeNext(c.req.query('next'));
    // Already signed in (a token holder, a member or a stakeholder): the briefing's link goes straight to its page.
    const cookie = getCookie(c, d.cookie);
    if (cookie && (await verifySession(d, cookie))) {
      return c.redirect(next, 303);
    }
    return c.html(requestPage(frame, next, c.req.query('email') ?? ''), 200, headers);
  });

  app.post('/internal/sign-in/email', async (c) => {
    const body = await c.req.parseBody();
    const next = safeNext(typeof body.next === 'string' ? body.next : undefined);
    const raw = typeof body.email === 'string' ? body.email.trim() : '';
    const email = emailField.safeParse(raw);
    if (!email.success) return c.html(requestPage(frame, next, raw, `Email: ${email.error.issues[0]!.message}.`), 422, headers);
    // Queuing a link takes five statements, ignoring an unknown address one: answering no sooner than a floor far
    // above either keeps the time from telling an outsider which addresses are members' or executives'.
    const floor = new Promise((resolve) => setTimeout(resolve, signInAnswerFloorMs));
    await requestSignInLink(d, { email: email.data, next });
    await floor;
    return c.html(sentPage(frame), 200, headers);
  });

  // A mail scanner follows the link with GET: it sees a button and spends nothing.
  app.get('/internal/sign-in/link', async (c) => {
    const token = c.req.query('token') ?? '';
    const link = token ? await peekSignInLink(d, token) : { state: 'unknown' as const };
    if (link.state !== 'valid') return c.html(deadLinkPage(frame, link.state), link.state === 'unknown' ? 404 : 410, headers);
    if (link.firstAdmin) return c.html(firstAdminPage(frame, token, { name: '', email: '' }), 200, headers);
    return c.html(confirmPage(frame, token, link.name ?? 'you'), 200, headers);
  });

  app.post('/internal/sign-in/link', async (c) => {
    const body = await c.req.parseBody();
    const token = typeof body.token === 'string' ? body.token : '';
    const person = { name: typeof body.name === 'string' ? body.name : '', email: typeof body.email === 'string' ? body.email : '' };
    let result: Awaited<ReturnType<typeof redeemSignInLink>>;
    try {
      result = token ? await redeemSignInLink(d, token, person) : { state: 'unknown' as const };
    } catch (e) {
      // Only the first run's link takes input: a bad name or address comes back beside its field, the link unspent.
      if (!(e instanceof ValidationError)) throw e;
      return c.html(firstAdminPage(frame, token, person, new Map((e.errors ?? []).map((f) => [f.path, f.message]))), 422, headers);
    }
    if (result.state !== 'signed-in') return c.html(deadLinkPage(frame, result.state), result.state === 'unknown' ? 404 : 410, headers);
    setCookie(c, d.cookie, result.session.secret, { httpOnly: true, secure, sameSite: 'Strict', path: '/internal', expires: result.session.expiresAt });
    return c.redirect(result.next, 303);
  });
  return app;
}
