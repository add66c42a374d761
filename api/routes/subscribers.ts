// /subscribers: the public double opt-in (JSON or the no-JS form), and the confirm, manage and unsubscribe links in emails.
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Clock } from '../clock.ts';
import { apiRouter, validationHook } from '../http/router.ts';
import { errorResponses, problemResponses } from '../http/problems.ts';
import { DomainError, ValidationError, type FieldError } from '../errors.ts';
import { clientAddress, noTrustedProxies } from '../http/client-address.ts';
import { listComponents } from '../services/components.ts';
import type { Services } from '../services/context.ts';
import { chooseComponents, confirmationState, confirmSubscription, getSubscription, subscribe, unsubscribe } from '../services/subscribers.ts';
import { manageUrl } from '../mail/compose.ts';
import {
  checkInboxPage,
  confirmPage,
  confirmPromptPage,
  formErrorPage,
  managePage,
  pageHeaders,
  unknownTokenPage,
  unsubscribedPage,
  unsubscribePromptPage,
  webhookUnsubscribePromptPage,
} from './subscriber-pages.ts';
import { subscribeWebhook, unsubscribeWebhook, webhookByToken, webhookTokenPrefix } from '../services/webhooks.ts';
import { email, json, slug } from './schemas.ts';

/** A form sends one value as a string and several as an array; an unticked form sends none. */
const repeated = z.preprocess(
  (v) => (v === undefined ? undefined : ([] as unknown[]).concat(v).filter((x) => x !== '')),
  z.array(slug).max(100, 'at most 100 components'),
);

const subscribeJson = z
  .object({
    email: email.optional(),
    webhook: z
      .url({ protocol: /^https?$/, error: 'must be an https:// URL' })
      .max(2000)
      .optional()
      .openapi({ description: 'Subscribe a URL instead of an email: Statuspage-shaped envelopes, signed per Standard Webhooks.', example: 'https://hooks.example.com/status' }),
    components: z.array(slug).max(100, 'at most 100 components').optional().openapi({ description: 'Only hear about these component ids; omit for all.' }),
  })
  .strict()
  .refine((v) => !(v.email !== undefined && v.webhook !== undefined), { path: ['email'], message: 'give either email or webhook, not both' })
  .refine((v) => v.email !== undefined || v.webhook !== undefined, { path: ['email'], message: 'give an email or a webhook (an https:// URL) to subscribe' })
  .openapi('SubscribeInput');

const webhookSubscribed = z
  .object({
    status: z.literal('active'),
    id: z.string(),
    webhook: z.string(),
    components: z.array(z.string()).nullable(),
    secret: z.string().openapi({ description: 'The Standard Webhooks signing secret (whsec_…), shown only in this answer.' }),
    unsubscribe: z.string(),
  })
  .openapi('WebhookSubscribed');

const subscribeForm = z.object({ email, components: repeated.optional() }).openapi('SubscribeForm');
const componentsForm = z.object({ components: repeated.optional() });
const tokenQuery = z.object({ token: z.string().max(200).optional().openapi({ param: { name: 'token', in: 'query' } }) });

const htmlPage = (description: string) => ({ description, content: { 'text/html': { schema: z.string() } } });

const create = createRoute({
  method: 'post',
  path: '/subscribers',
  tags: ['subscribers'],
  summary: 'Subscribe to email updates (double opt-in)',
  description:
    'Always 202 for a valid address, known or not, after the same work either way, so neither the answer nor its timing reveals anything. ' +
    'A new or pending address gets a confirmation link; a confirmed one gets its manage link instead, where its owner changes components ' +
    '(a new component choice applies to a pending address only). A few such emails per address per hour at most. ' +
    'The no-JS form may post application/x-www-form-urlencoded (email, components repeated) and gets a small HTML page.',
  request: {
    body: {
      content: { 'application/json': { schema: subscribeJson }, 'application/x-www-form-urlencoded': { schema: subscribeForm } },
      required: false,
    },
  },
  responses: {
    201: json(webhookSubscribed, 'A webhook subscriber, active at once; keep the secret to verify signatures'),
    202: {
      description: 'Accepted: JSON for API callers, a "check your inbox" page for the form',
      content: {
        'application/json': { schema: z.object({ status: z.literal('pending_confirmation'), detail: z.string() }).openapi('SubscribeAccepted') },
        'text/html': { schema: z.string() },
      },
    },
    ...errorResponses,
    429: problemResponses[429],
  },
});

const confirmAnswer = z
  .object({ status: z.enum(['pending_confirmation', 'confirmed', 'expired', 'invalid']), detail: z.string(), manageUrl: z.string().optional() })
  .openapi('ConfirmAnswer');
const unsubscribeAnswer = z
  .object({ status: z.enum(['subscribed', 'unsubscribed', 'unknown']), webhook: z.string().optional(), detail: z.string() })
  .openapi('UnsubscribeAnswer');
const pageOrUnsubscribeJson = (description: string) => ({
  description,
  content: { 'text/html': { schema: z.string() }, 'application/json': { schema: unsubscribeAnswer } },
});
const pageOrJson = (description: string) => ({
  description,
  content: { 'text/html': { schema: z.string() }, 'application/json': { schema: confirmAnswer } },
});

const confirm = createRoute({
  method: 'get',
  path: '/subscribers/confirm',
  tags: ['subscribers'],
  summary: 'Confirmation link (in the confirmation email): shows a button; confirms nothing',
  description:
    'Mail scanners follow links, so a GET only looks the link up: a page with a "Confirm subscription" button that posts to the same URL ' +
    '(JSON instead when the caller accepts application/json and not text/html). The link works once, until it expires (two days).',
  request: { query: tokenQuery },
  responses: { 200: pageOrJson('The button, for a valid link'), 404: pageOrJson('Unknown, replaced or already used link'), 410: pageOrJson('Expired link') },
});

const confirmNow = createRoute({
  method: 'post',
  path: '/subscribers/confirm',
  tags: ['subscribers'],
  summary: 'Confirm a subscription (the button on the confirmation link\'s page); the link is used up',
  request: { query: tokenQuery },
  responses: { 200: pageOrJson('Confirmed'), 404: pageOrJson('Unknown, replaced or already used link'), 410: pageOrJson('Expired link') },
});

const unsubscribePrompt = createRoute({
  method: 'get',
  path: '/subscribers/unsubscribe',
  tags: ['subscribers'],
  summary: "Unsubscribe page (link in every email and in a webhook's meta.unsubscribe); the button posts the form. A webhook link with Accept: application/json answers JSON saying to POST",
  request: { query: tokenQuery },
  responses: { 200: pageOrUnsubscribeJson('Asks to confirm'), 404: pageOrUnsubscribeJson('Unknown link') },
});

const unsubscribeNow = createRoute({
  method: 'post',
  path: '/subscribers/unsubscribe',
  tags: ['subscribers'],
  summary: "RFC 8058 one-click unsubscribe (body List-Unsubscribe=One-Click); removes the address and stops all mail. A webhook's link with Accept: application/json answers JSON",
  request: { query: tokenQuery },
  responses: { 200: pageOrUnsubscribeJson('Unsubscribed, or was not subscribed') },
});

const manage = createRoute({
  method: 'get',
  path: '/subscribers/manage',
  tags: ['subscribers'],
  summary: 'Manage page (link in every email): choose components or unsubscribe',
  request: { query: tokenQuery },
  responses: { 200: htmlPage('The subscription'), 404: htmlPage('Unknown link') },
});

const manageSave = createRoute({
  method: 'post',
  path: '/subscribers/manage',
  tags: ['subscribers'],
  summary: 'Save the components a subscriber hears about (form post from the manage page)',
  request: { query: tokenQuery, body: { content: { 'application/x-www-form-urlencoded': { schema: componentsForm } }, required: false } },
  responses: { 200: htmlPage('Saved'), 404: htmlPage('Unknown link'), 422: htmlPage('Unknown component') },
});

interface SubscriberRouteOptions {
  /** Subscribe requests allowed per client address per window. */
  perAddress?: { limit: number; windowMs: number };
}

const isForm = (c: Context) => /^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(c.req.header('content-type') ?? '');
const wantsHtml = (c: Context) => /text\/html/i.test(c.req.header('accept') ?? '');
/** An API caller rather than a browser: accepts JSON and not HTML. */
const wantsJson = (c: Context) => /application\/json/i.test(c.req.header('accept') ?? '') && !wantsHtml(c);

/** A fixed window per client address, kept in memory: it slows a script down, it is not an accounting system. */
function addressLimiter({ limit, windowMs }: { limit: number; windowMs: number }, clock: Clock) {
  const seen = new Map<string, { start: number; count: number }>();
  return (address: string): number | null => {
    const now = clock.now().getTime();
    if (seen.size > 10_000) for (const [k, v] of seen) if (now - v.start >= windowMs) seen.delete(k);
    const entry = seen.get(address);
    if (!entry || now - entry.start >= windowMs) {
      seen.set(address, { start: now, count: 1 });
      return null;
    }
    entry.count++;
    return entry.count > limit ? Math.ceil((entry.start + windowMs - now) / 1000) : null;
  };
}

export function subscriberRoutes(s: Services, options: SubscriberRouteOptions = {}) {
  const links = { site: s.publicUrl, pageName: s.pageName, brand: s.brand };
  const proxies = s.trustedProxies ?? noTrustedProxies;
  const limited = addressLimiter(options.perAddress ?? { limit: 20, windowMs: 10 * 60_000 }, s.clock);
  const page = (c: Context, body: string, status: 200 | 404 | 410 | 422 = 200) => c.html(body, status, pageHeaders);
  /** The answer to a confirmation link, as a page or as JSON: confirmed (with the manage link), expired (410) or unknown (404). */
  const confirmAnswerOf = (c: Context, outcome: 'confirmed' | 'expired' | 'invalid', manageLink?: string) => {
    const status = outcome === 'invalid' ? 404 : outcome === 'expired' ? 410 : 200;
    if (!wantsJson(c)) return page(c, confirmPage(links, outcome, manageLink), status);
    const detail = {
      confirmed: 'Subscribed: updates will be emailed to this address.',
      expired: 'This confirmation link has expired; subscribe again to get a new one.',
      invalid: 'This confirmation link is unknown, was replaced by a newer one, or was already used.',
    }[outcome];
    return c.json({ status: outcome, detail, ...(manageLink ? { manageUrl: manageLink } : {}) }, status, pageHeaders);
  };

  return apiRouter()
    .openapi(
      create,
      async (c) => {
        const form = isForm(c);
        const input = form ? c.req.valid('form') : c.req.valid('json');
        if ('webhook' in input && typeof input.webhook === 'string') {
          const retryAfter = limited(clientAddress(c, proxies));
          if (retryAfter !== null) {
            c.header('retry-after', String(retryAfter));
            throw new DomainError(429, 'Too many requests', `Too many subscribe requests from this address; try again in ${retryAfter} s.`);
          }
          const subscription = await subscribeWebhook(s, { webhook: input.webhook, components: input.components });
          return c.json({ status: 'active' as const, ...subscription }, 201);
        }
        if (typeof input.email !== 'string') {
          throw new ValidationError('The request body is invalid: check email.', [{ path: 'email', message: 'an email address is required' }]);
        }
        const retryAfter = limited(clientAddress(c, proxies));
        if (retryAfter !== null) {
          c.header('retry-after', String(retryAfter));
          throw new DomainError(429, 'Too many requests', `Too many subscribe requests from this address; try again in ${retryAfter} s.`);
        }
        try {
          await subscribe(s, { email: input.email, components: input.components });
        } catch (e) {
          if (form && wantsHtml(c) && e instanceof ValidationError) return c.html(formErrorPage(links, e.errors ?? []), 422, pageHeaders);
          throw e;
        }
        if (form) return c.html(checkInboxPage(links), 202, pageHeaders);
        return c.json({ status: 'pending_confirmation' as const, detail: 'If the address can receive email, a confirmation link is on its way.' }, 202);
      },
      // A person at the no-JS form gets a page, not JSON; API callers get problem+json from the shared hook.
      (result, c) => {
        if (result.success) return;
        if (!(isForm(c) && wantsHtml(c))) return validationHook(result, c);
        const errors: FieldError[] = result.error.issues.map((i) => ({ path: i.path.map(String).join('.') || 'form', message: i.message }));
        return c.html(formErrorPage(links, errors), 422, pageHeaders);
      },
    )
    .openapi(confirm, async (c) => {
      const token = c.req.valid('query').token ?? '';
      const found = token ? await confirmationState(s, token) : ({ state: 'invalid' } as const);
      if (found.state !== 'pending') return confirmAnswerOf(c, found.state);
      if (wantsJson(c)) return c.json({ status: 'pending_confirmation' as const, detail: 'POST to this URL to confirm.' }, 200, pageHeaders);
      return page(c, confirmPromptPage(links, found.email, token));
    })
    .openapi(confirmNow, async (c) => {
      const token = c.req.valid('query').token ?? '';
      const result = token ? await confirmSubscription(s, token) : ({ outcome: 'invalid' } as const);
      return confirmAnswerOf(c, result.outcome, result.outcome === 'confirmed' ? manageUrl(s, result.manageToken) : undefined);
    })
    .openapi(unsubscribePrompt, async (c) => {
      const token = c.req.valid('query').token ?? '';
      // Showing a button rather than unsubscribing on GET: mail and link scanners follow links, and should not unsubscribe anyone.
      if (token.startsWith(webhookTokenPrefix)) {
        const hook = await webhookByToken(s, token);
        if (wantsJson(c)) {
          return hook
            ? c.json({ status: 'subscribed' as const, webhook: hook.webhook, detail: 'POST to this URL to unsubscribe the webhook.' }, 200, pageHeaders)
            : c.json({ status: 'unknown' as const, detail: 'No webhook subscriber has this link; it may have been unsubscribed already.' }, 404, pageHeaders);
        }
        return hook ? page(c, webhookUnsubscribePromptPage(links, hook.webhook, token)) : page(c, unknownTokenPage(links), 404);
      }
      const sub = token ? await getSubscription(s, token) : null;
      return sub ? page(c, unsubscribePromptPage(links, sub.email, token)) : page(c, unknownTokenPage(links), 404);
    })
    .openapi(unsubscribeNow, async (c) => {
      const token = c.req.valid('query').token ?? '';
      const removed = !token ? false : token.startsWith(webhookTokenPrefix) ? await unsubscribeWebhook(s, token) : await unsubscribe(s, token);
      if (token.startsWith(webhookTokenPrefix) && wantsJson(c)) {
        return c.json(
          { status: removed ? ('unsubscribed' as const) : ('unknown' as const), detail: removed ? 'The webhook is unsubscribed; nothing more will be sent to it.' : 'No webhook subscriber has this link; it may have been unsubscribed already.' },
          200,
          pageHeaders,
        );
      }
      return page(c, unsubscribedPage(links, removed, token.startsWith(webhookTokenPrefix) ? 'webhook' : 'email'));
    })
    .openapi(manage, async (c) => {
      const token = c.req.valid('query').token ?? '';
      const sub = token ? await getSubscription(s, token) : null;
      if (!sub) return page(c, unknownTokenPage(links), 404);
      const components = await listComponents(s.db);
      return page(c, managePage(links, token, { email: sub.email, confirmed: sub.confirmed, chosen: sub.components, components, saved: false }));
    })
    .openapi(manageSave, async (c) => {
      const token = c.req.valid('query').token ?? '';
      const chosen = (isForm(c) ? c.req.valid('form').components : undefined) ?? [];
      const sub = token ? await getSubscription(s, token) : null;
      if (!sub) return page(c, unknownTokenPage(links), 404);
      const components = await listComponents(s.db);
      try {
        const saved = (await chooseComponents(s, token, chosen))!;
        return page(c, managePage(links, token, { ...saved, chosen: saved.components, components, saved: true }));
      } catch (e) {
        if (!(e instanceof ValidationError)) throw e;
        return page(c, managePage(links, token, { ...sub, chosen: sub.components, components, saved: false, errors: e.errors ?? [] }), 422);
      }
    });
}
