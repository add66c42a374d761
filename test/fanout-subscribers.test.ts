import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { declare, type Fixture } from './fixture.ts';
import { countRows, mailFixture, rows } from './fanout-support.ts';
import type { SmtpSink } from './smtp-sink.ts';

let f: Fixture;
let sink: SmtpSink;
let outbox: Awaited<ReturnType<typeof mailFixture>>['outbox'];
let close: () => Promise<void>;
beforeEach(async () => {
  ({ f, sink, outbox, close } = await mailFixture());
});
afterEach(() => close());

const post = (body: unknown, headers: Record<string, string> = {}) => f.call('POST', '/api/v1/subscribers', { token: null, body, headers });
const postForm = (form: string, headers: Record<string, string> = {}) =>
  f.call('POST', '/api/v1/subscribers', { token: null, raw: form, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } });

/** The link in the newest email to an address, found by its path. */
async function linkIn(address: string, path: string): Promise<string> {
  const mails = (await sink.parsed()).filter((m) => m.envelopeTo.includes(address));
  const text = mails.at(-1)?.text ?? '';
  const match = new RegExp(`https://status\\.example\\.com(/api/v1/subscribers/${path}\\?token=[A-Za-z0-9_%-]+)`).exec(text);
  if (!match) throw new Error(`no ${path} link for ${address} in: ${text}`);
  return match[1]!;
}

describe('double opt-in', () => {
  it('answers 202, mails a confirmation link, and confirms through it', async () => {
    const res = await post({ email: 'Reader@Example.com' });
    expect(res.status).toBe(202);
    expect((await res.json()).status).toBe('pending_confirmation');
    const [row] = await rows<{ email: string; confirmed_at: number | null }>(f, 'SELECT email, confirmed_at FROM subscribers');
    expect(row).toMatchObject({ email: 'reader@example.com', confirmed_at: null });

    expect((await outbox.drain()).sent).toBe(1);
    const [mail] = await sink.parsed();
    expect(mail!.envelopeTo).toEqual(['reader@example.com']);
    expect(mail!.subject).toMatch(/confirm/i);
    expect(mail!.html).toContain('/api/v1/subscribers/confirm?token=');

    const link = await linkIn('reader@example.com', 'confirm');
    const prompt = await f.call('GET', link, { token: null });
    expect(prompt.status).toBe(200);
    expect(prompt.headers.get('content-type')).toContain('text/html');
    expect(prompt.headers.get('referrer-policy')).toBe('no-referrer');
    expect(prompt.headers.get('cache-control')).toBe('no-store');
    const button = await prompt.text();
    expect(button).toMatch(/<form method="post" action="confirm\?token=[^"]+">/);
    expect(button).toContain('Confirm subscription');
    expect(await countRows(f, 'subscribers', 'confirmed_at IS NOT NULL')).toBe(0);

    const confirm = await f.call('POST', link, { token: null });
    expect(confirm.status).toBe(200);
    expect(await confirm.text()).toContain("You're subscribed");
    expect(await countRows(f, 'subscribers', 'confirmed_at IS NOT NULL')).toBe(1);
  });

  it('confirms nothing on a plain GET of the link, however often a mail scanner follows it', async () => {
    await post({ email: 'scanned@example.com' });
    await outbox.drain();
    const link = await linkIn('scanned@example.com', 'confirm');
    for (let i = 0; i < 3; i++) expect((await f.call('GET', link, { token: null })).status).toBe(200);
    expect(await countRows(f, 'subscribers', 'confirmed_at IS NOT NULL')).toBe(0);
    const json = await f.call('GET', link, { token: null, headers: { accept: 'application/json' } });
    expect(json.status).toBe(200);
    expect(await json.json()).toMatchObject({ status: 'pending_confirmation' });
    expect(await countRows(f, 'subscribers', 'confirmed_at IS NOT NULL')).toBe(0);
  });

  it('lets the link confirm once: used, it is dead for GET and POST and gives away no manage link', async () => {
    await post({ email: 'once@example.com' });
    await outbox.drain();
    const link = await linkIn('once@example.com', 'confirm');
    expect((await f.call('POST', link, { token: null })).status).toBe(200);
    const [row] = await rows<{ confirmed_at: number; confirm_token_hash: string | null }>(f, 'SELECT confirmed_at, confirm_token_hash FROM subscribers');
    expect(row!.confirm_token_hash).toBeNull();
    f.clock.advance(60_000);
    for (const method of ['GET', 'POST']) {
      const again = await f.call(method, link, { token: null });
      expect(again.status).toBe(404);
      const text = await again.text();
      expect(text).toContain('already used');
      expect(text).not.toContain('manage?token=');
    }
    const [after] = await rows<{ confirmed_at: number }>(f, 'SELECT confirmed_at FROM subscribers');
    expect(after!.confirmed_at).toBe(row!.confirmed_at);
  });

  it('sends an unconfirmed address nothing but the confirmation', async () => {
    await post({ email: 'pending@example.com' });
    await declare(f);
    await outbox.drain();
    const mails = await sink.parsed();
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).toMatch(/confirm/i);
    expect(await countRows(f, 'deliveries', "kind = 'update'")).toBe(0);
  });

  it('answers a known address exactly like a new one, and mails a confirmed one its manage link', async () => {
    const first = await post({ email: 'known@example.com' });
    await outbox.drain();
    await f.call('POST', await linkIn('known@example.com', 'confirm'), { token: null });
    const second = await post({ email: 'known@example.com', components: ['api'] });
    const fresh = await post({ email: 'new@example.com' });
    expect(second.status).toBe(fresh.status);
    expect(await second.text()).toBe(await fresh.text());
    expect(first.status).toBe(202);
    // The choice is not applied from an unproven request: the manage link in the email is where the owner changes it.
    const [known] = await rows<{ components: string | null }>(f, "SELECT components FROM subscribers WHERE email = 'known@example.com'");
    expect(known!.components).toBeNull();
    expect(await countRows(f, 'deliveries', "kind = 'confirmation'")).toBe(2);
    expect(await countRows(f, 'deliveries', "kind = 'manage_link' AND email = 'known@example.com'")).toBe(1);

    await outbox.drain();
    const mail = (await sink.parsed()).filter((m) => m.envelopeTo.includes('known@example.com')).at(-1)!;
    expect(mail.subject).toMatch(/your subscription/i);
    expect(mail.text).toContain('already subscribed');
    const manage = await f.call('GET', await linkIn('known@example.com', 'manage'), { token: null });
    expect(manage.status).toBe(200);
    expect(await manage.text()).toContain('name="components" value="api"');
  });

  it('keeps the expiry: an unused link past two days confirms nothing, by GET or by POST', async () => {
    await post({ email: 'slow@example.com' });
    await outbox.drain();
    const link = await linkIn('slow@example.com', 'confirm');
    f.clock.advance(48 * 60 * 60 * 1000);
    expect((await f.call('GET', link, { token: null })).status).toBe(410);
    expect((await f.call('POST', link, { token: null })).status).toBe(410);
    expect(await countRows(f, 'subscribers', 'confirmed_at IS NOT NULL')).toBe(0);
    // Subscribing again issues a new link; the old one stays dead.
    await post({ email: 'slow@example.com' });
    await outbox.drain();
    const fresh = await linkIn('slow@example.com', 'confirm');
    expect(fresh).not.toBe(link);
    expect((await f.call('POST', link, { token: null })).status).toBe(404);
    expect((await f.call('POST', fresh, { token: null })).status).toBe(200);
  });

  it('refuses an expired link with 410 and an unknown one with 404, as pages', async () => {
    await post({ email: 'late@example.com' });
    await outbox.drain();
    const link = await linkIn('late@example.com', 'confirm');
    f.clock.advance(49 * 60 * 60 * 1000);
    const expired = await f.call('GET', link, { token: null });
    expect(expired.status).toBe(410);
    expect(await expired.text()).toContain('expired');
    expect((await f.call('POST', link, { token: null })).status).toBe(410);
    const unknown = await f.call('GET', '/api/v1/subscribers/confirm?token=nope', { token: null });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toContain('text/html');
    expect(await countRows(f, 'subscribers', 'confirmed_at IS NOT NULL')).toBe(0);
  });

  it('sends at most one waiting confirmation and a few per hour to one address', async () => {
    for (let i = 0; i < 4; i++) expect((await post({ email: 'flood@example.com' })).status).toBe(202);
    expect(await countRows(f, 'deliveries')).toBe(1);
    for (let i = 0; i < 6; i++) {
      await outbox.drain();
      await post({ email: 'flood@example.com' });
    }
    await outbox.drain();
    expect(sink.received.length).toBe(3);
  });

  it('limits subscribe requests per client address with 429, whatever X-Forwarded-For claims', async () => {
    // No TRUSTED_PROXIES: the header is the client's to forge, so rotating it buys nothing (client-address.test.ts has the proxied case).
    for (let i = 0; i < 20; i++) expect((await post({ email: `r${i}@example.com` }, { 'x-forwarded-for': `203.0.113.${i}` })).status).toBe(202);
    const limited = await post({ email: 'r21@example.com' }, { 'x-forwarded-for': '198.51.100.7' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toContain('application/problem+json');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('the no-JS subscribe form', () => {
  it('accepts a url-encoded post with repeated components and answers with a check-your-inbox page', async () => {
    const res = await postForm('email=form%40example.com&components=api&components=webhooks', { accept: 'text/html' });
    expect(res.status).toBe(202);
    expect(res.headers.get('content-type')).toContain('text/html');
    const page = await res.text();
    expect(page).toContain('Check your inbox');
    expect(page).toContain('href="https://status.example.com/"');
    const [row] = await rows<{ components: string }>(f, 'SELECT components FROM subscribers');
    expect(JSON.parse(row!.components)).toEqual(['api', 'webhooks']);
  });

  it('takes a single component as a list of one', async () => {
    expect((await postForm('email=one%40example.com&components=dashboard')).status).toBe(202);
    const [row] = await rows<{ components: string }>(f, 'SELECT components FROM subscribers');
    expect(JSON.parse(row!.components)).toEqual(['dashboard']);
  });

  it('shows a person a page naming the problem, and an API caller problem+json', async () => {
    const page = await postForm('email=not-an-address', { accept: 'text/html' });
    expect(page.status).toBe(422);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('must be an email address');
    const api = await postForm('email=not-an-address');
    expect(api.status).toBe(422);
    expect(api.headers.get('content-type')).toContain('application/problem+json');
    const unknown = await postForm('email=x%40example.com&components=nope', { accept: 'text/html' });
    expect(unknown.status).toBe(422);
    expect(await unknown.text()).toContain('unknown component');
    expect(await countRows(f, 'subscribers')).toBe(0);
  });
});

describe('bad input is refused with problem+json and stores nothing', () => {
  const cases: [string, unknown][] = [
    ['a malformed address', { email: 'not an address' }],
    ['an address without a domain', { email: 'someone@' }],
    ['an overlong address', { email: `${'a'.repeat(250)}@example.com` }],
    ['a CR/LF header injection in the address', { email: 'victim@example.com\r\nBcc: everyone@example.com' }],
    ['a bare LF injection', { email: 'victim@example.com\nSubject: hi' }],
    ['an unknown component id', { email: 'x@example.com', components: ['api', 'no-such-component'] }],
    ['a component id with a line break', { email: 'x@example.com', components: ['api\r\nX-Evil: 1'] }],
    ['components that are not a list', { email: 'x@example.com', components: 'api' }],
    ['a missing address', { components: ['api'] }],
    ['an unknown field', { email: 'x@example.com', admin: true }],
  ];
  for (const [what, body] of cases) {
    it(`refuses ${what}`, async () => {
      const res = await post(body);
      expect(res.status).toBe(422);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      const problem = await res.json();
      expect(problem.errors.length).toBeGreaterThan(0);
      expect(await countRows(f, 'subscribers')).toBe(0);
      expect(await countRows(f, 'deliveries')).toBe(0);
    });
  }

  it('refuses a body with no content type as a bad request', async () => {
    const res = await f.call('POST', '/api/v1/subscribers', { token: null, raw: 'email=x@example.com', headers: { 'content-type': 'text/plain' } });
    expect(res.status).toBe(400);
    expect(await countRows(f, 'subscribers')).toBe(0);
  });
});

describe('manage and unsubscribe', () => {
  async function subscribed(email: string) {
    await post({ email });
    await outbox.drain();
    await f.call('POST', await linkIn(email, 'confirm'), { token: null });
    await declare(f);
    await outbox.drain();
  }

  it('shows a page with a button on GET, and unsubscribes only on POST', async () => {
    await subscribed('leaver@example.com');
    const link = await linkIn('leaver@example.com', 'unsubscribe');
    const page = await f.call('GET', link, { token: null });
    expect(page.status).toBe(200);
    const body = await page.text();
    expect(body).toContain('<form method="post"');
    expect(body).toContain('leaver@example.com');
    expect(await countRows(f, 'subscribers')).toBe(1);

    const res = await f.call('POST', link, {
      token: null,
      raw: 'List-Unsubscribe=One-Click',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('unsubscribed');
    expect(await countRows(f, 'subscribers')).toBe(0);
    // Clicking again is harmless.
    expect((await f.call('POST', link, { token: null, raw: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status).toBe(200);
    expect((await f.call('GET', link, { token: null })).status).toBe(404);
  });

  it('changes the component filter from the manage page', async () => {
    await subscribed('chooser@example.com');
    const link = await linkIn('chooser@example.com', 'manage');
    const page = await f.call('GET', link, { token: null });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('name="components" value="webhooks"');
    const saved = await f.call('POST', link, { token: null, raw: 'components=webhooks', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(saved.status).toBe(200);
    expect(await saved.text()).toMatch(/value="webhooks" checked/);
    const [row] = await rows<{ components: string }>(f, 'SELECT components FROM subscribers');
    expect(JSON.parse(row!.components)).toEqual(['webhooks']);
    const bad = await f.call('POST', link, { token: null, raw: 'components=nope', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(bad.status).toBe(422);
  });
});
