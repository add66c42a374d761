// The small human pages behind the links in subscriber emails: confirm, manage, unsubscribe, and the no-JS form's replies.
import { html } from 'hono/html';
import type { FieldError } from '../errors.ts';
import { framedLinkPage, linkPageHeaders, type Fragment, type LinkPageFrame } from '../http/link-page.ts';

type PageLinks = LinkPageFrame;

/** Headers for every page here: the URL carries a capability token, so nothing is cached, indexed or leaked as a referrer. */
export const pageHeaders = linkPageHeaders();

const styles = `  button.primary { font-weight: 600; }
  button:not(.primary) { background: none; color: inherit; border-color: currentColor; }
  fieldset { border: 1px solid #8886; border-radius: .4rem; margin: 0 0 1rem; }
  label { display: block; padding: .2rem 0; }
  .errors { border-left: 4px solid #d1242f; padding-left: .8rem; }`;

/** One page in the site's frame (framedLinkPage). */
const page = (title: string, links: PageLinks, body: Fragment): string => framedLinkPage(title, links, styles, body);

/** The no-JS form's answer: a static page cannot read a query string without script, so the reply says it all. */
export function checkInboxPage(links: PageLinks): string {
  return page(
    'Check your inbox',
    links,
    html`<h1>Check your inbox</h1>
<p>If the address can receive email, a confirmation link is on its way. Updates start once you confirm.</p>
<p>Nothing there in a few minutes? Look in your spam folder, or subscribe again.</p>`,
  );
}

export function formErrorPage(links: PageLinks, errors: FieldError[]): string {
  return page(
    'Please check the form',
    links,
    html`<h1>Please check the form</h1>
<div class="errors" role="alert"><ul>${errors.map((e) => html`<li>${e.path === 'email' ? 'Email address' : e.path}: ${e.message}</li>`)}</ul></div>
<p>Go back and correct it, then send the form again.</p>`,
  );
}

/** What a GET of a valid confirmation link shows: a button, so that only a person's click (a POST) confirms. */
export function confirmPromptPage(links: PageLinks, email: string, token: string): string {
  return page(
    'Confirm your subscription',
    links,
    html`<h1>Confirm your subscription</h1>
<p>Press the button to receive incident and maintenance emails at ${email}.</p>
<form method="post" action="confirm?token=${token}">
<button class="primary" type="submit">Confirm subscription</button>
</form>
<p>Did not ask for this? Close the page: without confirmation we will not write again.</p>`,
  );
}

export function confirmPage(links: PageLinks, outcome: 'confirmed' | 'expired' | 'invalid', manageUrl?: string): string {
  const manage = manageUrl ? html`<p><a href="${manageUrl}">Choose which components you hear about, or unsubscribe</a>.</p>` : '';
  switch (outcome) {
    case 'confirmed':
      return page('Subscription confirmed', links, html`<h1>You're subscribed</h1><p>We'll email you when we post an incident or maintenance update.</p>${manage}`);
    case 'expired':
      return page('Link expired', links, html`<h1>This link has expired</h1><p>Confirmation links work for two days. Subscribe again from the status page to get a new one.</p>`);
    case 'invalid':
      return page(
        'Link not recognised',
        links,
        html`<h1>We don't recognise this link</h1><p>It may be incomplete, already used, or replaced by a newer one. Already subscribed? Every email we send has a link to manage your subscription. Otherwise, subscribe again from the status page.</p>`,
      );
  }
}

export function unsubscribePromptPage(links: PageLinks, email: string, token: string): string {
  return page(
    'Unsubscribe',
    links,
    html`<h1>Unsubscribe from status updates?</h1>
<p>${email} will stop receiving incident and maintenance emails.</p>
<form method="post" action="unsubscribe?token=${token}">
<input type="hidden" name="List-Unsubscribe" value="One-Click">
<button class="primary" type="submit">Unsubscribe</button>
</form>
<p><a href="manage?token=${token}">Or choose which components you hear about instead</a>.</p>`,
  );
}

/** The page a webhook's `meta.unsubscribe` link opens: a button, so a link scanner following it unsubscribes nobody. */
export function webhookUnsubscribePromptPage(links: PageLinks, webhook: string, token: string): string {
  return page(
    'Unsubscribe webhook',
    links,
    html`<h1>Stop sending status webhooks?</h1>
<p>${webhook} will stop receiving incident and component notifications.</p>
<form method="post" action="unsubscribe?token=${token}">
<button class="primary" type="submit">Unsubscribe this webhook</button>
</form>`,
  );
}

/** After the unsubscribe button: an email address (`email`) or a webhook subscriber (`webhook`) was removed, or there was none. */
export function unsubscribedPage(links: PageLinks, removed: boolean, what: 'email' | 'webhook' = 'email'): string {
  if (what === 'webhook') {
    return removed
      ? page('Webhook unsubscribed', links, html`<h1>The webhook is unsubscribed</h1><p>We won't send anything more to it. We have deleted its address and signing secret.</p>`)
      : page('Not subscribed', links, html`<h1>This webhook is not subscribed</h1><p>There is nothing to unsubscribe: it may have been unsubscribed already.</p>`);
  }
  return removed
    ? page('Unsubscribed', links, html`<h1>You're unsubscribed</h1><p>You won't receive any more emails from us. We have deleted your address.</p>`)
    : page('Not subscribed', links, html`<h1>This address is not subscribed</h1><p>There is nothing to unsubscribe: you may have unsubscribed already.</p>`);
}

export function unknownTokenPage(links: PageLinks): string {
  return page('Link not recognised', links, html`<h1>We don't recognise this link</h1><p>You may have unsubscribed already.</p>`);
}

interface ManageView {
  email: string;
  confirmed: boolean;
  /** null: every component. */
  chosen: string[] | null;
  components: { id: string; name: string; group: string | null }[];
  saved: boolean;
  errors?: FieldError[];
}

export function managePage(links: PageLinks, token: string, v: ManageView): string {
  const chosen = new Set(v.chosen ?? []);
  return page(
    'Manage your subscription',
    links,
    html`<h1>Manage your subscription</h1>
<p>Emails go to <strong>${v.email}</strong>${v.confirmed ? '' : ' (not confirmed yet: use the link in the confirmation email)'}.</p>
${v.saved ? html`<p role="status"><strong>Saved.</strong></p>` : ''}
${v.errors?.length ? html`<div class="errors" role="alert"><ul>${v.errors.map((e) => html`<li>${e.message}</li>`)}</ul></div>` : ''}
<form method="post" action="manage?token=${token}">
<fieldset>
<legend>Components you hear about (none ticked: all of them)</legend>
${v.components.map(
  (c) => html`<label><input type="checkbox" name="components" value="${c.id}"${chosen.has(c.id) ? html` checked` : ''}> ${c.name}${c.group ? html` <small>(${c.group})</small>` : ''}</label>`,
)}
</fieldset>
<button class="primary" type="submit">Save</button>
</form>
<form method="post" action="unsubscribe?token=${token}">
<input type="hidden" name="List-Unsubscribe" value="One-Click">
<p><button type="submit">Unsubscribe from everything</button></p>
</form>`,
  );
}
