// Shared steps for the cadence tests: a real HTTP sink on loopback, and the HTTP outbox drained by hand.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttpOutbox, type HttpOutboxOptions } from '../api/outbox/worker.ts';
import { z } from 'zod';
import type { Fixture } from './fixture.ts';

/** Statuspage's webhook `meta`, as every envelope to a webhook subscriber carries it. */
export const webhookMetaShape = z.object({ unsubscribe: z.url(), documentation: z.url(), generated_at: z.iso.datetime() }).strict();

export interface Posted {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  json: unknown;
}

export interface HttpSink {
  url: string;
  posted: Posted[];
  /** Answers with this status from now on (200 by default). */
  answer(status: number): void;
  waitFor(predicate: () => boolean, timeoutMs?: number, what?: string): Promise<void>;
  close(): Promise<void>;
}

export async function startHttpSink(): Promise<HttpSink> {
  const posted: Posted[] = [];
  let status = 200;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown = null;
      try {
        json = JSON.parse(body);
      } catch {
        json = null;
      }
      posted.push({ path: req.url ?? '/', headers: req.headers, body, json });
      res.writeHead(status, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    posted,
    answer(s) {
      status = s;
    },
    async waitFor(predicate, timeoutMs = 10_000, what = 'the condition') {
      const until = Date.now() + timeoutMs;
      while (!predicate()) {
        if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (posted ${posted.length})`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The HTTP outbox (channels and webhooks) on the fixture's clock, drained by hand. */
export function manualHttpOutbox(f: Fixture, overrides: Partial<HttpOutboxOptions> = {}) {
  return createHttpOutbox({
    db: f.services.db,
    clock: f.clock,
    log: () => {},
    publicUrl: f.config.publicUrl,
    webhookAllowPrivate: f.config.webhookAllowPrivate,
    retry: { baseMs: 20, maxMs: 200, maxAttempts: 3 },
    ...overrides,
  });
}
