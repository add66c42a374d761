// The HTTP guards every form and route shares: same-origin posts for sign-in/out, 400 for malformed forms, a clean close after 413.
import { request as httpRequest, Agent } from 'node:http';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crossSiteReason } from '../api/http/same-origin.ts';
import { expectProblem } from './api-support.ts';
import { countRows, rows } from './fanout-support.ts';
import { makeSiteFixture, type SiteFixture } from './site-fixture.ts';

let f: SiteFixture;
beforeAll(async () => {
  f = await makeSiteFixture();
});
afterAll(() => f.close());

const signIn = (headers: Record<string, string>, token = f.tokens.viewer) =>
  f.app.request('/internal/sign-in', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: `token=${token}` });

async function session(): Promise<string> {
  const res = await signIn({ 'sec-fetch-site': 'same-origin' });
  expect(res.status).toBe(303);
  return res.headers.get('set-cookie')!.split(';')[0]!;
}

describe('sign-in and sign-out accept posts from the page\'s own origin only', () => {
  const crossSite: [string, Record<string, string>][] = [
    ['another origin', { origin: 'https://evil.example' }],
    ['the right host over another scheme', { origin: 'http://status.example.com' }],
    ['an opaque origin', { origin: 'null' }],
    ['Sec-Fetch-Site cross-site', { 'sec-fetch-site': 'cross-site' }],
    ['Sec-Fetch-Site same-site (a sibling subdomain)', { 'sec-fetch-site': 'same-site', origin: 'https://blog.example.com' }],
    ['Sec-Fetch-Site cross-site even with a matching Origin', { 'sec-fetch-site': 'cross-site', origin: 'https://status.example.com' }],
  ];
  for (const [what, headers] of crossSite) {
    it(`refuses sign-in from ${what} with 403, and starts no session`, async () => {
      const before = await countRows(f, 'sessions');
      const res = await signIn(headers);
      expect(res.headers.get('set-cookie')).toBeNull();
      expect(res.headers.get('location')).toBeNull();
      await expectProblem(res, 403);
      expect(await countRows(f, 'sessions')).toBe(before);
    });

    it(`refuses sign-out from ${what} with 403, and the session lives on`, async () => {
      const cookie = await session();
      const res = await f.app.request('/internal/sign-out', { method: 'POST', headers: { cookie, ...headers } });
      await expectProblem(res, 403);
      expect((await f.get('/internal/', { cookie })).status).toBe(200);
    });
  }

  const sameOrigin: [string, Record<string, string>][] = [
    ['PUBLIC_URL\'s origin', { origin: 'https://status.example.com' }],
    ['the origin the request arrived on', { origin: 'http://localhost' }],
    ['Sec-Fetch-Site same-origin', { 'sec-fetch-site': 'same-origin', origin: 'https://status.example.com' }],
    ['a client that is not a browser (no Origin, no Sec-Fetch-Site)', {}],
  ];
  for (const [what, headers] of sameOrigin) {
    it(`signs in and out from ${what}`, async () => {
      const res = await signIn(headers);
      expect(res.status).toBe(303);
      const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
      const out = await f.app.request('/internal/sign-out', { method: 'POST', headers: { cookie, ...headers } });
      expect(out.status).toBe(303);
      expect((await f.get('/internal/', { cookie })).status).toBe(401);
    });
  }

  it('decides by the rule written in sameOrigin\'s docstring', () => {
    const allowed = ['https://status.example.com'];
    expect(crossSiteReason('none', undefined, allowed)).toBeNull();
    expect(crossSiteReason('Same-Origin', 'https://evil.example', allowed)).toBeNull();
    expect(crossSiteReason(undefined, ' https://status.example.com ', allowed)).toBeNull();
    expect(crossSiteReason('same-site', undefined, allowed)).toMatch(/same-site/);
    expect(crossSiteReason(undefined, 'https://status.example.com.evil.example', allowed)).toMatch(/not this site/);
  });
});

describe('a malformed form body is 400 on every form endpoint, and changes nothing', () => {
  const bodies: [string, string, string][] = [
    ['multipart without a boundary', 'multipart/form-data', 'token=abc'],
    ['multipart whose boundary never appears', 'multipart/form-data; boundary=xyz', 'garbage'],
    ['truncated multipart', 'multipart/form-data; boundary=xyz', '--xyz\r\nContent-Disposition: form-data; name="token"\r\n\r\nabc'],
    ['urlencoded with a broken escape', 'application/x-www-form-urlencoded', 'token=%ZZ&email=a%40example.com'],
    ['urlencoded with a cut-off escape', 'application/x-www-form-urlencoded', 'email=a%40example.com&components=%E'],
    ['urlencoded that is not UTF-8', 'application/x-www-form-urlencoded', 'email=a%40example.com&components=%FF%FE'],
  ];
  let token = '';
  beforeAll(async () => {
    const res = await f.app.request('/api/v1/subscribers', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"email":"kept@example.com"}' });
    expect(res.status).toBe(202);
    token = (await rows<{ unsubscribe_token: string }>(f, 'SELECT unsubscribe_token FROM subscribers'))[0]!.unsubscribe_token;
  });
  const endpoints = () => [
    '/internal/sign-in',
    '/internal/sign-out',
    '/api/v1/subscribers',
    `/api/v1/subscribers/manage?token=${token}`,
    `/api/v1/subscribers/unsubscribe?token=${token}`,
    `/api/v1/subscribers/confirm?token=${token}`,
  ];
  for (const [what, type, body] of bodies) {
    it(`answers ${what} with 400 naming the body`, async () => {
      const before = await rows(f, 'SELECT * FROM subscribers');
      const sessions = await countRows(f, 'sessions');
      for (const path of endpoints()) {
        const res = await f.app.request(path, { method: 'POST', headers: { 'content-type': type, accept: 'text/html' }, body });
        const problem = await expectProblem(res, 400, 'body');
        expect(problem.detail, path).toMatch(/form body/);
      }
      expect(await rows(f, 'SELECT * FROM subscribers')).toEqual(before);
      expect(await countRows(f, 'sessions')).toBe(sessions);
    });
  }

  it('still takes a well-formed multipart sign-in and an escaped UTF-8 form', async () => {
    const data = new FormData();
    data.set('token', f.tokens.viewer);
    expect((await f.app.request('/internal/sign-in', { method: 'POST', body: data })).status).toBe(303);
    const res = await f.app.request('/api/v1/subscribers', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'email=b%40example.com&components=caf%C3%A9',
    });
    // Decoded fine; the component is refused by name, as an unknown one, not as a malformed body.
    await expectProblem(res, 422, /^components/);
  });
});

describe('a body over 1 MiB', () => {
  let server: ServerType;
  let port = 0;
  beforeAll(async () => {
    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: f.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** One request through a keep-alive agent; resolves with the status, the Connection header and the socket used. */
  const send = (agent: Agent, method: string, path: string, body?: Buffer, chunked = false) =>
    new Promise<{ status: number; connection: string | undefined; socket: unknown; text: string }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, method, path, agent, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, socket: req.socket, text }));
      });
      req.on('error', reject);
      if (body && chunked) {
        req.write(body.subarray(0, 64 * 1024));
        req.end(body.subarray(64 * 1024));
      } else req.end(body);
    });

  for (const chunked of [false, true]) {
    it(`(${chunked ? 'chunked' : 'with Content-Length'}) is 413 with Connection: close, and the kept-alive client's next request succeeds`, async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const warm = await send(agent, 'GET', '/api/v1/health');
        expect(warm.status).toBe(200);
        const big = Buffer.from(JSON.stringify({ email: 'a@example.com', pad: 'x'.repeat(1024 * 1024 + 10) }));
        const refused = await send(agent, 'POST', '/api/v1/subscribers', big, chunked);
        expect(refused.status).toBe(413);
        expect(refused.connection).toBe('close');
        expect(JSON.parse(refused.text).status).toBe(413);
        const next = await send(agent, 'GET', '/api/v1/health');
        expect(next.status).toBe(200);
        expect(next.socket).not.toBe(refused.socket);
      } finally {
        agent.destroy();
      }
    });
  }

  const unread: [string, string, Record<string, string>][] = [
    ['a POST without a token (401 before the body is read)', '/api/v1/incidents', {}],
    ['a POST with an unknown token', '/api/v1/incidents', { authorization: 'Bearer sdk_nope' }],
    ['a POST to no route (404)', '/api/v1/nothing-here', {}],
    ['a POST of the wrong content type (400)', '/api/v1/subscribers', { 'content-type': 'text/plain' }],
    ['a cross-site sign-out (403)', '/internal/sign-out', { origin: 'https://evil.example' }],
  ];
  for (const [what, path, headers] of unread) {
    it(`closes the connection after ${what} with a large unread body, and the next request succeeds`, async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const first = await new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
          const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path, agent, headers: { 'content-type': 'application/json', ...headers } }, (r) => {
            r.resume();
            r.on('end', () => resolve({ status: r.statusCode!, connection: r.headers.connection }));
          });
          req.on('error', reject);
          req.end(JSON.stringify({ pad: 'x'.repeat(900 * 1024) }));
        });
        expect(first.status).toBeGreaterThanOrEqual(400);
        expect(first.connection).toBe('close');
        expect((await send(agent, 'GET', '/api/v1/health')).status).toBe(200);
      } finally {
        agent.destroy();
      }
    });
  }

  it('keeps the connection open after a body that was read', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const res = await send(agent, 'POST', '/api/v1/subscribers', Buffer.from(JSON.stringify({ email: 'kept-alive@example.com' })));
      expect(res.status).toBe(202);
      expect(res.connection).toBe('keep-alive');
      const next = await send(agent, 'GET', '/api/v1/health');
      expect(next.socket).toBe(res.socket);
    } finally {
      agent.destroy();
    }
  });

  it('is refused on the site\'s forms too (/internal/sign-in)', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const res = await new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
        const req = httpRequest(
          { host: '127.0.0.1', port, method: 'POST', path: '/internal/sign-in', agent, headers: { 'content-type': 'application/x-www-form-urlencoded' } },
          (r) => {
            r.resume();
            r.on('end', () => resolve({ status: r.statusCode!, connection: r.headers.connection }));
          },
        );
        req.on('error', reject);
        req.end(`token=${'x'.repeat(1024 * 1024 + 1)}`);
      });
      expect(res).toEqual({ status: 413, connection: 'close' });
      expect((await send(agent, 'GET', '/api/v1/health')).status).toBe(200);
    } finally {
      agent.destroy();
    }
  });
});
