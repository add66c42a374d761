// An over-limit upload is answered 413 and the client receives that answer, every time: never a reset in its place.
import { Agent, request as httpRequest } from 'node:http';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeFixture, type Fixture } from './fixture.ts';

let f: Fixture;
let server: ServerType;
let port = 0;
const tries = 30;

beforeAll(async () => {
  f = await makeFixture();
  server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: f.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await f.close();
});

/**
 * Sends `bytes` as a body the way a streaming client does, 64 KiB at a time without waiting for an answer (chunked,
 * or with a Content-Length), and resolves with the status it received, or the socket error that took its place.
 */
function upload(bytes: number, chunked: boolean, agent?: Agent, token?: string) {
  return new Promise<{ status: number | string; connection?: string | undefined }>((resolve) => {
    const headers: Record<string, string> = { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) };
    if (!chunked) headers['content-length'] = String(bytes);
    const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/api/v1/incidents', headers, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection }));
      res.on('error', (e: NodeJS.ErrnoException) => resolve({ status: e.code ?? e.message }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ status: e.code ?? e.message }));
    const chunk = Buffer.alloc(64 * 1024, 'x');
    let sent = 0;
    // A client on a real network: each chunk a moment after the last, so it is still sending when a hasty server would answer.
    const pump = () => {
      if (sent >= bytes) return void req.end();
      const n = Math.min(chunk.length, bytes - sent);
      sent += n;
      if (req.write(chunk.subarray(0, n))) setTimeout(pump, 1);
      else req.once('drain', pump);
    };
    pump();
  });
}

it(`answers a chunked 2.5 MiB upload 413 and the client receives it, ${tries} times in a row`, async () => {
  const seen: (number | string)[] = [];
  for (let i = 0; i < tries; i++) seen.push((await upload(2.5 * 1024 * 1024, true, undefined, f.tokens.comms)).status);
  expect(seen).toEqual(Array(tries).fill(413));
});

it(`answers a 2 MiB POST on a kept-alive connection 413, then serves the next request, ${tries} times in a row`, async () => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const seen: (number | string)[] = [];
    for (let i = 0; i < tries; i++) {
      const refused = await upload(2 * 1024 * 1024, false, agent, f.tokens.comms);
      seen.push(refused.status);
      if (refused.status === 413) expect(refused.connection).toBe('close');
      const health = await new Promise<number | string>((resolve) => {
        const req = httpRequest({ host: '127.0.0.1', port, path: '/api/v1/health', agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        });
        req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
        req.end();
      });
      seen.push(health);
    }
    expect(seen).toEqual(Array.from({ length: tries * 2 }, (_, i) => (i % 2 === 0 ? 413 : 200)));
  } finally {
    agent.destroy();
  }
});

it(`answers a 900 KiB POST without a token 401 (before its body is read) and the client receives it, ${tries} times in a row`, async () => {
  const seen: (number | string)[] = [];
  for (let i = 0; i < tries; i++) seen.push((await upload(900 * 1024, false)).status);
  expect(seen).toEqual(Array(tries).fill(401));
});
