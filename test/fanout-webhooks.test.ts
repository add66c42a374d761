// Webhook subscribers: Statuspage envelopes with the external wording only, signed per Standard Webhooks, never to private addresses.
import { hostname } from 'node:os';
import { Webhook } from 'standardwebhooks';
import { z } from 'zod';
import { afterEach, describe, expect, it } from 'vitest';
import { httpSender, isPrivateAddress } from '../api/outbox/http.ts';
import { declare, examples, makeFixture, seedComponents, type Fixture } from './fixture.ts';
import { countRows, rows } from './fanout-support.ts';
import { statuspageIncident, webhookPageShape } from './statuspage-shapes.ts';
import { manualHttpOutbox, startHttpSink, webhookMetaShape, type HttpSink } from './cadence-support.ts';

let f: Fixture | undefined;
let sink: HttpSink | undefined;

afterEach(async () => {
  await sink?.close();
  await f?.close();
  sink = undefined;
  f = undefined;
});

async function setup(env: Record<string, string> = {}): Promise<Fixture> {
  f = await makeFixture(env);
  await seedComponents(f);
  return f;
}

/** Statuspage's webhook envelope for an incident update (support.atlassian.com/statuspage, "Enable webhook notifications"). */
const envelopeShape = z.object({ meta: webhookMetaShape, page: webhookPageShape, incident: statuspageIncident }).strict();

async function subscribe(url: string, components?: string[]) {
  return f!.call('POST', '/api/v1/subscribers', { token: null, body: { webhook: url, ...(components ? { components } : {}) } });
}

describe('private targets', () => {
  it('classifies addresses: loopback, private, link-local, unique-local and mapped forms are private; public ones are not', () => {
    for (const a of ['127.0.0.1', '127.8.9.10', '10.0.0.1', '172.16.5.4', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fc00::1', 'fd12:3456::1', 'fe80::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '::127.0.0.1', '::ffff:0:7f00:1', '::ffff:0:a00:1']) {
      expect(isPrivateAddress(a), a).toBe(true);
    }
    for (const a of ['93.184.216.34', '1.1.1.1', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8']) expect(isPrivateAddress(a), a).toBe(false);
  });

  it('refuses a literal private address at send time too (Node skips DNS for it), e.g. after WEBHOOK_ALLOW_PRIVATE was turned off', async () => {
    sink = await startHttpSink();
    const strict = httpSender({ allowPrivate: false, timeoutMs: 2_000 });
    try {
      for (const url of [`${sink.url}/literal`, sink.url.replace('127.0.0.1', '[::ffff:127.0.0.1]')]) {
        await expect(strict.send({ url, headers: {}, body: '{}' })).rejects.toMatchObject({ permanent: true, message: expect.stringMatching(/private address/) });
      }
      expect(sink.posted).toHaveLength(0);
    } finally {
      strict.close();
    }
    const open = httpSender({ allowPrivate: true, timeoutMs: 2_000 });
    try {
      await open.send({ url: `${sink.url}/allowed`, headers: {}, body: '{}' });
      expect(sink.posted.map((p) => p.path)).toEqual(['/allowed']);
    } finally {
      open.close();
    }
  });

  it('refuses private, loopback and link-local targets after DNS resolution, with 422 naming webhook, storing nothing', async () => {
    const f = await setup();
    const refused = [
      'https://localhost/hook',
      'https://127.0.0.1/hook',
      'https://10.1.2.3/hook',
      'https://192.168.0.10/hook',
      'https://169.254.169.254/latest/meta-data',
      'https://[::1]/hook',
      'https://[fc00::1]/hook',
      'https://[fe80::1]/hook',
      'https://[::ffff:127.0.0.1]/hook',
      // A name, not an address: it resolves to 127.0.0.1 through /etc/hosts on this machine.
      `https://${hostname()}/hook`,
      'http://203.0.113.10/hook',
    ];
    for (const url of refused) {
      const res = await subscribe(url);
      expect(res.status, url).toBe(422);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      const problem = (await res.json()) as { errors: { path: string; message: string }[] };
      expect(problem.errors[0]!.path, url).toBe('webhook');
    }
    expect(await countRows(f, 'webhook_subscribers')).toBe(0);
  });

  it('refuses to connect at send time when a stored target resolves to a private address', async () => {
    const f = await setup();
    sink = await startHttpSink();
    await f.services.db.$client.execute({
      sql: "INSERT INTO webhook_subscribers (id, url, secret, unsubscribe_token, created_at) VALUES ('w1', ?, 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'whu_x', 0)",
      args: [`${sink.url.replace('127.0.0.1', 'localhost')}/hook`],
    });
    const http = manualHttpOutbox(f);
    try {
      await declare(f, { severity: 'SEV1' });
      await http.drain();
    } finally {
      http.close();
    }
    expect(sink.posted).toHaveLength(0);
    const [row] = await rows<{ status: string; last_error: string }>(f, "SELECT status, last_error FROM deliveries WHERE audience = 'webhook'");
    expect(row).toMatchObject({ status: 'failed', last_error: expect.stringContaining('private address') });
  });
});

describe('deliveries', () => {
  it('answers 201 with a whsec_ secret, active at once, and sends signed Statuspage envelopes with external wording only', async () => {
    const f = await setup({ WEBHOOK_ALLOW_PRIVATE: 'true' });
    sink = await startHttpSink();
    const res = await subscribe(`${sink.url}/hook`);
    expect(res.status).toBe(201);
    const sub = (await res.json()) as { id: string; secret: string; status: string; unsubscribe: string };
    expect(sub.status).toBe('active');
    expect(sub.secret).toMatch(/^whsec_[A-Za-z0-9+/=]{32}$/);

    const http = manualHttpOutbox(f);
    try {
      const incident = await declare(f, {
        severity: 'SEV1',
        internalTitle: 'INTCANARY-title payments pool',
        roles: { ic: 'INTCANARY-ic', comms: 'INTCANARY-comms <c@example.com>' },
        variables: { symptom: 'Sign-in fails for some customers.', hypothesis: 'INTCANARY-hypothesis', leadership_ask: 'INTCANARY-ask' },
      });
      await http.drain();
      f.clock.advance(60_000);
      const upd = await f.call('POST', `/api/v1/incidents/${incident.id}/updates`, {
        token: 'comms',
        body: { status: 'identified', template: 'identified', variables: examples(f, 'identified'), components: [{ id: 'api', status: 'partial_outage' }] },
      });
      expect(upd.status).toBe(201);
      await http.drain();
      // Two incident envelopes, and a component_update for each change of Api's public status (test/webhook-component-updates.test.ts).
      expect(sink.posted).toHaveLength(4);
      const wh = new Webhook(sub.secret);
      for (const p of sink.posted) {
        // Verification checks the signature and that the timestamp is within five minutes of now.
        expect(() => wh.verify(p.body, p.headers as Record<string, string>)).not.toThrow();
        expect(() => new Webhook(`whsec_${Buffer.from('wrong secret, 24 bytes!!').toString('base64')}`).verify(p.body, p.headers as Record<string, string>)).toThrow();
        expect(p.body).not.toContain('INTCANARY');
        expect(p.headers['webhook-id']).toMatch(/^msg_\d+$/);
      }
      const [first, second] = sink.posted.filter((p) => 'incident' in (p.json as object)).map((p) => envelopeShape.parse(p.json));
      expect(first!.incident).toMatchObject({ id: incident.id, name: 'Checkout errors', status: 'investigating', impact: 'critical' });
      expect(first!.meta.unsubscribe).toBe(sub.unsubscribe);
      // generated_at is when the body was made and signed: the same second as webhook-timestamp.
      for (const p of sink.posted) {
        const generated = Date.parse((p.json as { meta: { generated_at: string } }).meta.generated_at);
        expect(Math.floor(generated / 1000)).toBe(Number(p.headers['webhook-timestamp']));
      }
      // One of three components down: Statuspage's blend counts it one step lower (domain.pageStatus).
      expect(first!.page).toMatchObject({ status_indicator: 'major', status_description: 'Partial System Outage' });
      expect(second!.incident.status).toBe('identified');
      expect(second!.incident.incident_updates.map((u) => u.status)).toEqual(['identified', 'investigating']);
      expect(second!.incident.incident_updates[0]!.affected_components).toEqual([{ code: 'api', name: 'Api', old_status: 'major_outage', new_status: 'partial_outage' }]);
      expect(second!.page.status_indicator).toBe('minor');
    } finally {
      http.close();
    }

    // The unsubscribe link in meta works with one POST.
    const out = await f.app.request(new URL(sub.unsubscribe).pathname + new URL(sub.unsubscribe).search, { method: 'POST' });
    expect(out.status).toBe(200);
    expect(await countRows(f, 'webhook_subscribers')).toBe(0);
    // The page after the button speaks of the webhook, not of emails.
    const said = await out.text();
    expect(said).toContain('The webhook is unsubscribed');
    expect(said).not.toMatch(/email/i);
  });

  it('honours the component filter and sends nothing for a SEV3 (not public)', async () => {
    const f = await setup({ WEBHOOK_ALLOW_PRIVATE: 'true' });
    sink = await startHttpSink();
    expect((await subscribe(`${sink.url}/dash`, ['dashboard'])).status).toBe(201);
    expect((await subscribe(`${sink.url}/all`)).status).toBe(201);
    const http = manualHttpOutbox(f);
    try {
      await declare(f, { severity: 'SEV1' }); // api only
      await declare(f, { severity: 'SEV3', components: [{ id: 'dashboard', status: 'major_outage' }] });
      await http.drain();
    } finally {
      http.close();
    }
    // The SEV1's incident envelope and Api's component_update; nothing about the internal-only SEV3 on Dashboard.
    expect(sink.posted.map((p) => p.path)).toEqual(['/all', '/all']);
    expect(sink.posted.map((p) => Object.keys(p.json as object).at(-1)).sort()).toEqual(['component', 'incident']);
  });

  it('refuses an unknown component and a body with both email and webhook, storing nothing', async () => {
    const f = await setup({ WEBHOOK_ALLOW_PRIVATE: 'true' });
    expect((await subscribe('http://127.0.0.1:9/hook', ['nope'])).status).toBe(422);
    const both = await f.call('POST', '/api/v1/subscribers', { token: null, body: { email: 'a@example.com', webhook: 'https://example.com/h' } });
    expect(both.status).toBe(422);
    expect(((await both.json()) as { errors: { path: string }[] }).errors[0]!.path).toBe('email');
    // Neither: the answer says what to give, not "not both".
    const neither = await f.call('POST', '/api/v1/subscribers', { token: null, body: { components: ['api'] } });
    expect(neither.status).toBe(422);
    const problem = (await neither.json()) as { errors: { path: string; message: string }[] };
    expect(problem.errors).toEqual([{ path: 'email', message: expect.stringMatching(/^give an email or a webhook/) }]);
    expect(await countRows(f, 'webhook_subscribers')).toBe(0);
    expect(await countRows(f, 'subscribers')).toBe(0);
  });

  it('retries failures with back-off, gives up, and disables a subscriber after three given-up deliveries', async () => {
    const f = await setup({ WEBHOOK_ALLOW_PRIVATE: 'true' });
    sink = await startHttpSink();
    sink.answer(503);
    expect((await subscribe(`${sink.url}/hook`)).status).toBe(201);
    const http = manualHttpOutbox(f, { retry: { baseMs: 1, maxMs: 2, maxAttempts: 2 } });
    try {
      for (let i = 0; i < 3; i++) {
        await declare(f, { severity: 'SEV1' });
        // Each failure is due again a moment later on the fixture's clock.
        for (let k = 0; k < 3; k++) {
          await http.drain();
          f.clock.advance(10);
        }
      }
      expect(await countRows(f, 'deliveries', "audience = 'webhook' AND status = 'failed'")).toBe(3);
      expect(sink.posted).toHaveLength(6);
      const [sub] = await rows<{ failures: number; disabled_at: number | null }>(f, 'SELECT failures, disabled_at FROM webhook_subscribers');
      expect(sub!.failures).toBe(3);
      expect(sub!.disabled_at).not.toBeNull();
      await declare(f, { severity: 'SEV1' });
      expect(await countRows(f, 'deliveries', "audience = 'webhook'")).toBe(3);
    } finally {
      http.close();
    }
  });
});
